//! SMPTE ST 2110-10 RTP timestamps: the media clock counts from the SMPTE epoch
//! (the PTP epoch, 1970-01-01 TAI) at the media clock rate — 90 kHz for video —
//! and the timestamp is that count modulo 2^32. Computed exactly from integer
//! nanoseconds: ticks = ns · rate / 10^9.

use crate::time::Time;

/// The video media clock rate (ST 2110-20).
pub const VIDEO_CLOCK_HZ: u64 = 90_000;

/// The RTP timestamp of frame `n` of the PTP-aligned grid at `rate`: the
/// media clock count at the frame's exact (rational) instant. Frame instants
/// in whole nanoseconds are rounded down, so they must not be used for this:
/// frame 1 at 60p is 16,666,666 ns, tick 1,499.99994, but its timestamp is 1,500.
pub fn rtp_timestamp_of_frame(n: i64, rate: crate::frame_rate::FrameRate, rate_hz: u64) -> u32 {
    let ticks = (n as i128 * rate.den() as i128 * rate_hz as i128).div_euclid(rate.num() as i128);
    ticks.rem_euclid(1 << 32) as u32
}

/// The RTP timestamp of PTP instant `t` for a media clock of `rate_hz`.
pub fn rtp_timestamp(t: Time, rate_hz: u64) -> u32 {
    let ticks = (t.as_nanos() as i128 * rate_hz as i128).div_euclid(1_000_000_000);
    ticks.rem_euclid(1 << 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame_rate::FrameRate;

    fn steps(rate: &str, frames: i64) -> Vec<u32> {
        let r: FrameRate = rate.parse().unwrap();
        // Frames of a day long past the epoch, so the modulo wraps many times.
        let first = r.index_at_or_after(Time(1_767_225_637_000_000_000));
        (first..first + frames)
            .map(|n| {
                rtp_timestamp_of_frame(n + 1, r, VIDEO_CLOCK_HZ)
                    .wrapping_sub(rtp_timestamp_of_frame(n, r, VIDEO_CLOCK_HZ))
            })
            .collect()
    }

    #[test]
    fn per_frame_steps_are_the_standard_ones() {
        assert!(steps("25", 100).iter().all(|&s| s == 3600));
        assert!(steps("60", 100).iter().all(|&s| s == 1500));
        let ntsc = steps("59.94", 100);
        assert!(ntsc.iter().all(|&s| s == 1501 || s == 1502));
        assert!(ntsc.windows(2).all(|w| w[0] != w[1]), "they alternate");
    }

    #[test]
    fn a_frame_and_its_instant_agree_to_the_tick() {
        for rate in ["25", "50", "29.97", "59.94", "60"] {
            let r: FrameRate = rate.parse().unwrap();
            for n in [0, 1, 7, 1_000_003, 106_027_536_000] {
                let exact = rtp_timestamp_of_frame(n, r, VIDEO_CLOCK_HZ);
                let from_ns = rtp_timestamp(r.frame_time(n), VIDEO_CLOCK_HZ);
                // The instant in whole ns is at most 1 ns early: one tick at most.
                assert!(exact.wrapping_sub(from_ns) <= 1, "{rate} frame {n}");
            }
        }
    }

    #[test]
    fn the_timestamp_is_the_tick_count_modulo_two_to_the_32() {
        assert_eq!(rtp_timestamp(Time(0), VIDEO_CLOCK_HZ), 0);
        assert_eq!(rtp_timestamp(Time(1_000_000_000), VIDEO_CLOCK_HZ), 90_000);
        // 2^32 ticks at 90 kHz is 47,721.858... s.
        let wrap = Time(((1u128 << 32) * 1_000_000_000 / 90_000) as i64 + 1);
        assert_eq!(rtp_timestamp(wrap, VIDEO_CLOCK_HZ), 0);
    }
}
