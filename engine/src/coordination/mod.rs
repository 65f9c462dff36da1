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
//! - [`link`]: the endpoint that ties them together, with liveness.
//!
//! [`Adjustment`], the hybrid loop's command, lives here too.

mod adjustment;
mod cursor;
pub mod keys;
pub mod link;
pub mod message;
pub mod replay;
pub mod wire;

#[cfg(test)]
mod tests;

pub use adjustment::Adjustment;
pub use keys::{AuthError, KeyRing, KeyRingError};
pub use link::{
    CoordinationLink, LinkConfig, LinkConfigError, LinkEvent, LinkStats, PeerStatus, Received,
    Rejection,
};
pub use message::{
    AdjustmentCommand, AlertCode, AlertMessage, DriftReport, Heartbeat, LockState, Message,
    MessageType, NodeId, Severity, SyncStatus,
};
pub use replay::{ReplayError, ReplayWindow};
pub use wire::{DecodeError, EncodeError, Epoch, Frame, FrameHeader};
