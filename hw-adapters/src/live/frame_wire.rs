//! A frame's metadata on its way from a camera agent to the hub: one UDP
//! datagram per frame, fixed layout, network byte order. (The pictures travel
//! on their own media path; the hub aligns by these stamps.)
//!
//! ```text
//! 0  magic "CSFM"   4  version (1)   5  lock (servo state code)
//! 6  camera u16     8  seq u64       16 capture ns i64
//! 24 rate num u32   28 rate den u32  32 uncertainty ns i64 (−1: none)
//! ```

use camsync_engine::frame::{CameraId, FrameMeta};
use camsync_engine::ptp::ServoState;
use camsync_engine::{FrameRate, Nanos, Time};

const MAGIC: &[u8; 4] = b"CSFM";
const VERSION: u8 = 1;
pub const FRAME_DATAGRAM_LEN: usize = 40;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameDecodeError {
    #[error("{0} bytes, a frame datagram has {FRAME_DATAGRAM_LEN}")]
    Length(usize),
    #[error("not a camsync frame datagram (magic or version)")]
    Magic,
    #[error("invalid field: {0}")]
    Field(&'static str),
}

pub fn encode(meta: &FrameMeta) -> [u8; FRAME_DATAGRAM_LEN] {
    let mut b = [0u8; FRAME_DATAGRAM_LEN];
    b[0..4].copy_from_slice(MAGIC);
    b[4] = VERSION;
    b[5] = meta.lock.code();
    b[6..8].copy_from_slice(&meta.camera.0.to_be_bytes());
    b[8..16].copy_from_slice(&meta.seq.to_be_bytes());
    b[16..24].copy_from_slice(&meta.capture.0.to_be_bytes());
    b[24..28].copy_from_slice(&meta.rate.num().to_be_bytes());
    b[28..32].copy_from_slice(&meta.rate.den().to_be_bytes());
    let u = meta.uncertainty.map_or(-1, |n| n.0);
    b[32..40].copy_from_slice(&u.to_be_bytes());
    b
}

pub fn decode(b: &[u8]) -> Result<FrameMeta, FrameDecodeError> {
    if b.len() != FRAME_DATAGRAM_LEN {
        return Err(FrameDecodeError::Length(b.len()));
    }
    if &b[0..4] != MAGIC || b[4] != VERSION {
        return Err(FrameDecodeError::Magic);
    }
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let lock = match b[5] {
        0 => ServoState::Unlocked,
        1 => ServoState::Jump,
        2 => ServoState::Locked,
        _ => return Err(FrameDecodeError::Field("lock")),
    };
    let rate =
        FrameRate::new(u32_at(24), u32_at(28)).map_err(|_| FrameDecodeError::Field("rate"))?;
    let uncertainty = match u64_at(32) as i64 {
        -1 => None,
        n if n >= 0 => Some(Nanos(n)),
        _ => return Err(FrameDecodeError::Field("uncertainty")),
    };
    Ok(FrameMeta {
        camera: CameraId(u16_at(6)),
        seq: u64_at(8),
        capture: Time(u64_at(16) as i64),
        rate,
        lock,
        uncertainty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_garbage_is_refused() {
        let meta = FrameMeta {
            camera: CameraId(3),
            seq: 12_345,
            capture: Time(1_700_000_000_123_456_789),
            rate: FrameRate::new(30_000, 1_001).unwrap(),
            lock: ServoState::Locked,
            uncertainty: Some(Nanos(2_500)),
        };
        let bytes = encode(&meta);
        assert_eq!(decode(&bytes), Ok(meta));
        let none = FrameMeta {
            uncertainty: None,
            ..meta
        };
        assert_eq!(decode(&encode(&none)), Ok(none));
        assert_eq!(decode(&bytes[..10]), Err(FrameDecodeError::Length(10)));
        let mut bad = bytes;
        bad[0] = b'X';
        assert_eq!(decode(&bad), Err(FrameDecodeError::Magic));
        let mut bad = bytes;
        bad[5] = 9;
        assert_eq!(decode(&bad), Err(FrameDecodeError::Field("lock")));
        let mut bad = bytes;
        bad[24..28].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(decode(&bad), Err(FrameDecodeError::Field("rate")));
    }
}
