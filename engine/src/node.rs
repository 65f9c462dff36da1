//! The node interface every engine state machine offers its driver.
//!
//! Drivers (the simulator's world kernel, the live tokio driver) own all I/O and
//! timers. They hand a node its inputs with `now` — a reading of the node's own
//! free-running base clock — then drain `poll_output` and arm one timer for
//! `poll_timeout`, calling `handle_timeout` when it fires. Same inputs, same
//! outputs, whoever drives.

use crate::coordination::Adjustment;
use crate::frame::{FrameAccount, FrameMeta, FrameSet};
use crate::ptp::ServoReport;
use crate::ptp::wire::PortIdentity;
use crate::time::Time;

/// An opaque address of a peer, chosen by the driver (a socket address in live
/// mode, a host index in the simulator). The engine only hands it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerAddr(pub u32);

/// Where a packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// The PTP multicast group of the node's domain.
    Multicast,
    Unicast(PeerAddr),
}

/// Proof that a transmit timestamp is owed. Neither `Copy` nor `Clone`: the
/// driver hands each one back exactly once, with the time the packet left.
#[derive(Debug, PartialEq, Eq)]
pub struct TxToken(u64);

impl TxToken {
    pub(crate) fn new(id: u64) -> Self {
        TxToken(id)
    }
    pub(crate) fn id(&self) -> u64 {
        self.0
    }
}

/// What a driver tells a node.
#[derive(Debug)]
pub enum Input<'a> {
    /// A packet arrived. `rx` is its receive timestamp on the node's base clock
    /// (hardware or software); general messages carry one too and may ignore it.
    Packet {
        /// The node's port it arrived on (1 for single-port nodes).
        port: u16,
        from: PeerAddr,
        bytes: &'a [u8],
        rx: Time,
    },
    /// The transmit timestamp of a packet sent with a token, on the base clock.
    TxTimestamp { token: TxToken, tx: Time },
    /// A free-running camera delivered a frame it captured at base time `raw`.
    FrameCaptured { raw: Time },
    /// A frame's metadata reached the hub.
    FrameArrived(FrameMeta),
    /// A hub's adjustment command reached a camera agent.
    Adjust(Adjustment),
}

/// What a node asks its driver to do, or reports.
#[derive(Debug)]
pub enum Output {
    Send {
        /// The node's port to send from (1 for single-port nodes).
        port: u16,
        to: Destination,
        /// Event messages (Sync, Delay_Req) go to port 319, general ones to 320.
        event: bool,
        bytes: Vec<u8>,
        /// Present when the node needs the transmit timestamp back.
        token: Option<TxToken>,
    },
    /// A servo update, as ptp4l's `master offset ... s2 freq ... path delay` line.
    Servo(ServoReport),
    /// A camera agent stamped a frame; the driver carries it to the hub.
    Frame(FrameMeta),
    /// The hub released a frame set.
    FrameSet(FrameSet),
    /// The hub accounted for a frame that is in no frame set, with the reason.
    FrameAccounted(FrameAccount),
    /// A malformed or unexpected packet was counted and dropped.
    Dropped(DropReason),
    /// Something an operator should know about.
    Alert(Alert),
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    /// A master off the acceptable-master list is on the network.
    UnacceptableMaster,
    /// A message failed authentication (missing, unknown key, bad ICV).
    AuthenticationFailed,
    /// A message repeated or went back in sequence: a replay.
    Replay,
    /// Packets that do not decode are arriving.
    Malformed,
    /// The port now follows another master.
    MasterChanged,
    /// The master fell silent: the clock is holding its frequency.
    Holdover,
    /// A hub heard no status report from a camera for its liveness timeout.
    CameraLost,
    /// A locked camera reports offsets beyond the hub's bound.
    CameraDegraded,
    /// A camera reports that its reference fell silent.
    CameraHoldover,
    /// A camera that had been locked is acquiring or stepping again.
    CameraResyncing,
    /// A camera in trouble (lost, degraded, in holdover, resyncing) is
    /// locked again.
    CameraRecovered,
    /// A cluster has a camera in trouble.
    ClusterDegraded,
    /// Every camera of a cluster is lost.
    ClusterDown,
    /// Every camera of a cluster is locked (or still acquiring) again.
    ClusterRecovered,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::UnacceptableMaster => "unacceptable_master",
            AlertKind::AuthenticationFailed => "authentication_failed",
            AlertKind::Replay => "replay",
            AlertKind::Malformed => "malformed",
            AlertKind::MasterChanged => "master_changed",
            AlertKind::Holdover => "holdover",
            AlertKind::CameraLost => "camera_lost",
            AlertKind::CameraDegraded => "camera_degraded",
            AlertKind::CameraHoldover => "camera_holdover",
            AlertKind::CameraResyncing => "camera_resyncing",
            AlertKind::CameraRecovered => "camera_recovered",
            AlertKind::ClusterDegraded => "cluster_degraded",
            AlertKind::ClusterDown => "cluster_down",
            AlertKind::ClusterRecovered => "cluster_recovered",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    /// The port the trouble came from, when known.
    pub source: Option<PortIdentity>,
}

/// Why a node discarded a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    Malformed,
    WrongDomain,
    Unexpected,
    /// From a master that is not on the port's acceptable-master list.
    NotAcceptable,
    /// Failed authentication.
    Unauthenticated,
    /// A replayed or out-of-sequence message.
    Replay,
}

/// The interface drivers program against.
pub trait Node {
    /// Handles one input at base time `now`.
    fn handle_input(&mut self, now: Time, input: Input<'_>);
    /// Called when base time has reached `poll_timeout()`.
    fn handle_timeout(&mut self, now: Time);
    /// The next base-clock instant at which `handle_timeout` is due.
    fn poll_timeout(&self) -> Option<Time>;
    /// The next pending output.
    fn poll_output(&mut self) -> Option<Output>;
}
