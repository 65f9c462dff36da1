//! `camsync live`: builds the configured nodes and drives each on the real
//! network until SIGINT/SIGTERM (or `--duration`), then shuts down cleanly.

use super::config::{
    LiveConfig, NodeConfig, Role, ServoName, TimestampingName, TimingName, parse_clock_identity,
    parse_rate,
};
use super::driver::{ExtraInput, Sink, drive};
use super::frame_wire;
use super::live_node::{LiveNode, NodeStatus, SlaveNode};
use super::metrics::{self, Metrics};
use super::precise_sleep::PreciseSleep;
use super::udp_timestamped::{Timestamping, UdpConfig, UdpTimestamped};
use crate::phc::PhcClock;
use crate::system_clock::{SystemClock, SystemClockKind};
use crate::y4m_file::Y4mFile;
use camsync_engine::buffer::BufferConfig;
use camsync_engine::camera_agent::{CameraAgent, CameraConfig, CaptureTiming};
use camsync_engine::clock::Clock;
use camsync_engine::frame::{CameraId, Slot};
use camsync_engine::hub::{AlignRule, Hub, HubConfig, MissingPolicy};
use camsync_engine::node::Output;
use camsync_engine::ptp::discipline::ServoConfig;
use camsync_engine::ptp::master::MasterConfig;
use camsync_engine::ptp::port_state::PortState;
use camsync_engine::ptp::servo::{LinregConfig, PiConfig};
use camsync_engine::ptp::summary::ServoSummary;
use camsync_engine::ptp::wire::{ClockIdentity, ClockQuality, PortIdentity};
use camsync_engine::ptp::{PtpMaster, PtpSlave, SlaveConfig};
use camsync_engine::{Nanos, Time};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    /// Serve Prometheus metrics at this address (`/metrics`).
    pub metrics: Option<SocketAddr>,
    /// Run only these nodes of the configuration (all when empty).
    pub only: Vec<String>,
    /// Stop by itself after this long.
    pub duration: Option<Duration>,
    /// How often each node prints its summary line.
    pub summary_interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The configuration or the flags are wrong (exit code 2).
    #[error("{0}")]
    BadInput(String),
    /// The machine would not do what was asked (an interface, a socket).
    #[error("{0}")]
    Io(String),
}

/// The base clock every node's time is read from.
#[derive(Clone)]
pub enum BaseClock {
    System(SystemClock),
    Phc(Rc<PhcClock>),
}

impl Clock for BaseClock {
    fn now(&self) -> Time {
        match self {
            BaseClock::System(c) => c.now(),
            BaseClock::Phc(c) => c.now(),
        }
    }
}

