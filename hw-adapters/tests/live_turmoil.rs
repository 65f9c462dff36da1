//! The live driver's async code on turmoil's simulated network (the
//! simulator's network tier, issue #6): the same `drive` loop, `PtpMaster`
//! and `SlaveNode` as `camsync live`, over turmoil's UDP sockets instead of
//! the kernel's. A grandmaster and a slave whose oscillator is 20 ppm fast
//! and 3 ms off; the slave locks, a partition puts it in holdover, it relocks
//! after the repair; the grandmaster crashes, is bounced, and is selected and
//! followed again.

use camsync_engine::Time;
use camsync_engine::clock::Clock;
use camsync_engine::node::Output;
use camsync_engine::ptp::discipline::ServoConfig;
use camsync_engine::ptp::master::MasterConfig;
use camsync_engine::ptp::port_state::PortState;
use camsync_engine::ptp::servo::PiConfig;
use camsync_engine::ptp::wire::{ClockIdentity, PortIdentity};
use camsync_engine::ptp::{PtpMaster, PtpSlave, SlaveConfig};
use camsync_hw::live::driver::{Sink, TokioSleep, drive};
use camsync_hw::live::live_node::{LiveNode, NodeStatus, SlaveNode};
use camsync_hw::live::transport::{
    EVENT_PORT, GENERAL_PORT, PTP_PRIMARY_GROUP, PtpTransport, Received, Target,
};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use turmoil::net::UdpSocket;

const GM_ID: ClockIdentity = ClockIdentity([0x02, 0, 0, 0xff, 0xfe, 0, 0, 1]);

/// A host's free-running oscillator in simulated time: `offset` plus the
/// elapsed time scaled by (1 + ppm·10⁻⁶).
#[derive(Clone, Copy)]
struct SimClock {
    offset_ns: i64,
    ppm: i64,
}

fn sim_ns() -> i64 {
    turmoil::sim_elapsed()
        .expect("inside the simulation")
        .as_nanos() as i64
}

impl Clock for SimClock {
    fn now(&self) -> Time {
        let t = sim_ns();
        Time(self.offset_ns + t + t * self.ppm / 1_000_000)
    }
}

/// PTP's two ports on turmoil's UDP; stamps read from the host's clock as a
/// datagram is taken or given (turmoil has no kernel to stamp them).
struct TurmoilTransport {
    event: UdpSocket,
    general: UdpSocket,
    clock: SimClock,
}

impl TurmoilTransport {
    async fn open(clock: SimClock) -> io::Result<Self> {
        let event = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, EVENT_PORT)).await?;
        let general = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, GENERAL_PORT)).await?;
        for s in [&event, &general] {
            s.join_multicast_v4(PTP_PRIMARY_GROUP, Ipv4Addr::UNSPECIFIED)?;
            s.set_multicast_loop_v4(false)?;
        }
        Ok(TurmoilTransport {
            event,
            general,
            clock,
        })
    }
}

impl PtpTransport for TurmoilTransport {
    async fn recv(&mut self) -> io::Result<Received> {
        let mut a = [0u8; 1500];
        let mut b = [0u8; 1500];
        let (event, n, from, buf) = tokio::select! {
            r = self.event.recv_from(&mut a) => { let (n, f) = r?; (true, n, f, &a) }
            r = self.general.recv_from(&mut b) => { let (n, f) = r?; (false, n, f, &b) }
        };
        let from = match from.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        Ok(Received {
            event,
            from,
            bytes: buf[..n].to_vec(),
            rx: self.clock.now(),
        })
    }

    async fn send(
        &mut self,
        event: bool,
        to: Target,
        bytes: &[u8],
        want: bool,
    ) -> io::Result<Option<Time>> {
        let (socket, port) = if event {
            (&self.event, EVENT_PORT)
        } else {
            (&self.general, GENERAL_PORT)
        };
        let ip = match to {
            Target::Multicast => PTP_PRIMARY_GROUP,
            Target::Unicast(ip) => ip,
        };
        let tx = self.clock.now();
        socket.send_to(bytes, (ip, port)).await?;
        Ok(want.then_some(tx))
    }
}

/// What the slave host saw, once a second of its status.
#[derive(Clone, Copy, Debug)]
struct Seen {
    sim_s: f64,
    state: PortState,
    grandmaster: Option<ClockIdentity>,
    /// The disciplined clock minus the true (grandmaster's) time.
    error_ns: i64,
}

struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    dropped: Arc<Mutex<u64>>,
}

impl Sink for Recorder {
    fn output(&mut self, _now: Time, output: Output) {
        if let Output::Dropped(_) = output {
            *self.dropped.lock().unwrap() += 1;
        }
    }
    fn status(&mut self, now: Time, status: &NodeStatus) {
        let truth = sim_ns();
        self.seen.lock().unwrap().push(Seen {
            sim_s: truth as f64 / 1e9,
            state: status.port_state,
            grandmaster: status.grandmaster,
            error_ns: now.0 + status.correction.map_or(0, |c| c.0) - truth,
        });
    }
}

