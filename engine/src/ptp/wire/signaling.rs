//! Signaling (IEEE 1588-2019 §13.12): a general message that exists to carry
//! TLVs (unicast negotiation, say) to one port or to all of them.

use super::DecodeError;
use super::cursor::{Reader, write_port_identity};
use super::header::PortIdentity;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SignalingBody {
    /// The port the TLVs are for; [`PortIdentity::ALL`] addresses every port.
    pub target_port_identity: PortIdentity,
}

impl SignalingBody {
    /// Size of the body on the wire. The TLVs follow it, in
    /// [`PtpMessage::suffix`](super::PtpMessage::suffix): see
    /// [`PtpMessage::tlvs`](super::PtpMessage::tlvs).
    pub const LEN: usize = 10;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SignalingBody {
            target_port_identity: r.port_identity()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_port_identity(out, self.target_port_identity);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;

    fn sample(tlvs: &[Tlv]) -> PtpMessage {
        PtpMessage::new(
            sample_header(MessageType::Signaling),
            MessageBody::Signaling(SignalingBody {
                target_port_identity: PortIdentity::ALL,
            }),
        )
        .with_tlvs(tlvs)
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let msg = sample(&[]);
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 44);
        assert_eq!(bytes[0] & 0x0F, 0xC);
        assert_eq!(bytes[34..44], [0xFF; 10]);
        assert!(!msg.is_event());
        assert_eq!(msg.tlvs(), Ok(vec![]));
    }

    #[test]
    fn round_trips_with_tlvs() {
        // REQUEST_UNICAST_TRANSMISSION for Sync, 8 per second, for 300 s; then
        // an odd-length TLV, which 1588 frowns upon but which decodes anyway.
        let tlvs = [
            Tlv::new(0x0004, vec![0x00, 0xFD, 0x00, 0x00, 0x01, 0x2C]),
            Tlv::new(0x7001, vec![1, 2, 3]),
        ];
        let msg = sample(&tlvs);
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 44 + 10 + 7);
        assert_eq!(bytes[44..48], [0x00, 0x04, 0x00, 0x06]);
        assert_eq!(
            PtpMessage::decode(&bytes).unwrap().tlvs(),
            Ok(tlvs.to_vec())
        );
    }

    #[test]
    fn a_tlv_running_past_message_length_is_an_error() {
        let mut bytes = sample(&[Tlv::new(0x0004, vec![0; 6])]).to_bytes();
        // lengthField 8: two bytes more than the message holds.
        bytes[46..48].copy_from_slice(&8u16.to_be_bytes());
        assert_eq!(
            PtpMessage::decode(&bytes),
            Err(DecodeError::TlvOverrun {
                offset: 0,
                needed: 12,
                got: 10
            })
        );
        // Three stray bytes cannot even hold a TLV header.
        let mut bytes = sample(&[]).to_bytes();
        bytes.extend_from_slice(&[0, 1, 0]);
        bytes[2..4].copy_from_slice(&47u16.to_be_bytes());
        assert_eq!(
            PtpMessage::decode(&bytes),
            Err(DecodeError::TlvOverrun {
                offset: 0,
                needed: 4,
                got: 3
            })
        );
    }
}
