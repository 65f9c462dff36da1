//! A recording as a camera: a YUV4MPEG2 file (what `ffmpeg … -f
//! yuv4mpegpipe` or `out.y4m` writes) yields its frames' brightness, each
//! stamped with its index × the file's frame period — the engine's exact
//! rational `FrameRate` from the header's `F`, so 30000/1001 fps does not
//! accumulate error.
//!
//! Only the Y plane is read: the visual estimator works on brightness, and
//! every Y4M colourspace stores Y first. Deeper-than-8-bit files are brought
//! to 8 bits. Bad input (not Y4M, a header without size or rate, an unknown
//! colourspace, a file cut short mid-frame) is an error naming the file,
//! never a panic.

use camsync_engine::frame_rate::FrameRate;
use camsync_engine::time::Time;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum Y4mError {
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a usable Y4M file: {reason}")]
    Header { path: PathBuf, reason: String },
    #[error("{path}: frame {frame}: {reason}")]
    Frame {
        path: PathBuf,
        frame: u64,
        reason: String,
    },
}

/// One frame's brightness plane.
#[derive(Clone, Debug)]
pub struct Y4mFrame {
    pub index: u64,
    pub stamp: Time,
    pub width: usize,
    pub height: usize,
    /// 8-bit luma, row by row.
    pub luma: Vec<u8>,
}

/// Counts the bytes read through it, shared with the file camera, so that a
/// file ending mid-frame can be told from one ending between frames (the
/// `y4m` crate reports both as end of file).
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Frames larger than this are refused: a corrupt header must not make us
/// allocate gigabytes (8K 4:4:4 at 16 bits is 200 MB).
const MAX_FRAME_BYTES: usize = 256 << 20;

pub struct Y4mFile {
    path: PathBuf,
    decoder: y4m::Decoder<Counting<BufReader<File>>>,
    read: Arc<AtomicU64>,
    width: usize,
    height: usize,
    rate: FrameRate,
    bit_depth: usize,
    colourspace: &'static str,
    next_index: u64,
}

fn colourspace_name(c: y4m::Colorspace) -> &'static str {
    use y4m::Colorspace::*;
    match c {
        Cmono => "mono",
        Cmono12 => "mono12",
        C420 => "420",
        C420p10 => "420p10",
        C420p12 => "420p12",
        C420jpeg => "420jpeg",
        C420paldv => "420paldv",
        C420mpeg2 => "420mpeg2",
        C422 => "422",
        C422p10 => "422p10",
        C422p12 => "422p12",
        C444 => "444",
        C444p10 => "444p10",
        C444p12 => "444p12",
        // The crate may learn more; every Y4M colourspace stores Y first.
        _ => "other",
    }
}