struct Discard;
impl Sink for Discard {
    fn output(&mut self, _now: Time, _output: Output) {}
    fn status(&mut self, _now: Time, _status: &NodeStatus) {}
}

async fn run_node<N: LiveNode, S: Sink>(
    mut node: N,
    clock: SimClock,
    mut sink: S,
) -> turmoil::Result {
    let mut transport = TurmoilTransport::open(clock).await?;
    let (_inputs_tx, mut inputs) = mpsc::unbounded_channel();
    // Never told to stop: the simulation ends the host.
    let (_stop_tx, stop) = watch::channel(false);
    drive(
        &mut node,
        &mut transport,
        &clock,
        &mut TokioSleep,
        &mut inputs,
        &mut sink,
        stop,
    )
    .await?;
    Ok(())
}

fn run_until(sim: &mut turmoil::Sim<'_>, t: Duration) {
    while sim.elapsed() < t {
        sim.step().expect("simulation step");
    }
}

fn last(seen: &Arc<Mutex<Vec<Seen>>>) -> Seen {
    *seen.lock().unwrap().last().expect("the slave reported")
}

#[test]
fn live_driver_on_turmoil_relocks_after_a_partition_and_a_grandmaster_crash() {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(200))
        .tick_duration(Duration::from_micros(250))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .build();
    let gm_clock = SimClock {
        offset_ns: 0,
        ppm: 0,
    };
    sim.host("gm", move || async move {
        let mut c = MasterConfig::grandmaster(GM_ID, 0, 0);
        c.log_announce_interval = 0;
        c.master_only = true;
        c.unicast_delay_resp = false;
        run_node(PtpMaster::new(c, gm_clock.now()), gm_clock, Discard).await
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let dropped = Arc::new(Mutex::new(0u64));
    let (recorder, drop_counter) = (seen.clone(), dropped.clone());
    let slave_clock = SimClock {
        offset_ns: 3_000_000,
        ppm: 20,
    };
    sim.host("slave", move || {
        let seen = recorder.clone();
        let dropped = drop_counter.clone();
        async move {
            let mut config = SlaveConfig::new(
                PortIdentity {
                    clock_identity: ClockIdentity([0x02, 0, 0, 0xff, 0xfe, 0, 0, 2]),
                    port_number: 1,
                },
                ServoConfig::Pi(PiConfig::hardware()),
            );
            config.unicast_delay_req = false;
            run_node(
                SlaveNode(PtpSlave::new(config)),
                slave_clock,
                Recorder { seen, dropped },
            )
            .await
        }
    });

    // A host spraying malformed datagrams at both PTP ports: each is counted
    // and dropped, and the slave locks all the same.
    sim.host("noise", || async {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 40_000)).await?;
        let mut n = 0u8;
        loop {
            n = n.wrapping_add(1);
            let garbage = [n; 17];
            socket
                .send_to(&garbage, (PTP_PRIMARY_GROUP, EVENT_PORT))
                .await?;
            socket
                .send_to(&garbage[..5], (PTP_PRIMARY_GROUP, GENERAL_PORT))
                .await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    // Locks: SLAVE, following the grandmaster, within 1 ms of its time
    // (turmoil's 250 µs tick quantizes every stamp).
    run_until(&mut sim, Duration::from_secs(30));
    let s = last(&seen);
    assert_eq!(s.state, PortState::Slave, "{:?}", seen.lock().unwrap());
    assert_eq!(s.grandmaster, Some(GM_ID));
    assert!(
        s.error_ns.abs() < 1_000_000,
        "locked but {} ns off",
        s.error_ns
    );

    // A partition: the master falls silent, the slave holds over.
    sim.partition("gm", "slave");
    run_until(&mut sim, Duration::from_secs(45));
    let s = last(&seen);
    assert_eq!(
        s.state,
        PortState::Faulty,
        "not in holdover during the partition: {s:?}"
    );

    // Repaired: the slave relocks.
    sim.repair("gm", "slave");
    run_until(&mut sim, Duration::from_secs(75));
    let s = last(&seen);
    assert_eq!(
        s.state,
        PortState::Slave,
        "no relock after the repair: {s:?}"
    );
    assert!(
        s.error_ns.abs() < 1_000_000,
        "relocked but {} ns off",
        s.error_ns
    );

    // The grandmaster crashes (the slave holds over), is bounced, and is
    // selected and followed again.
    sim.crash("gm");
    run_until(&mut sim, Duration::from_secs(90));
    assert_eq!(last(&seen).state, PortState::Faulty);
    sim.bounce("gm");
    run_until(&mut sim, Duration::from_secs(120));
    let s = last(&seen);
    assert_eq!(
        s.state,
        PortState::Slave,
        "the bounced grandmaster was not followed again: {s:?}"
    );
    assert_eq!(s.grandmaster, Some(GM_ID));
    assert!(
        s.error_ns.abs() < 1_000_000,
        "relocked but {} ns off",
        s.error_ns
    );
    let trace: Vec<(f64, PortState)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| (s.sim_s, s.state))
        .collect();
    eprintln!("slave port states (sim s): {trace:?}");
}
