//! PTP over UDP/IPv4 on a chosen interface, with the kernel's timestamps
//! (SO_TIMESTAMPING): receive stamps from the control messages of each
//! datagram, transmit stamps of event messages from the socket's error queue.
//!
//! Software stamps are taken on CLOCK_REALTIME by the network stack, close to
//! the driver, so the node's base clock must be CLOCK_REALTIME. Hardware stamps
//! (SIOCSHWTSTAMP on the interface) are on the NIC's PTP hardware clock, so
//! the base must be that PHC.

use super::transport::{
    EVENT_PORT, GENERAL_PORT, PTP_PRIMARY_GROUP, PtpTransport, Received, Target,
};
use camsync_engine::Time;
use nix::errno::Errno;
use nix::sys::socket::{
    self, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockProtocol, SockType,
    SockaddrIn, TimestampingFlag, sockopt,
};
use nix::sys::time::TimeSpec;
use std::ffi::OsString;
use std::io::{self, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// Which stamps the kernel takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamping {
    /// By the network stack, on CLOCK_REALTIME. Works on every interface
    /// whose driver calls `skb_tx_timestamp` (veth, loopback, most NICs).
    Software,
    /// By the NIC, on its PHC; enabled on the interface with SIOCSHWTSTAMP.
    Hardware,
}

#[derive(Clone, Debug)]
pub struct UdpConfig {
    pub interface: String,
    pub timestamping: Timestamping,
    /// Receive this host's own multicast: needed when several nodes share one
    /// host's interface (a demo on loopback); ptp4l turns it off.
    pub multicast_loop: bool,
}

/// How long a transmit stamp may take to appear on the error queue before
/// the exchange is given up (the engine then simply waits for the next one).
const TX_STAMP_WAIT: Duration = Duration::from_millis(50);

pub struct UdpTimestamped {
    event: AsyncFd<OwnedFd>,
    general: AsyncFd<OwnedFd>,
    timestamping: Timestamping,
    /// SOF_TIMESTAMPING_OPT_ID's key of the next send on the event socket:
    /// the kernel numbers the datagrams a socket sends from zero.
    next_tx_key: u32,
    /// Datagrams that came without a kernel stamp (stamped on arrival in
    /// user space instead) — a sign the interface does not timestamp.
    pub unstamped: u64,
}

fn io_err(e: Errno) -> io::Error {
    io::Error::from(e)
}

fn context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

impl UdpTimestamped {
    /// Opens the event and general sockets on `interface` and joins the PTP
    /// group there. Must run inside a tokio runtime with I/O enabled.
    pub fn open(config: &UdpConfig) -> io::Result<Self> {
        let ifindex = nix::net::if_::if_nametoindex(config.interface.as_str())
            .map_err(|e| context(io_err(e), &format!("interface {}", config.interface)))?;
        if config.timestamping == Timestamping::Hardware {
            enable_hardware_stamping(&config.interface)?;
        }
        let event = open_socket(config, ifindex, EVENT_PORT, true)?;
        let general = open_socket(config, ifindex, GENERAL_PORT, false)?;
        Ok(UdpTimestamped {
            event: register(event)?,
            general: register(general)?,
            timestamping: config.timestamping,
            next_tx_key: 0,
            unstamped: 0,
        })
    }

    fn stamp_of(&self, ts: &socket::Timestamps) -> Option<Time> {
        let spec = match self.timestamping {
            Timestamping::Software => ts.system,
            Timestamping::Hardware => ts.hw_raw,
        };
        time_of(spec)
    }

    async fn recv_on(&self, event: bool) -> io::Result<(Vec<u8>, Ipv4Addr, Option<Time>)> {
        let fd = if event { &self.event } else { &self.general };
        loop {
            let mut guard = fd.readable().await?;
            match guard.try_io(|inner| self.recv_now(inner.get_ref().as_raw_fd())) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    fn recv_now(&self, fd: RawFd) -> io::Result<(Vec<u8>, Ipv4Addr, Option<Time>)> {
        let mut buf = vec![0u8; 1536];
        let mut cmsg = nix::cmsg_space!(socket::Timestamps, libc::timespec);
        let (len, from, stamp) = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg =
                socket::recvmsg::<SockaddrIn>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())
                    .map_err(io_err)?;
            let mut stamp = None;
            for c in msg.cmsgs().map_err(io_err)? {
                if let ControlMessageOwned::ScmTimestampsns(ts) = c {
                    stamp = self.stamp_of(&ts);
                }
            }
            let from = msg.address.map(|a| a.ip()).unwrap_or(Ipv4Addr::UNSPECIFIED);
            (msg.bytes, from, stamp)
        };
        buf.truncate(len);
        Ok((buf, from, stamp))
    }

