//! The 34-byte common header every PTP message starts with (IEEE 1588-2019 §13.3),
//! and the identity types it carries.

use core::fmt;

use super::DecodeError;
use super::cursor::{Reader, write_port_identity};
use crate::time::TimeInterval;

/// messageType (§13.3.2.2). Only the low nibble of byte 0 carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MessageType {
    Sync = 0x0,
    DelayReq = 0x1,
    PdelayReq = 0x2,
    PdelayResp = 0x3,
    FollowUp = 0x8,
    DelayResp = 0x9,
    PdelayRespFollowUp = 0xA,
    Announce = 0xB,
    Signaling = 0xC,
    Management = 0xD,
}

impl MessageType {
    /// Event messages are the ones whose send and receive instants are
    /// timestamped; they travel on UDP port 319 rather than 320.
    pub const fn is_event(self) -> bool {
        matches!(
            self,
            MessageType::Sync
                | MessageType::DelayReq
                | MessageType::PdelayReq
                | MessageType::PdelayResp
        )
    }

    /// The controlField value (§13.3.2.13). It is a PTPv1 leftover that v2
    /// receivers ignore, but v1-era hardware timestampers still look at it, so
    /// senders should fill it in.
    pub const fn legacy_control_field(self) -> u8 {
        match self {
            MessageType::Sync => 0,
            MessageType::DelayReq => 1,
            MessageType::FollowUp => 2,
            MessageType::DelayResp => 3,
            MessageType::Management => 4,
            _ => 5,
        }
    }

    /// Header plus fixed body, in bytes: the smallest valid messageLength.
    pub const fn fixed_length(self) -> usize {
        Header::LEN
            + match self {
                MessageType::Sync | MessageType::DelayReq | MessageType::FollowUp => 10,
                MessageType::DelayResp
                | MessageType::PdelayReq
                | MessageType::PdelayResp
                | MessageType::PdelayRespFollowUp => 20,
                MessageType::Announce => 30,
                // targetPortIdentity
                MessageType::Signaling => 10,
                // targetPortIdentity, two hop counts, actionField, reserved
                MessageType::Management => 14,
            }
    }
}

impl TryFrom<u8> for MessageType {
    type Error = DecodeError;

    fn try_from(value: u8) -> Result<Self, DecodeError> {
        Ok(match value {
            0x0 => MessageType::Sync,
            0x1 => MessageType::DelayReq,
            0x2 => MessageType::PdelayReq,
            0x3 => MessageType::PdelayResp,
            0x8 => MessageType::FollowUp,
            0x9 => MessageType::DelayResp,
            0xA => MessageType::PdelayRespFollowUp,
            0xB => MessageType::Announce,
            0xC => MessageType::Signaling,
            0xD => MessageType::Management,
            other => return Err(DecodeError::UnknownMessageType(other)),
        })
    }
}

impl From<MessageType> for u8 {
    fn from(t: MessageType) -> u8 {
        t as u8
    }
}

/// flagField (§13.3.2.8). Reserved bits are dropped on decode and sent as zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    // Byte 6.
    pub alternate_master: bool,
    pub two_step: bool,
    pub unicast: bool,
    pub profile_specific_1: bool,
    pub profile_specific_2: bool,
    // Byte 7: the timePropertiesDS bits, meaningful in Announce.
    pub leap61: bool,
    pub leap59: bool,
    pub current_utc_offset_valid: bool,
    pub ptp_timescale: bool,
    pub time_traceable: bool,
    pub frequency_traceable: bool,
    pub synchronization_uncertain: bool,
}

impl Flags {
    pub fn to_bytes(self) -> [u8; 2] {
        let bit = |set: bool, mask: u8| if set { mask } else { 0 };
        [
            bit(self.alternate_master, 0x01)
                | bit(self.two_step, 0x02)
                | bit(self.unicast, 0x04)
                | bit(self.profile_specific_1, 0x20)
                | bit(self.profile_specific_2, 0x40),
            bit(self.leap61, 0x01)
                | bit(self.leap59, 0x02)
                | bit(self.current_utc_offset_valid, 0x04)
                | bit(self.ptp_timescale, 0x08)
                | bit(self.time_traceable, 0x10)
                | bit(self.frequency_traceable, 0x20)
                | bit(self.synchronization_uncertain, 0x40),
        ]
    }

    pub fn from_bytes([a, b]: [u8; 2]) -> Self {
        Flags {
            alternate_master: a & 0x01 != 0,
            two_step: a & 0x02 != 0,
            unicast: a & 0x04 != 0,
            profile_specific_1: a & 0x20 != 0,
            profile_specific_2: a & 0x40 != 0,
            leap61: b & 0x01 != 0,
            leap59: b & 0x02 != 0,
            current_utc_offset_valid: b & 0x04 != 0,
            ptp_timescale: b & 0x08 != 0,
            time_traceable: b & 0x10 != 0,
            frequency_traceable: b & 0x20 != 0,
            synchronization_uncertain: b & 0x40 != 0,
        }
    }
}

/// clockIdentity (§7.5.2.2): an EUI-64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClockIdentity(pub [u8; 8]);