/// Runs the configuration. Blocks until shutdown.
pub fn run(config: LiveConfig, options: LiveOptions) -> Result<(), LiveError> {
    let nodes: Vec<(usize, NodeConfig)> = config
        .nodes
        .iter()
        .cloned()
        .enumerate()
        .filter(|(_, n)| options.only.is_empty() || options.only.contains(&n.name))
        .collect();
    if let Some(missing) = options
        .only
        .iter()
        .find(|o| !config.nodes.iter().any(|n| &n.name == *o))
    {
        return Err(LiveError::BadInput(format!(
            "--node {missing}: no such node in the configuration"
        )));
    }
    let base = match config.network.clock.as_str() {
        "realtime" => BaseClock::System(
            SystemClock::new(SystemClockKind::Realtime)
                .map_err(|e| LiveError::Io(format!("CLOCK_REALTIME: {e}")))?,
        ),
        p if p.starts_with("/dev/ptp") => BaseClock::Phc(Rc::new(
            PhcClock::open(Path::new(p)).map_err(|e| LiveError::Io(e.to_string()))?,
        )),
        other => {
            return Err(LiveError::BadInput(format!(
                "network.clock `{other}`: want \"realtime\" or a PTP clock device such as /dev/ptp0"
            )));
        }
    };
    let timestamping = match config.network.timestamping {
        TimestampingName::Software => Timestamping::Software,
        TimestampingName::Hardware => Timestamping::Hardware,
    };
    // Software stamps are on CLOCK_REALTIME, hardware ones on the NIC's PHC:
    // the base must be the clock the stamps are on.
    match (&base, timestamping) {
        (BaseClock::Phc(_), Timestamping::Software) => {
            return Err(LiveError::BadInput(
                "software timestamps are on CLOCK_REALTIME: use network.clock = \"realtime\" with them".into(),
            ));
        }
        (BaseClock::System(_), Timestamping::Hardware) => {
            return Err(LiveError::BadInput(
                "hardware timestamps are on the NIC's PHC: set network.clock to its /dev/ptpN"
                    .into(),
            ));
        }
        _ => {}
    }
    let udp = UdpConfig {
        interface: config.network.interface.clone(),
        timestamping,
        multicast_loop: config.network.multicast_loop,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LiveError::Io(format!("tokio runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let metrics = Metrics::new();
        if let Some(addr) = options.metrics {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| LiveError::Io(format!("--metrics {addr}: {e}")))?;
            eprintln!("camsync: metrics at http://{addr}/metrics");
            tokio::task::spawn_local(metrics::serve(listener, metrics.clone()));
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for (index, node) in nodes {
            let task = start_node(
                &config,
                index,
                node,
                &udp,
                base.clone(),
                metrics.clone(),
                options.summary_interval,
                stop_rx.clone(),
            )
            .await?;
            tasks.push(task);
        }
        wait_for_stop(options.duration).await?;
        let _ = stop_tx.send(true);
        let mut failure = None;
        for task in tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failure = Some(e),
                Err(e) => failure = Some(LiveError::Io(format!("a node task failed: {e}"))),
            }
        }
        eprintln!("camsync: stopped");
        failure.map_or(Ok(()), Err)
    })
}

/// SIGINT, SIGTERM, or the end of `duration`.
async fn wait_for_stop(duration: Option<Duration>) -> Result<(), LiveError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| LiveError::Io(format!("SIGINT handler: {e}")))?;
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| LiveError::Io(format!("SIGTERM handler: {e}")))?;
    let timeout = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = int.recv() => eprintln!("camsync: SIGINT, shutting down"),
        _ = term.recv() => eprintln!("camsync: SIGTERM, shutting down"),
        _ = timeout => {}
    }
    Ok(())
}

/// The clock identity: configured, or EUI-64-style from the interface's MAC
/// with the node's name hashed into the middle (several nodes may share an
/// interface, and loopback's MAC is all zeros).
fn clock_identity(interface: &str, node: &NodeConfig) -> ClockIdentity {
    if let Some(id) = node
        .clock_identity
        .as_deref()
        .and_then(parse_clock_identity)
    {
        return ClockIdentity(id);
    }
    let mac =
        std::fs::read_to_string(format!("/sys/class/net/{interface}/address")).unwrap_or_default();
    let mut m = [0u8; 6];
    for (byte, part) in m.iter_mut().zip(mac.trim().split(':')) {
        *byte = u8::from_str_radix(part, 16).unwrap_or(0);
    }
    // FNV-1a of the name: stable across runs and machines.
    let h = node.name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [h0, h1, ..] = h.to_be_bytes();
    ClockIdentity([m[0], m[1], m[2], h0, h1, m[3], m[4], m[5]])
}

fn slave_config(config: &LiveConfig, identity: ClockIdentity) -> SlaveConfig {
    let servo = match config.ptp.servo {
        ServoName::Pi => ServoConfig::Pi(PiConfig::software()),
        ServoName::Linreg => ServoConfig::Linreg(LinregConfig::default()),
    };
    SlaveConfig {
        domain: config.ptp.domain,
        log_min_delay_req_interval: config.ptp.log_min_delay_req_interval,
        log_sync_interval: config.ptp.log_sync_interval,
        // ptp4l's default E2E: Delay_Req to the multicast group.
        unicast_delay_req: false,
        ..SlaveConfig::new(
            PortIdentity {
                clock_identity: identity,
                port_number: 1,
            },
            servo,
        )
    }
}

