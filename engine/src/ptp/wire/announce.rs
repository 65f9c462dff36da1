//! Announce (IEEE 1588-2019 §13.5): a master's description of its grandmaster,
//! the input to the best master clock algorithm.

use super::DecodeError;
use super::cursor::{Reader, write_timestamp};
use super::header::ClockIdentity;
use crate::time::WireTimestamp;

/// ClockQuality (§7.6.2.5). The derived ordering compares the fields in wire
/// order, which is the order the best master clock algorithm compares them in
/// (lower is better).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClockQuality {
    pub clock_class: u8,
    pub clock_accuracy: u8,
    pub offset_scaled_log_variance: u16,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AnnounceBody {
    pub origin_timestamp: WireTimestamp,
    /// TAI - UTC in seconds; trusted only with the `current_utc_offset_valid` flag.
    pub current_utc_offset: i16,
    pub grandmaster_priority1: u8,
    pub grandmaster_clock_quality: ClockQuality,
    pub grandmaster_priority2: u8,
    pub grandmaster_identity: ClockIdentity,
    /// Boundary clocks between the grandmaster and the sender.
    pub steps_removed: u16,
    /// timeSource enumeration (§7.6.2.8), e.g. 0x20 GNSS, 0xA0 internal oscillator.
    pub time_source: u8,
}

impl AnnounceBody {
    /// Size of the body on the wire.
    pub const LEN: usize = 30;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let origin_timestamp = r.timestamp()?;
        let current_utc_offset = r.i16()?;
        let _reserved = r.u8()?;
        Ok(AnnounceBody {
            origin_timestamp,
            current_utc_offset,
            grandmaster_priority1: r.u8()?,
            grandmaster_clock_quality: ClockQuality {
                clock_class: r.u8()?,
                clock_accuracy: r.u8()?,
                offset_scaled_log_variance: r.u16()?,
            },
            grandmaster_priority2: r.u8()?,
            grandmaster_identity: r.clock_identity()?,
            steps_removed: r.u16()?,
            time_source: r.u8()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_timestamp(out, self.origin_timestamp);
        out.extend_from_slice(&self.current_utc_offset.to_be_bytes());
        out.push(0); // reserved
        out.push(self.grandmaster_priority1);
        let q = self.grandmaster_clock_quality;
        out.push(q.clock_class);
        out.push(q.clock_accuracy);
        out.extend_from_slice(&q.offset_scaled_log_variance.to_be_bytes());
        out.push(self.grandmaster_priority2);
        out.extend_from_slice(&self.grandmaster_identity.0);
        out.extend_from_slice(&self.steps_removed.to_be_bytes());
        out.push(self.time_source);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;
    use crate::time::WireTimestamp;

    fn sample_announce() -> PtpMessage {
        let mut header = sample_header(MessageType::Announce);
        header.flags.current_utc_offset_valid = true;
        header.flags.ptp_timescale = true;
        header.flags.time_traceable = true;
        header.log_message_interval = 1;
        PtpMessage::new(
            header,
            MessageBody::Announce(AnnounceBody {
                origin_timestamp: WireTimestamp {
                    seconds: 1_767_225_637,
                    nanoseconds: 250_000_000,
                },
                current_utc_offset: 37,
                grandmaster_priority1: 128,
                grandmaster_clock_quality: ClockQuality {
                    clock_class: 6,
                    clock_accuracy: 0x21,
                    offset_scaled_log_variance: 0x4E5D,
                },
                grandmaster_priority2: 127,
                grandmaster_identity: ClockIdentity([1, 2, 3, 4, 5, 6, 7, 8]),
                steps_removed: 2,
                time_source: 0x20,
            }),
        )
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = sample_announce();
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 64);
        // Spot-check the layout after the timestamp: offset, reserved, priority1.
        assert_eq!(bytes[44..48], [0, 37, 0, 128]);
        assert_eq!(bytes[63], 0x20);
    }

    #[test]
    fn a_path_trace_tlv_is_kept_verbatim() {
        let mut msg = sample_announce();
        // PATH_TRACE (tlvType 0x0008), lengthField 8, one ClockIdentity.
        msg.suffix = vec![0x00, 0x08, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8];
        msg.header.message_length = 64 + 12;
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes[2..4], 76u16.to_be_bytes());
        assert_eq!(bytes[64..], msg.suffix[..]);
    }

    #[test]
    fn the_reserved_byte_is_ignored_on_decode() {
        let msg = sample_announce();
        let mut bytes = msg.to_bytes();
        bytes[46] = 0xFF;
        assert_eq!(PtpMessage::decode(&bytes), Ok(msg));
    }
}
