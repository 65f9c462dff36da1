//! Pdelay_Resp (IEEE 1588-2019 §13.10): the peer's event message answering a
//! Pdelay_Req.

use super::DecodeError;
use super::cursor::{Reader, write_port_identity, write_timestamp};
use super::header::PortIdentity;
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PdelayRespBody {
    /// When the Pdelay_Req arrived (t2), or zero when the responder reports the
    /// turnaround time in the correction field instead.
    pub request_receipt_timestamp: WireTimestamp,
    /// The Pdelay_Req's sender.
    pub requesting_port_identity: PortIdentity,
}

impl PdelayRespBody {
    /// Size of the body on the wire.
    pub const LEN: usize = 20;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PdelayRespBody {
            request_receipt_timestamp: r.timestamp()?,
            requesting_port_identity: r.port_identity()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.request_receipt_timestamp);
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
            sample_header(MessageType::PdelayResp),
            MessageBody::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: WireTimestamp {
                    seconds: 0x0000_0102_0304_0506,
                    nanoseconds: 999_999_999,
                },
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([0xA0, 1, 2, 3, 4, 5, 6, 7]),
                    port_number: 0x0102,
                },
            }),
        )
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = sample();
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 54);
        assert_eq!(bytes[0] & 0x0F, 0x3);
        assert_eq!(bytes[34..40], [0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);
        assert_eq!(bytes[44..54], [0xA0, 1, 2, 3, 4, 5, 6, 7, 0x01, 0x02]);
        assert!(msg.is_event());
    }

    #[test]
    fn round_trips_with_tlvs() {
        let msg = sample().with_tlvs(&[
            Tlv::new(Tlv::PAD, vec![0; 4]),
            OrganizationExtensionTlv {
                organization_id: [0x00, 0x80, 0xC2],
                organization_sub_type: [0, 0, 1],
                data: vec![9; 10],
            }
            .to_tlv(),
        ]);
        assert_eq!(assert_round_trip(&msg).len(), 54 + 8 + 20);
    }
}
