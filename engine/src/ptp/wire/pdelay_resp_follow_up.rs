//! Pdelay_Resp_Follow_Up (IEEE 1588-2019 §13.11): a two-step peer's report of when
//! its Pdelay_Resp actually left.

use super::DecodeError;
use super::cursor::{Reader, write_port_identity, write_timestamp};
use super::header::PortIdentity;
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PdelayRespFollowUpBody {
    /// When the Pdelay_Resp left the responder (t3), or zero when the turnaround
    /// time travels in the correction field instead.
    pub response_origin_timestamp: WireTimestamp,
    /// The sender of the Pdelay_Req being answered.
    pub requesting_port_identity: PortIdentity,
}

impl PdelayRespFollowUpBody {
    /// Size of the body on the wire.
    pub const LEN: usize = 20;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PdelayRespFollowUpBody {
            response_origin_timestamp: r.timestamp()?,
            requesting_port_identity: r.port_identity()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.response_origin_timestamp);
        write_port_identity(out, self.requesting_port_identity);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;
    use crate::time::WireTimestamp;

    fn sample() -> PtpMessage {
        PtpMessage::new(
            sample_header(MessageType::PdelayRespFollowUp),
            MessageBody::PdelayRespFollowUp(PdelayRespFollowUpBody {
                response_origin_timestamp: WireTimestamp {
                    seconds: 7,
                    nanoseconds: 1,
                },
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([8; 8]),
                    port_number: 1,
                },
            }),
        )
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = sample();
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 54);
        assert_eq!(bytes[0] & 0x0F, 0xA);
        assert_eq!(bytes[44..54], [8, 8, 8, 8, 8, 8, 8, 8, 0, 1]);
        assert!(!msg.is_event());
    }

    #[test]
    fn round_trips_with_tlvs() {
        let msg = sample().with_tlvs(&[Tlv::new(0x0123, vec![0xAB; 5])]);
        assert_eq!(assert_round_trip(&msg).len(), 54 + 9);
    }
}
