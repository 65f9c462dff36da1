//! The PTP wire codec (IEEE 1588-2019, PTPv2.1, also accepting 1588-2008 senders)
//! for every message type: Sync, Delay_Req, Pdelay_Req, Pdelay_Resp, Follow_Up,
//! Delay_Resp, Pdelay_Resp_Follow_Up, Announce, Signaling and Management, and
//! the TLVs that may follow them. One file per message type; `header` has the
//! common header and identity types, `tlv` the TLVs, `cursor` the bounds-checked
//! reader.
//!
//! Decoding never panics, whatever the bytes: every network input is hostile.
//! Encoding is infallible and always writes a self-consistent header: the message
//! type and length come from the body and suffix, not from the header struct.
//!
//! TLVs live in [`PtpMessage::suffix`] as raw bytes, so that every message
//! encodes back byte for byte; [`PtpMessage::tlvs`] parses them and
//! [`PtpMessage::push_tlv`] / [`PtpMessage::with_tlvs`] append them. Signaling
//! and Management messages, which are nothing but TLVs, are only accepted when
//! their suffix is a well-formed TLV sequence; for the other types the suffix is
//! taken as is.

mod announce;
mod cursor;
mod delay_req;
mod delay_resp;
mod follow_up;
mod header;
mod management;
mod pdelay_req;
mod pdelay_resp;
mod pdelay_resp_follow_up;
mod signaling;
mod sync;
#[cfg(test)]
mod test_support;
mod tlv;

pub use announce::{AnnounceBody, ClockQuality};
pub use delay_req::DelayReqBody;
pub use delay_resp::DelayRespBody;
pub use follow_up::FollowUpBody;
pub use header::{ClockIdentity, Flags, Header, MessageType, PortIdentity};
pub use management::{ManagementAction, ManagementBody};
pub use pdelay_req::PdelayReqBody;
pub use pdelay_resp::PdelayRespBody;
pub use pdelay_resp_follow_up::PdelayRespFollowUpBody;
pub use signaling::SignalingBody;
pub use sync::SyncBody;
pub use tlv::{
    AlternateTimeOffsetIndicatorTlv, AuthenticationTlv, ManagementErrorStatusTlv, ManagementTlv,
    OrganizationExtensionTlv, PathTraceTlv, Tlv, TlvIter, TlvRef,
};

use cursor::Reader;

/// Why a datagram is not a PTP message this codec can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The buffer ends before the header does, or before `messageLength` says
    /// the message does.
    #[error("PTP message truncated: needed {needed} bytes, got {got}")]
    TooShort { needed: usize, got: usize },
    /// versionPTP is not 2 (PTPv1 puts a 1 here).
    #[error("unsupported PTP version {0}")]
    UnsupportedVersion(u8),
    /// A messageType value 1588 does not define.
    #[error("unknown PTP message type {0:#x}")]
    UnknownMessageType(u8),
    /// A 1588 message type this codec does not decode. Every type 1588-2019
    /// defines is decoded now, so this is no longer returned; it stays for
    /// callers that match on it.
    #[error("PTP message type {0:?} is not supported")]
    UnsupportedMessageType(MessageType),
    /// A length field too small for the message's fixed part.
    #[error("{field} is {got}, below the {min} bytes this message needs")]
    BadLength {
        field: &'static str,
        got: usize,
        min: usize,
    },
    /// A timestamp's nanoseconds field is 10^9 or more.
    #[error("PTP timestamp with nanoseconds out of range")]
    BadTimestamp,
    /// A TLV's header (`needed` 4) or value runs past the end of the TLV
    /// sequence. `offset` is where the TLV starts, counted from the start of the
    /// sequence (the end of the fixed body, for a message's TLVs); `got` is how
    /// many bytes were left there.
    #[error("TLV at offset {offset} needs {needed} bytes, only {got} left")]
    TlvOverrun {
        offset: usize,
        needed: usize,
        got: usize,
    },
    /// A TLV whose value does not fit its type's layout (from the typed TLV
    /// helpers).
    #[error("bad TLV of type {tlv_type:#06x}: {reason}")]
    BadTlv { tlv_type: u16, reason: &'static str },
    /// An enumeration field holding a value 1588 does not define.
    #[error("{field} has the undefined value {value}")]
    BadValue { field: &'static str, value: u32 },
}

/// The type-specific part of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageBody {
    Sync(SyncBody),
    FollowUp(FollowUpBody),
    DelayReq(DelayReqBody),
    DelayResp(DelayRespBody),
    Announce(AnnounceBody),
    PdelayReq(PdelayReqBody),
    PdelayResp(PdelayRespBody),
    PdelayRespFollowUp(PdelayRespFollowUpBody),
    Signaling(SignalingBody),
    Management(ManagementBody),
}

