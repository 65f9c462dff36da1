//! Aligner cost per frame: the hub's frame aligner (`camsync_engine::hub::Hub`)
//! fed 1,000 cameras at 60 fps for 2 s of video (120,000 frames), without PTP
//! (the hub's clock stays the identity map). Each frame is stamped on its
//! instant give or take a few µs and reaches the hub 5–15 ms later, so the
//! cameras' frames arrive interleaved; the hub releases every set 50 ms after
//! its instant. Criterion reports the throughput in "elements" per second,
//! where one element is one frame.
//!
//!     cargo bench --bench aligner

use camsync_engine::buffer::BufferConfig;
use camsync_engine::frame::{CameraId, FrameMeta};
use camsync_engine::hub::{AlignRule, Hub, HubConfig, MissingPolicy};
use camsync_engine::ptp::ServoState;
use camsync_engine::ptp::SlaveConfig;
use camsync_engine::ptp::discipline::ServoConfig;
use camsync_engine::ptp::servo::PiConfig;
use camsync_engine::ptp::wire::{ClockIdentity, PortIdentity};
use camsync_engine::{FrameRate, Input, Nanos, Node, Output, Time};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const CAMERAS: u16 = 1000;
const FPS: u32 = 60;
/// Instants fed per iteration: 2 s of video.
const INSTANTS: i64 = 2 * FPS as i64;
/// The first instant (1 s after the epoch).
const FIRST: i64 = FPS as i64;
const BUFFER: Nanos = Nanos::from_millis(50);

fn rate() -> FrameRate {
    FrameRate::new(FPS, 1).expect("60 fps")
}

fn hub() -> Hub {
    Hub::new(HubConfig {
        cameras: CAMERAS,
        reference_rate: rate(),
        rule: AlignRule::Nearest,
        buffer: BufferConfig::Fixed(BUFFER),
        missing: MissingPolicy::Partial,
        max_latency: Nanos::from_millis(500),
        window: Nanos::from_secs(2),
        ptp: SlaveConfig::new(
            PortIdentity {
                clock_identity: ClockIdentity([9; 8]),
                port_number: 1,
            },
            ServoConfig::Pi(PiConfig::hardware()),
        ),
    })
}

/// splitmix64: a fixed, well-mixed function of (camera, instant), so the
/// arrival list is the same on every run without a random number generator.
fn mix(camera: u16, k: i64) -> u64 {
    let mut z = ((camera as u64) << 32 ^ k as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Every frame of the run with its arrival instant (hub base time), in
/// arrival order.
fn arrivals() -> Vec<(Time, FrameMeta)> {
    let rate = rate();
    let mut frames = Vec::with_capacity(CAMERAS as usize * INSTANTS as usize);
    for k in FIRST..FIRST + INSTANTS {
        for c in 0..CAMERAS {
            let h = mix(c, k);
            // ±5 µs of stamp jitter, 5–15 ms of delivery delay.
            let jitter = Nanos((h % 10_001) as i64 - 5_000);
            let delay = Nanos::from_millis(5) + Nanos(((h >> 20) % 10_000_001) as i64);
            let capture = rate.frame_time(k) + jitter;
            frames.push((
                capture + delay,
                FrameMeta {
                    camera: CameraId(c),
                    seq: (k - FIRST) as u64,
                    capture,
                    rate,
                    lock: ServoState::Locked,
                    uncertainty: Some(Nanos::from_micros(1)),
                },
            ));
        }
    }
    frames.sort_by_key(|(at, f)| (*at, f.camera));
    frames
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    sets: u64,
    complete_sets: u64,
    frames_in_sets: u64,
    accounted: u64,
}

fn drain(hub: &mut Hub, tally: &mut Tally) {
    while let Some(output) = hub.poll_output() {
        match output {
            Output::FrameSet(set) => {
                tally.sets += 1;
                tally.complete_sets += set.is_complete() as u64;
                tally.frames_in_sets += set.placed().count() as u64;
                black_box(set);
            }
            Output::FrameAccounted(_) => tally.accounted += 1,
            _ => {}
        }
    }
}

/// Feeds every arrival, firing the hub's timer whenever it is due first, then
/// runs on to the last instant's deadline (and no further: past it the hub
/// would release empty sets for instants no camera captured).
fn run(mut hub: Hub, arrivals: &[(Time, FrameMeta)]) -> Tally {
    let mut tally = Tally::default();
    let fire_until = |hub: &mut Hub, tally: &mut Tally, until: Time| {
        while let Some(t) = hub.poll_timeout().filter(|t| *t <= until) {
            hub.handle_timeout(t);
            drain(hub, tally);
        }
    };
    for &(now, frame) in arrivals {
        fire_until(&mut hub, &mut tally, now);
        hub.handle_input(now, Input::FrameArrived(frame));
        drain(&mut hub, &mut tally);
    }
    let end = rate().frame_time(FIRST + INSTANTS - 1) + BUFFER;
    fire_until(&mut hub, &mut tally, end);
    tally
}

fn aligner(c: &mut Criterion) {
    let arrivals = arrivals();
    let frames = arrivals.len() as u64;
    // The aligner must be right before its speed means anything: every frame
    // in a released set, every set complete, nothing accounted.
    let expected = Tally {
        sets: INSTANTS as u64,
        complete_sets: INSTANTS as u64,
        frames_in_sets: frames,
        accounted: 0,
    };
    assert_eq!(run(hub(), &arrivals), expected);
    let mut group = c.benchmark_group("aligner");
    group.sample_size(10);
    group.throughput(Throughput::Elements(frames));
    group.bench_function("1000cam-60fps-2s", |b| {
        b.iter_batched(
            hub,
            |h| {
                let tally = run(h, black_box(&arrivals));
                assert_eq!(tally, expected);
                tally
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, aligner);
criterion_main!(benches);
