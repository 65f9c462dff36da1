//! Follow_Up (IEEE 1588-2019 §13.7): a two-step master's report of when its
//! previous Sync (same sequenceId) actually left.

use super::DecodeError;
use super::cursor::{Reader, write_timestamp};
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FollowUpBody {
    /// The Sync's send time. The correction field of the Follow_Up adds to it.
    pub precise_origin_timestamp: WireTimestamp,
}

impl FollowUpBody {
    /// Size of the body on the wire.
    pub const LEN: usize = 10;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FollowUpBody {
            precise_origin_timestamp: r.timestamp()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.precise_origin_timestamp);
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
            sample_header(MessageType::FollowUp),
            MessageBody::FollowUp(FollowUpBody {
                precise_origin_timestamp: WireTimestamp {
                    seconds: WireTimestamp::MAX_SECONDS,
                    nanoseconds: 1,
                },
            }),
        );
        assert_eq!(assert_round_trip(&msg).len(), 44);
        assert!(!msg.is_event());
    }
}
