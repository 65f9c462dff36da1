//! PTP profiles: the defaults and ranges a deployment's standard fixes.

use core::fmt;
use core::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// IEEE 1588-2019's default delay request-response profile (J.3).
    #[default]
    Default,
    /// SMPTE ST 2059-2: broadcast video over IP.
    St2059_2,
    /// AES67's media profile (AES-R16).
    Aes67,
}

/// What a profile fixes: defaults for the message rates and the domain, and
/// the range each rate may be configured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileSettings {
    pub domain: u8,
    pub log_sync_interval: i8,
    pub log_announce_interval: i8,
    pub log_min_delay_req_interval: i8,
    pub announce_receipt_timeout: u8,
    pub sync_range: (i8, i8),
    pub announce_range: (i8, i8),
}

impl Profile {
    pub fn settings(self) -> ProfileSettings {
        match self {
            Profile::Default => ProfileSettings {
                domain: 0,
                log_sync_interval: 0,
                log_announce_interval: 1,
                log_min_delay_req_interval: 0,
                announce_receipt_timeout: 3,
                sync_range: (-1, 1),
                announce_range: (0, 4),
            },
            // ST 2059-2: domain 127 (0–127 allowed), Sync 2^-3 s by default
            // (2^-7 … 2^-1), Announce 2^-2 s (2^-3 … 1), Delay_Req at the Sync
            // rate, announce receipt timeout 3.
            Profile::St2059_2 => ProfileSettings {
                domain: 127,
                log_sync_interval: -3,
                log_announce_interval: -2,
                log_min_delay_req_interval: -3,
                announce_receipt_timeout: 3,
                sync_range: (-7, -1),
                announce_range: (-3, 1),
            },
            // AES67 media profile: Sync 2^-3 s (2^-4 … 1), Announce 2 s
            // (0 … 4), Delay_Req 2^-3 s, domain 0.
            Profile::Aes67 => ProfileSettings {
                domain: 0,
                log_sync_interval: -3,
                log_announce_interval: 1,
                log_min_delay_req_interval: -3,
                announce_receipt_timeout: 3,
                sync_range: (-4, 1),
                announce_range: (0, 4),
            },
        }
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(Profile::Default),
            "st2059-2" => Ok(Profile::St2059_2),
            "aes67" => Ok(Profile::Aes67),
            _ => Err(format!(
                "unknown profile `{s}`: use default, st2059-2 or aes67"
            )),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Default => "default",
            Profile::St2059_2 => "st2059-2",
            Profile::Aes67 => "aes67",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn st2059_2_is_the_broadcast_setting() {
        let s = "st2059-2".parse::<Profile>().unwrap().settings();
        assert_eq!(
            (s.domain, s.log_sync_interval, s.log_announce_interval),
            (127, -3, -2)
        );
        assert_eq!(s.log_min_delay_req_interval, s.log_sync_interval);
        assert_eq!(s.announce_receipt_timeout, 3);
        assert!("smpte".parse::<Profile>().is_err());
    }
}
