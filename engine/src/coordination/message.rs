//! What camera agents, hubs and cluster leaders tell each other: the
//! vocabulary of the coordination protocol, and each message's body layout.
//!
//! Every body has a fixed layout per message type (big-endian, no padding),
//! so a body has exactly one encoding: the decoder rejects a body one byte
//! too long or too short instead of guessing. Times are integer nanoseconds
//! ([`Time`] on the sender's clock, [`Nanos`] for spans); rates are `f64`
//! ppb or ppm, and only finite ones are sent or accepted.

use super::adjustment::Adjustment;
use super::cursor::Reader;
use super::wire::{DecodeError, EncodeError};
use crate::ptp::ServoState;
use crate::time::{Nanos, Time};

/// A coordination participant: a camera agent, a hub or a cluster leader.
/// Ids are assigned by configuration and unique within a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// The message type byte of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageType {
    SyncStatus = 1,
    DriftReport = 2,
    Command = 3,
    Alert = 4,
    Heartbeat = 5,
    /// Added after the first five: a version-1 receiver that predates it
    /// refuses it as an unknown type (counted malformed), and every layout
    /// it knows is unchanged, so the version stays 1.
    CommandAck = 6,
}

impl MessageType {
    pub const ALL: [MessageType; 6] = [
        MessageType::SyncStatus,
        MessageType::DriftReport,
        MessageType::Command,
        MessageType::Alert,
        MessageType::Heartbeat,
        MessageType::CommandAck,
    ];

    pub const fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .into_iter()
            .find(|t| t.code() == code)
            .ok_or(DecodeError::UnknownMessageType(code))
    }

    /// The body length a version-1 frame of this type carries.
    pub const fn body_len(self) -> usize {
        match self {
            MessageType::SyncStatus => 4 + 1 + 8 + 8 + 8,
            MessageType::DriftReport => 4 + 8 + 8,
            MessageType::Command => 4 + 8 + 8 + 8,
            MessageType::Alert => 4 + 2 + 1 + 8,
            MessageType::Heartbeat => 8,
            MessageType::CommandAck => 4 + 8,
        }
    }
}

/// How well a node's clock is held, as its discipline sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockState {
    /// Collecting samples, no correction yet (servo s0).
    #[default]
    Unlocked = 0,
    /// Being stepped (servo s1).
    Stepping = 1,
    /// Frequency-disciplined (servo s2).
    Locked = 2,
    /// Its reference fell silent: holding the last frequency.
    Holdover = 3,
    /// Nothing disciplines it.
    FreeRunning = 4,
}

impl LockState {
    const ALL: [LockState; 5] = [
        LockState::Unlocked,
        LockState::Stepping,
        LockState::Locked,
        LockState::Holdover,
        LockState::FreeRunning,
    ];

    pub const fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or(DecodeError::BadValue {
                field: "lock state",
                value: code.into(),
            })
    }
}

impl From<ServoState> for LockState {
    fn from(s: ServoState) -> Self {
        match s {
            ServoState::Unlocked => LockState::Unlocked,
            ServoState::Jump => LockState::Stepping,
            ServoState::Locked => LockState::Locked,
        }
    }
}

/// How urgently an alert needs an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info = 0,
    Warning = 1,
    Critical = 2,
}

impl Severity {
    const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub const fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or(DecodeError::BadValue {
                field: "severity",
                value: code.into(),
            })
    }
}

/// What an alert is about. An open code rather than an enum: a receiver
/// passes on kinds a newer sender knows and it does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlertCode(pub u16);

impl AlertCode {
    pub const UNACCEPTABLE_MASTER: AlertCode = AlertCode(1);
    pub const AUTHENTICATION_FAILED: AlertCode = AlertCode(2);
    pub const REPLAY: AlertCode = AlertCode(3);
    pub const MALFORMED: AlertCode = AlertCode(4);
    pub const MASTER_CHANGED: AlertCode = AlertCode(5);
    pub const HOLDOVER: AlertCode = AlertCode(6);
    /// A camera's clock drifts from the others beyond its threshold.
    pub const DRIFT: AlertCode = AlertCode(16);
    /// A camera slipped a frame.
    pub const FRAME_SLIP: AlertCode = AlertCode(17);
    /// A coordination peer fell silent.
    pub const PEER_LOST: AlertCode = AlertCode(18);
    /// The health states a hub derives from its cameras' reports (see
    /// `crate::health`).
    pub const CAMERA_LOST: AlertCode = AlertCode(19);
    pub const CAMERA_DEGRADED: AlertCode = AlertCode(20);
    pub const CAMERA_HOLDOVER: AlertCode = AlertCode(21);
    pub const CAMERA_RESYNCING: AlertCode = AlertCode(22);
    pub const CAMERA_RECOVERED: AlertCode = AlertCode(23);
    pub const CLUSTER_DEGRADED: AlertCode = AlertCode(24);
    pub const CLUSTER_DOWN: AlertCode = AlertCode(25);
    pub const CLUSTER_RECOVERED: AlertCode = AlertCode(26);
}

