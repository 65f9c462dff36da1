//! What the live driver needs from a network: PTP's two channels (event
//! messages on 319, general ones on 320), receive timestamps, and transmit
//! timestamps for event messages. The kernel's UDP sockets provide it in
//! deployment (`udp_timestamped`); turmoil's simulated sockets in tests.

use camsync_engine::Time;
use std::future::Future;
use std::io;
use std::net::Ipv4Addr;

/// PTP's event port: Sync, Delay_Req (timestamped).
pub const EVENT_PORT: u16 = 319;
/// PTP's general port: Announce, Follow_Up, Delay_Resp.
pub const GENERAL_PORT: u16 = 320;
/// The PTP primary multicast group (IEEE 1588-2019 Annex C).
pub const PTP_PRIMARY_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 129);

/// A datagram as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    /// On the event port.
    pub event: bool,
    pub from: Ipv4Addr,
    pub bytes: Vec<u8>,
    /// Receive timestamp on the node's base clock.
    pub rx: Time,
}

/// Where a datagram goes: the PTP multicast group or one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Multicast,
    Unicast(Ipv4Addr),
}

pub trait PtpTransport {
    /// The next datagram on either port. Cancel-safe: a datagram is taken
    /// from the socket only when the future completes.
    fn recv(&mut self) -> impl Future<Output = io::Result<Received>>;

    /// Sends a datagram; for a timestamped send, returns the time it left
    /// on the base clock (`None` when the stamp did not come back in time).
    fn send(
        &mut self,
        event: bool,
        to: Target,
        bytes: &[u8],
        want_tx_stamp: bool,
    ) -> impl Future<Output = io::Result<Option<Time>>>;
}