type NodeTask = tokio::task::JoinHandle<Result<(), LiveError>>;

#[allow(clippy::too_many_arguments)]
async fn start_node(
    config: &LiveConfig,
    _index: usize,
    node: NodeConfig,
    udp: &UdpConfig,
    base: BaseClock,
    metrics: Metrics,
    summary_interval: Duration,
    stop: watch::Receiver<bool>,
) -> Result<NodeTask, LiveError> {
    let identity = clock_identity(&udp.interface, &node);
    let transport = UdpTimestamped::open(udp).map_err(|e| LiveError::Io(e.to_string()))?;
    let now = base.now();
    let name = node.name.clone();
    eprintln!(
        "camsync: {name}: {} on {} ({:?} timestamps), clock identity {}",
        role_name(&node.role),
        udp.interface,
        udp.timestamping,
        identity
    );
    let (input_tx, inputs) = mpsc::unbounded_channel();
    let mut sink = NodeSink::new(name.clone(), metrics.clone(), summary_interval);
    match node.role {
        Role::Grandmaster {
            priority1,
            priority2,
            clock_class,
        } => {
            let mut c = MasterConfig::grandmaster(
                identity,
                config.ptp.domain,
                config.ptp.log_sync_interval,
            );
            c.log_announce_interval = config.ptp.log_announce_interval;
            c.log_min_delay_req_interval = config.ptp.log_min_delay_req_interval;
            c.priority1 = priority1;
            c.priority2 = priority2;
            if clock_class != c.clock_quality.clock_class {
                // ptp4l's defaults for a clock that is not a primary reference.
                c.clock_quality = ClockQuality {
                    clock_class,
                    clock_accuracy: 0xfe,
                    offset_scaled_log_variance: 0xffff,
                };
            }
            c.unicast_delay_resp = false;
            // The base is CLOCK_REALTIME, UTC: announce it as ARB time, as
            // ptp4l does for that clock, so no slave applies the TAI−UTC
            // offset to it. A PHC base runs on TAI, PTP's timescale.
            c.arb_timescale = matches!(base, BaseClock::System(_));
            let master = PtpMaster::new(c, now);
            Ok(spawn(master, transport, base, inputs, sink, stop))
        }
        Role::Slave => {
            let slave = SlaveNode(PtpSlave::new(slave_config(config, identity)));
            Ok(spawn(slave, transport, base, inputs, sink, stop))
        }
        Role::Camera {
            camera,
            file,
            device,
            decklink,
            hub,
            timing,
        } => {
            let socket = std::net::UdpSocket::bind("0.0.0.0:0")
                .map_err(|e| LiveError::Io(format!("frame socket: {e}")))?;
            socket
                .set_nonblocking(true)
                .map_err(|e| LiveError::Io(e.to_string()))?;
            let (rate, timing, file) = match (file, device, decklink) {
                (Some(path), _, _) => {
                    let y4m =
                        Y4mFile::open(&path).map_err(|e| LiveError::BadInput(e.to_string()))?;
                    let rate = y4m.frame_rate();
                    if timing == TimingName::FreeRun {
                        // The camera's own frame clock: the file's rate on the runtime's timer.
                        let period = Duration::from_nanos(rate.period().0 as u64);
                        let frames = input_tx.clone();
                        tokio::task::spawn_local(async move {
                            let mut tick = tokio::time::interval(period);
                            while frames.send(ExtraInput::FrameCaptured { raw: None }).is_ok() {
                                tick.tick().await;
                            }
                        });
                    }
                    (rate, timing, Some(y4m))
                }
                (None, Some(device), _) => (
                    capture_device(&device, input_tx.clone())?,
                    TimingName::FreeRun,
                    None,
                ),
                (None, None, Some(card)) => return Err(decklink_camera(card)),
                (None, None, None) => unreachable!("the configuration names exactly one source"),
            };
            let agent = CameraAgent::new(
                CameraConfig {
                    camera: CameraId(camera),
                    rate,
                    timing: match timing {
                        TimingName::PtpLocked => CaptureTiming::PtpLocked,
                        TimingName::FreeRun => CaptureTiming::FreeRun,
                    },
                    ptp: slave_config(config, identity),
                },
                now,
            );
            sink.camera = Some(CameraOut { file, socket, hub });
            drop(input_tx);
            Ok(spawn(agent, transport, base, inputs, sink, stop))
        }
        Role::Hub {
            cameras,
            listen,
            rate,
            buffer_ms,
        } => {
            let rate = parse_rate(&rate).expect("checked when the configuration was parsed");
            let hub = Hub::new(HubConfig {
                cameras,
                reference_rate: rate,
                rule: AlignRule::Nearest,
                buffer: BufferConfig::Fixed(Nanos::from_millis(i64::from(buffer_ms))),
                missing: MissingPolicy::Partial,
                max_latency: Nanos::from_secs(1),
                window: Nanos::from_secs(10),
                ptp: slave_config(config, identity),
            });
            let socket = tokio::net::UdpSocket::bind(listen)
                .await
                .map_err(|e| LiveError::Io(format!("hub listen {listen}: {e}")))?;
            let (frame_metrics, frame_name) = (metrics.clone(), name.clone());
            tokio::task::spawn_local(async move {
                let mut buf = [0u8; 256];
                while let Ok((n, _)) = socket.recv_from(&mut buf).await {
                    match frame_wire::decode(&buf[..n]) {
                        Ok(meta) => {
                            if input_tx.send(ExtraInput::FrameArrived(meta)).is_err() {
                                break;
                            }
                        }
                        Err(_) => frame_metrics.dropped(&frame_name, "malformed_frame"),
                    }
                }
            });
            Ok(spawn(hub, transport, base, inputs, sink, stop))
        }
    }
}

