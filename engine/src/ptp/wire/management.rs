//! Management (IEEE 1588-2019 §15.4): a general message carrying one MANAGEMENT
//! (or MANAGEMENT_ERROR_STATUS) TLV that reads or writes a data set of a target
//! port.

use super::DecodeError;
use super::cursor::{Reader, write_port_identity};
use super::header::PortIdentity;

/// actionField (§15.4.1.6): what the message asks the target to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ManagementAction {
    #[default]
    Get = 0,
    Set = 1,
    Response = 2,
    Command = 3,
    Acknowledge = 4,
}

impl TryFrom<u8> for ManagementAction {
    type Error = DecodeError;

    fn try_from(value: u8) -> Result<Self, DecodeError> {
        Ok(match value {
            0 => ManagementAction::Get,
            1 => ManagementAction::Set,
            2 => ManagementAction::Response,
            3 => ManagementAction::Command,
            4 => ManagementAction::Acknowledge,
            other => {
                return Err(DecodeError::BadValue {
                    field: "actionField",
                    value: u32::from(other),
                });
            }
        })
    }
}

impl From<ManagementAction> for u8 {
    fn from(action: ManagementAction) -> u8 {
        action as u8
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ManagementBody {
    /// The port addressed; [`PortIdentity::ALL`] addresses every port.
    pub target_port_identity: PortIdentity,
    /// How many boundary clocks the message may cross.
    pub starting_boundary_hops: u8,
    /// How many it still may: each boundary clock that forwards it decrements it.
    pub boundary_hops: u8,
    /// The low nibble of its byte on the wire; the high nibble is reserved, sent
    /// as zero and ignored on decode.
    pub action: ManagementAction,
}

impl ManagementBody {
    /// Size of the body on the wire (the fixed part: the MANAGEMENT TLV follows
    /// in [`PtpMessage::suffix`](super::PtpMessage::suffix)).
    pub const LEN: usize = 14;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let target_port_identity = r.port_identity()?;
        let starting_boundary_hops = r.u8()?;
        let boundary_hops = r.u8()?;
        let action = ManagementAction::try_from(r.u8()? & 0x0F)?;
        let _reserved = r.u8()?;
        Ok(ManagementBody {
            target_port_identity,
            starting_boundary_hops,
            boundary_hops,
            action,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        write_port_identity(out, self.target_port_identity);
        out.push(self.starting_boundary_hops);
        out.push(self.boundary_hops);
        out.push(u8::from(self.action));
        out.push(0); // reserved
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_round_trip, sample_header};
    use super::super::*;

    fn sample(action: ManagementAction, tlv: &Tlv) -> PtpMessage {
        PtpMessage::new(
            sample_header(MessageType::Management),
            MessageBody::Management(ManagementBody {
                target_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([1, 2, 3, 4, 5, 6, 7, 8]),
                    port_number: 0xFFFF,
                },
                starting_boundary_hops: 4,
                boundary_hops: 3,
                action,
            }),
        )
        .with_tlvs(std::slice::from_ref(tlv))
    }

    #[test]
    fn round_trips_byte_for_byte() {
        // GET of CURRENT_DATA_SET (0x2001): a MANAGEMENT TLV with no data.
        let tlv = ManagementTlv {
            management_id: 0x2001,
            data: vec![],
        }
        .to_tlv();
        let msg = sample(ManagementAction::Get, &tlv);
        let bytes = assert_round_trip(&msg);
        assert_eq!(bytes.len(), 48 + 6);
        assert_eq!(bytes[0] & 0x0F, 0xD);
        assert_eq!(bytes[32], 4, "controlField of Management");
        assert_eq!(bytes[44..48], [4, 3, 0, 0]);
        assert_eq!(bytes[48..54], [0x00, 0x01, 0x00, 0x02, 0x20, 0x01]);
        assert!(!msg.is_event());
    }

    #[test]
    fn every_action_round_trips() {
        let tlv = ManagementTlv {
            management_id: 0x2000,
            data: vec![0x03, 0x00, 0x00, 0x01],
        }
        .to_tlv();
        for (action, value) in [
            (ManagementAction::Get, 0),
            (ManagementAction::Set, 1),
            (ManagementAction::Response, 2),
            (ManagementAction::Command, 3),
            (ManagementAction::Acknowledge, 4),
        ] {
            let msg = sample(action, &tlv);
            let bytes = assert_round_trip(&msg);
            assert_eq!(bytes[46], value);
            let tlvs = PtpMessage::decode(&bytes).unwrap().tlvs().unwrap();
            assert_eq!(
                ManagementTlv::from_tlv(&tlvs[0]).unwrap().management_id,
                0x2000
            );
        }
    }

    #[test]
    fn round_trips_with_an_error_status_tlv() {
        let tlv = ManagementErrorStatusTlv {
            management_error_id: ManagementErrorStatusTlv::NO_SUCH_ID,
            management_id: 0x1234,
            display_data: b"no such id".to_vec(),
        }
        .to_tlv();
        let msg = sample(ManagementAction::Response, &tlv);
        let bytes = assert_round_trip(&msg);
        let tlvs = PtpMessage::decode(&bytes).unwrap().tlvs().unwrap();
        assert_eq!(
            ManagementErrorStatusTlv::from_tlv(&tlvs[0])
                .unwrap()
                .display_data,
            b"no such id"
        );
    }

    #[test]
    fn the_reserved_nibble_and_byte_are_ignored_but_bad_actions_are_not() {
        let msg = sample(
            ManagementAction::Set,
            &Tlv::new(Tlv::MANAGEMENT, vec![0, 0]),
        );
        let mut bytes = msg.to_bytes();
        bytes[46] |= 0xF0;
        bytes[47] = 0xFF;
        assert_eq!(PtpMessage::decode(&bytes), Ok(msg.clone()));
        for action in 5..16 {
            bytes[46] = action;
            assert_eq!(
                PtpMessage::decode(&bytes),
                Err(DecodeError::BadValue {
                    field: "actionField",
                    value: u32::from(action)
                })
            );
        }
    }
}
