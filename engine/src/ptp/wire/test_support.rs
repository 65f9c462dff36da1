//! Fixtures shared by the wire tests.

use super::*;
use crate::time::TimeInterval;

/// A header with every field away from its default, including a negative
/// correction and a negative log interval, so that a field written to the wrong
/// offset or with the wrong sign cannot go unnoticed.
pub(super) fn sample_header(message_type: MessageType) -> Header {
    let source = PortIdentity {
        clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x12, 0x34, 0x56]),
        port_number: 3,
    };
    let mut header = Header::new(message_type, 24, source, 0xBEEF, -3);
    header.major_sdo_id = 0x1;
    header.minor_sdo_id = 0x42;
    header.flags.two_step = true;
    header.flags.unicast = true;
    header.flags.leap61 = true;
    header.correction = TimeInterval(-123_456_789);
    header.message_type_specific = 0xDEAD_BEEF;
    header
}

/// Encodes `msg`, checks that it decodes back to `msg` and re-encodes to the same
/// bytes, and returns the bytes.
pub(super) fn assert_round_trip(msg: &PtpMessage) -> Vec<u8> {
    let bytes = msg.to_bytes();
    assert_eq!(usize::from(msg.header.message_length), bytes.len());
    let decoded = PtpMessage::decode(&bytes).expect("own encoding decodes");
    assert_eq!(&decoded, msg);
    assert_eq!(decoded.to_bytes(), bytes);
    bytes
}