impl fmt::Display for ClockIdentity {
    /// The linuxptp / Wireshark spelling, e.g. `001b19.fffe.000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g, h, i] = self.0;
        write!(
            f,
            "{a:02x}{b:02x}{c:02x}.{d:02x}{e:02x}.{g:02x}{h:02x}{i:02x}"
        )
    }
}

/// portIdentity (§7.5.2): which port of which clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PortIdentity {
    pub clock_identity: ClockIdentity,
    pub port_number: u16,
}

impl PortIdentity {
    /// All ones: the wildcard targetPortIdentity of Signaling and Management
    /// messages, addressing every port of every clock (§7.5.2.4).
    pub const ALL: PortIdentity = PortIdentity {
        clock_identity: ClockIdentity([0xFF; 8]),
        port_number: 0xFFFF,
    };
}

impl fmt::Display for PortIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.clock_identity, self.port_number)
    }
}

/// The common message header, field for field.
///
/// On encode, `message_type` and `message_length` are not taken from here: they
/// are derived from the message body and its actual size, so a message can never
/// go out describing itself wrongly. The nibble fields (`major_sdo_id`,
/// `minor_version`, `version`) are sent as their low four bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// majorSdoId (transportSpecific in 1588-2008), 4 bits.
    pub major_sdo_id: u8,
    pub message_type: MessageType,
    /// minorVersionPTP, 4 bits: 1 for 1588-2019, 0 from 1588-2008 senders.
    pub minor_version: u8,
    /// versionPTP, 4 bits: always 2 once decoded.
    pub version: u8,
    pub message_length: u16,
    pub domain_number: u8,
    pub minor_sdo_id: u8,
    pub flags: Flags,
    /// Residence and path corrections accumulated by transparent clocks, in
    /// ns * 2^16.
    pub correction: TimeInterval,
    /// Zero except where a profile defines it; carried verbatim.
    pub message_type_specific: u32,
    pub source_port_identity: PortIdentity,
    pub sequence_id: u16,
    pub control_field: u8,
    /// log2 of the message interval in seconds; 0x7F means "not specified".
    pub log_message_interval: i8,
}

impl Header {
    /// Size of the header on the wire.
    pub const LEN: usize = 34;

    /// A PTPv2.1 header for a fresh outgoing message: version 2.1, the legacy
    /// control field for `message_type`, zero correction and no flags set.
    pub fn new(
        message_type: MessageType,
        domain_number: u8,
        source_port_identity: PortIdentity,
        sequence_id: u16,
        log_message_interval: i8,
    ) -> Self {
        Header {
            major_sdo_id: 0,
            message_type,
            minor_version: 1,
            version: 2,
            // Only informative: encode writes the real length.
            message_length: message_type.fixed_length() as u16,
            domain_number,
            minor_sdo_id: 0,
            flags: Flags::default(),
            correction: TimeInterval::ZERO,
            message_type_specific: 0,
            source_port_identity,
            sequence_id,
            control_field: message_type.legacy_control_field(),
            log_message_interval,
        }
    }

    /// Decodes the header at the start of `bytes`, for any known message type.
    /// Useful to look at a message (type, domain, sequence) without decoding its
    /// body; `messageLength` is returned as sent, not checked against `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Header, DecodeError> {
        Header::read(&mut Reader::new(bytes))
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
        // Ask for the whole header first, so that a short buffer is reported as
        // such rather than as whatever field it happens to end in.
        let bytes: [u8; Header::LEN] = r.array()?;
        let mut r = Reader::new(&bytes);
        let [sdo_and_type, versions] = r.array()?;
        let version = versions & 0x0F;
        // Check the version before trusting any other field's meaning.
        if version != 2 {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        Ok(Header {
            major_sdo_id: sdo_and_type >> 4,
            message_type: MessageType::try_from(sdo_and_type & 0x0F)?,
            minor_version: versions >> 4,
            version,
            message_length: r.u16()?,
            domain_number: r.u8()?,
            minor_sdo_id: r.u8()?,
            flags: Flags::from_bytes(r.array()?),
            correction: TimeInterval(r.i64()?),
            message_type_specific: r.u32()?,
            source_port_identity: r.port_identity()?,
            sequence_id: r.u16()?,
            control_field: r.u8()?,
            log_message_interval: r.i8()?,
        })
    }

    /// Appends the header, with `message_type` and `message_length` supplied by
    /// the caller (see the type's docs).
    pub(super) fn write(&self, message_type: MessageType, message_length: u16, out: &mut Vec<u8>) {
        out.push((self.major_sdo_id & 0x0F) << 4 | u8::from(message_type));
        out.push((self.minor_version & 0x0F) << 4 | (self.version & 0x0F));
        out.extend_from_slice(&message_length.to_be_bytes());
        out.push(self.domain_number);
        out.push(self.minor_sdo_id);
        out.extend_from_slice(&self.flags.to_bytes());
        out.extend_from_slice(&self.correction.0.to_be_bytes());
        out.extend_from_slice(&self.message_type_specific.to_be_bytes());
        write_port_identity(out, self.source_port_identity);
        out.extend_from_slice(&self.sequence_id.to_be_bytes());
        out.push(self.control_field);
        out.extend_from_slice(&self.log_message_interval.to_be_bytes());
    }
}
