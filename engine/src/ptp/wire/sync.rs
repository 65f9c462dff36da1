//! Sync (IEEE 1588-2019 §13.6): the master's event message whose send instant
//! starts each offset measurement.

use super::DecodeError;
use super::cursor::{Reader, write_timestamp};
use crate::time::WireTimestamp;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SyncBody {
    /// For a one-step master, the precise send time. For a two-step master
    /// (header flag `two_step`) only an estimate, possibly zero: the precise
    /// time follows in the Follow_Up.
    pub origin_timestamp: WireTimestamp,
}

impl SyncBody {
    /// Size of the body on the wire.
    pub const LEN: usize = 10;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SyncBody {
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
    use crate::time::{TimeInterval, WireTimestamp};

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = PtpMessage::new(
            sample_header(MessageType::Sync),
            MessageBody::Sync(SyncBody {
                origin_timestamp: WireTimestamp {
                    seconds: 0x0000_ABCD_1234_5678,
                    nanoseconds: 999_999_999,
                },
            }),
        );
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 44);
        assert!(msg.is_event());
    }

    #[test]
    fn decodes_a_known_byte_vector() {
        #[rustfmt::skip]
        let bytes = [
            0x10, // majorSdoId 1, messageType Sync
            0x12, // minorVersionPTP 1, versionPTP 2
            0x00, 0x2C, // messageLength 44
            0x18, // domainNumber 24
            0x07, // minorSdoId 7
            0x02, 0x08, // flags: twoStep; ptpTimescale
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x80, 0x00, // correction -1.5 ns
            0x01, 0x02, 0x03, 0x04, // messageTypeSpecific
            0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01, // clockIdentity
            0x00, 0x02, // portNumber 2
            0x12, 0x34, // sequenceId
            0x00, // controlField (Sync)
            0xFD, // logMessageInterval -3 (8 per second)
            0x00, 0x00, 0x69, 0x4F, 0x5A, 0x25, // seconds
            0x07, 0x5B, 0xCD, 0x15, // nanoseconds 123456789
        ];
        let msg = PtpMessage::decode(&bytes).unwrap();
        let h = msg.header;
        assert_eq!(h.major_sdo_id, 1);
        assert_eq!(h.message_type, MessageType::Sync);
        assert_eq!(h.minor_version, 1);
        assert_eq!(h.version, 2);
        assert_eq!(h.message_length, 44);
        assert_eq!(h.domain_number, 24);
        assert_eq!(h.minor_sdo_id, 7);
        assert_eq!(
            h.flags,
            Flags {
                two_step: true,
                ptp_timescale: true,
                ..Flags::default()
            }
        );
        assert_eq!(h.correction, TimeInterval(-(3 << 15)));
        assert_eq!(h.message_type_specific, 0x0102_0304);
        assert_eq!(
            h.source_port_identity,
            PortIdentity {
                clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01]),
                port_number: 2,
            }
        );
        assert_eq!(h.sequence_id, 0x1234);
        assert_eq!(h.control_field, 0);
        assert_eq!(h.log_message_interval, -3);
        assert_eq!(
            msg.body,
            MessageBody::Sync(SyncBody {
                origin_timestamp: WireTimestamp {
                    seconds: 0x694F_5A25,
                    nanoseconds: 123_456_789,
                },
            })
        );
        assert!(msg.suffix.is_empty());
        assert_eq!(msg.to_bytes(), bytes);
    }
}