/// A V4L2 device as a free-running camera: a thread blocks on its buffers
/// and hands each capture time (the kernel's, on the base clock) to the
/// agent. Returns the device's frame rate.
#[cfg(feature = "v4l2")]
fn capture_device(
    path: &Path,
    frames: mpsc::UnboundedSender<ExtraInput>,
) -> Result<camsync_engine::FrameRate, LiveError> {
    let mut camera =
        crate::v4l2_camera::V4l2Camera::open(path).map_err(|e| LiveError::Io(e.to_string()))?;
    let rate = camera.frame_rate();
    let name = path.display().to_string();
    std::thread::spawn(move || {
        loop {
            match camera.next_frame() {
                Ok(f) => {
                    if frames
                        .send(ExtraInput::FrameCaptured {
                            raw: Some(f.captured),
                        })
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    eprintln!("camsync: {name}: capture stopped: {e}");
                    return;
                }
            }
        }
    });
    Ok(rate)
}

#[cfg(not(feature = "v4l2"))]
fn capture_device(
    path: &Path,
    _frames: mpsc::UnboundedSender<ExtraInput>,
) -> Result<camsync_engine::FrameRate, LiveError> {
    Err(LiveError::BadInput(format!(
        "{}: this camsync was built without V4L2 support: rebuild with `--features v4l2` \
         (its build needs libclang-dev)",
        path.display()
    )))
}

/// A DeckLink card: the runtime is loaded and the cards counted, then the
/// request is refused — capture through the SDK is not built yet.
#[cfg(feature = "decklink")]
fn decklink_camera(card: u32) -> LiveError {
    match crate::decklink::DeckLink::load().and_then(|d| d.device_count()) {
        Err(e) => LiveError::Io(e.to_string()),
        Ok(n) => LiveError::BadInput(format!(
            "DeckLink card {card}: the runtime reports {n} card(s), but capture through the \
             DeckLink SDK is not built yet; use a V4L2 device or a file camera"
        )),
    }
}

