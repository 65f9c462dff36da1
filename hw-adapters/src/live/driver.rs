//! The live driver: one engine node on a real (or turmoil-simulated) network.
//!
//! The loop is the simulator's, with real I/O: hand the node each datagram
//! with its receive stamp, each transmit stamp it is owed, each frame; arm one
//! timer for `poll_timeout`; carry out what `poll_output` asks. The node makes
//! every decision, so the same inputs give the same outputs as in `sim/`.
//! Everything that is not a packet to send goes to the node's `Sink` (log
//! lines, metrics, frames to the hub).

use super::live_node::{LiveNode, NodeStatus};
use super::transport::{PtpTransport, Target};
use camsync_engine::clock::Clock;
use camsync_engine::frame::FrameMeta;
use camsync_engine::node::{Destination, Input, Output, PeerAddr};
use camsync_engine::{Nanos, Time};
use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Inputs that come from elsewhere than the PTP sockets.
#[derive(Clone, Copy, Debug)]
pub enum ExtraInput {
    /// A frame's metadata reached the hub.
    FrameArrived(FrameMeta),
    /// A free-running camera delivered a frame captured at `raw` on the base
    /// clock (`None`: now, for a camera with no capture stamp of its own).
    FrameCaptured { raw: Option<Time> },
}

/// What becomes of a node's outputs other than packets, and of its status.
pub trait Sink {
    fn output(&mut self, now: Time, output: Output);
    fn status(&mut self, now: Time, status: &NodeStatus);
    /// A datagram was received (for the packet counters).
    fn received(&mut self, _event: bool) {}
}

/// How the loop waits for the node's next deadline.
pub trait Sleeper {
    fn sleep(&mut self, duration: Duration) -> impl std::future::Future<Output = ()>;
}

/// tokio's timer (millisecond resolution): what turmoil's simulated time
/// drives, and enough for nodes whose deadlines are protocol timeouts.
pub struct TokioSleep;

impl Sleeper for TokioSleep {
    async fn sleep(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// How often the node's status is reported.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(1);
/// The longest the loop sleeps with no timer asked for.
const IDLE: Duration = Duration::from_secs(3600);

pub fn peer_of(ip: Ipv4Addr) -> PeerAddr {
    PeerAddr(u32::from(ip))
}

pub fn ip_of(peer: PeerAddr) -> Ipv4Addr {
    Ipv4Addr::from(peer.0)
}

/// Runs `node` until `shutdown` turns true (or its sender is dropped).
/// Returns an error only when the network fails under it.
#[allow(clippy::too_many_arguments)]
pub async fn drive<N, T, C, S, W>(
    node: &mut N,
    transport: &mut T,
    clock: &C,
    sleeper: &mut W,
    inputs: &mut mpsc::UnboundedReceiver<ExtraInput>,
    sink: &mut S,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()>
where
    N: LiveNode,
    T: PtpTransport,
    C: Clock,
    S: Sink,
    W: Sleeper,
{
    let mut status = tokio::time::interval(STATUS_INTERVAL);
    status.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut inputs_open = true;
    loop {
        flush(node, transport, clock, sink).await?;
        if *shutdown.borrow() {
            return Ok(());
        }
        let wait = match node.poll_timeout() {
            Some(due) => until(due, clock.now()),
            None => IDLE,
        };
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return Ok(());
                }
            }
            received = transport.recv() => {
                let r = received?;
                sink.received(r.event);
                node.handle_input(clock.now(), Input::Packet {
                    port: 1,
                    from: peer_of(r.from),
                    bytes: &r.bytes,
                    rx: r.rx,
                });
            }
            extra = inputs.recv(), if inputs_open => match extra {
                Some(ExtraInput::FrameArrived(meta)) => {
                    node.handle_input(clock.now(), Input::FrameArrived(meta));
                }
                Some(ExtraInput::FrameCaptured { raw }) => {
                    let now = clock.now();
                    node.handle_input(now, Input::FrameCaptured { raw: raw.unwrap_or(now) });
                }
                None => inputs_open = false,
            },
            _ = sleeper.sleep(wait) => {
                let now = clock.now();
                if node.poll_timeout().is_some_and(|due| now >= due) {
                    node.handle_timeout(now);
                }
            }
            _ = status.tick() => {
                let now = clock.now();
                sink.status(now, &node.status(now));
            }
        }
    }
}

/// Base-clock time until `due`, as a sleep. The base clocks run at (nearly)
/// the rate of the runtime's timer, so this lands within the timer's
/// resolution; the loop re-checks the node's deadline when it wakes.
fn until(due: Time, now: Time) -> Duration {
    let ns = (due - now).max(Nanos::ZERO).0;
    Duration::from_nanos(ns as u64)
}

/// Carries out every pending output: packets go out (with their transmit
/// stamps fed back), everything else to the sink.
async fn flush<N, T, C, S>(
    node: &mut N,
    transport: &mut T,
    clock: &C,
    sink: &mut S,
) -> io::Result<()>
where
    N: LiveNode,
    T: PtpTransport,
    C: Clock,
    S: Sink,
{
    while let Some(output) = node.poll_output() {
        match output {
            Output::Send {
                to,
                event,
                bytes,
                token,
                ..
            } => {
                let target = match to {
                    Destination::Multicast => Target::Multicast,
                    Destination::Unicast(peer) => Target::Unicast(ip_of(peer)),
                };
                let stamp = match transport.send(event, target, &bytes, token.is_some()).await {
                    Ok(stamp) => stamp,
                    // A network that is down for a moment (an interface
                    // flapping, a partition) loses this message, as a wire
                    // would; the protocol recovers with the next one.
                    Err(e) if transient(&e) => {
                        tracing::debug!("send failed: {e}");
                        None
                    }
                    Err(e) => return Err(e),
                };
                if let (Some(token), Some(tx)) = (token, stamp) {
                    node.handle_input(clock.now(), Input::TxTimestamp { token, tx });
                }
            }
            other => sink.output(clock.now(), other),
        }
    }
    Ok(())
}

fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::NetworkDown
    ) || e.raw_os_error() == Some(libc::ENOBUFS)
}