    /// Reads the error queue for the transmit stamp of the datagram with
    /// OPT_ID key `key`; older entries (stamps given up on) are discarded.
    fn tx_stamp_now(&self, key: u32) -> io::Result<Option<Time>> {
        let fd = self.event.get_ref().as_raw_fd();
        loop {
            let mut buf = [0u8; 64];
            let mut cmsg = nix::cmsg_space!(
                socket::Timestamps,
                libc::sock_extended_err,
                libc::sockaddr_in
            );
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg = match socket::recvmsg::<SockaddrIn>(
                fd,
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(m) => m,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(e) => return Err(io_err(e)),
            };
            let mut stamp = None;
            let mut entry_key = None;
            for c in msg.cmsgs().map_err(io_err)? {
                match c {
                    ControlMessageOwned::ScmTimestampsns(ts) => stamp = self.stamp_of(&ts),
                    ControlMessageOwned::Ipv4RecvErr(err, _)
                        if err.ee_origin == libc::SO_EE_ORIGIN_TIMESTAMPING =>
                    {
                        entry_key = Some(err.ee_data)
                    }
                    _ => {}
                }
            }
            if entry_key == Some(key) && stamp.is_some() {
                return Ok(stamp);
            }
        }
    }
}

impl PtpTransport for UdpTimestamped {
    async fn recv(&mut self) -> io::Result<Received> {
        let (event, (bytes, from, stamp)) = tokio::select! {
            r = self.recv_on(true) => (true, r?),
            r = self.recv_on(false) => (false, r?),
        };
        let rx = match stamp {
            Some(t) => t,
            None => {
                self.unstamped += 1;
                realtime_now()?
            }
        };
        Ok(Received {
            event,
            from,
            bytes,
            rx,
        })
    }

    async fn send(
        &mut self,
        event: bool,
        to: Target,
        bytes: &[u8],
        want_tx_stamp: bool,
    ) -> io::Result<Option<Time>> {
        let port = if event { EVENT_PORT } else { GENERAL_PORT };
        let ip = match to {
            Target::Multicast => PTP_PRIMARY_GROUP,
            Target::Unicast(ip) => ip,
        };
        let addr = SockaddrIn::from(SocketAddrV4::new(ip, port));
        let fd = if event { &self.event } else { &self.general };
        loop {
            let mut guard = fd.writable().await?;
            let sent = guard.try_io(|inner| {
                socket::sendto(inner.get_ref().as_raw_fd(), bytes, &addr, MsgFlags::empty())
                    .map_err(io_err)
            });
            match sent {
                Ok(r) => {
                    r?;
                    break;
                }
                Err(_would_block) => continue,
            }
        }
        if !event {
            return Ok(None);
        }
        let key = self.next_tx_key;
        self.next_tx_key = self.next_tx_key.wrapping_add(1);
        if !want_tx_stamp {
            return Ok(None);
        }
        // The stamp is taken as the datagram leaves the stack: it is normally
        // there at once, a few scheduler ticks at worst.
        let mut waited = Duration::ZERO;
        let step = Duration::from_micros(200);
        loop {
            if let Some(t) = self.tx_stamp_now(key)? {
                return Ok(Some(t));
            }
            if waited >= TX_STAMP_WAIT {
                return Ok(None);
            }
            tokio::time::sleep(step).await;
            waited += step;
        }
    }
}

