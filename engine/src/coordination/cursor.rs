//! Bounds-checked big-endian reads for the coordination codec. Every read
//! checks what is left, so no input, however cut or corrupted, can index out
//! of bounds.

use super::wire::DecodeError;

/// Reads fields front to back from one frame (or one body).
pub(super) struct Reader<'a> {
    rest: &'a [u8],
    /// Bytes consumed so far, so that `TooShort` reports positions.
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader {
            rest: bytes,
            offset: 0,
        }
    }

    /// How many bytes have been read.
    pub(super) fn offset(&self) -> usize {
        self.offset
    }

    /// The bytes not read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::TooShort {
                needed: self.offset + n,
                got: self.offset + self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        self.offset += n;
        Ok(head)
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

    pub(super) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.array::<1>().map(|[b]| b)
    }

    pub(super) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_be_bytes)
    }

    pub(super) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_be_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_be_bytes)
    }

    pub(super) fn i64(&mut self) -> Result<i64, DecodeError> {
        self.array().map(i64::from_be_bytes)
    }

    /// An IEEE 754 double. Only finite values are measurements: NaN or an
    /// infinity on the wire is a malformed frame, not a number to act on.
    pub(super) fn finite_f64(&mut self, field: &'static str) -> Result<f64, DecodeError> {
        let v = f64::from_bits(self.u64()?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(DecodeError::NonFinite { field })
        }
    }
}