impl MessageBody {
    pub fn message_type(&self) -> MessageType {
        match self {
            MessageBody::Sync(_) => MessageType::Sync,
            MessageBody::FollowUp(_) => MessageType::FollowUp,
            MessageBody::DelayReq(_) => MessageType::DelayReq,
            MessageBody::DelayResp(_) => MessageType::DelayResp,
            MessageBody::Announce(_) => MessageType::Announce,
            MessageBody::PdelayReq(_) => MessageType::PdelayReq,
            MessageBody::PdelayResp(_) => MessageType::PdelayResp,
            MessageBody::PdelayRespFollowUp(_) => MessageType::PdelayRespFollowUp,
            MessageBody::Signaling(_) => MessageType::Signaling,
            MessageBody::Management(_) => MessageType::Management,
        }
    }

    fn read(message_type: MessageType, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match message_type {
            MessageType::Sync => MessageBody::Sync(SyncBody::read(r)?),
            MessageType::FollowUp => MessageBody::FollowUp(FollowUpBody::read(r)?),
            MessageType::DelayReq => MessageBody::DelayReq(DelayReqBody::read(r)?),
            MessageType::DelayResp => MessageBody::DelayResp(DelayRespBody::read(r)?),
            MessageType::Announce => MessageBody::Announce(AnnounceBody::read(r)?),
            MessageType::PdelayReq => MessageBody::PdelayReq(PdelayReqBody::read(r)?),
            MessageType::PdelayResp => MessageBody::PdelayResp(PdelayRespBody::read(r)?),
            MessageType::PdelayRespFollowUp => {
                MessageBody::PdelayRespFollowUp(PdelayRespFollowUpBody::read(r)?)
            }
            MessageType::Signaling => MessageBody::Signaling(SignalingBody::read(r)?),
            MessageType::Management => MessageBody::Management(ManagementBody::read(r)?),
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            MessageBody::Sync(b) => b.write(out),
            MessageBody::FollowUp(b) => b.write(out),
            MessageBody::DelayReq(b) => b.write(out),
            MessageBody::DelayResp(b) => b.write(out),
            MessageBody::Announce(b) => b.write(out),
            MessageBody::PdelayReq(b) => b.write(out),
            MessageBody::PdelayResp(b) => b.write(out),
            MessageBody::PdelayRespFollowUp(b) => b.write(out),
            MessageBody::Signaling(b) => b.write(out),
            MessageBody::Management(b) => b.write(out),
        }
    }

    /// Whether the bytes after the body must be a well-formed TLV sequence:
    /// for the message types that exist to carry TLVs.
    fn suffix_is_tlvs(message_type: MessageType) -> bool {
        matches!(
            message_type,
            MessageType::Signaling | MessageType::Management
        )
    }
}

/// One PTP message: header, body, and whatever follows the body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PtpMessage {
    pub header: Header,
    pub body: MessageBody,
    /// The bytes between the fixed body and `messageLength`, normally TLVs (an
    /// Announce's PATH_TRACE, a Management message's MANAGEMENT TLV, an
    /// AUTHENTICATION TLV). Kept verbatim so that a message passed through
    /// encodes back byte for byte; see [`PtpMessage::tlvs`] to parse them.
    pub suffix: Vec<u8>,
}

impl PtpMessage {
    /// A message without suffix whose header's `message_type` and
    /// `message_length` are made to match `body`, so that it equals its own
    /// decoded encoding.
    pub fn new(mut header: Header, body: MessageBody) -> Self {
        header.message_type = body.message_type();
        header.message_length = header.message_type.fixed_length() as u16;
        PtpMessage {
            header,
            body,
            suffix: Vec::new(),
        }
    }

    /// `self` with `tlvs` appended to the suffix (see [`PtpMessage::push_tlv`]).
    pub fn with_tlvs(mut self, tlvs: &[Tlv]) -> Self {
        for tlv in tlvs {
            self.push_tlv(tlv);
        }
        self
    }

    /// Appends `tlv` to the suffix and updates `header.message_length` to match
    /// (saturating at 65535; [`PtpMessage::encode`] panics beyond that anyway).
    pub fn push_tlv(&mut self, tlv: &Tlv) {
        tlv.encode(&mut self.suffix);
        let length = self.message_type().fixed_length() + self.suffix.len();
        self.header.message_length = u16::try_from(length).unwrap_or(u16::MAX);
    }