/// Registers a socket with the runtime's reactor.
fn register(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` is an open descriptor that stays open, and is the
    // same descriptor, until the `AsyncFd` owning it drops it.
    unsafe { AsyncFd::register(fd) }.map_err(|e| io::Error::other(e.to_string()))
}

fn time_of(spec: TimeSpec) -> Option<Time> {
    let ns = spec.tv_sec() * 1_000_000_000 + spec.tv_nsec();
    (ns != 0).then_some(Time(ns))
}

fn realtime_now() -> io::Result<Time> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME).map_err(io_err)?;
    Ok(Time(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec()))
}

fn open_socket(config: &UdpConfig, ifindex: u32, port: u16, event: bool) -> io::Result<OwnedFd> {
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        SockProtocol::Udp,
    )
    .map_err(io_err)?;
    let what = |op: &str| format!("port {port} on {}: {op}", config.interface);
    // Several nodes of one host (a demo) each bind the PTP ports.
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)
        .map_err(|e| context(io_err(e), &what("SO_REUSEADDR")))?;
    socket::setsockopt(
        &fd,
        sockopt::BindToDevice,
        &OsString::from(&config.interface),
    )
    .map_err(|e| context(io_err(e), &what("SO_BINDTODEVICE")))?;
    socket::bind(fd.as_raw_fd(), &SockaddrIn::new(0, 0, 0, 0, port))
        .map_err(|e| context(io_err(e), &what("bind")))?;
    set_mreqn(&fd, libc::IP_ADD_MEMBERSHIP, PTP_PRIMARY_GROUP, ifindex)
        .map_err(|e| context(e, &what("IP_ADD_MEMBERSHIP 224.0.1.129")))?;
    set_mreqn(&fd, libc::IP_MULTICAST_IF, Ipv4Addr::UNSPECIFIED, ifindex)
        .map_err(|e| context(e, &what("IP_MULTICAST_IF")))?;
    socket::setsockopt(&fd, sockopt::IpMulticastLoop, &config.multicast_loop)
        .map_err(|e| context(io_err(e), &what("IP_MULTICAST_LOOP")))?;
    socket::setsockopt(&fd, sockopt::IpMulticastTtl, &1u8)
        .map_err(|e| context(io_err(e), &what("IP_MULTICAST_TTL")))?;
    let mut flags = match config.timestamping {
        Timestamping::Software => {
            TimestampingFlag::SOF_TIMESTAMPING_RX_SOFTWARE
                | TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
        }
        Timestamping::Hardware => {
            TimestampingFlag::SOF_TIMESTAMPING_RX_HARDWARE
                | TimestampingFlag::SOF_TIMESTAMPING_RAW_HARDWARE
        }
    };
    if event {
        // Only event messages need their transmit time; OPT_ID numbers the
        // stamps, TSONLY leaves the payload out of the error queue.
        flags |= match config.timestamping {
            Timestamping::Software => TimestampingFlag::SOF_TIMESTAMPING_TX_SOFTWARE,
            Timestamping::Hardware => TimestampingFlag::SOF_TIMESTAMPING_TX_HARDWARE,
        } | TimestampingFlag::SOF_TIMESTAMPING_OPT_ID
            | TimestampingFlag::SOF_TIMESTAMPING_OPT_TSONLY;
    }
    socket::setsockopt(&fd, sockopt::Timestamping, &flags)
        .map_err(|e| context(io_err(e), &what("SO_TIMESTAMPING")))?;
    Ok(fd)
}

/// IP_ADD_MEMBERSHIP / IP_MULTICAST_IF by interface index (`ip_mreqn`), which
/// nix's option types express only by interface address.
fn set_mreqn(fd: &impl AsFd, option: libc::c_int, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
    let mreqn = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from(group).to_be(),
        },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: ifindex as libc::c_int,
    };
    // SAFETY: a valid socket and a pointer to an `ip_mreqn` of the given size
    // that outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            libc::IPPROTO_IP,
            option,
            (&raw const mreqn).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Turns on the NIC's timestamping of PTP event messages (SIOCSHWTSTAMP),
/// as ptp4l does with `time_stamping hardware`.
fn enable_hardware_stamping(interface: &str) -> io::Result<()> {
    let mut config = libc::hwtstamp_config {
        flags: 0,
        tx_type: libc::HWTSTAMP_TX_ON as libc::c_int,
        rx_filter: libc::HWTSTAMP_FILTER_PTP_V2_L4_EVENT as libc::c_int,
    };
    // SAFETY: an all-zero `ifreq` is valid; the name is copied with room for
    // its terminating zero, and the data pointer outlives the ioctl.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    let name = interface.as_bytes();
    if name.len() >= ifr.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(name) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&raw mut config).cast();
    let probe = socket::socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(io_err)?;
    // SAFETY: SIOCSHWTSTAMP reads and writes the `hwtstamp_config` that
    // `ifr` points to, both alive for the call.
    let rc = unsafe { libc::ioctl(probe.as_raw_fd(), libc::SIOCSHWTSTAMP as _, &raw mut ifr) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!(
                "{interface}: hardware timestamping could not be enabled (SIOCSHWTSTAMP: {e}); \
                 use `timestamping = \"software\"` or a NIC with a PTP hardware clock"
            ),
        ));
    }
    Ok(())
}
