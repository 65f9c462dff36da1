//! Delay_Req (IEEE 1588-2019 §13.6): the slave's event message for measuring the
//! slave-to-master path.

use super::DecodeError;
use super::cursor::{Reader, write_timestamp};
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DelayReqBody {
    /// An estimate of the send time, or zero; the slave relies on its own
    /// transmit timestamp, not on this field.
    pub origin_timestamp: WireTimestamp,
}

impl DelayReqBody {
    /// Size of the body on the wire (the same layout as Sync, so that the two
    /// event messages are the same size on the wire).
    pub const LEN: usize = 10;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DelayReqBody {
            origin_timestamp: r.timestamp()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.origin_timestamp);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;
    use crate::time::WireTimestamp;

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = PtpMessage::new(
            sample_header(MessageType::DelayReq),
            MessageBody::DelayReq(DelayReqBody {
                origin_timestamp: WireTimestamp {
                    seconds: 1_767_225_637,
                    nanoseconds: 500_000_001,
                },
            }),
        );
        assert_eq!(assert_round_trip(&msg).len(), 44);
        assert!(msg.is_event());
    }
}
