//! SMPTE ST 12-1 timecode: frame labels HH:MM:SS:FF, with drop-frame counting
//! at 29.97 and 59.94 fps so that labels keep pace with the wall clock.
//!
//! Drop-frame skips labels :00 and :01 (at 59.94, :00 to :03) at the start of
//! every minute except every tenth; the frames themselves are all there. A
//! frame count and a label convert exactly both ways, and a PTP instant gives
//! the label of its frame in the day (ST 2059-1: time of day from PTP time and
//! the UTC offset the grandmaster announces).

use crate::frame_rate::FrameRate;
use crate::time::Time;
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timecode {
    pub hours: u8,
    pub minutes: u8,
    pub seconds: u8,
    pub frames: u8,
    pub drop_frame: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimecodeError {
    #[error("drop-frame timecode exists only at 29.97 and 59.94 fps, not {0}")]
    DropFrameRate(String),
    #[error("timecode needs an integer or NTSC-family rate, not {0}")]
    Rate(String),
    #[error("`{0}` is not a timecode: write HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame")]
    Unparsable(String),
    #[error("{0} is not a label this rate ever shows")]
    NoSuchLabel(String),
}

/// Labels per second (30 at 29.97) and labels skipped per minute (0, 2 or 4).
fn counting(rate: FrameRate, drop_frame: bool) -> Result<(u64, u64), TimecodeError> {
    let nominal = match (rate.num(), rate.den()) {
        (n, 1) => n as u64,
        (n, 1001) if n % 1000 == 0 => n as u64 / 1000,
        _ => return Err(TimecodeError::Rate(rate.to_string())),
    };
    if !drop_frame {
        return Ok((nominal, 0));
    }
    match (rate.num(), rate.den()) {
        (30_000, 1001) => Ok((30, 2)),
        (60_000, 1001) => Ok((60, 4)),
        _ => Err(TimecodeError::DropFrameRate(rate.to_string())),
    }
}

impl Timecode {
    /// The label of frame `count` (counted from 00:00:00:00), wrapping at 24 h.
    pub fn from_frame_count(
        count: u64,
        rate: FrameRate,
        drop_frame: bool,
    ) -> Result<Self, TimecodeError> {
        let (nominal, drop) = counting(rate, drop_frame)?;
        let mut label = count;
        if drop > 0 {
            let per_ten_minutes = nominal * 600 - drop * 9;
            let per_minute = nominal * 60 - drop;
            let (tens, rest) = (count / per_ten_minutes, count % per_ten_minutes);
            label += drop * 9 * tens;
            if rest > drop {
                label += drop * ((rest - drop) / per_minute);
            }
        }
        let seconds = label / nominal;
        Ok(Timecode {
            hours: ((seconds / 3600) % 24) as u8,
            minutes: ((seconds / 60) % 60) as u8,
            seconds: (seconds % 60) as u8,
            frames: (label % nominal) as u8,
            drop_frame,
        })
    }

    /// The frame count a label stands for.
    pub fn to_frame_count(&self, rate: FrameRate) -> Result<u64, TimecodeError> {
        let (nominal, drop) = counting(rate, self.drop_frame)?;
        let valid = self.hours < 24
            && self.minutes < 60
            && self.seconds < 60
            && (self.frames as u64) < nominal
            && !(drop > 0
                && self.seconds == 0
                && !self.minutes.is_multiple_of(10)
                && (self.frames as u64) < drop);
        if !valid {
            return Err(TimecodeError::NoSuchLabel(self.to_string()));
        }
        let minutes = self.hours as u64 * 60 + self.minutes as u64;
        let labels = (minutes * 60 + self.seconds as u64) * nominal + self.frames as u64;
        Ok(labels - drop * (minutes - minutes / 10))
    }

    /// The label of the frame at PTP time `t` in the UTC day (`utc_offset_s` is
    /// TAI − UTC, as announced), counting frames from midnight UTC.
    pub fn at(
        t: Time,
        utc_offset_s: i16,
        rate: FrameRate,
        drop_frame: bool,
    ) -> Result<Self, TimecodeError> {
        const DAY: i64 = 86_400_000_000_000;
        let utc = t.as_nanos() - utc_offset_s as i64 * 1_000_000_000;
        let since_midnight = Time(utc.rem_euclid(DAY));
        let count = rate.index_at_or_after(since_midnight + crate::time::Nanos(1)) - 1;
        Self::from_frame_count(count.max(0) as u64, rate, drop_frame)
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

impl core::str::FromStr for Timecode {
    type Err = TimecodeError;
    fn from_str(s: &str) -> Result<Self, TimecodeError> {
        let bad = || TimecodeError::Unparsable(s.to_string());
        let b = s.as_bytes();
        if b.len() != 11
            || b[2] != b':'
            || b[5] != b':'
            || !matches!(b[8], b':' | b';' | b'.' | b',')
        {
            return Err(bad());
        }
        let field = |i: usize| -> Result<u8, TimecodeError> {
            s.get(i..i + 2)
                .filter(|f| f.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|f| f.parse().ok())
                .ok_or_else(bad)
        };
        Ok(Timecode {
            hours: field(0)?,
            minutes: field(3)?,
            seconds: field(6)?,
            frames: field(9)?,
            drop_frame: matches!(b[8], b';' | b','),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> FrameRate {
        s.parse().unwrap()
    }

    #[test]
    fn drop_frame_skips_two_labels_a_minute_except_every_tenth() {
        let r = rate("29.97");
        let tc = |n| Timecode::from_frame_count(n, r, true).unwrap().to_string();
        assert_eq!(tc(1799), "00:00:59;29");
        assert_eq!(tc(1800), "00:01:00;02");
        assert_eq!(tc(17_981), "00:09:59;29");
        assert_eq!(tc(17_982), "00:10:00;00");
        // The well-known hour: 107,892 frames at 29.97 DF.
        assert_eq!(tc(107_892), "01:00:00;00");
    }

    #[test]
    fn at_59_94_four_labels_are_dropped() {
        let r = rate("59.94");
        let tc = |n| Timecode::from_frame_count(n, r, true).unwrap().to_string();
        assert_eq!(tc(3599), "00:00:59;59");
        assert_eq!(tc(3600), "00:01:00;04");
        assert_eq!(tc(215_784), "01:00:00;00");
    }

    #[test]
    fn labels_and_counts_convert_both_ways_for_a_whole_day() {
        for (r, df) in [
            ("29.97", true),
            ("59.94", true),
            ("25", false),
            ("29.97", false),
            ("50", false),
        ] {
            let r = rate(r);
            for n in (0..2_600_000u64).step_by(997) {
                let t = Timecode::from_frame_count(n, r, df).unwrap();
                let back = t.to_frame_count(r).unwrap();
                let day = Timecode {
                    hours: 23,
                    minutes: 59,
                    seconds: 59,
                    frames: (counting(r, df).unwrap().0 - 1) as u8,
                    drop_frame: df,
                }
                .to_frame_count(r)
                .unwrap()
                    + 1;
                assert_eq!(back, n % day, "{r} df {df} frame {n} -> {t}");
            }
        }
    }

    #[test]
    fn dropped_labels_and_bad_text_are_errors() {
        let r = rate("29.97");
        let skipped: Timecode = "00:01:00;01".parse().unwrap();
        assert!(skipped.to_frame_count(r).is_err());
        let kept: Timecode = "00:10:00;01".parse().unwrap();
        assert_eq!(kept.to_frame_count(r), Ok(17_983));
        assert!("1:00:00:00".parse::<Timecode>().is_err());
        assert!("00:00:00:xx".parse::<Timecode>().is_err());
        assert!(Timecode::from_frame_count(0, rate("25"), true).is_err());
    }

    #[test]
    fn ptp_time_gives_the_label_of_the_day() {
        // 2026-01-01 00:00:10 UTC is TAI + 37 s; at 25 fps that is 10:00 + frame 0.
        let midnight_tai = (1_767_225_600 + 37) * 1_000_000_000;
        let t = Time(midnight_tai + 10_000_000_000 + 40_000_000);
        let tc = Timecode::at(t, 37, rate("25"), false).unwrap();
        assert_eq!(tc.to_string(), "00:00:10:01");
        // A frame's own instant belongs to that frame.
        let t = Time(midnight_tai + 10_040_000_000 - 1);
        assert_eq!(
            Timecode::at(t, 37, rate("25"), false).unwrap().to_string(),
            "00:00:10:00"
        );
    }
}
