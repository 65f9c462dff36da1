//! `camsync live` configuration (TOML): the network, the base clock, PTP's
//! intervals, and the nodes this process runs. A mistake is reported as
//! `file:line:col: message`, the way scenario files are.
//!
//! ```toml
//! [network]
//! interface = "eth0"
//! [[node]]
//! name = "cam0"
//! role = "camera"
//! file = "cam0.y4m"
//! hub = "10.0.0.9:5004"
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    pub network: Network,
    #[serde(default)]
    pub ptp: Ptp,
    #[serde(rename = "node")]
    pub nodes: Vec<NodeConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The interface PTP runs on (its multicast group is joined there).
    pub interface: String,
    #[serde(default = "software")]
    pub timestamping: TimestampingName,
    /// Deliver this host's own multicast to its other nodes (several nodes on
    /// one interface, as in the loopback demo).
    #[serde(default)]
    pub multicast_loop: bool,
    /// The free-running base clock: "realtime" (what software timestamps are
    /// taken on) or a PHC device such as "/dev/ptp0" (hardware timestamps).
    #[serde(default = "realtime")]
    pub clock: String,
}

fn software() -> TimestampingName {
    TimestampingName::Software
}
fn realtime() -> String {
    "realtime".into()
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TimestampingName {
    Software,
    Hardware,
}

/// PTP's settings, ptp4l's names and defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ptp {
    #[serde(default)]
    pub domain: u8,
    #[serde(default)]
    pub log_sync_interval: i8,
    #[serde(default = "one")]
    pub log_announce_interval: i8,
    #[serde(default)]
    pub log_min_delay_req_interval: i8,
    #[serde(default = "pi")]
    pub servo: ServoName,
}

fn one() -> i8 {
    1
}
fn pi() -> ServoName {
    ServoName::Pi
}