#[cfg(not(feature = "decklink"))]
fn decklink_camera(card: u32) -> LiveError {
    LiveError::BadInput(format!(
        "DeckLink card {card}: this camsync was built without DeckLink support: rebuild with \
         `--features decklink` (the DeckLink runtime, libDeckLinkAPI.so, is loaded at run time)"
    ))
}

fn role_name(role: &Role) -> &'static str {
    match role {
        Role::Grandmaster { .. } => "grandmaster",
        Role::Slave => "slave",
        Role::Camera { .. } => "camera agent",
        Role::Hub { .. } => "hub",
    }
}

fn spawn<N: LiveNode + 'static>(
    mut node: N,
    mut transport: UdpTimestamped,
    base: BaseClock,
    mut inputs: mpsc::UnboundedReceiver<ExtraInput>,
    mut sink: NodeSink,
    stop: watch::Receiver<bool>,
) -> NodeTask {
    tokio::task::spawn_local(async move {
        let mut sleeper =
            PreciseSleep::new().map_err(|e| LiveError::Io(format!("timerfd: {e}")))?;
        let result = drive(
            &mut node,
            &mut transport,
            &base,
            &mut sleeper,
            &mut inputs,
            &mut sink,
            stop,
        )
        .await;
        sink.finish(base.now(), &node.status(base.now()));
        result.map_err(|e| LiveError::Io(format!("{}: network: {e}", sink.name)))
    })
}

struct CameraOut {
    /// A file camera's clip (a capture device delivers its pictures itself).
    file: Option<Y4mFile>,
    socket: std::net::UdpSocket,
    hub: SocketAddr,
}

/// Where a node's reports go: ptp4l-style lines on stderr, frame sets on
/// stdout, the metrics, and a camera's frames to its hub.
pub struct NodeSink {
    name: String,
    metrics: Metrics,
    summary: ServoSummary,
    summary_interval: Duration,
    last_summary: Option<Time>,
    port_state: Option<PortState>,
    camera: Option<CameraOut>,
    frames_sent: u64,
}

impl NodeSink {
    fn new(name: String, metrics: Metrics, summary_interval: Duration) -> Self {
        NodeSink {
            name,
            metrics,
            summary: ServoSummary::default(),
            summary_interval,
            last_summary: None,
            port_state: None,
            camera: None,
            frames_sent: 0,
        }
    }

    fn line(&self, now: Time, text: std::fmt::Arguments<'_>) {
        let secs = now.0 as f64 / 1e9;
        let _ = writeln!(io::stderr(), "camsync[{secs:.3}]: {}: {text}", self.name);
    }

    fn send_frame(&mut self, now: Time, meta: &camsync_engine::frame::FrameMeta) {
        let Some(cam) = &mut self.camera else {
            return;
        };
        // The picture itself: the next frame of the file, from the top again
        // at its end (a demo loops its clip).
        let trouble = match cam.file.as_mut().map(|f| f.next_frame()) {
            None | Some(Ok(Some(_))) => None,
            Some(Ok(None)) => match cam.file.as_ref().map(|f| Y4mFile::open(f.path())) {
                Some(Ok(f)) => {
                    cam.file = Some(f);
                    None
                }
                Some(Err(e)) => Some(e),
                None => None,
            },
            Some(Err(e)) => Some(e),
        };
        let bytes = frame_wire::encode(meta);
        let sent = cam.socket.send_to(&bytes, cam.hub).is_ok();
        if let Some(e) = trouble {
            self.line(now, format_args!("{e}"));
        }
        if sent {
            self.frames_sent += 1;
            self.metrics.frame_sent(&self.name);
        }
    }

