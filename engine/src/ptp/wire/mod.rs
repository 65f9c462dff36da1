//! The PTP wire codec (IEEE 1588-2019, PTPv2.1, also accepting 1588-2008 senders)
//! for the messages of the end-to-end delay mechanism: Sync, Follow_Up,
//! Delay_Req, Delay_Resp and Announce. One file per message type; `header` has
//! the common header and identity types, `cursor` the bounds-checked reader.
//!
//! Decoding never panics, whatever the bytes: every network input is hostile.
//! Encoding is infallible and always writes a self-consistent header: the message
//! type and length come from the body, not from the header struct.

mod announce;
mod cursor;
mod delay_req;
mod delay_resp;
mod follow_up;
mod header;
mod sync;
#[cfg(test)]
mod test_support;

pub use announce::{AnnounceBody, ClockQuality};
pub use delay_req::DelayReqBody;
pub use delay_resp::DelayRespBody;
pub use follow_up::FollowUpBody;
pub use header::{ClockIdentity, Flags, Header, MessageType, PortIdentity};
pub use sync::SyncBody;

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
    /// A 1588 message type this codec does not decode (yet): peer delay,
    /// Signaling, Management.
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
}

/// The type-specific part of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageBody {
    Sync(SyncBody),
    FollowUp(FollowUpBody),
    DelayReq(DelayReqBody),
    DelayResp(DelayRespBody),
    Announce(AnnounceBody),
}

impl MessageBody {
    pub fn message_type(&self) -> MessageType {
        match self {
            MessageBody::Sync(_) => MessageType::Sync,
            MessageBody::FollowUp(_) => MessageType::FollowUp,
            MessageBody::DelayReq(_) => MessageType::DelayReq,
            MessageBody::DelayResp(_) => MessageType::DelayResp,
            MessageBody::Announce(_) => MessageType::Announce,
        }
    }

    /// Whether this codec has a body type for `message_type`.
    fn handles(message_type: MessageType) -> bool {
        matches!(
            message_type,
            MessageType::Sync
                | MessageType::FollowUp
                | MessageType::DelayReq
                | MessageType::DelayResp
                | MessageType::Announce
        )
    }

    fn read(message_type: MessageType, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match message_type {
            MessageType::Sync => MessageBody::Sync(SyncBody::read(r)?),
            MessageType::FollowUp => MessageBody::FollowUp(FollowUpBody::read(r)?),
            MessageType::DelayReq => MessageBody::DelayReq(DelayReqBody::read(r)?),
            MessageType::DelayResp => MessageBody::DelayResp(DelayRespBody::read(r)?),
            MessageType::Announce => MessageBody::Announce(AnnounceBody::read(r)?),
            other => return Err(DecodeError::UnsupportedMessageType(other)),
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            MessageBody::Sync(b) => b.write(out),
            MessageBody::FollowUp(b) => b.write(out),
            MessageBody::DelayReq(b) => b.write(out),
            MessageBody::DelayResp(b) => b.write(out),
            MessageBody::Announce(b) => b.write(out),
        }
    }
}

/// One PTP message: header, body, and whatever follows the body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PtpMessage {
    pub header: Header,
    pub body: MessageBody,
    /// The bytes between the fixed body and `messageLength`, normally TLVs (an
    /// Announce's PATH_TRACE, say). Not interpreted, but kept verbatim so that a
    /// message passed through encodes back byte for byte.
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

    /// Decodes one message from the start of `bytes`. Bytes past `messageLength`
    /// (link-layer or UDP padding) are ignored.
    pub fn decode(bytes: &[u8]) -> Result<PtpMessage, DecodeError> {
        let header = Header::decode(bytes)?;
        let message_type = header.message_type;
        if !MessageBody::handles(message_type) {
            return Err(DecodeError::UnsupportedMessageType(message_type));
        }
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
        Ok(PtpMessage {
            header,
            body,
            suffix: r.rest().to_vec(),
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

    /// Whether the message is timestamped on send and receive (Sync, Delay_Req).
    pub fn is_event(&self) -> bool {
        self.message_type().is_event()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::sample_header;
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
        ];
        bodies
            .into_iter()
            .map(|body| PtpMessage::new(sample_header(body.message_type()), body))
            .collect()
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
        for msg in one_of_each() {
            assert_eq!(msg.to_bytes().len(), msg.message_type().fixed_length());
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for msg in one_of_each() {
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
    fn unknown_and_unsupported_types_are_told_apart() {
        let mut bytes = one_of_each()[0].to_bytes();
        for t in [0x4, 0x5, 0x6, 0x7, 0xE, 0xF] {
            bytes[0] = 0x10 | t;
            assert_eq!(
                PtpMessage::decode(&bytes),
                Err(DecodeError::UnknownMessageType(t))
            );
        }
        for t in [
            MessageType::PdelayReq,
            MessageType::PdelayResp,
            MessageType::PdelayRespFollowUp,
            MessageType::Signaling,
            MessageType::Management,
        ] {
            bytes[0] = 0x10 | u8::from(t);
            assert_eq!(
                PtpMessage::decode(&bytes),
                Err(DecodeError::UnsupportedMessageType(t))
            );
            // The header alone still decodes, for callers that only peek.
            assert_eq!(Header::decode(&bytes).map(|h| h.message_type), Ok(t));
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
        for msg in one_of_each() {
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
            ]
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
            )
                .prop_map(|(h, body, suffix)| {
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
                    let mut msg = PtpMessage::new(header, body);
                    msg.header.message_length += suffix.len() as u16;
                    msg.suffix = suffix;
                    msg
                })
        }

        /// Random bytes with the version, a supported type, a valid first
        /// timestamp and a messageLength near the buffer's size, so that the
        /// cases get past the header checks and exercise the length logic.
        fn plausible_bytes() -> impl Strategy<Value = Vec<u8>> {
            let types = prop::sample::select(vec![
                MessageType::Sync,
                MessageType::FollowUp,
                MessageType::DelayReq,
                MessageType::DelayResp,
                MessageType::Announce,
            ]);
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
                } else {
                    // Every body has exactly one timestamp, at bytes 34..44, and
                    // it was made valid: nothing else can be wrong.
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
                prop_assert_eq!(PtpMessage::decode(&bytes), Ok(msg));
            }
        }
    }
}
