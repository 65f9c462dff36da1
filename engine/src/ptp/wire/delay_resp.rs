//! Delay_Resp (IEEE 1588-2019 §13.8): the master's answer to a Delay_Req, giving
//! the instant the request arrived.

use super::DecodeError;
use super::cursor::{Reader, write_port_identity, write_timestamp};
use super::header::PortIdentity;
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DelayRespBody {
    /// When the Delay_Req reached the master. The Delay_Resp's correction field
    /// is subtracted from it.
    pub receive_timestamp: WireTimestamp,
    /// The Delay_Req's sender: Delay_Resp is often multicast, so every slave must
    /// check that the answer is for itself.
    pub requesting_port_identity: PortIdentity,
}

impl DelayRespBody {
    /// Size of the body on the wire.
    pub const LEN: usize = 20;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DelayRespBody {
            receive_timestamp: r.timestamp()?,
            requesting_port_identity: r.port_identity()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.receive_timestamp);
        write_port_identity(out, self.requesting_port_identity);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;
    use crate::time::{TimeInterval, WireTimestamp};

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = PtpMessage::new(
            sample_header(MessageType::DelayResp),
            MessageBody::DelayResp(DelayRespBody {
                receive_timestamp: WireTimestamp {
                    seconds: 42,
                    nanoseconds: 7,
                },
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([9, 8, 7, 6, 5, 4, 3, 2]),
                    port_number: 0xFFFF,
                },
            }),
        );
        assert_eq!(assert_round_trip(&msg).len(), 54);
    }

    #[test]
    fn decodes_a_known_byte_vector() {
        #[rustfmt::skip]
        let bytes = [
            0x09, // majorSdoId 0, messageType Delay_Resp
            0x02, // minorVersionPTP 0 (a 1588-2008 sender), versionPTP 2
            0x00, 0x36, // messageLength 54
            0x00, // domainNumber 0
            0x00, // minorSdoId
            0x04, 0x00, // flags: unicast
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // correction 1 ns
            0x00, 0x00, 0x00, 0x00, // messageTypeSpecific
            0xAA, 0xBB, 0xCC, 0xFF, 0xFE, 0xDD, 0xEE, 0xFF, // clockIdentity
            0x00, 0x01, // portNumber 1
            0xFF, 0xFE, // sequenceId
            0x03, // controlField (Delay_Resp)
            0xFC, // logMessageInterval -4 (logMinDelayReqInterval)
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // seconds 2^32
            0x3B, 0x9A, 0xC9, 0xFF, // nanoseconds 999999999
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, // requesting clockIdentity
            0x80, 0x00, // requesting portNumber
        ];
        let msg = PtpMessage::decode(&bytes).unwrap();
        let h = msg.header;
        assert_eq!(h.major_sdo_id, 0);
        assert_eq!(h.message_type, MessageType::DelayResp);
        assert_eq!(h.minor_version, 0);
        assert_eq!(h.version, 2);
        assert_eq!(h.message_length, 54);
        assert_eq!(h.domain_number, 0);
        assert_eq!(h.minor_sdo_id, 0);
        assert_eq!(
            h.flags,
            Flags {
                unicast: true,
                ..Flags::default()
            }
        );
        assert_eq!(h.correction, TimeInterval(1 << 16));
        assert_eq!(h.message_type_specific, 0);
        assert_eq!(
            h.source_port_identity,
            PortIdentity {
                clock_identity: ClockIdentity([0xAA, 0xBB, 0xCC, 0xFF, 0xFE, 0xDD, 0xEE, 0xFF]),
                port_number: 1,
            }
        );
        assert_eq!(h.sequence_id, 0xFFFE);
        assert_eq!(h.control_field, 3);
        assert_eq!(h.log_message_interval, -4);
        assert_eq!(
            msg.body,
            MessageBody::DelayResp(DelayRespBody {
                receive_timestamp: WireTimestamp {
                    seconds: 1 << 32,
                    nanoseconds: 999_999_999,
                },
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]),
                    port_number: 0x8000,
                },
            })
        );
        assert!(msg.suffix.is_empty());
        assert_eq!(msg.to_bytes(), bytes);
    }
}
