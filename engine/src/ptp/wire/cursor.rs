//! Bounds-checked big-endian field access. Decoding goes through [`Reader`], whose
//! every read checks the remaining length, so no input, however cut or corrupted,
//! can make the codec index out of bounds or panic.

use super::DecodeError;
use super::header::{ClockIdentity, PortIdentity};
use crate::time::WireTimestamp;

/// Reads fields front to back from one PTP message.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
    /// Bytes already consumed: lets `TooShort` report positions within the message.
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader {
            rest: bytes,
            offset: 0,
        }
    }

    /// The bytes not read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let Some((head, tail)) = self.rest.split_first_chunk::<N>() else {
            return Err(DecodeError::TooShort {
                needed: self.offset + N,
                got: self.offset + self.rest.len(),
            });
        };
        self.rest = tail;
        self.offset += N;
        Ok(*head)
    }

    pub(super) fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        let Some(tail) = self.rest.get(n..) else {
            return Err(DecodeError::TooShort {
                needed: self.offset + n,
                got: self.offset + self.rest.len(),
            });
        };
        self.rest = tail;
        self.offset += n;
        Ok(())
    }

    pub(super) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.array::<1>().map(|[b]| b)
    }

    pub(super) fn i8(&mut self) -> Result<i8, DecodeError> {
        self.array().map(i8::from_be_bytes)
    }

    pub(super) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_be_bytes)
    }

    pub(super) fn i16(&mut self) -> Result<i16, DecodeError> {
        self.array().map(i16::from_be_bytes)
    }

    pub(super) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_be_bytes)
    }

    pub(super) fn i64(&mut self) -> Result<i64, DecodeError> {
        self.array().map(i64::from_be_bytes)
    }

    /// A 10-byte Timestamp: 48-bit seconds then 32-bit nanoseconds. A nanoseconds
    /// field of 10^9 or more is not a time at all, so it is rejected here rather
    /// than left for every consumer to trip over.
    pub(super) fn timestamp(&mut self) -> Result<WireTimestamp, DecodeError> {
        let [s0, s1, s2, s3, s4, s5] = self.array()?;
        let seconds = u64::from_be_bytes([0, 0, s0, s1, s2, s3, s4, s5]);
        let nanoseconds = self.u32()?;
        if nanoseconds >= 1_000_000_000 {
            return Err(DecodeError::BadTimestamp);
        }
        Ok(WireTimestamp {
            seconds,
            nanoseconds,
        })
    }

    pub(super) fn clock_identity(&mut self) -> Result<ClockIdentity, DecodeError> {
        self.array().map(ClockIdentity)
    }

    pub(super) fn port_identity(&mut self) -> Result<PortIdentity, DecodeError> {
        Ok(PortIdentity {
            clock_identity: self.clock_identity()?,
            port_number: self.u16()?,
        })
    }
}

/// Writes a 10-byte Timestamp. Seconds above 48 bits cannot be represented and
/// are truncated to their low 48 bits (that is year 8.9 million: not a concern).
pub(super) fn write_timestamp(out: &mut Vec<u8>, ts: WireTimestamp) {
    let seconds = (ts.seconds & WireTimestamp::MAX_SECONDS).to_be_bytes();
    out.extend_from_slice(&seconds[2..]);
    out.extend_from_slice(&ts.nanoseconds.to_be_bytes());
}

pub(super) fn write_port_identity(out: &mut Vec<u8>, port: PortIdentity) {
    out.extend_from_slice(&port.clock_identity.0);
    out.extend_from_slice(&port.port_number.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_report_positions_instead_of_panicking() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.u32(), Err(DecodeError::TooShort { needed: 6, got: 3 }));
        // A failed read consumes nothing.
        assert_eq!(r.u8(), Ok(3));
        assert_eq!(r.u8(), Err(DecodeError::TooShort { needed: 4, got: 3 }));
        assert!(r.rest().is_empty());
    }

    #[test]
    fn timestamp_is_48_bit_seconds_then_nanoseconds() {
        let ts = WireTimestamp {
            seconds: 0x0000_A1B2_C3D4_E5F6,
            nanoseconds: 999_999_999,
        };
        let mut out = Vec::new();
        write_timestamp(&mut out, ts);
        assert_eq!(
            out,
            [0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x3B, 0x9A, 0xC9, 0xFF]
        );
        assert_eq!(Reader::new(&out).timestamp(), Ok(ts));
    }

    #[test]
    fn out_of_range_nanoseconds_are_rejected() {
        let bytes = [0, 0, 0, 0, 0, 1, 0x3B, 0x9A, 0xCA, 0x00]; // 1e9 ns
        assert_eq!(
            Reader::new(&bytes).timestamp(),
            Err(DecodeError::BadTimestamp)
        );
    }
}
