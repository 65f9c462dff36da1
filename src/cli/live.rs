//! `camsync live CONFIG`: runs the configured engine nodes (grandmaster,
//! slave, camera agents, hub) on real sockets and clocks until SIGINT or
//! SIGTERM. The host's clock is never stepped or slewed: each node's
//! disciplined time lives in a software overlay over a free-running base.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use camsync_hw::clock_steering::{self, SteerTarget};
use camsync_hw::live::{self, LiveConfig, LiveError, LiveOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Exit code when the machine would not do what was asked (an interface
/// that does not exist, a port already taken).
const EXIT_IO: u8 = 4;

#[derive(clap::Args)]
pub struct LiveArgs {
    /// The live configuration (TOML; examples under scenarios/live/).
    config: PathBuf,
    /// Serve Prometheus metrics at ADDR (e.g. 127.0.0.1:9187), path /metrics.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// Run only this node of the configuration (repeatable; default: all).
    #[arg(long = "node", value_name = "NAME")]
    nodes: Vec<String>,
    /// Stop by itself after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Seconds between a node's summary lines (ptp4l's summary_interval).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    summary_interval: f64,
    /// Steer a host clock (`system` or /dev/ptpN) instead of the overlay.
    /// Refused without CAP_SYS_TIME.
    #[arg(long, value_name = "TARGET")]
    steer_clock: Option<SteerTarget>,
}

fn seconds(flag: &str, s: f64) -> Result<Duration, String> {
    if s.is_finite() && s > 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!("--{flag} {s}: want a positive number of seconds"))
    }
}

pub fn live(args: LiveArgs) -> u8 {
    if let Some(target) = args.steer_clock {
        // Checked before anything runs: a refused request changes nothing.
        if let Err(e) = clock_steering::request(target) {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    }
    let duration = match args.duration.map(|d| seconds("duration", d)).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let summary_interval = match seconds("summary-interval", args.summary_interval) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let config = match LiveConfig::from_file(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let options = LiveOptions {
        metrics: args.metrics,
        only: args.nodes,
        duration,
        summary_interval,
    };
    match live::run(config, options) {
        Ok(()) => EXIT_OK,
        Err(LiveError::BadInput(e)) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Err(LiveError::Io(e)) => {
            eprintln!("error: {e}");
            EXIT_IO
        }
    }
}
