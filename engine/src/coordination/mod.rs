//! Coordination between camera agents, hubs and cluster leaders: who is
//! locked and how well, who drifts, which clock to steer, what an operator
//! must hear, and who is still there.
//!
//! Sans-IO like the rest of the engine: a [`CoordinationLink`] is handed
//! datagrams and `now` and hands back messages, refusals, frames to send,
//! peer events and its next deadline. The layers, one file each:
//!
//! - [`message`]: the messages and their body layouts;
//! - [`wire`]: the versioned, authenticated frame around a message;
//! - [`keys`]: the HMAC-SHA256 key ring, rotatable by key id;
//! - [`replay`]: the per-sender sliding window over sequence numbers;
//! - [`link`]: the endpoint that ties them together, with liveness;
//! - [`commands`]: the commander's numbering, ordering and retransmission;
//! - [`camera_endpoint`], [`hub_endpoint`]: each side of a camera–hub
//!   path — status reports one way, commands the other, each command
//!   applied once and acknowledged;
//! - [`peer_endpoint`]: a camera agent of the distributed topology, which
//!   reports to every peer and judges every peer's health, with no hub.
//!
//! [`Adjustment`], the hybrid loop's command, lives here too.

mod adjustment;
pub mod camera_endpoint;
pub mod commands;
mod cursor;
pub mod hub_endpoint;
pub mod keys;
pub mod link;
pub mod message;
pub mod peer_endpoint;
pub mod replay;
pub mod wire;

#[cfg(test)]
mod endpoint_tests;
#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod tests;

pub use adjustment::Adjustment;
pub use camera_endpoint::{CameraEndpoint, CameraEndpointStats, ClockReport, ToApply};
pub use commands::{Acknowledged, CommandConfig, CommandSender, CommandStats};
pub use hub_endpoint::{HubEndpoint, HubEvent, Transmit};
pub use keys::{AuthError, KeyRing, KeyRingError};
pub use link::{
    CoordinationLink, LinkConfig, LinkConfigError, LinkEvent, LinkStats, PeerStatus, Received,
    Rejection,
};
pub use message::{
    AdjustmentCommand, AlertCode, AlertMessage, CommandAck, DriftReport, Heartbeat, LockState,
    Message, MessageType, NodeId, Severity, SyncStatus,
};
pub use peer_endpoint::{PeerEndpoint, PeerEndpointStats};
pub use replay::{ReplayError, ReplayWindow};
pub use wire::{DecodeError, EncodeError, Epoch, Frame, FrameHeader};
