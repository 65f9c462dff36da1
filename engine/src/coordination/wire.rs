//! The coordination frame: a versioned envelope that names its sender, the
//! sender's epoch and a sequence number, carries one message, and ends with
//! an HMAC-SHA256 tag over everything before it.
//!
//! ```text
//! offset  size  field
//!      0     2  magic "CS" (0x43 0x53)
//!      2     1  version (1)
//!      3     1  message type
//!      4     4  key id: which key of the ring made the tag
//!      8     4  sender node id
//!     12     4  sender epoch: raised on every restart of the sender
//!     16     8  sequence number: raised on every frame within an epoch
//!     24     2  body length
//!     26     n  body (its layout is the message type's, see message.rs)
//!   26+n 16|32  tag: HMAC-SHA256 over bytes 0..26+n, truncated or full
//! ```
//!
//! Big-endian throughout. The tag's length is what follows the body, so a
//! frame has no trailing bytes: a datagram is exactly one frame. Decoding
//! borrows from the input and allocates nothing, whatever it is given.

use super::cursor::Reader;
use super::keys::{AuthError, KeyRing};
use super::message::{Message, MessageType, NodeId};

/// The first two bytes of every frame.
pub const MAGIC: [u8; 2] = *b"CS";
/// The version this codec writes and reads. A change to any layout raises
/// it; a receiver rejects versions it does not know rather than guess.
pub const VERSION: u8 = 1;
/// Bytes before the body.
pub const HEADER_LEN: usize = 26;
/// The tag lengths a frame may carry: truncated and full HMAC-SHA256.
pub const TAG_LENS: [usize; 2] = [16, 32];
/// The longest frame version 1 has.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_BODY_LEN + 32;
const MAX_BODY_LEN: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < MessageType::ALL.len() {
        let len = MessageType::ALL[i].body_len();
        if len > max {
            max = len;
        }
        i += 1;
    }
    max
};

/// A sender's boot: raised (and kept, across restarts) every time the
/// sender starts, so that its sequence numbers can begin again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch(pub u32);

/// Why bytes are not a coordination frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before a field, or before the body length says the
    /// body does.
    #[error("frame truncated: needed {needed} bytes, got {got}")]
    TooShort { needed: usize, got: usize },
    #[error("not a coordination frame: magic {0:02x?}")]
    BadMagic([u8; 2]),
    #[error("unsupported coordination version {0}")]
    UnsupportedVersion(u8),
    #[error("unknown coordination message type {0}")]
    UnknownMessageType(u8),
    /// The body is not the length its message type has.
    #[error("{message_type:?} body of {got} bytes, expected {expected}")]
    BadBodyLength {
        message_type: MessageType,
        got: usize,
        expected: usize,
    },
    /// What follows the body is neither a 16- nor a 32-byte tag.
    #[error("{0} bytes after the body: not a 16- or 32-byte tag")]
    BadTagLength(usize),
    /// A rate that is NaN or infinite.
    #[error("{field} is not a finite number")]
    NonFinite { field: &'static str },
    /// An enumeration field holding a value the protocol does not define.
    #[error("{field} has the undefined value {value}")]
    BadValue { field: &'static str, value: u32 },
}

/// Why a message cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A rate that is NaN or infinite: no receiver would accept it.
    #[error("{field} is not a finite number")]
    NonFinite { field: &'static str },
}

/// The envelope fields of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameHeader {
    pub key_id: u32,
    pub sender: NodeId,
    pub epoch: Epoch,
    pub sequence: u64,
}