impl From<crate::node::AlertKind> for AlertCode {
    fn from(kind: crate::node::AlertKind) -> Self {
        use crate::node::AlertKind as K;
        match kind {
            K::UnacceptableMaster => AlertCode::UNACCEPTABLE_MASTER,
            K::AuthenticationFailed => AlertCode::AUTHENTICATION_FAILED,
            K::Replay => AlertCode::REPLAY,
            K::Malformed => AlertCode::MALFORMED,
            K::MasterChanged => AlertCode::MASTER_CHANGED,
            K::Holdover => AlertCode::HOLDOVER,
            K::CameraLost => AlertCode::CAMERA_LOST,
            K::CameraDegraded => AlertCode::CAMERA_DEGRADED,
            K::CameraHoldover => AlertCode::CAMERA_HOLDOVER,
            K::CameraResyncing => AlertCode::CAMERA_RESYNCING,
            K::CameraRecovered => AlertCode::CAMERA_RECOVERED,
            K::ClusterDegraded => AlertCode::CLUSTER_DEGRADED,
            K::ClusterDown => AlertCode::CLUSTER_DOWN,
            K::ClusterRecovered => AlertCode::CLUSTER_RECOVERED,
        }
    }
}

/// A node's clock, as it reports it. `node` is the clock's owner, which is
/// not always the sender: a hub relays its cameras' status to its leader.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyncStatus {
    pub node: NodeId,
    pub lock: LockState,
    /// Its offset from its reference (master or hub), positive when ahead.
    pub offset: Nanos,
    /// The frequency correction applied to its oscillator, in ppb.
    pub frequency_ppb: f64,
    /// When this held, on the sender's clock.
    pub at: Time,
}

/// A node's clock drifts from the others by `drift_ppm` (as the hub's
/// visual estimator or a leader's comparison measures it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DriftReport {
    pub node: NodeId,
    pub drift_ppm: f64,
    pub at: Time,
}

/// Steer `target`'s clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdjustmentCommand {
    pub target: NodeId,
    pub adjustment: Adjustment,
}

/// Something an operator should know about `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertMessage {
    pub node: NodeId,
    pub kind: AlertCode,
    pub severity: Severity,
    pub at: Time,
}

/// "Still here": keeps a quiet peer from being declared lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    pub at: Time,
}

/// "Your command `sequence` is applied here" (or was already): sent by the
/// command's target for every copy it receives, so that a lost
/// acknowledgement is made good by the next retransmission's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandAck {
    /// The node whose command this acknowledges.
    pub commander: NodeId,
    pub sequence: u64,
}