    fn summary_line(&mut self, now: Time, status: &NodeStatus) {
        let servo = status
            .servo
            .map_or(String::new(), |s| format!(" servo s{}", s.code()));
        let gm = status
            .grandmaster
            .map_or(String::new(), |g| format!(" gm {g}"));
        let correction = status
            .correction
            .map_or(String::new(), |c| format!(" correction {} ns", c.0));
        let held = status
            .held_frames
            .map_or(String::new(), |h| format!(" held {h}"));
        let sent = if self.camera.is_some() {
            format!(" frames {}", self.frames_sent)
        } else {
            String::new()
        };
        let figures = self
            .summary
            .line()
            .unwrap_or_else(|| "no servo updates".into());
        self.line(
            now,
            format_args!(
                "summary {figures} state {}{gm}{servo}{correction}{held}{sent}",
                status.port_state
            ),
        );
        self.summary.reset();
    }

    fn finish(&mut self, now: Time, status: &NodeStatus) {
        self.summary_line(now, status);
    }
}

impl Sink for NodeSink {
    fn output(&mut self, now: Time, output: Output) {
        match output {
            Output::Servo(r) => {
                self.summary.add(&r);
                self.metrics
                    .servo(&self.name, r.offset.0, r.frequency_ppb, r.path_delay.0);
                // ptp4l's line; its frequency is the servo output, the
                // negated correction.
                self.line(
                    now,
                    format_args!(
                        "master offset {:10} s{} freq {:+7.0} path delay {:9}",
                        r.offset.0,
                        r.state.code(),
                        -r.frequency_ppb,
                        r.path_delay.0
                    ),
                );
            }
            Output::Frame(meta) => self.send_frame(now, &meta),
            Output::FrameSet(set) => {
                self.metrics.frame_set(&self.name, &set);
                let cams: Vec<String> = set
                    .slots
                    .iter()
                    .enumerate()
                    .map(|(i, s)| match s {
                        Slot::Frame(f) => {
                            format!("cam{i} {:+}us", (f.capture - set.reference).0 / 1_000)
                        }
                        Slot::Repeat(f, _) => format!(
                            "cam{i} {:+}us(repeat)",
                            (f.capture - set.reference).0 / 1_000
                        ),
                        Slot::Missing(r) => format!("cam{i} missing({})", r.as_str()),
                    })
                    .collect();
                let bound = set
                    .alignment_bound()
                    .map_or("unbounded".into(), |b| format!("{} us", b.0 / 1_000));
                println!(
                    "{}: frame set {} at {}: {} | {} | bound {bound}",
                    self.name,
                    set.index,
                    set.reference,
                    cams.join("  "),
                    if set.is_complete() {
                        "complete"
                    } else {
                        "incomplete"
                    },
                );
            }
            Output::FrameAccounted(a) => {
                self.metrics.frame_accounted(&self.name, a.reason.as_str())
            }
            Output::Dropped(reason) => {
                let reason = format!("{reason:?}").to_lowercase();
                self.metrics.dropped(&self.name, &reason);
            }
            Output::Alert(alert) => {
                self.metrics.alert(&self.name, alert.kind.as_str());
                let source = alert.source.map_or(String::new(), |s| format!(" from {s}"));
                self.line(now, format_args!("alert {}{source}", alert.kind.as_str()));
            }
            Output::Send { .. } => {}
        }
    }

    fn status(&mut self, now: Time, status: &NodeStatus) {
        self.metrics.status(&self.name, status);
        if self.port_state != Some(status.port_state) {
            let from = self
                .port_state
                .map_or("INITIALIZING".to_string(), |s| s.to_string());
            self.line(now, format_args!("port 1: {from} to {}", status.port_state));
            self.port_state = Some(status.port_state);
        }
        let due = self
            .last_summary
            .is_none_or(|t| now - t >= Nanos(self.summary_interval.as_nanos() as i64));
        if due {
            if self.last_summary.is_some() {
                self.summary_line(now, status);
            }
            self.last_summary = Some(now);
        }
    }

    fn received(&mut self, event: bool) {
        self.metrics.received(&self.name, event);
    }
}