/// A decoded frame, not yet authenticated: check it with
/// [`Frame::verify`] before believing any of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame<'a> {
    pub header: FrameHeader,
    pub message: Message,
    /// The bytes the tag covers.
    covered: &'a [u8],
    tag: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Decodes one frame, which must fill `bytes` exactly.
    pub fn decode(bytes: &'a [u8]) -> Result<Frame<'a>, DecodeError> {
        let mut r = Reader::new(bytes);
        let magic = r.array::<2>()?;
        if magic != MAGIC {
            return Err(DecodeError::BadMagic(magic));
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let message_type = MessageType::from_code(r.u8()?)?;
        let header = FrameHeader {
            key_id: r.u32()?,
            sender: NodeId(r.u32()?),
            epoch: Epoch(r.u32()?),
            sequence: r.u64()?,
        };
        let body_len = usize::from(r.u16()?);
        let body = r.take(body_len)?;
        let covered = &bytes[..r.offset()];
        let tag = r.rest();
        if !TAG_LENS.contains(&tag.len()) {
            return Err(DecodeError::BadTagLength(tag.len()));
        }
        let message = Message::decode_body(message_type, body)?;
        Ok(Frame {
            header,
            message,
            covered,
            tag,
        })
    }

    /// Checks the tag under the key the header names.
    pub fn verify(&self, keys: &KeyRing) -> Result<(), AuthError> {
        keys.verify(self.header.key_id, self.covered, self.tag)
    }

    pub fn tag_len(&self) -> usize {
        self.tag.len()
    }
}

/// Encodes `message` in a frame from `sender`, tagged with the ring's
/// active key.
pub fn seal(
    keys: &KeyRing,
    sender: NodeId,
    epoch: Epoch,
    sequence: u64,
    message: &Message,
) -> Result<Vec<u8>, EncodeError> {
    let message_type = message.message_type();
    let body_len = message_type.body_len();
    let mut out = Vec::with_capacity(HEADER_LEN + body_len + keys.active_tag_len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(message_type.code());
    out.extend_from_slice(&keys.active_key_id().to_be_bytes());
    out.extend_from_slice(&sender.0.to_be_bytes());
    out.extend_from_slice(&epoch.0.to_be_bytes());
    out.extend_from_slice(&sequence.to_be_bytes());
    // Every body is a few dozen bytes: the u16 length cannot overflow.
    out.extend_from_slice(&(body_len as u16).to_be_bytes());
    message.encode_body(&mut out)?;
    keys.append_tag(0, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::keys::{IcvAlgorithm, Key};
    use crate::coordination::message::Heartbeat;
    use crate::time::Time;

    fn ring(algorithm: IcvAlgorithm) -> KeyRing {
        KeyRing::single(3, Key::new(algorithm, b"a shared secret".to_vec())).unwrap()
    }

    fn heartbeat() -> Message {
        Message::Heartbeat(Heartbeat {
            at: Time(0x0102_0304_0506_0708),
        })
    }

    #[test]
    fn the_layout_is_as_documented() {
        let keys = ring(IcvAlgorithm::HmacSha256Trunc128);
        let bytes = seal(&keys, NodeId(0x0A0B0C0D), Epoch(9), 0x11, &heartbeat()).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + 8 + 16);
        assert_eq!(
            &bytes[..HEADER_LEN + 8],
            &[
                b'C', b'S', 1, 5, // magic, version, heartbeat
                0, 0, 0, 3, // key id
                0x0A, 0x0B, 0x0C, 0x0D, // sender
                0, 0, 0, 9, // epoch
                0, 0, 0, 0, 0, 0, 0, 0x11, // sequence
                0, 8, // body length
                1, 2, 3, 4, 5, 6, 7, 8, // at
            ]
        );
        let frame = Frame::decode(&bytes).unwrap();
        assert_eq!(frame.message, heartbeat());
        assert_eq!(frame.header.sequence, 0x11);
        assert_eq!(frame.verify(&keys), Ok(()));
    }

    #[test]
    fn malformed_envelopes_are_named() {
        let keys = ring(IcvAlgorithm::HmacSha256);
        let good = seal(&keys, NodeId(1), Epoch(1), 1, &heartbeat()).unwrap();
        assert_eq!(good.len(), HEADER_LEN + 8 + 32);

        let mut b = good.clone();
        b[0] = b'X';
        assert_eq!(Frame::decode(&b), Err(DecodeError::BadMagic([b'X', b'S'])));
        let mut b = good.clone();
        b[2] = 2;
        assert_eq!(Frame::decode(&b), Err(DecodeError::UnsupportedVersion(2)));
        let mut b = good.clone();
        b[3] = 0;
        assert_eq!(Frame::decode(&b), Err(DecodeError::UnknownMessageType(0)));
        let mut b = good.clone();
        b[25] = 200;
        assert!(matches!(
            Frame::decode(&b),
            Err(DecodeError::TooShort { needed: 226, .. })
        ));
        assert_eq!(
            Frame::decode(&good[..good.len() - 1]),
            Err(DecodeError::BadTagLength(31))
        );
        let mut b = good.clone();
        b.push(0);
        assert_eq!(Frame::decode(&b), Err(DecodeError::BadTagLength(33)));
        assert_eq!(
            Frame::decode(&good[..10]),
            Err(DecodeError::TooShort {
                needed: 12,
                got: 10
            })
        );
        assert!(Frame::decode(&[]).is_err());
    }

    #[test]
    fn the_longest_frame_is_bounded() {
        assert_eq!(
            MAX_FRAME_LEN,
            HEADER_LEN + MessageType::SyncStatus.body_len() + 32
        );
    }
}