impl Y4mFile {
    pub fn open(path: &Path) -> Result<Y4mFile, Y4mError> {
        let file = File::open(path).map_err(|source| Y4mError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let header = |reason: String| Y4mError::Header {
            path: path.to_path_buf(),
            reason,
        };
        let read = Arc::new(AtomicU64::new(0));
        let reader = Counting {
            inner: BufReader::new(file),
            read: read.clone(),
        };
        let limits = y4m::Limits {
            bytes: MAX_FRAME_BYTES,
        };
        let decoder = y4m::Decoder::new_with_limits(reader, limits).map_err(|e| {
            header(match e {
                y4m::Error::EOF => "empty or cut short in its header".into(),
                y4m::Error::UnknownColorspace => "unsupported colourspace (supported: mono, \
                     mono12, 420, 420jpeg, 420mpeg2, 420paldv, 420p10, 420p12, 422, 422p10, \
                     422p12, 444, 444p10, 444p12)"
                    .into(),
                y4m::Error::OutOfMemory => {
                    format!("frames larger than {} MiB", MAX_FRAME_BYTES >> 20)
                }
                y4m::Error::ParseError(p) => format!("bad header ({p}; expected YUV4MPEG2 …)"),
                other => other.to_string(),
            })
        })?;
        let r = decoder.get_framerate();
        let rate = u32::try_from(r.num)
            .ok()
            .zip(u32::try_from(r.den).ok())
            .ok_or_else(|| "out of range".to_string())
            .and_then(|(num, den)| FrameRate::new(num, den).map_err(|e| e.to_string()))
            .map_err(|e| header(format!("frame rate F{}:{}: {e}", r.num, r.den)))?;
        Ok(Y4mFile {
            path: path.to_path_buf(),
            width: decoder.get_width(),
            height: decoder.get_height(),
            rate,
            bit_depth: decoder.get_bit_depth(),
            colourspace: colourspace_name(decoder.get_colorspace()),
            decoder,
            read,
            next_index: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The header's frame rate, reduced.
    pub fn frame_rate(&self) -> FrameRate {
        self.rate
    }

    /// The header's colourspace tag (`420jpeg`, `mono`, …).
    pub fn colourspace(&self) -> &'static str {
        self.colourspace
    }

    /// Frame `index`'s stamp: index × den / num seconds, rounded down to
    /// the ns as everywhere in the engine.
    pub fn stamp_of(&self, index: u64) -> Time {
        self.rate.frame_time(index as i64)
    }

    /// The next frame; `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Y4mFrame>, Y4mError> {
        let index = self.next_index;
        let before = self.read.load(Ordering::Relaxed);
        let frame_error = |reason: String| Y4mError::Frame {
            path: self.path.clone(),
            frame: index,
            reason,
        };
        let frame = match self.decoder.read_frame() {
            Ok(f) => f,
            Err(y4m::Error::EOF) => {
                // The crate says EOF both between frames and inside one.
                let consumed = self.read.load(Ordering::Relaxed) - before;
                return if consumed == 0 {
                    Ok(None)
                } else {
                    Err(frame_error(format!(
                        "file cut short ({consumed} bytes of an incomplete frame)"
                    )))
                };
            }
            Err(y4m::Error::ParseError(p)) => {
                return Err(frame_error(format!("bad frame header ({p})")));
            }
            Err(e) => return Err(frame_error(e.to_string())),
        };
        let y = frame.get_y_plane();
        let pixels = self.width * self.height;
        let luma = if self.bit_depth <= 8 {
            y.get(..pixels).map(<[u8]>::to_vec)
        } else {
            // Little-endian 16-bit samples holding `bit_depth` bits.
            let shift = self.bit_depth - 8;
            y.get(..2 * pixels).map(|y| {
                y.chunks_exact(2)
                    .map(|s| (u16::from_le_bytes([s[0], s[1]]) >> shift).min(255) as u8)
                    .collect()
            })
        };
        let Some(luma) = luma else {
            return Err(frame_error("Y plane shorter than the picture".into()));
        };
        self.next_index += 1;
        Ok(Some(Y4mFrame {
            index,
            stamp: self.stamp_of(index),
            width: self.width,
            height: self.height,
            luma,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("camsync-y4m-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A 4×2 4:2:0 file at 30000/1001 fps with `frames` frames.
    fn clip(frames: u8) -> Vec<u8> {
        let mut bytes = b"YUV4MPEG2 W4 H2 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".to_vec();
        for k in 0..frames {
            bytes.extend_from_slice(b"FRAME\n");
            bytes.extend((0..8).map(|i| k * 10 + i)); // Y
            bytes.extend([128u8; 4]); // U, V: 2×1 each
        }
        bytes
    }

    #[test]
    fn frames_come_with_exact_stamps_and_their_luma() {
        let path = write("good.y4m", &clip(3));
        let mut f = Y4mFile::open(&path).unwrap();
        assert_eq!((f.width(), f.height()), (4, 2));
        assert_eq!(f.frame_rate(), FrameRate::new(30000, 1001).unwrap());
        assert_eq!(f.colourspace(), "420jpeg");
        let mut frames = Vec::new();
        while let Some(frame) = f.next_frame().unwrap() {
            frames.push(frame);
        }
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2].luma, vec![20, 21, 22, 23, 24, 25, 26, 27]);
        assert_eq!(frames[1].stamp, Time(33_366_666));
        assert_eq!(frames[2].stamp, Time(66_733_333));
        // 30 000 frames at 30000/1001 fps are exactly 1001 s.
        assert_eq!(f.stamp_of(30_000), Time(1_001_000_000_000));
    }

    #[test]
    fn a_file_cut_short_mid_frame_is_an_error_naming_it_and_the_frame() {
        let mut bytes = clip(3);
        bytes.truncate(bytes.len() - 5);
        let path = write("truncated.y4m", &bytes);
        let mut f = Y4mFile::open(&path).unwrap();
        assert!(f.next_frame().unwrap().is_some());
        assert!(f.next_frame().unwrap().is_some());
        let e = f.next_frame().unwrap_err().to_string();
        assert!(e.contains("truncated.y4m") && e.contains("frame 2"), "{e}");
        assert!(e.contains("cut short"), "{e}");
    }

    #[test]
    fn bad_headers_are_errors_naming_the_file() {
        for (name, bytes) in [
            ("not-y4m.y4m", b"RIFF....WAVEfmt \n".to_vec()),
            ("empty.y4m", Vec::new()),
            ("no-size.y4m", b"YUV4MPEG2 F30:1 C420\n".to_vec()),
            ("zero-rate.y4m", b"YUV4MPEG2 W4 H2 F0:1 C420\n".to_vec()),
            ("bad-number.y4m", b"YUV4MPEG2 W4x H2 F30:1\n".to_vec()),
            ("odd-colour.y4m", b"YUV4MPEG2 W4 H2 F30:1 C411\n".to_vec()),
            ("huge.y4m", b"YUV4MPEG2 W100000 H100000 F30:1\n".to_vec()),
        ] {
            let path = write(name, &bytes);
            let e = Y4mFile::open(&path).err().unwrap().to_string();
            assert!(e.contains(name), "{e}");
        }
        let e = Y4mFile::open(Path::new("/nonexistent/x.y4m"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/x.y4m"), "{e}");
        // A frame marker missing between frames.
        let mut bytes = clip(2);
        let second = bytes.len() - 12 - 6;
        bytes[second..second + 5].copy_from_slice(b"FRAMX");
        let mut f = Y4mFile::open(&write("bad-frame.y4m", &bytes)).unwrap();
        assert!(f.next_frame().unwrap().is_some());
        let e = f.next_frame().unwrap_err().to_string();
        assert!(e.contains("bad-frame.y4m") && e.contains("frame 1"), "{e}");
    }

    #[test]
    fn ten_bit_luma_is_brought_to_eight_bits() {
        let mut bytes = b"YUV4MPEG2 W2 H2 F25:1 C420p10\n".to_vec();
        bytes.extend_from_slice(b"FRAME\n");
        for v in [0u16, 4, 1020, 1023] {
            bytes.extend(v.to_le_bytes());
        }
        bytes.extend([0u8; 4]); // U, V: 1×1 each, 2 bytes a sample
        let mut f = Y4mFile::open(&write("ten.y4m", &bytes)).unwrap();
        assert_eq!(f.next_frame().unwrap().unwrap().luma, vec![0, 1, 255, 255]);
        assert!(f.next_frame().unwrap().is_none());
    }
}
