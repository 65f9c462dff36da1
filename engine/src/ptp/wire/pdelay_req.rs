//! Pdelay_Req (IEEE 1588-2019 §13.9): the event message that opens a peer-to-peer
//! link delay measurement.

use super::DecodeError;
use super::cursor::{Reader, write_timestamp};
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PdelayReqBody {
    /// An estimate of the send time, or zero: the requester relies on its own
    /// transmit timestamp.
    pub origin_timestamp: WireTimestamp,
}

impl PdelayReqBody {
    /// Size of the body on the wire: the timestamp and 10 reserved bytes, which
    /// make Pdelay_Req as long as Pdelay_Resp (§13.9.1), so that both directions
    /// of the link see equally long event messages.
    pub const LEN: usize = 20;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let origin_timestamp = r.timestamp()?;
        r.skip(10)?; // reserved
        Ok(PdelayReqBody { origin_timestamp })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.origin_timestamp);
        out.extend_from_slice(&[0; 10]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;
    use crate::time::WireTimestamp;

    fn sample() -> PtpMessage {
        PtpMessage::new(
            sample_header(MessageType::PdelayReq),
            MessageBody::PdelayReq(PdelayReqBody {
                origin_timestamp: WireTimestamp {
                    seconds: 1_767_225_637,
                    nanoseconds: 42,
                },
            }),
        )
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = sample();
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 54);
        assert_eq!(bytes[0] & 0x0F, 0x2);
        assert_eq!(bytes[44..54], [0; 10]);
        assert!(msg.is_event());
    }

    #[test]
    fn the_reserved_bytes_are_ignored_on_decode() {
        let msg = sample();
        let mut bytes = msg.to_bytes();
        bytes[44..54].copy_from_slice(&[0xFF; 10]);
        assert_eq!(PtpMessage::decode(&bytes), Ok(msg));
    }

    #[test]
    fn round_trips_with_tlvs() {
        let msg = sample().with_tlvs(&[Tlv::new(0x7FFF, vec![1, 2, 3])]);
        assert_eq!(assert_round_trip(&msg).len(), 54 + 7);
    }
}
