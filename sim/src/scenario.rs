//! Scenario files: TOML describing one world (seed, duration, network, clocks,
//! cameras, PTP, hub) and the thresholds its score must meet.
//!
//! Every table denies unknown fields, and every value checks itself as it is read,
//! so a mistake is reported as `file:line:col: message (field `name`)`.

use crate::units::{Dur, NonNeg, PosDur, Positive, Probability, Rate};
use camsync_engine::Nanos;
use camsync_engine::ptp::profile::{Profile, ProfileSettings};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// The embedded default: the clean 4-camera studio.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/studio-4cam.toml");
pub const DEFAULT_SCENARIO_PATH: &str = "scenarios/studio-4cam.toml";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Defaults to the file's stem.
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: PosDur,
    #[serde(default)]
    pub ptp: PtpSpec,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub timestamping: TimestampingSpec,
    #[serde(default)]
    pub video: VideoSpec,
    #[serde(default)]
    pub grandmaster: OscillatorSpec,
    /// More grandmaster-capable clocks: a backup, or a rogue.
    #[serde(default)]
    pub masters: Vec<MasterSpec>,
    /// Boundary clocks, each with its own cluster of cameras behind it.
    #[serde(default)]
    pub boundary_clocks: Vec<BoundaryClockSpec>,
    #[serde(default = "OscillatorSpec::typical_tcxo")]
    pub clocks: OscillatorSpec,
    pub cameras: Vec<CameraGroup>,
    pub hub: HubSpec,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// The pictures: a rendered scene every camera sees, and the visual
    /// offset estimator run on them.
    pub visual: Option<VisualSpec>,
    #[serde(default)]
    pub score: ScoreSpec,
    #[serde(default)]
    pub expect: BTreeMap<String, BTreeMap<Spanned<String>, Bound>>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ServoKind {
    /// linuxptp's PI servo, the baseline.
    Pi,
    /// linuxptp's linear-regression servo, the second baseline.
    Linreg,
    /// camsync's Kalman filter with lucky-packet weighting.
    Camsync,
}

impl std::str::FromStr for ServoKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pi" => Ok(ServoKind::Pi),
            "linreg" => Ok(ServoKind::Linreg),
            "camsync" => Ok(ServoKind::Camsync),
            _ => Err(format!("unknown servo `{s}`: use pi, linreg or camsync")),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DelayMechanismName {
    E2e,
    P2p,
}

/// ptp4l's `tsproc_mode`, for the pi and linreg servos.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TsprocMode {
    Filter,
    FilterWeight,
}