/// One coordination message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Message {
    SyncStatus(SyncStatus),
    DriftReport(DriftReport),
    Command(AdjustmentCommand),
    Alert(AlertMessage),
    Heartbeat(Heartbeat),
    CommandAck(CommandAck),
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::SyncStatus(_) => MessageType::SyncStatus,
            Message::DriftReport(_) => MessageType::DriftReport,
            Message::Command(_) => MessageType::Command,
            Message::Alert(_) => MessageType::Alert,
            Message::Heartbeat(_) => MessageType::Heartbeat,
            Message::CommandAck(_) => MessageType::CommandAck,
        }
    }

    /// Appends the body. Fails, writing nothing, if a rate is not finite.
    pub(super) fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        match self {
            Message::SyncStatus(s) => {
                let ppb = finite(s.frequency_ppb, "frequency_ppb")?;
                out.extend_from_slice(&s.node.0.to_be_bytes());
                out.push(s.lock.code());
                out.extend_from_slice(&s.offset.0.to_be_bytes());
                out.extend_from_slice(&ppb.to_be_bytes());
                out.extend_from_slice(&s.at.0.to_be_bytes());
            }
            Message::DriftReport(d) => {
                let ppm = finite(d.drift_ppm, "drift_ppm")?;
                out.extend_from_slice(&d.node.0.to_be_bytes());
                out.extend_from_slice(&ppm.to_be_bytes());
                out.extend_from_slice(&d.at.0.to_be_bytes());
            }
            Message::Command(c) => {
                let a = &c.adjustment;
                let ppb = finite(a.frequency_ppb, "frequency_ppb")?;
                out.extend_from_slice(&c.target.0.to_be_bytes());
                out.extend_from_slice(&a.sequence.to_be_bytes());
                out.extend_from_slice(&a.step.0.to_be_bytes());
                out.extend_from_slice(&ppb.to_be_bytes());
            }
            Message::Alert(a) => {
                out.extend_from_slice(&a.node.0.to_be_bytes());
                out.extend_from_slice(&a.kind.0.to_be_bytes());
                out.push(a.severity.code());
                out.extend_from_slice(&a.at.0.to_be_bytes());
            }
            Message::Heartbeat(h) => out.extend_from_slice(&h.at.0.to_be_bytes()),
            Message::CommandAck(a) => {
                out.extend_from_slice(&a.commander.0.to_be_bytes());
                out.extend_from_slice(&a.sequence.to_be_bytes());
            }
        }
        debug_assert_eq!(out.len() - start, self.message_type().body_len());
        Ok(())
    }

    /// Decodes a body of type `message_type`; it must be exactly that
    /// type's length.
    pub(super) fn decode_body(
        message_type: MessageType,
        body: &[u8],
    ) -> Result<Message, DecodeError> {
        let expected = message_type.body_len();
        if body.len() != expected {
            return Err(DecodeError::BadBodyLength {
                message_type,
                got: body.len(),
                expected,
            });
        }
        let mut r = Reader::new(body);
        let msg = match message_type {
            MessageType::SyncStatus => Message::SyncStatus(SyncStatus {
                node: NodeId(r.u32()?),
                lock: LockState::from_code(r.u8()?)?,
                offset: Nanos(r.i64()?),
                frequency_ppb: r.finite_f64("frequency_ppb")?,
                at: Time(r.i64()?),
            }),
            MessageType::DriftReport => Message::DriftReport(DriftReport {
                node: NodeId(r.u32()?),
                drift_ppm: r.finite_f64("drift_ppm")?,
                at: Time(r.i64()?),
            }),
            MessageType::Command => Message::Command(AdjustmentCommand {
                target: NodeId(r.u32()?),
                adjustment: Adjustment {
                    sequence: r.u64()?,
                    step: Nanos(r.i64()?),
                    frequency_ppb: r.finite_f64("frequency_ppb")?,
                },
            }),
            MessageType::Alert => Message::Alert(AlertMessage {
                node: NodeId(r.u32()?),
                kind: AlertCode(r.u16()?),
                severity: Severity::from_code(r.u8()?)?,
                at: Time(r.i64()?),
            }),
            MessageType::Heartbeat => Message::Heartbeat(Heartbeat { at: Time(r.i64()?) }),
            MessageType::CommandAck => Message::CommandAck(CommandAck {
                commander: NodeId(r.u32()?),
                sequence: r.u64()?,
            }),
        };
        debug_assert!(r.rest().is_empty());
        Ok(msg)
    }
}

fn finite(v: f64, field: &'static str) -> Result<f64, EncodeError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(EncodeError::NonFinite { field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_errors() {
        for t in MessageType::ALL {
            assert_eq!(MessageType::from_code(t.code()), Ok(t));
        }
        assert_eq!(
            MessageType::from_code(0),
            Err(DecodeError::UnknownMessageType(0))
        );
        for s in LockState::ALL {
            assert_eq!(LockState::from_code(s.code()), Ok(s));
        }
        assert!(LockState::from_code(5).is_err());
        assert!(Severity::from_code(3).is_err());
    }

    #[test]
    fn a_body_of_the_wrong_length_is_an_error() {
        let hb = Message::Heartbeat(Heartbeat { at: Time(7) });
        let mut body = Vec::new();
        hb.encode_body(&mut body).unwrap();
        assert_eq!(Message::decode_body(MessageType::Heartbeat, &body), Ok(hb));
        body.push(0);
        assert!(matches!(
            Message::decode_body(MessageType::Heartbeat, &body),
            Err(DecodeError::BadBodyLength { got: 9, .. })
        ));
        assert!(Message::decode_body(MessageType::SyncStatus, &body[..8]).is_err());
    }

    #[test]
    fn non_finite_rates_are_refused_both_ways() {
        let drift = Message::DriftReport(DriftReport {
            node: NodeId(1),
            drift_ppm: f64::NAN,
            at: Time(0),
        });
        let mut out = Vec::new();
        assert_eq!(
            drift.encode_body(&mut out),
            Err(EncodeError::NonFinite { field: "drift_ppm" })
        );
        assert!(out.is_empty());

        let mut body = Vec::new();
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&f64::INFINITY.to_bits().to_be_bytes());
        body.extend_from_slice(&0i64.to_be_bytes());
        assert_eq!(
            Message::decode_body(MessageType::DriftReport, &body),
            Err(DecodeError::NonFinite { field: "drift_ppm" })
        );
    }

    #[test]
    fn servo_states_map_to_lock_states() {
        assert_eq!(LockState::from(ServoState::Jump), LockState::Stepping);
        assert_eq!(LockState::from(ServoState::Locked), LockState::Locked);
    }
}
