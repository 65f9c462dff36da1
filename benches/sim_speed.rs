//! Simulator speed: simulated seconds per wall second for the 16-camera 60 fps
//! case with PTP at 8 Hz (scenarios/perf-16cam-60fps.toml). Criterion reports
//! the throughput in "elements" per second, where one element is one simulated
//! second: 2,000 elem/s means 2,000x real time on one core.

use camsync_sim::{Scenario, Score};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

fn sim_speed(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/perf-16cam-60fps.toml");
    let scenario = Scenario::from_file(&path, &Score::known_key).expect("perf scenario parses");
    let simulated_s = (scenario.duration.ns() / 1_000_000_000) as u64;
    let mut group = c.benchmark_group("sim_speed");
    group.sample_size(10);
    group.throughput(Throughput::Elements(simulated_s));
    group.bench_function("perf-16cam-60fps", |b| {
        b.iter(|| black_box(camsync_sim::World::new(&scenario, scenario.seed).run()))
    });
    group.finish();
}

criterion_group!(benches, sim_speed);
criterion_main!(benches);