impl Default for Ptp {
    fn default() -> Self {
        Ptp {
            domain: 0,
            log_sync_interval: 0,
            log_announce_interval: 1,
            log_min_delay_req_interval: 0,
            servo: ServoName::Pi,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ServoName {
    Pi,
    Linreg,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "role", rename_all = "kebab-case")]
pub enum Role {
    Grandmaster {
        #[serde(default = "p128")]
        priority1: u8,
        #[serde(default = "p128")]
        priority2: u8,
        /// 6: locked to a primary reference (GNSS); 248: ptp4l's default.
        #[serde(default = "class6")]
        clock_class: u8,
    },
    Slave,
    Camera {
        camera: u16,
        /// A Y4M file played at its own frame rate, looping.
        #[serde(default)]
        file: Option<PathBuf>,
        /// A V4L2 capture device such as /dev/video0 (feature `v4l2`).
        #[serde(default)]
        device: Option<PathBuf>,
        /// A DeckLink card by index (feature `decklink`).
        #[serde(default)]
        decklink: Option<u32>,
        /// Where the hub listens for frame metadata.
        hub: SocketAddr,
        #[serde(default = "ptp_locked")]
        timing: TimingName,
    },
    Hub {
        cameras: u16,
        /// Where frame metadata arrives.
        listen: SocketAddr,
        /// The reference rate, "25" or "30000/1001".
        rate: String,
        /// The fixed release delay.
        #[serde(default = "buffer_ms")]
        buffer_ms: u32,
    },
}

fn p128() -> u8 {
    128
}
fn class6() -> u8 {
    6
}
fn ptp_locked() -> TimingName {
    TimingName::PtpLocked
}
fn buffer_ms() -> u32 {
    100
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TimingName {
    /// Capture on the PTP frame grid (ST 2059 genlock).
    PtpLocked,
    /// The camera captures on its own; frames are stamped on arrival.
    FreeRun,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NodeConfig {
    pub name: String,
    /// The PTP clock identity, 8 bytes as hex ("001122fffe334455" or with
    /// colons); by default from the interface's MAC and the node's position.
    #[serde(default)]
    pub clock_identity: Option<String>,
    #[serde(flatten)]
    pub role: Role,
}

impl LiveConfig {
    pub fn from_file(path: &Path) -> Result<LiveConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        let mut config = Self::parse(&text, &file)?;
        // Camera files are relative to the configuration.
        let dir = path.parent().unwrap_or(Path::new("."));
        for node in &mut config.nodes {
            if let Role::Camera {
                file: Some(file), ..
            } = &mut node.role
                && file.is_relative()
            {
                *file = dir.join(&*file);
            }
        }
        Ok(config)
    }

    pub fn parse(text: &str, file: &str) -> Result<LiveConfig, ConfigError> {
        let config: LiveConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            let mut at = e.span().map_or(0, |s| s.start);
            // A node's fields are flattened into its role, which leaves the
            // span on the `[[node]]` header: point at the unknown key itself.
            if let Some(key) = message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
                && let Some(found) = key_after(text, at, key)
            {
                at = found;
            }
            locate(text, file, at, message)
        })?;
        if config.nodes.is_empty() {
            return Err(locate(text, file, 0, "no [[node]]: nothing to run".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for node in &config.nodes {
            let at = text.find(&format!("\"{}\"", node.name)).unwrap_or(0);
            if !names.insert(node.name.as_str()) {
                return Err(locate(
                    text,
                    file,
                    at,
                    format!("node name `{}` used twice", node.name),
                ));
            }
            if let Some(id) = &node.clock_identity
                && parse_clock_identity(id).is_none()
            {
                return Err(locate(
                    text,
                    file,
                    text.find(id.as_str()).unwrap_or(at),
                    format!("clock_identity `{id}`: want 8 bytes of hex"),
                ));
            }
            if let Role::Camera {
                file: clip,
                device,
                decklink,
                ..
            } = &node.role
            {
                let sources = usize::from(clip.is_some())
                    + usize::from(device.is_some())
                    + usize::from(decklink.is_some());
                if sources != 1 {
                    return Err(locate(
                        text,
                        file,
                        at,
                        format!(
                            "camera `{}`: give exactly one of file, device, decklink",
                            node.name
                        ),
                    ));
                }
            }
            if let Role::Hub { rate, cameras, .. } = &node.role {
                if parse_rate(rate).is_none() {
                    return Err(locate(
                        text,
                        file,
                        text.find(rate.as_str()).unwrap_or(at),
                        format!("rate `{rate}`: want frames per second, \"25\" or \"30000/1001\""),
                    ));
                }
                if *cameras == 0 {
                    return Err(locate(text, file, at, "a hub needs cameras >= 1".into()));
                }
            }
        }
        if !(-7..=7).contains(&config.ptp.log_sync_interval)
            || !(-7..=7).contains(&config.ptp.log_announce_interval)
            || !(-7..=7).contains(&config.ptp.log_min_delay_req_interval)
        {
            let at = text.find("log_").unwrap_or(0);
            return Err(locate(
                text,
                file,
                at,
                "log intervals must be within -7..=7".into(),
            ));
        }
        Ok(config)
    }
}

/// "001122fffe334455" or "00:11:22:ff:fe:33:44:55" (ptp4l's form with a dot
/// also accepted: "001122.fffe.334455").
pub fn parse_clock_identity(s: &str) -> Option<[u8; 8]> {
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '.' | '-'))
        .collect();
    if hex.len() != 16 {
        return None;
    }
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

pub fn parse_rate(s: &str) -> Option<camsync_engine::FrameRate> {
    let (num, den) = match s.split_once('/') {
        Some((n, d)) => (n.trim().parse().ok()?, d.trim().parse().ok()?),
        None => (s.trim().parse().ok()?, 1),
    };
    camsync_engine::FrameRate::new(num, den).ok()
}

/// Where `key =` is written at the start of a line at or after `from`.
fn key_after(text: &str, from: usize, key: &str) -> Option<usize> {
    let mut offset = text[..from.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    for line in text[offset..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    None
}

/// A byte offset as `file:line:col`.
fn locate(text: &str, file: &str, offset: usize, message: String) -> ConfigError {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    ConfigError {
        file: file.to_string(),
        line,
        column: before[line_start..].chars().count() + 1,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[network]
interface = "lo"
multicast_loop = true

[ptp]
log_sync_interval = -2

[[node]]
name = "gm"
role = "grandmaster"

[[node]]
name = "hub"
role = "hub"
cameras = 2
listen = "127.0.0.1:5004"
rate = "30000/1001"
"#;

    #[test]
    fn a_good_config_parses_with_ptp4l_defaults() {
        let c = LiveConfig::parse(GOOD, "x.toml").unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.ptp.log_sync_interval, -2);
        assert_eq!(c.ptp.log_announce_interval, 1);
        assert_eq!(c.network.timestamping, TimestampingName::Software);
        assert!(matches!(
            c.nodes[0].role,
            Role::Grandmaster {
                priority1: 128,
                clock_class: 6,
                ..
            }
        ));
    }

    #[test]
    fn mistakes_name_their_line_and_column() {
        let bad = GOOD.replace(
            "role = \"grandmaster\"",
            "role = \"grandmaster\"\nprio1 = 3",
        );
        let e = LiveConfig::parse(&bad, "x.toml").unwrap_err();
        assert_eq!((e.line, e.column), (12, 1), "{e}");
        assert!(
            e.to_string()
                .starts_with("x.toml:12:1: unknown field `prio1`"),
            "{e}"
        );
        let bad = GOOD.replace("30000/1001", "fast");
        let e = LiveConfig::parse(&bad, "x.toml").unwrap_err();
        assert_eq!((e.line, e.column), (18, 9), "{e}");
        let bad = GOOD.replace("name = \"hub\"", "name = \"gm\"");
        assert!(
            LiveConfig::parse(&bad, "x.toml")
                .unwrap_err()
                .message
                .contains("twice")
        );
    }

    #[test]
    fn clock_identities_in_ptp4l_and_plain_forms() {
        let want = [0x00, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55];
        assert_eq!(parse_clock_identity("001122.fffe.334455"), Some(want));
        assert_eq!(parse_clock_identity("00:11:22:ff:fe:33:44:55"), Some(want));
        assert_eq!(parse_clock_identity("0011"), None);
    }
}