/// How a port that has locked takes a later step (a new master, a master
/// whose time moved): "step" as ptp4l does, or "slew" its output there at
/// `slew_rate_ppm` (a graceful resync: no jump in the frames' timeline).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ResyncMode {
    Step,
    Slew,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DelayRespMode {
    Unicast,
    Multicast,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PtpSpec {
    /// Sets the defaults (and the allowed ranges) of the fields below.
    pub profile: ProfileName,
    pub domain: Option<u8>,
    pub log_sync_interval: Option<LogInterval>,
    pub log_delay_req_interval: Option<LogInterval>,
    pub log_announce_interval: Option<LogInterval>,
    /// Announce intervals without an Announce before a master is forgotten.
    pub announce_receipt_timeout: Option<u8>,
    pub servo: ServoKind,
    pub first_step_threshold: PosDur,
    pub step_threshold: PosDur,
    pub delay_filter_length: FilterLength,
    pub delay_resp: DelayRespMode,
    /// "e2e" (Delay_Req to the master) or "p2p" (Pdelay_Req to the link peer).
    pub delay_mechanism: DelayMechanismName,
    pub tsproc_mode: TsprocMode,
    /// Sync intervals without a Sync before a port holds its frequency.
    pub sync_receipt_timeout: u8,
    /// Masters (by host name: "grandmaster" or a `[[masters]]` name) that
    /// slaves may follow; empty: any.
    pub acceptable_masters: Vec<String>,
    /// Authentication of every PTP message (IEEE 1588-2019 §16.14).
    pub security: Option<SecuritySpec>,
    /// PI gains; by default ptp4l's for the timestamping mode.
    pub pi_kp_scale: Option<NonNeg>,
    pub pi_ki_scale: Option<NonNeg>,
    pub resync: ResyncMode,
    /// With `resync = "slew"`: how fast the output closes on the clock
    /// (500 ppm, the Linux kernel's adjtime rate: 20 µs per 25 fps frame).
    pub slew_rate_ppm: NonNeg,
    /// With `resync = "slew"`: a larger step is stepped (100 ms would take
    /// 200 s to slew at 500 ppm).
    pub slew_limit: PosDur,
}

impl Default for PtpSpec {
    fn default() -> Self {
        PtpSpec {
            profile: ProfileName(Profile::Default),
            domain: None,
            log_sync_interval: None,
            log_delay_req_interval: None,
            log_announce_interval: None,
            announce_receipt_timeout: None,
            servo: ServoKind::Pi,
            first_step_threshold: PosDur(Nanos::from_micros(20)),
            step_threshold: PosDur(Nanos::ZERO),
            delay_filter_length: FilterLength(10),
            delay_resp: DelayRespMode::Unicast,
            delay_mechanism: DelayMechanismName::E2e,
            tsproc_mode: TsprocMode::Filter,
            sync_receipt_timeout: 3,
            acceptable_masters: Vec::new(),
            security: None,
            pi_kp_scale: None,
            pi_ki_scale: None,
            resync: ResyncMode::Step,
            slew_rate_ppm: NonNeg(500.0),
            slew_limit: PosDur(Nanos::from_millis(100)),
        }
    }
}

impl PtpSpec {
    /// A servo that cannot work with the delay mechanism, said plainly.
    pub fn servo_problem(&self) -> Option<String> {
        (self.servo == ServoKind::Camsync && self.delay_mechanism == DelayMechanismName::P2p).then(
            || {
                "the camsync servo needs end-to-end measurements of both directions; \
                 use delay_mechanism = \"e2e\", or servo pi or linreg with p2p"
                    .to_string()
            },
        )
    }

    /// The profile's settings with the scenario's own values over them.
    pub fn settings(&self) -> ProfileSettings {
        let base = self.profile.0.settings();
        ProfileSettings {
            domain: self.domain.unwrap_or(base.domain),
            log_sync_interval: self
                .log_sync_interval
                .map_or(base.log_sync_interval, |l| l.0),
            log_announce_interval: self
                .log_announce_interval
                .map_or(base.log_announce_interval, |l| l.0),
            log_min_delay_req_interval: self
                .log_delay_req_interval
                .map_or(base.log_min_delay_req_interval, |l| l.0),
            announce_receipt_timeout: self
                .announce_receipt_timeout
                .unwrap_or(base.announce_receipt_timeout),
            ..base
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileName(pub Profile);

impl<'de> Deserialize<'de> for ProfileName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(ProfileName).map_err(serde::de::Error::custom)
    }
}

/// A PTP message interval as a power of two seconds, -7 (128 Hz) to 4 (16 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogInterval(pub i8);

impl<'de> Deserialize<'de> for LogInterval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if !(-7..=4).contains(&v) {
            return Err(serde::de::Error::custom(format!(
                "a log2 interval must be in -7..=4 (128 Hz to 1/16 Hz), got {v}"
            )));
        }
        Ok(LogInterval(v as i8))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterLength(pub usize);

impl<'de> Deserialize<'de> for FilterLength {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if !(1..=1024).contains(&v) {
            return Err(serde::de::Error::custom(format!(
                "a filter length must be in 1..=1024, got {v}"
            )));
        }
        Ok(FilterLength(v as usize))
    }
}

/// A one-way delay distribution. Samples below zero are clamped to zero.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum LatencySpec {
    Constant {
        value: PosDur,
    },
    /// Gaussian around a mean.
    Normal {
        mean: PosDur,
        sd: PosDur,
    },
    /// `min` plus a log-normal with the given median above `min` and shape sigma:
    /// a heavy right tail, as queues in loaded switches produce.
    Lognormal {
        #[serde(default)]
        min: PosDur,
        median: PosDur,
        sigma: NonNeg,
    },
    /// `min` plus an exponential with the given mean above `min`.
    Exponential {
        #[serde(default)]
        min: PosDur,
        mean: PosDur,
    },
    /// Pareto with scale `min` and the given shape (smaller shape: heavier tail).
    Pareto {
        min: PosDur,
        shape: Positive,
    },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    pub latency: LatencySpec,
    /// Extra delay on the master-to-slave direction only (negative: slave-to-master).
    pub asymmetry: Dur,
    pub loss: Probability,
    /// The switches are PTP transparent clocks: each event message's time
    /// in their queues (the latency above its fixed part) is added to its
    /// correctionField, as IEEE 1588 §10.2 has them do.
    pub transparent_clocks: bool,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: LatencySpec::Normal {
                mean: PosDur(Nanos::from_micros(20)),
                sd: PosDur(Nanos(100)),
            },
            asymmetry: Dur::default(),
            loss: Probability(0.0),
            transparent_clocks: false,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TimestampingMode {
    Hardware,
    Software,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimestampingSpec {
    pub mode: TimestampingMode,
    /// Hardware: standard deviation of the stamping noise.
    pub noise: PosDur,
    /// Software: how late a receive stamp (and how early a transmit stamp) is taken.
    pub stack_latency: LatencySpec,
}

impl Default for TimestampingSpec {
    fn default() -> Self {
        TimestampingSpec {
            mode: TimestampingMode::Hardware,
            noise: PosDur(Nanos(5)),
            stack_latency: LatencySpec::Lognormal {
                min: PosDur(Nanos::from_micros(2)),
                median: PosDur(Nanos::from_micros(15)),
                sigma: NonNeg(0.6),
            },
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VideoSpec {
    /// Capture to arrival at the hub: readout, encode, transport.
    pub latency: LatencySpec,
    pub loss: Probability,
    /// The chance that the network delivers a frame twice.
    pub duplicate: Probability,
    /// Congestion bursts on the hub's port that every camera's video shares.
    pub bursts: Option<BurstSpec>,
}

/// Bursts of congestion: they start at random (on average `every` apart),
/// last `length`, and delay every frame sent meanwhile by an extra 50–100 %
/// of `extra`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    pub every: PosDur,
    pub length: PosDur,
    pub extra: PosDur,
}

impl Default for VideoSpec {
    fn default() -> Self {
        VideoSpec {
            latency: LatencySpec::Lognormal {
                min: PosDur(Nanos::from_millis(4)),
                median: PosDur(Nanos::from_millis(2)),
                sigma: NonNeg(0.5),
            },
            loss: Probability(0.0),
            duplicate: Probability(0.0),
            bursts: None,
        }
    }
}

/// A rendered scene and the visual timing measured from it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisualSpec {
    /// Analysis resolution of every camera, [width, height].
    #[serde(default = "default_resolution")]
    pub resolution: [u16; 2],
    #[serde(default = "default_players")]
    pub players: u16,
    /// Nothing moves, the light is steady: the estimator must abstain.
    #[serde(default)]
    pub still: bool,
    /// Photographers' flashes: on average `every` apart, `length` long.
    pub flashes: Option<FlashSpec>,
    /// Each camera's true capture instant is off its stamp by an amount
    /// drawn uniformly in ±`max_offset` (camera 0, the reference, by none):
    /// the residual the pictures must reveal.
    #[serde(default = "default_max_offset")]
    pub max_offset: PosDur,
    #[serde(default = "default_exposure")]
    pub exposure: PosDur,
    /// Rolling-shutter readout time (0: a global shutter).
    #[serde(default)]
    pub readout: PosDur,
    /// Sensor noise, grey levels (σ).
    #[serde(default = "default_noise")]
    pub noise: NonNeg,
    /// Each camera but the reference drifts: its offset grows at a rate
    /// drawn uniformly in ±this (ppm), as a free-running clock would.
    #[serde(default)]
    pub drift_ppm: NonNeg,
    /// Each camera but the reference slips by one frame (later or earlier,
    /// evenly) now and then: its pictures move a frame against its stamps.
    pub slips: Option<SlipSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlipSpec {
    /// Mean time between a camera's slips (exponential), never closer
    /// than `min_gap`.
    pub every: PosDur,
    #[serde(default = "default_slip_gap")]
    pub min_gap: PosDur,
    /// No slip before this: the detector needs the estimator's first
    /// offset (a window) and a band of usual steps.
    #[serde(default = "default_slip_warmup")]
    pub warmup: PosDur,
}

fn default_slip_gap() -> PosDur {
    PosDur(Nanos::from_secs(10))
}
fn default_slip_warmup() -> PosDur {
    PosDur(Nanos::from_secs(20))
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlashSpec {
    pub every: PosDur,
    pub length: PosDur,
}

fn default_resolution() -> [u16; 2] {
    [96, 54]
}
fn default_players() -> u16 {
    12
}
fn default_max_offset() -> PosDur {
    PosDur(Nanos::from_millis(16))
}
fn default_exposure() -> PosDur {
    PosDur(Nanos::from_millis(10))
}
fn default_noise() -> NonNeg {
    NonNeg(2.0)
}

/// An oscillator class. Each clock draws its own values from the seed: a
/// frequency offset uniform in ±`freq_offset_ppm`, a start offset uniform in
/// ±`initial_offset`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OscillatorSpec {
    pub freq_offset_ppm: NonNeg,
    pub initial_offset: PosDur,
    /// Random-walk frequency noise: ppb per √s.
    pub wander_ppb: NonNeg,
    /// A sinusoidal temperature term: amplitude (ppb) and period.
    pub temperature_ppb: NonNeg,
    pub temperature_period: PosDur,
    /// Phase steps at given times (the oscillator jumps).
    pub steps: Vec<PhaseStep>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhaseStep {
    pub at: PosDur,
    pub by: Dur,
    /// Which clock: "grandmaster", "hub", or a camera name such as "cam3";
    /// absent: every clock of the class.
    pub clock: Option<String>,
}

impl Default for OscillatorSpec {
    /// A GNSS-disciplined grandmaster: no offset, no wander.
    fn default() -> Self {
        OscillatorSpec {
            freq_offset_ppm: NonNeg(0.0),
            initial_offset: PosDur(Nanos::ZERO),
            wander_ppb: NonNeg(0.0),
            temperature_ppb: NonNeg(0.0),
            temperature_period: PosDur(Nanos::from_secs(600)),
            steps: Vec::new(),
        }
    }
}

impl OscillatorSpec {
    /// A TCXO as found in cameras and NICs.
    pub fn typical_tcxo() -> Self {
        OscillatorSpec {
            freq_offset_ppm: NonNeg(10.0),
            initial_offset: PosDur(Nanos::from_micros(100)),
            wander_ppb: NonNeg(1.0),
            ..Self::default()
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    PtpLocked,
    FreeRun,
    /// No PTP: the camera's clock is steered from the pictures by the hub's
    /// hybrid correction loop (needs `[visual]`).
    Visual,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraGroup {
    #[serde(default = "one")]
    pub count: u16,
    pub rate: Rate,
    #[serde(default = "ptp_locked")]
    pub sync: SyncMode,
    /// Overrides `[video] latency` for this group.
    pub video_latency: Option<LatencySpec>,
    /// The boundary clock this group's cameras sit behind (their own network
    /// segment); absent: the core network, with the grandmaster.
    pub behind: Option<String>,
}

fn one() -> u16 {
    1
}
fn ptp_locked() -> SyncMode {
    SyncMode::PtpLocked
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSpec {
    pub reference_rate: Rate,
    /// The fixed buffer's delay: sets are released this long after their
    /// reference instant.
    #[serde(default = "default_buffer")]
    pub buffer: PosDur,
    /// "fixed" (the `buffer` above), "neteq" or "adaptive".
    #[serde(default = "fixed_policy")]
    pub policy: BufferPolicy,
    /// The longest the neteq and adaptive policies may wait.
    #[serde(default = "default_max_latency")]
    pub max_latency: PosDur,
    /// Which frame an instant shows: "nearest" or "latest-before".
    #[serde(default)]
    pub rule: RuleName,
    /// For latest-before: how far after an instant a stamp still counts as
    /// before it.
    #[serde(default = "default_tolerance")]
    pub tolerance: PosDur,
    /// A camera's frame missing at the deadline: "partial" (release without
    /// it), "wait" (hold the set up to `max_latency`) or "repeat" (show its
    /// previous frame, flagged).
    #[serde(default)]
    pub missing: MissingName,
    /// Who coordinates: "central" (the cameras report to this hub, which
    /// judges their health and sends the pictures' commands) or
    /// "distributed" (every camera's agent reports to every other and
    /// judges all of them; the hub only aligns the video).
    #[serde(default)]
    pub coordination: CoordinationName,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CoordinationName {
    #[default]
    Central,
    Distributed,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RuleName {
    #[default]
    Nearest,
    LatestBefore,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MissingName {
    #[default]
    Partial,
    Wait,
    Repeat,
}

fn default_tolerance() -> PosDur {
    PosDur(Nanos::from_micros(100))
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BufferPolicy {
    Fixed,
    Neteq,
    Adaptive,
}

impl std::str::FromStr for BufferPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(BufferPolicy::Fixed),
            "neteq" => Ok(BufferPolicy::Neteq),
            "adaptive" => Ok(BufferPolicy::Adaptive),
            _ => Err(format!(
                "unknown buffer `{s}`: use fixed, neteq or adaptive"
            )),
        }
    }
}

fn fixed_policy() -> BufferPolicy {
    BufferPolicy::Fixed
}

fn default_max_latency() -> PosDur {
    PosDur(Nanos::from_millis(500))
}

fn default_buffer() -> PosDur {
    PosDur(Nanos::from_millis(200))
}

/// A security association shared by the grandmasters and the slaves (the rogue
/// and the attackers do not have it), as linuxptp's `sa_file` declares one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySpec {
    #[serde(default = "one_u8")]
    pub spp: u8,
    #[serde(default = "one_u32")]
    pub key_id: u32,
    /// The shared secret (at least 16 characters).
    pub key: SecretKey,
    /// "SHA256-128" (HMAC-SHA256 truncated to 128 bits) or "SHA256".
    #[serde(default = "sha256_128")]
    pub algorithm: String,
}

fn one_u8() -> u8 {
    1
}
fn one_u32() -> u32 {
    1
}
fn sha256_128() -> String {
    "SHA256-128".into()
}

#[derive(Clone, Debug)]
pub struct SecretKey(pub String);

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() < 16 {
            return Err(serde::de::Error::custom(
                "a key needs at least 16 characters (128 bits of ASCII)",
            ));
        }
        Ok(SecretKey(s))
    }
}

/// A boundary clock: slave to the grandmaster on the core network, master of
/// the cluster of cameras whose group names it in `behind`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryClockSpec {
    pub name: String,
    #[serde(default = "OscillatorSpec::typical_tcxo")]
    pub oscillator: OscillatorSpec,
    /// The link between the core and this leader, when it is not the core
    /// network's (a WAN to a remote site): its own delay distribution.
    pub uplink: Option<LatencySpec>,
}

/// A grandmaster-capable clock besides `[grandmaster]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MasterSpec {
    pub name: String,
    /// Lower wins the BMCA; the primary grandmaster announces 128.
    pub priority1: u8,
    #[serde(default = "gnss_class")]
    pub clock_class: u8,
    #[serde(default)]
    pub oscillator: OscillatorSpec,
    /// When it joins the network (a rogue appearing mid-show).
    #[serde(default)]
    pub start: PosDur,
}

fn gnss_class() -> u8 {
    6
}

/// Something going wrong, on a schedule.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub at: PosDur,
    /// How long it lasts; absent: until the end of the run.
    pub duration: Option<PosDur>,
    /// The size of a step fault (path delay, asymmetry).
    #[serde(default)]
    pub by: Dur,
    /// The host it strikes, by name; `grandmaster-silent` defaults to the
    /// primary grandmaster.
    pub target: Option<String>,
    /// The size of a frequency step.
    #[serde(default)]
    pub ppb: f64,
    /// The multiplier of a video-jitter step.
    #[serde(default = "unit_factor")]
    pub factor: f64,
    /// How likely each packet (or frame, or timestamp) is struck: the mean
    /// loss of `bursty-loss`, the share duplicated, reordered, dropped.
    #[serde(default)]
    pub probability: f64,
    /// `bursty-loss`: the mean length of a burst, in packets.
    #[serde(default = "default_burst")]
    pub burst: f64,
    /// The cycle of a flapping fault (down for half, up for half) and of a
    /// temperature swing.
    pub period: Option<PosDur>,
}

fn default_burst() -> f64 {
    8.0
}

fn unit_factor() -> f64 {
    1.0
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A grandmaster sends nothing (crashed, or cut off): without a backup its
    /// slaves go into holdover; with one, they fail over.
    GrandmasterSilent,
    /// Every PTP path gets `by` longer, both directions (a reroute).
    PathDelayStep,
    /// The master-to-slave direction gets `by` longer (negative: the other way).
    AsymmetryStep,
    /// An attacker captures every grandmaster packet and sends it again `by`
    /// later, spoofing the grandmaster.
    ReplayAttack,
    /// An attacker sends a packet of random bytes every `by` to every port.
    MalformedPackets,
    /// The target clock's oscillator (every disciplined clock's — cameras, hub,
    /// boundary clocks — without a target) changes frequency by `ppb`, a
    /// temperature shock, for the duration.
    FrequencyStep,
    /// A leap second is inserted at `at` (deleted, with `by = "-1s"`): the
    /// grandmaster announces it for 12 hours before, then changes its UTC
    /// offset. PTP time must not jump.
    LeapSecond,
    /// Every camera's video path queues `factor` times as long (the delay
    /// above its floor): a jitter step up (factor > 1) or down (< 1).
    VideoJitter,
    /// The target host is cut off: nothing it sends arrives, nothing sent to
    /// it arrives.
    Partition,
    /// The target host hears nothing; what it sends still arrives.
    PartitionOneWay,
    /// The target's link goes down and up: down for half of each `period`.
    LinkFlap,
    /// Gilbert–Elliott loss on every PTP link (the target's only, with a
    /// target): bursts `burst` packets long on average, `probability` of
    /// packets lost in all.
    BurstyLoss,
    /// Each PTP packet arrives twice with `probability`.
    Duplication,
    /// Each PTP packet is held back `by` with `probability`, so that later
    /// ones overtake it.
    Reordering,
    /// Every PTP packet is delayed by an extra uniform 0..`by`.
    PdvBurst,
    /// Multicast PTP packets are lost with `probability` (unicast arrive).
    MulticastLoss,
    /// The WAN link of a cluster's leader (target: a boundary clock) is cut:
    /// the cluster hears nothing from the core; inside it, PTP goes on.
    WanPartition,
    /// The target camera crashes: it captures, sends and hears nothing; at
    /// the end it restarts with its PTP state lost (its frame numbering goes
    /// on, as a camera's persisted RTP state does).
    CameraCrash,
    /// The target camera's video output stalls: its frames are held and
    /// leave together when the stall ends.
    CameraStall,
    /// The target camera (every camera without a target) loses frames
    /// before sending them, with `probability`.
    CameraFrameDrops,
    /// The target host's NIC loses transmit timestamps with `probability`
    /// (every host's, without a target).
    NicTimestampLoss,
    /// The target host's CPU stalls: it handles nothing until the end, when
    /// what arrived meanwhile is handled in order.
    CpuStall,
    /// The hub goes down: frames reaching it are lost (and counted), those it
    /// held are lost (and counted); at the end it restarts, PTP unlocked.
    HubRestart,
    /// A cluster's leader (target: a boundary clock) crashes and comes back
    /// at the end with its state lost.
    ClusterLeaderLoss,
    /// The primary grandmaster (or the target) falls silent for half of each
    /// `period` and comes back: slaves fail over and back again.
    GrandmasterFlapping,
    /// The target master (a `[[masters]]` entry) is on the network only
    /// while this fault is: a misconfigured device announcing itself.
    RogueMaster,
    /// The target's oscillator jumps by `by` (its clock's phase).
    PhaseStep,
    /// The target's oscillator (every disciplined clock's, without a target)
    /// swings in frequency by ±`ppb` over each `period`: an air-conditioning
    /// cycle, a door opened.
    TemperatureSwing,
    /// The target camera's stamps run `by` ahead (a capture clock gone
    /// wrong): the hub is flooded with frames for instants far beyond what
    /// it collects, and must refuse them and keep its memory bounded.
    BufferOverflow,
    /// Coordination frames (status reports, heartbeats, commands and their
    /// acknowledgements) to and from the target (every host's, without a
    /// target) are struck with `probability`: half of those struck have
    /// bits flipped, a quarter are cut short, a quarter are lost.
    CoordinationCorruption,
}

impl FaultKind {
    /// The kind as scenario files write it (`camera-crash`).
    pub fn name(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The kinds that need `probability` above 0.
    fn needs_probability(self) -> bool {
        matches!(
            self,
            FaultKind::BurstyLoss
                | FaultKind::Duplication
                | FaultKind::Reordering
                | FaultKind::MulticastLoss
                | FaultKind::CameraFrameDrops
                | FaultKind::NicTimestampLoss
                | FaultKind::CoordinationCorruption
        )
    }

    /// The kinds that need a `target`.
    fn needs_target(self) -> bool {
        matches!(
            self,
            FaultKind::Partition
                | FaultKind::PartitionOneWay
                | FaultKind::LinkFlap
                | FaultKind::WanPartition
                | FaultKind::CameraCrash
                | FaultKind::CameraStall
                | FaultKind::CpuStall
                | FaultKind::ClusterLeaderLoss
                | FaultKind::RogueMaster
                | FaultKind::PhaseStep
                | FaultKind::BufferOverflow
        )
    }

    /// The kinds that need a `period`.
    fn needs_period(self) -> bool {
        matches!(
            self,
            FaultKind::LinkFlap | FaultKind::GrandmasterFlapping | FaultKind::TemperatureSwing
        )
    }
}

impl FaultSpec {
    pub fn window(&self) -> (i64, i64) {
        let start = self.at.ns();
        (
            start,
            self.duration
                .map_or(i64::MAX, |d| start.saturating_add(d.ns())),
        )
    }
    pub fn active(&self, t: i64) -> bool {
        let (start, end) = self.window();
        (start..end).contains(&t)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreSpec {
    /// A clock is locked once |offset| stays below this for `lock_hold`.
    pub lock_threshold: PosDur,
    pub lock_hold: PosDur,
    /// How often the true offset of every clock is sampled.
    pub sample_interval: PosDur,
}

impl Default for ScoreSpec {
    fn default() -> Self {
        ScoreSpec {
            lock_threshold: PosDur(Nanos::from_micros(1)),
            lock_hold: PosDur(Nanos::from_secs(1)),
            sample_interval: PosDur(Nanos::from_millis(125)),
        }
    }
}

/// A threshold on one score key.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A scenario problem, located in its file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}:{column}: {message}{}", field.as_ref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
    pub message: String,
}

/// The score keys an `[expect]` table may name.
pub type KnownKeys<'a> = &'a dyn Fn(&str) -> bool;

impl Scenario {
    pub fn from_file(path: &Path, known: KnownKeys<'_>) -> Result<Scenario, ScenarioError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: display.clone(),
            line: 0,
            column: 0,
            field: None,
            message: format!("cannot read: {e}"),
        })?;
        let mut s = Self::parse(&text, &display, known)?;
        if s.name.is_none() {
            s.name = path.file_stem().map(|x| x.to_string_lossy().into_owned());
        }
        Ok(s)
    }

    pub fn parse(text: &str, file: &str, known: KnownKeys<'_>) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            locate(text, file, span.start, e.message().trim().to_string())
        })?;
        scenario.check(text, file, known)?;
        Ok(scenario)
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("unnamed")
    }

    pub fn camera_count(&self) -> usize {
        self.cameras.iter().map(|g| g.count as usize).sum()
    }

    /// Per camera, in order: whether it has no PTP and is steered from the
    /// pictures (`sync = "visual"`).
    pub fn steered_by_pictures(&self) -> Vec<bool> {
        self.cameras
            .iter()
            .flat_map(|g| std::iter::repeat_n(g.sync == SyncMode::Visual, g.count as usize))
            .collect()
    }

    /// Checks that need more than one value.
    fn check(&self, text: &str, file: &str, known: KnownKeys<'_>) -> Result<(), ScenarioError> {
        let at_key = |key: &str, message: String| {
            let offset = find_key(text, key).unwrap_or(0);
            let mut e = locate(text, file, offset, message);
            e.field = Some(key.to_string());
            e
        };
        if self.duration.ns() == 0 {
            return Err(at_key(
                "duration",
                "the duration must be longer than 0".into(),
            ));
        }
        if self.duration.ns() > Nanos::from_secs(30 * 86_400).0 {
            return Err(at_key(
                "duration",
                "the duration is limited to 30 days".into(),
            ));
        }
        let cams = self.camera_count();
        if cams == 0 || cams > 4096 {
            return Err(at_key(
                "cameras",
                format!("a scenario needs 1 to 4096 cameras, this one has {cams}"),
            ));
        }
        if self.score.sample_interval.ns() == 0 {
            return Err(at_key("sample_interval", "must be longer than 0".into()));
        }
        if self.network.transparent_clocks && self.ptp.security.is_some() {
            return Err(at_key(
                "transparent_clocks",
                "transparent clocks rewrite the correctionField, which the authentication \
                 TLV covers: use one or the other"
                    .into(),
            ));
        }
        if let Some(problem) = self.ptp.servo_problem() {
            return Err(at_key("delay_mechanism", problem));
        }
        // The output must keep running forward while it closes (a rate far
        // below 1) and close at all; a limit beyond a minute at the slowest
        // rate would leave frames flagged for hours.
        let rate = self.ptp.slew_rate_ppm.0;
        if !(1.0..=100_000.0).contains(&rate) {
            return Err(at_key(
                "slew_rate_ppm",
                format!("the slew rate must be 1 to 100000 ppm, not {rate}"),
            ));
        }
        if self.ptp.slew_limit.ns() > Nanos::from_secs(1).0 {
            return Err(at_key(
                "slew_limit",
                "a step larger than 1 s is stepped: slew_limit is at most 1s".into(),
            ));
        }
        let settings = self.ptp.settings();
        let profile = self.ptp.profile.0;
        let (lo, hi) = settings.sync_range;
        if !(lo..=hi).contains(&settings.log_sync_interval) {
            return Err(at_key(
                "log_sync_interval",
                format!("the {profile} profile allows log_sync_interval {lo}..={hi}"),
            ));
        }
        let (lo, hi) = settings.announce_range;
        if !(lo..=hi).contains(&settings.log_announce_interval) {
            return Err(at_key(
                "log_announce_interval",
                format!("the {profile} profile allows log_announce_interval {lo}..={hi}"),
            ));
        }
        if profile == Profile::St2059_2 && settings.domain > 127 {
            return Err(at_key("domain", "ST 2059-2 uses domains 0..=127".into()));
        }
        let mut names = vec!["grandmaster".to_string(), "hub".to_string()];
        names.extend((0..cams).map(|i| format!("cam{i}")));
        for n in self
            .masters
            .iter()
            .map(|m| &m.name)
            .chain(self.boundary_clocks.iter().map(|b| &b.name))
        {
            if names.contains(n) {
                return Err(at_key("name", format!("the host name `{n}` is taken")));
            }
            names.push(n.clone());
        }
        for g in &self.cameras {
            if let Some(b) = &g.behind
                && !self.boundary_clocks.iter().any(|bc| &bc.name == b)
            {
                return Err(at_key(
                    "behind",
                    format!("no [[boundary_clocks]] entry is named `{b}`"),
                ));
            }
        }
        let visual = self.steered_by_pictures();
        if visual.iter().any(|v| *v) {
            if self.visual.is_none() {
                return Err(at_key(
                    "sync",
                    "cameras steered from the pictures (sync = \"visual\") need a [visual] table"
                        .into(),
                ));
            }
            if visual[0] {
                return Err(at_key(
                    "sync",
                    "the first camera is the visual reference and must be PTP-locked".into(),
                ));
            }
            if self.hub.coordination == CoordinationName::Distributed {
                return Err(at_key(
                    "coordination",
                    "cameras steered from the pictures take the hub's commands: they need \
                     coordination = \"central\""
                        .into(),
                ));
            }
        }
        // Oscillators must keep running forward, and every time must fit.
        let oscillators = std::iter::once(&self.clocks)
            .chain(std::iter::once(&self.grandmaster))
            .chain(self.masters.iter().map(|m| &m.oscillator))
            .chain(self.boundary_clocks.iter().map(|b| &b.oscillator));
        for o in oscillators {
            if o.freq_offset_ppm.0 > 1_000.0 {
                return Err(at_key(
                    "freq_offset_ppm",
                    "oscillators are modelled up to ±1000 ppm".into(),
                ));
            }
            if o.wander_ppb.0 > 10_000.0 || o.temperature_ppb.0 > 1e6 {
                return Err(at_key(
                    "wander_ppb",
                    "wander is limited to 10,000 ppb/√s and temperature swings to 1,000,000 ppb"
                        .into(),
                ));
            }
            if o.initial_offset.ns() > Nanos::from_secs(86_400).0 {
                return Err(at_key(
                    "initial_offset",
                    "an initial offset is limited to a day".into(),
                ));
            }
            for step in &o.steps {
                if step.at.ns() > self.duration.ns()
                    || step.by.ns().abs() > Nanos::from_secs(86_400).0
                {
                    return Err(at_key(
                        "steps",
                        "a phase step must fall within the run and be under a day".into(),
                    ));
                }
                if let Some(c) = &step.clock
                    && !names.contains(c)
                {
                    return Err(at_key("clock", format!("no clock is named `{c}`")));
                }
            }
        }
        if self.ptp.announce_receipt_timeout == Some(0) {
            return Err(at_key(
                "announce_receipt_timeout",
                "must be at least 1".into(),
            ));
        }
        let is_master = |n: &str| n == "grandmaster" || self.masters.iter().any(|m| m.name == n);
        for n in &self.ptp.acceptable_masters {
            if !is_master(n) {
                return Err(at_key(
                    "acceptable_masters",
                    format!("`{n}` is not a master: name \"grandmaster\" or a [[masters]] entry"),
                ));
            }
        }
        if let Some(sec) = &self.ptp.security
            && camsync_engine::ptp::security::IcvAlgorithm::from_label(&sec.algorithm).is_none()
        {
            return Err(at_key(
                "algorithm",
                format!(
                    "unknown algorithm `{}`: use SHA256-128 or SHA256",
                    sec.algorithm
                ),
            ));
        }
        for f in &self.faults {
            if f.at.ns() > self.duration.ns() {
                return Err(at_key("at", "a fault must start within the run".into()));
            }
            if !f.ppb.is_finite() || f.ppb.abs() > 1e6 {
                return Err(at_key(
                    "ppb",
                    "a frequency step is limited to ±1,000,000 ppb".into(),
                ));
            }
            if !(f.factor.is_finite() && f.factor > 0.0 && f.factor <= 100.0) {
                return Err(at_key(
                    "factor",
                    "a jitter factor must lie in (0, 100]".into(),
                ));
            }
            if f.by.ns().abs() > Nanos::from_secs(3_600).0 {
                return Err(at_key("by", "a step fault is limited to an hour".into()));
            }
            if f.kind == FaultKind::MalformedPackets && f.by.ns() <= 0 {
                return Err(at_key(
                    "by",
                    "malformed-packets needs `by`, the time between packets".into(),
                ));
            }
            if let Some(t) = &f.target
                && !names.contains(t)
            {
                return Err(at_key("target", format!("no host is named `{t}`")));
            }
            if !(0.0..=1.0).contains(&f.probability) {
                return Err(at_key("probability", "a probability lies in [0, 1]".into()));
            }
            if f.kind.needs_probability() && f.probability <= 0.0 {
                return Err(at_key(
                    "kind",
                    format!("{} needs `probability` above 0", f.kind.name()),
                ));
            }
            if !(f.burst.is_finite() && f.burst >= 1.0) {
                return Err(at_key(
                    "burst",
                    "a burst is at least one packet long".into(),
                ));
            }
            if f.kind.needs_target() && f.target.is_none() {
                return Err(at_key(
                    "kind",
                    format!("{} needs a `target`", f.kind.name()),
                ));
            }
            if f.kind.needs_period() && f.period.is_none_or(|p| p.ns() == 0) {
                return Err(at_key(
                    "kind",
                    format!("{} needs a `period` above 0", f.kind.name()),
                ));
            }
            let role_ok = match (f.kind, f.target.as_deref()) {
                (FaultKind::WanPartition | FaultKind::ClusterLeaderLoss, Some(t)) => {
                    self.boundary_clocks.iter().any(|b| b.name == t)
                }
                (FaultKind::RogueMaster, Some(t)) => self.masters.iter().any(|m| m.name == t),
                (
                    FaultKind::CameraCrash
                    | FaultKind::CameraStall
                    | FaultKind::CameraFrameDrops
                    | FaultKind::BufferOverflow,
                    Some(t),
                ) => t.starts_with("cam") && names.iter().any(|n| n == t),
                _ => true,
            };
            if !role_ok {
                return Err(at_key(
                    "target",
                    format!(
                        "{} cannot strike `{}`: wrong kind of host",
                        f.kind.name(),
                        f.target.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
        if let Some(b) = &self.video.bursts
            && (b.every.ns() == 0 || b.length.ns() == 0)
        {
            return Err(at_key(
                "bursts",
                "bursts need `every` and `length` above 0".into(),
            ));
        }
        if let Some(v) = &self.visual {
            let [w, h] = v.resolution;
            if !(16..=1920).contains(&w) || !(9..=1080).contains(&h) {
                return Err(at_key(
                    "resolution",
                    "an analysis resolution is 16x9 to 1920x1080".into(),
                ));
            }
            if v.drift_ppm.0 > 200.0 {
                return Err(at_key(
                    "drift_ppm",
                    "drift is modelled up to ±200 ppm".into(),
                ));
            }
            if v.exposure.ns() == 0 {
                return Err(at_key(
                    "exposure",
                    "an exposure must be longer than 0".into(),
                ));
            }
            if v.flashes
                .is_some_and(|f| f.every.ns() == 0 || f.length.ns() == 0)
            {
                return Err(at_key(
                    "flashes",
                    "flashes need `every` and `length` above 0".into(),
                ));
            }
        }
        for (section, keys) in &self.expect {
            for (key, bound) in keys {
                let full = format!("{section}.{}", key.get_ref());
                let located = |message: String| {
                    let mut e = locate(text, file, key.span().start, message);
                    e.field = Some(format!("expect.{full}"));
                    e
                };
                if !known(&full) {
                    return Err(located(format!("`{full}` is not a score key")));
                }
                if bound.min.is_none() && bound.max.is_none() {
                    return Err(located("an expectation needs `min`, `max` or both".into()));
                }
            }
        }
        Ok(())
    }
}

/// Turns a byte offset into `file:line:col` and names the key written on that line.
pub(crate) fn locate(text: &str, file: &str, offset: usize, message: String) -> ScenarioError {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let field = line_text
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('[') && !message.contains(&format!("`{k}`")));
    ScenarioError {
        file: file.to_string(),
        line,
        column,
        field,
        message,
    }
}

/// The byte offset of `key = ` at the start of a line, or of a `[key]` table.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let is_key = t
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        let is_table = t.trim_start_matches('[').starts_with(key) && t.starts_with('[');
        if is_key || is_table {
            return Some(offset + indent);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &str) -> bool {
        true
    }

    const MINIMAL: &str =
        "seed = 1\nduration = \"10s\"\n[[cameras]]\nrate = \"50\"\n[hub]\nreference_rate = 50\n";

    #[test]
    fn the_default_scenario_parses() {
        let s = Scenario::parse(DEFAULT_SCENARIO, DEFAULT_SCENARIO_PATH, &any).unwrap();
        assert_eq!(s.camera_count(), 4);
    }

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::parse(MINIMAL, "m.toml", &any).unwrap();
        assert_eq!(s.duration.ns(), 10_000_000_000);
        assert_eq!(s.hub.buffer.ns(), 200_000_000);
        assert_eq!(s.ptp.delay_filter_length, FilterLength(10));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = Scenario::parse("this is = = not toml\n", "bad.toml", &any).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.toml", 1));
        assert!(e.to_string().starts_with("bad.toml:1:"), "{e}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let text = format!("{MINIMAL}[ptp]\nbogus_field_xyz = 1\n");
        let e = Scenario::parse(&text, "u.toml", &any).unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(e.to_string().contains("bogus_field_xyz"), "{e}");
    }

    #[test]
    fn bad_values_are_located_and_named() {
        let text = MINIMAL.replace("rate = \"50\"", "rate = \"fast\"");
        let e = Scenario::parse(&text, "v.toml", &any).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert_eq!(e.field.as_deref(), Some("rate"), "{e}");
        let text = format!("{MINIMAL}[ptp]\nfirst_step_threshold = \"20 parsecs\"\n");
        let e = Scenario::parse(&text, "v.toml", &any).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (8, Some("first_step_threshold")),
            "{e}"
        );
        let text = format!("{MINIMAL}[network]\nloss = 1.5\n");
        let e = Scenario::parse(&text, "v.toml", &any).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (8, Some("loss")), "{e}");
        // A slew that would never close, or run the output backwards.
        for rate in ["0", "2000000"] {
            let text = format!("{MINIMAL}[ptp]\nresync = \"slew\"\nslew_rate_ppm = {rate}\n");
            let e = Scenario::parse(&text, "v.toml", &any).unwrap_err();
            assert_eq!(
                (e.line, e.field.as_deref()),
                (9, Some("slew_rate_ppm")),
                "{e}"
            );
        }
        // The pictures' commands come from a hub: no hub, no visual sync.
        let text = MINIMAL.replace(
            "rate = \"50\"\n",
            "rate = \"50\"\n[[cameras]]\nrate = \"50\"\nsync = \"visual\"\n[visual]\n",
        ) + "coordination = \"distributed\"\n";
        let e = Scenario::parse(&text, "v.toml", &any).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (11, Some("coordination")),
            "{e}"
        );
    }

    #[test]
    fn expectations_must_name_score_keys() {
        let text = format!("{MINIMAL}[expect.ptp]\noffset_rms_nz = {{ max = 1 }}\n");
        let known = |k: &str| k == "ptp.offset_rms_ns";
        let e = Scenario::parse(&text, "e.toml", &known).unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(e.to_string().contains("ptp.offset_rms_nz"), "{e}");
        let ok = text.replace("nz", "ns");
        assert!(Scenario::parse(&ok, "e.toml", &known).is_ok());
    }

    #[test]
    fn faults_missing_what_their_class_needs_are_located_errors() {
        let fault = |body: &str| format!("{MINIMAL}[[faults]]\n{body}");
        let e = Scenario::parse(
            &fault("kind = \"camera-crash\"\nat = \"1s\"\n"),
            "f.toml",
            &any,
        )
        .unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(
            e.to_string().contains("camera-crash needs a `target`"),
            "{e}"
        );
        let e = Scenario::parse(
            &fault("kind = \"duplication\"\nat = \"1s\"\nprobability = 1.5\n"),
            "f.toml",
            &any,
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (10, Some("probability")),
            "{e}"
        );
        let e = Scenario::parse(
            &fault("kind = \"link-flap\"\nat = \"1s\"\ntarget = \"cam0\"\n"),
            "f.toml",
            &any,
        )
        .unwrap_err();
        assert!(e.to_string().contains("link-flap needs a `period`"), "{e}");
        let e = Scenario::parse(
            &fault("kind = \"wan-partition\"\nat = \"1s\"\ntarget = \"cam0\"\n"),
            "f.toml",
            &any,
        )
        .unwrap_err();
        assert!(e.to_string().contains("wrong kind of host"), "{e}");
    }

    #[test]
    fn zero_cameras_is_an_error() {
        let text = MINIMAL.replace("rate = \"50\"", "rate = \"50\"\ncount = 0");
        let e = Scenario::parse(&text, "z.toml", &any).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("cameras"), "{e}");
    }
}