    /// The suffix parsed as a TLV sequence. Errors if it is not one (a TLV runs
    /// past `messageLength`); an empty suffix is an empty sequence.
    pub fn tlvs(&self) -> Result<Vec<Tlv>, DecodeError> {
        Tlv::decode_all(&self.suffix)
    }

    /// The suffix's TLVs, borrowed; offsets count from the end of the body.
    pub fn tlv_iter(&self) -> TlvIter<'_> {
        TlvIter::new(&self.suffix)
    }

    /// Decodes one message from the start of `bytes`. Bytes past `messageLength`
    /// (link-layer or UDP padding) are ignored.
    pub fn decode(bytes: &[u8]) -> Result<PtpMessage, DecodeError> {
        let header = Header::decode(bytes)?;
        let message_type = header.message_type;
        let declared = usize::from(header.message_length);
        let min = message_type.fixed_length();
        if declared < min {
            return Err(DecodeError::BadLength {
                field: "messageLength",
                got: declared,
                min,
            });
        }
        let Some(message) = bytes.get(..declared) else {
            return Err(DecodeError::TooShort {
                needed: declared,
                got: bytes.len(),
            });
        };
        let mut r = Reader::new(message);
        r.skip(Header::LEN)?;
        let body = MessageBody::read(message_type, &mut r)?;
        let suffix = r.rest();
        if MessageBody::suffix_is_tlvs(message_type) {
            for tlv in TlvIter::new(suffix) {
                tlv?;
            }
        }
        Ok(PtpMessage {
            header,
            body,
            suffix: suffix.to_vec(),
        })
    }

    /// Appends the encoded message to `out`. The header's `message_type` and
    /// `message_length` fields are ignored: the type comes from the body and the
    /// length from what is actually written.
    ///
    /// # Panics
    ///
    /// If the suffix makes the message longer than messageLength can say
    /// (65535 bytes), which no UDP datagram can carry anyway.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let message_type = self.message_type();
        let length = message_type.fixed_length() + self.suffix.len();
        let message_length =
            u16::try_from(length).expect("PTP message longer than messageLength can express");
        out.reserve(length);
        self.header.write(message_type, message_length, out);
        self.body.write(out);
        out.extend_from_slice(&self.suffix);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    pub fn message_type(&self) -> MessageType {
        self.body.message_type()
    }

    /// Whether the message is timestamped on send and receive (Sync, Delay_Req,
    /// Pdelay_Req, Pdelay_Resp).
    pub fn is_event(&self) -> bool {
        self.message_type().is_event()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{assert_round_trip, sample_header};
    use super::*;
    use crate::time::WireTimestamp;

    /// One message of every supported type, with non-trivial fields.
    fn one_of_each() -> Vec<PtpMessage> {
        let ts = WireTimestamp {
            seconds: 1_767_225_637,
            nanoseconds: 123_456_789,
        };
        let bodies = [
            MessageBody::Sync(SyncBody {
                origin_timestamp: ts,
            }),
            MessageBody::FollowUp(FollowUpBody {
                precise_origin_timestamp: ts,
            }),
            MessageBody::DelayReq(DelayReqBody {
                origin_timestamp: ts,
            }),
            MessageBody::DelayResp(DelayRespBody {
                receive_timestamp: ts,
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([1; 8]),
                    port_number: 9,
                },
            }),
            MessageBody::Announce(AnnounceBody {
                origin_timestamp: ts,
                current_utc_offset: 37,
                grandmaster_priority1: 1,
                grandmaster_clock_quality: ClockQuality {
                    clock_class: 248,
                    clock_accuracy: 0xFE,
                    offset_scaled_log_variance: 0xFFFF,
                },
                grandmaster_priority2: 2,
                grandmaster_identity: ClockIdentity([2; 8]),
                steps_removed: 1,
                time_source: 0xA0,
            }),
            MessageBody::PdelayReq(PdelayReqBody {
                origin_timestamp: ts,
            }),
            MessageBody::PdelayResp(PdelayRespBody {
                request_receipt_timestamp: ts,
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([3; 8]),
                    port_number: 4,
                },
            }),
            MessageBody::PdelayRespFollowUp(PdelayRespFollowUpBody {
                response_origin_timestamp: ts,
                requesting_port_identity: PortIdentity {
                    clock_identity: ClockIdentity([5; 8]),
                    port_number: 6,
                },
            }),
            MessageBody::Signaling(SignalingBody {
                target_port_identity: PortIdentity::ALL,
            }),
            MessageBody::Management(ManagementBody {
                target_port_identity: PortIdentity::ALL,
                starting_boundary_hops: 2,
                boundary_hops: 1,
                action: ManagementAction::Command,
            }),
        ];
        bodies
            .into_iter()
            .map(|body| PtpMessage::new(sample_header(body.message_type()), body))
            .collect()
    }

    /// [`one_of_each`] with TLVs after the body: a PATH_TRACE, an odd-length
    /// one and, last, a MANAGEMENT TLV.
    fn one_of_each_with_tlvs() -> Vec<PtpMessage> {
        let tlvs = [
            PathTraceTlv {
                path_sequence: vec![ClockIdentity([7; 8])],
            }
            .to_tlv(),
            Tlv::new(0x7E57, vec![1, 2, 3]),
            ManagementTlv {
                management_id: 0x2001,
                data: vec![],
            }
            .to_tlv(),
        ];
        one_of_each()
            .into_iter()
            .map(|msg| msg.with_tlvs(&tlvs))
            .collect()
    }

    /// Every type 1588-2019 defines.
    const ALL_TYPES: [MessageType; 10] = [
        MessageType::Sync,
        MessageType::DelayReq,
        MessageType::PdelayReq,
        MessageType::PdelayResp,
        MessageType::FollowUp,
        MessageType::DelayResp,
        MessageType::PdelayRespFollowUp,
        MessageType::Announce,
        MessageType::Signaling,
        MessageType::Management,
    ];

    #[test]
    fn one_of_each_covers_every_type() {
        let types: Vec<_> = one_of_each().iter().map(|m| m.message_type()).collect();
        for t in ALL_TYPES {
            assert!(types.contains(&t), "{t:?}");
        }
    }

    #[test]
    fn every_message_round_trips_with_and_without_tlvs() {
        for msg in one_of_each().into_iter().chain(one_of_each_with_tlvs()) {
            let bytes = assert_round_trip(&msg);
            let tlvs = PtpMessage::decode(&bytes).unwrap().tlvs().unwrap();
            assert_eq!(tlvs, msg.tlvs().unwrap());
        }
        for msg in one_of_each_with_tlvs() {
            let tlvs = msg.tlvs().unwrap();
            assert_eq!(tlvs.len(), 3);
            assert_eq!(tlvs[1], Tlv::new(0x7E57, vec![1, 2, 3]));
            let bytes = msg.to_bytes();
            let fixed = msg.message_type().fixed_length();
            assert_eq!(bytes.len(), fixed + 12 + 7 + 6);
            assert_eq!(bytes[fixed..fixed + 4], [0x00, 0x08, 0x00, 0x08]);
        }
    }

    #[test]
    fn push_tlv_keeps_message_length_consistent() {
        let mut msg = one_of_each().remove(0);
        msg.push_tlv(&Tlv::new(1, vec![0; 10]));
        assert_eq!(msg.header.message_length, 44 + 14);
        msg.push_tlv(&Tlv::new(2, vec![]));
        assert_eq!(msg.header.message_length, 44 + 18);
        assert_round_trip(&msg);
        let ids: Vec<_> = msg.tlv_iter().map(|t| t.unwrap().offset).collect();
        assert_eq!(ids, [0, 14]);
    }

    #[test]
    fn fixed_lengths_match_the_body_types() {
        assert_eq!(
            MessageType::Sync.fixed_length(),
            Header::LEN + SyncBody::LEN
        );
        assert_eq!(
            MessageType::FollowUp.fixed_length(),
            Header::LEN + FollowUpBody::LEN
        );
        assert_eq!(
            MessageType::DelayReq.fixed_length(),
            Header::LEN + DelayReqBody::LEN
        );
        assert_eq!(
            MessageType::DelayResp.fixed_length(),
            Header::LEN + DelayRespBody::LEN
        );
        assert_eq!(
            MessageType::Announce.fixed_length(),
            Header::LEN + AnnounceBody::LEN
        );
        assert_eq!(
            MessageType::PdelayReq.fixed_length(),
            Header::LEN + PdelayReqBody::LEN
        );
        assert_eq!(
            MessageType::PdelayResp.fixed_length(),
            Header::LEN + PdelayRespBody::LEN
        );
        assert_eq!(
            MessageType::PdelayRespFollowUp.fixed_length(),
            Header::LEN + PdelayRespFollowUpBody::LEN
        );
        assert_eq!(
            MessageType::Signaling.fixed_length(),
            Header::LEN + SignalingBody::LEN
        );
        assert_eq!(
            MessageType::Management.fixed_length(),
            Header::LEN + ManagementBody::LEN
        );
        for (t, len) in [
            (MessageType::PdelayReq, 54),
            (MessageType::PdelayResp, 54),
            (MessageType::PdelayRespFollowUp, 54),
            (MessageType::Signaling, 44),
            (MessageType::Management, 48),
        ] {
            assert_eq!(t.fixed_length(), len);
        }
        for msg in one_of_each() {
            assert_eq!(msg.to_bytes().len(), msg.message_type().fixed_length());
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for msg in one_of_each().into_iter().chain(one_of_each_with_tlvs()) {
            let bytes = msg.to_bytes();
            for len in 0..bytes.len() {
                let expected = if len < Header::LEN {
                    DecodeError::TooShort {
                        needed: Header::LEN,
                        got: len,
                    }
                } else {
                    DecodeError::TooShort {
                        needed: bytes.len(),
                        got: len,
                    }
                };
                assert_eq!(
                    PtpMessage::decode(&bytes[..len]),
                    Err(expected),
                    "{:?} cut to {len} bytes",
                    msg.message_type()
                );
            }
        }
    }

    #[test]
    fn message_length_below_the_fixed_size_is_rejected() {
        for msg in one_of_each() {
            let mut bytes = msg.to_bytes();
            let min = bytes.len();
            for declared in [0, Header::LEN, min - 1] {
                bytes[2..4].copy_from_slice(&(declared as u16).to_be_bytes());
                assert_eq!(
                    PtpMessage::decode(&bytes),
                    Err(DecodeError::BadLength {
                        field: "messageLength",
                        got: declared,
                        min,
                    })
                );
            }
        }
    }

    #[test]
    fn message_length_beyond_the_buffer_is_rejected() {
        let mut bytes = one_of_each()[0].to_bytes();
        bytes[2..4].copy_from_slice(&45u16.to_be_bytes());
        assert_eq!(
            PtpMessage::decode(&bytes),
            Err(DecodeError::TooShort {
                needed: 45,
                got: 44
            })
        );
    }

    #[test]
    fn padding_past_message_length_is_ignored() {
        for msg in one_of_each() {
            let mut bytes = msg.to_bytes();
            bytes.extend_from_slice(&[0xAA; 20]);
            assert_eq!(PtpMessage::decode(&bytes), Ok(msg));
        }
    }

    #[test]
    fn bytes_inside_message_length_become_the_suffix() {
        let mut msg = one_of_each().remove(0);
        let mut bytes = msg.to_bytes();
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        bytes[2..4].copy_from_slice(&47u16.to_be_bytes());
        let decoded = PtpMessage::decode(&bytes).unwrap();
        assert_eq!(decoded.suffix, [1, 2, 3]);
        msg.suffix = vec![1, 2, 3];
        msg.header.message_length = 47;
        assert_eq!(decoded, msg);
        assert_eq!(decoded.to_bytes(), bytes[..47]);
    }

    #[test]
    fn unknown_types_are_rejected_and_every_defined_type_decodes() {
        for msg in one_of_each() {
            let mut bytes = msg.to_bytes();
            for t in [0x4, 0x5, 0x6, 0x7, 0xE, 0xF] {
                bytes[0] = 0x10 | t;
                assert_eq!(
                    PtpMessage::decode(&bytes),
                    Err(DecodeError::UnknownMessageType(t))
                );
                assert_eq!(
                    Header::decode(&bytes),
                    Err(DecodeError::UnknownMessageType(t))
                );
            }
        }
        for t in ALL_TYPES {
            let msg = one_of_each()
                .into_iter()
                .find(|m| m.message_type() == t)
                .unwrap();
            let bytes = msg.to_bytes();
            assert_eq!(PtpMessage::decode(&bytes).map(|m| m.message_type()), Ok(t));
            // The header alone decodes too, for callers that only peek.
            assert_eq!(Header::decode(&bytes).map(|h| h.message_type), Ok(t));
        }
    }

    #[test]
    fn tlv_overruns_are_errors_where_the_suffix_must_be_tlvs() {
        for msg in one_of_each_with_tlvs() {
            let t = msg.message_type();
            let mut bytes = msg.to_bytes();
            let last = bytes.len() - 6; // the MANAGEMENT TLV
            // Its lengthField one byte too long.
            bytes[last + 2..last + 4].copy_from_slice(&3u16.to_be_bytes());
            let decoded = PtpMessage::decode(&bytes);
            let overrun = DecodeError::TlvOverrun {
                offset: 19,
                needed: 7,
                got: 6,
            };
            if matches!(t, MessageType::Signaling | MessageType::Management) {
                assert_eq!(decoded, Err(overrun), "{t:?}");
            } else {
                // Other types keep their suffix raw; parsing it shows the fault.
                assert_eq!(decoded.unwrap().tlvs(), Err(overrun), "{t:?}");
            }
        }
    }

    #[test]
    fn other_versions_are_rejected() {
        let mut bytes = one_of_each()[0].to_bytes();
        for v in [0, 1, 3, 0xF] {
            bytes[1] = 0x10 | v;
            assert_eq!(
                PtpMessage::decode(&bytes),
                Err(DecodeError::UnsupportedVersion(v))
            );
        }
    }

    #[test]
    fn bad_nanoseconds_are_rejected() {
        // Every type but Signaling and Management starts its body with a
        // timestamp.
        let timestamped = one_of_each().into_iter().filter(|m| {
            !matches!(
                m.message_type(),
                MessageType::Signaling | MessageType::Management
            )
        });
        for msg in timestamped {
            let mut bytes = msg.to_bytes();
            bytes[40..44].copy_from_slice(&1_000_000_000u32.to_be_bytes());
            assert_eq!(PtpMessage::decode(&bytes), Err(DecodeError::BadTimestamp));
        }
    }

    #[test]
    fn encode_writes_type_and_length_from_the_body() {
        let mut msg = one_of_each().remove(0);
        msg.header.message_type = MessageType::Announce;
        msg.header.message_length = 999;
        let bytes = msg.to_bytes();
        assert_eq!(bytes[0] & 0x0F, 0x0);
        assert_eq!(bytes[2..4], 44u16.to_be_bytes());
        // And encode appends.
        let mut out = vec![0xEE];
        msg.encode(&mut out);
        assert_eq!(out[0], 0xEE);
        assert_eq!(out[1..], bytes[..]);
    }

    #[test]
    fn header_new_fills_the_v2_1_defaults() {
        let port = PortIdentity::default();
        for (t, control) in [
            (MessageType::Sync, 0),
            (MessageType::DelayReq, 1),
            (MessageType::FollowUp, 2),
            (MessageType::DelayResp, 3),
            (MessageType::Management, 4),
            (MessageType::Announce, 5),
            (MessageType::PdelayReq, 5),
        ] {
            let h = Header::new(t, 5, port, 7, -2);
            assert_eq!((h.version, h.minor_version), (2, 1));
            assert_eq!(h.control_field, control);
            assert_eq!(h.correction, crate::time::TimeInterval::ZERO);
            assert_eq!(h.flags, Flags::default());
            assert_eq!(h.message_length as usize, t.fixed_length());
            assert_eq!(
                (h.domain_number, h.sequence_id, h.log_message_interval),
                (5, 7, -2)
            );
        }
    }

    #[test]
    fn flags_map_to_their_bits() {
        let all = Flags {
            alternate_master: true,
            two_step: true,
            unicast: true,
            profile_specific_1: true,
            profile_specific_2: true,
            leap61: true,
            leap59: true,
            current_utc_offset_valid: true,
            ptp_timescale: true,
            time_traceable: true,
            frequency_traceable: true,
            synchronization_uncertain: true,
        };
        assert_eq!(all.to_bytes(), [0x67, 0x7F]);
        // Reserved bits are dropped.
        assert_eq!(Flags::from_bytes([0xFF, 0xFF]), all);
        assert_eq!(
            Flags::from_bytes([0x02, 0x08]),
            Flags {
                two_step: true,
                ptp_timescale: true,
                ..Flags::default()
            }
        );
    }

    #[test]
    fn identities_display_like_linuxptp() {
        let port = PortIdentity {
            clock_identity: ClockIdentity([0x00, 0x1B, 0x19, 0xFF, 0xFE, 0x00, 0x00, 0x01]),
            port_number: 2,
        };
        assert_eq!(port.to_string(), "001b19.fffe.000001-2");
    }

    mod properties {
        use super::*;
        use crate::time::TimeInterval;
        use proptest::prelude::*;

        fn check_reencodes(bytes: &[u8]) -> Result<(), TestCaseError> {
            if let Ok(msg) = PtpMessage::decode(bytes) {
                let again = msg.to_bytes();
                prop_assert_eq!(PtpMessage::decode(&again), Ok(msg));
            }
            Ok(())
        }

        fn timestamp() -> impl Strategy<Value = WireTimestamp> {
            (0..=WireTimestamp::MAX_SECONDS, 0..1_000_000_000u32).prop_map(
                |(seconds, nanoseconds)| WireTimestamp {
                    seconds,
                    nanoseconds,
                },
            )
        }

        fn port_identity() -> impl Strategy<Value = PortIdentity> {
            (any::<[u8; 8]>(), any::<u16>()).prop_map(|(id, port_number)| PortIdentity {
                clock_identity: ClockIdentity(id),
                port_number,
            })
        }

        fn body() -> impl Strategy<Value = MessageBody> {
            let announce = (
                timestamp(),
                any::<i16>(),
                any::<(u8, u8, u8, u16, u8)>(),
                any::<[u8; 8]>(),
                any::<(u16, u8)>(),
            )
                .prop_map(|(ts, utc, (p1, class, acc, var, p2), id, (steps, src))| {
                    MessageBody::Announce(AnnounceBody {
                        origin_timestamp: ts,
                        current_utc_offset: utc,
                        grandmaster_priority1: p1,
                        grandmaster_clock_quality: ClockQuality {
                            clock_class: class,
                            clock_accuracy: acc,
                            offset_scaled_log_variance: var,
                        },
                        grandmaster_priority2: p2,
                        grandmaster_identity: ClockIdentity(id),
                        steps_removed: steps,
                        time_source: src,
                    })
                });
            prop_oneof![
                timestamp().prop_map(|t| MessageBody::Sync(SyncBody {
                    origin_timestamp: t
                })),
                timestamp().prop_map(|t| MessageBody::FollowUp(FollowUpBody {
                    precise_origin_timestamp: t
                })),
                timestamp().prop_map(|t| MessageBody::DelayReq(DelayReqBody {
                    origin_timestamp: t
                })),
                (timestamp(), port_identity()).prop_map(|(t, p)| {
                    MessageBody::DelayResp(DelayRespBody {
                        receive_timestamp: t,
                        requesting_port_identity: p,
                    })
                }),
                announce,
                timestamp().prop_map(|t| MessageBody::PdelayReq(PdelayReqBody {
                    origin_timestamp: t
                })),
                (timestamp(), port_identity()).prop_map(|(t, p)| {
                    MessageBody::PdelayResp(PdelayRespBody {
                        request_receipt_timestamp: t,
                        requesting_port_identity: p,
                    })
                }),
                (timestamp(), port_identity()).prop_map(|(t, p)| {
                    MessageBody::PdelayRespFollowUp(PdelayRespFollowUpBody {
                        response_origin_timestamp: t,
                        requesting_port_identity: p,
                    })
                }),
                port_identity().prop_map(|p| MessageBody::Signaling(SignalingBody {
                    target_port_identity: p
                })),
                (port_identity(), any::<(u8, u8)>(), 0..5u8).prop_map(|(p, (start, hops), a)| {
                    MessageBody::Management(ManagementBody {
                        target_port_identity: p,
                        starting_boundary_hops: start,
                        boundary_hops: hops,
                        action: ManagementAction::try_from(a).unwrap(),
                    })
                }),
            ]
        }

        fn tlv() -> impl Strategy<Value = Tlv> {
            (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..24))
                .prop_map(|(t, v)| Tlv::new(t, v))
        }

        /// Any message this codec can represent, with a consistent header.
        fn message() -> impl Strategy<Value = PtpMessage> {
            let header_fields = (
                (0..16u8, 0..16u8, any::<u8>(), any::<u8>()),
                any::<[u8; 2]>(),
                any::<i64>(),
                any::<u32>(),
                port_identity(),
                (any::<u16>(), any::<u8>(), any::<i8>()),
            );
            (
                header_fields,
                body(),
                proptest::collection::vec(any::<u8>(), 0..40),
                proptest::collection::vec(tlv(), 0..4),
                any::<bool>(),
            )
                .prop_map(|(h, body, raw, tlvs, use_raw)| {
                    let ((sdo, minor, domain, minor_sdo), flags, corr, specific, port, rest) = h;
                    let (seq, control, log) = rest;
                    let mut header = Header::new(body.message_type(), domain, port, seq, log);
                    header.major_sdo_id = sdo;
                    header.minor_version = minor;
                    header.minor_sdo_id = minor_sdo;
                    header.flags = Flags::from_bytes(flags);
                    header.correction = TimeInterval(corr);
                    header.message_type_specific = specific;
                    header.control_field = control;
                    // Signaling and Management must carry TLVs; the others may
                    // carry anything.
                    let mut msg = PtpMessage::new(header, body);
                    if use_raw && !MessageBody::suffix_is_tlvs(msg.message_type()) {
                        msg.header.message_length += raw.len() as u16;
                        msg.suffix = raw;
                    } else {
                        msg = msg.with_tlvs(&tlvs);
                    }
                    msg
                })
        }

        /// Random bytes with the version, a defined type, a valid first
        /// timestamp (a Management actionField in range) and a messageLength
        /// near the buffer's size, so that the cases get past the header checks
        /// and exercise the length logic.
        fn plausible_bytes() -> impl Strategy<Value = Vec<u8>> {
            let types = prop::sample::select(ALL_TYPES.to_vec());
            (
                proptest::collection::vec(any::<u8>(), 34..200),
                types,
                0..1_000_000_000u32,
                0..220u16,
            )
                .prop_map(|(mut bytes, t, ns, declared)| {
                    bytes[0] = (bytes[0] & 0xF0) | u8::from(t);
                    bytes[1] = (bytes[1] & 0xF0) | 2;
                    bytes[2..4].copy_from_slice(&declared.to_be_bytes());
                    if let Some(field) = bytes.get_mut(40..44) {
                        field.copy_from_slice(&ns.to_be_bytes());
                    }
                    if t == MessageType::Management
                        && let Some(action) = bytes.get_mut(46)
                    {
                        *action %= 5;
                    }
                    bytes
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn arbitrary_bytes_never_panic_and_reencode(
                bytes in proptest::collection::vec(any::<u8>(), 0..200),
            ) {
                check_reencodes(&bytes)?;
            }

            #[test]
            fn plausible_bytes_decode_exactly_when_the_length_is_right(
                bytes in plausible_bytes(),
            ) {
                let t = MessageType::try_from(bytes[0] & 0x0F).unwrap();
                let declared = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
                let result = PtpMessage::decode(&bytes);
                if declared < t.fixed_length() {
                    prop_assert!(
                        matches!(result, Err(DecodeError::BadLength { .. })),
                        "{:?}",
                        result
                    );
                } else if declared > bytes.len() {
                    prop_assert_eq!(
                        result,
                        Err(DecodeError::TooShort { needed: declared, got: bytes.len() })
                    );
                } else if MessageBody::suffix_is_tlvs(t) {
                    // The fixed part was made valid: only the TLVs can be wrong.
                    let suffix = &bytes[t.fixed_length()..declared];
                    match Tlv::decode_all(suffix) {
                        Ok(_) => {
                            let msg = result.unwrap();
                            prop_assert_eq!(msg.message_type(), t);
                            prop_assert_eq!(&msg.suffix[..], suffix);
                        }
                        Err(e) => prop_assert_eq!(result, Err(e)),
                    }
                } else {
                    // Every other body has exactly one timestamp, at bytes
                    // 34..44, and it was made valid: nothing else can be wrong.
                    let msg = result.unwrap();
                    prop_assert_eq!(msg.message_type(), t);
                    prop_assert_eq!(&msg.suffix[..], &bytes[t.fixed_length()..declared]);
                }
                check_reencodes(&bytes)?;
            }

            #[test]
            fn any_message_round_trips(msg in message()) {
                let bytes = msg.to_bytes();
                prop_assert_eq!(bytes.len(), usize::from(msg.header.message_length));
                let decoded = PtpMessage::decode(&bytes);
                prop_assert_eq!(decoded.as_ref(), Ok(&msg));
                prop_assert_eq!(decoded.unwrap().to_bytes(), bytes);
            }

            #[test]
            fn messages_with_tlvs_give_them_back(
                msg in message(),
                tlvs in proptest::collection::vec(tlv(), 0..4),
            ) {
                let base = msg.tlvs();
                let msg = msg.with_tlvs(&tlvs);
                let decoded = PtpMessage::decode(&msg.to_bytes()).unwrap();
                if let Ok(mut expected) = base {
                    expected.extend(tlvs);
                    prop_assert_eq!(decoded.tlvs(), Ok(expected));
                }
            }
        }
    }
}
