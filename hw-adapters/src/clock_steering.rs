//! Steering a host clock (the system clock or a PHC) is never camsync's
//! default: its disciplined time lives in an overlay over a free-running base.
//! Only an explicit request may touch a host clock, and it is refused with a
//! clear message when the process lacks CAP_SYS_TIME — checked before anything
//! is attempted, so a refused request changes nothing.

use std::fmt;
use std::path::PathBuf;

/// CAP_SYS_TIME's bit in the kernel's capability sets.
const CAP_SYS_TIME: u32 = 25;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SteerTarget {
    System,
    Phc(PathBuf),
}

impl fmt::Display for SteerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SteerTarget::System => f.write_str("the system clock"),
            SteerTarget::Phc(p) => write!(f, "the PTP hardware clock {}", p.display()),
        }
    }
}

impl std::str::FromStr for SteerTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "system" => Ok(SteerTarget::System),
            p if p.starts_with("/dev/ptp") => Ok(SteerTarget::Phc(PathBuf::from(p))),
            other => Err(format!(
                "`{other}`: want `system` or a PTP clock device such as /dev/ptp0"
            )),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SteerError {
    #[error(
        "refusing to steer {0}: this process lacks CAP_SYS_TIME (run as root with that \
         capability, or drop --steer-clock: camsync keeps its disciplined time in a \
         software overlay and needs no privilege)"
    )]
    NoPrivilege(SteerTarget),
    #[error(
        "steering {0} is not available in this build: camsync keeps its disciplined time \
         in a software overlay; run ptp4l/phc2sys to discipline host clocks"
    )]
    NotBuilt(SteerTarget),
    #[error("cannot read this process's capabilities: {0}")]
    Capabilities(String),
}

/// Whether the effective capability set holds CAP_SYS_TIME (from
/// /proc/self/status, which needs no privilege to read).
pub fn has_sys_time() -> Result<bool, SteerError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| SteerError::Capabilities(e.to_string()))?;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .ok_or_else(|| SteerError::Capabilities("no CapEff line".into()))?;
    let bits =
        u64::from_str_radix(eff.trim(), 16).map_err(|e| SteerError::Capabilities(e.to_string()))?;
    Ok(bits & (1 << CAP_SYS_TIME) != 0)
}

/// Checks a request to steer a host clock. Without the privilege it is
/// refused; with it, this build still declines (see `SteerError::NotBuilt`):
/// nothing here ever calls clock_adjtime or settimeofday.
pub fn request(target: SteerTarget) -> Result<(), SteerError> {
    if !has_sys_time()? {
        return Err(SteerError::NoPrivilege(target));
    }
    Err(SteerError::NotBuilt(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_name_themselves() {
        assert_eq!("system".parse(), Ok(SteerTarget::System));
        assert_eq!(
            "/dev/ptp1".parse(),
            Ok(SteerTarget::Phc("/dev/ptp1".into()))
        );
        assert!("eth0".parse::<SteerTarget>().is_err());
    }

    #[test]
    fn a_request_is_never_carried_out_silently() {
        let e = request(SteerTarget::System).unwrap_err();
        if has_sys_time().unwrap() {
            assert_eq!(e, SteerError::NotBuilt(SteerTarget::System));
        } else {
            assert!(e.to_string().contains("CAP_SYS_TIME"), "{e}");
        }
    }
}
