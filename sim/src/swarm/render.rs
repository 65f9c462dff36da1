//! A seed's knobs written as an ordinary scenario file. The swarm runs what
//! the normal parser reads back from this text, so the repro file of a
//! failure is exactly the world that failed: `camsync run repro.toml`.

use super::faults::{FaultDraw, kind_name};
use super::knobs::{Knobs, PtpLatency, SLEW_LIMIT_NS, SLEW_RATE_PPM, Timestamping};
use std::fmt::Write;

/// A duration in the largest unit that says it exactly.
pub fn dur(ns: i64) -> String {
    for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if ns % scale == 0 {
            return format!("\"{}{unit}\"", ns / scale);
        }
    }
    format!("\"{ns}ns\"")
}

/// The key the authenticated runs share (the attackers do not have it).
const KEY: &str = "camsync-swarm-key-0001";

/// The scenario text. `header` lines go first, as comments.
pub fn scenario_toml(k: &Knobs, header: &[String]) -> String {
    let mut t = String::new();
    for line in header {
        let _ = writeln!(t, "# {line}");
    }
    let _ = writeln!(t, "name = \"swarm-{}\"", k.seed);
    let _ = writeln!(
        t,
        "description = \"derived by camsync swarm from seed {}\"",
        k.seed
    );
    let _ = writeln!(t, "seed = {}", k.seed);
    let _ = writeln!(t, "duration = {}", dur(k.duration_ns));

    let _ = writeln!(t, "\n[ptp]");
    let _ = writeln!(t, "profile = \"{}\"", k.profile);
    if let Some(l) = k.log_sync_interval {
        let _ = writeln!(t, "log_sync_interval = {l}\nlog_delay_req_interval = {l}");
    }
    let _ = writeln!(t, "servo = \"{}\"", k.servo);
    if k.p2p {
        let _ = writeln!(t, "delay_mechanism = \"p2p\"");
    }
    if k.slew_resync {
        let _ = writeln!(
            t,
            "resync = \"slew\"\nslew_rate_ppm = {SLEW_RATE_PPM}\nslew_limit = {}",
            dur(SLEW_LIMIT_NS)
        );
    }
    if k.security {
        let _ = writeln!(
            t,
            "security = {{ spp = 1, key_id = 1, key = \"{KEY}\", algorithm = \"SHA256-128\" }}"
        );
    }

    let _ = writeln!(t, "\n[network]");
    let _ = writeln!(
        t,
        "latency = {}",
        match k.latency {
            PtpLatency::Normal { mean_ns, sd_ns } => format!(
                "{{ dist = \"normal\", mean = {}, sd = {} }}",
                dur(mean_ns),
                dur(sd_ns)
            ),
            PtpLatency::Lognormal {
                min_ns,
                median_ns,
                sigma,
            } => format!(
                "{{ dist = \"lognormal\", min = {}, median = {}, sigma = {sigma} }}",
                dur(min_ns),
                dur(median_ns)
            ),
            PtpLatency::Exponential { min_ns, mean_ns } => format!(
                "{{ dist = \"exponential\", min = {}, mean = {} }}",
                dur(min_ns),
                dur(mean_ns)
            ),
        }
    );
    let _ = writeln!(t, "asymmetry = {}", dur(k.asymmetry_ns));
    let _ = writeln!(t, "loss = {}", k.ptp_loss);
    let _ = writeln!(t, "transparent_clocks = {}", k.transparent_clocks);

    let _ = writeln!(t, "\n[timestamping]");
    match k.timestamping {
        Timestamping::Hardware { noise_ns } => {
            let _ = writeln!(t, "mode = \"hardware\"\nnoise = {}", dur(noise_ns));
        }
        Timestamping::Software {
            min_us,
            median_us,
            sigma,
        } => {
            let _ = writeln!(
                t,
                "mode = \"software\"\nstack_latency = {{ dist = \"lognormal\", min = \"{min_us}us\", median = \"{median_us}us\", sigma = {sigma} }}"
            );
        }
    }

    let _ = writeln!(t, "\n[clocks]");
    let _ = writeln!(t, "freq_offset_ppm = {:?}", k.freq_offset_ppm);
    let _ = writeln!(t, "initial_offset = \"{}us\"", k.initial_offset_us);
    let _ = writeln!(t, "wander_ppb = {:?}", k.wander_ppb);

    if let Some(offset) = k.backup_offset_ns {
        let _ = writeln!(
            t,
            "\n[[masters]]\nname = \"backup\"\npriority1 = 129\nclock_class = 7\n\
             oscillator = {{ initial_offset = {} }}",
            dur(offset.abs())
        );
    }
    for i in 0..k.boundary_clocks {
        let _ = writeln!(t, "\n[[boundary_clocks]]\nname = \"bc{i}\"");
    }
    for g in &k.groups {
        let _ = writeln!(
            t,
            "\n[[cameras]]\ncount = {}\nrate = \"{}\"",
            g.count, g.rate
        );
        if let Some(b) = g.behind {
            let _ = writeln!(t, "behind = \"bc{b}\"");
        }
    }

    let _ = writeln!(t, "\n[video]");
    let _ = writeln!(
        t,
        "latency = {{ dist = \"lognormal\", min = \"{}ms\", median = \"{}ms\", sigma = {} }}",
        k.video_min_ms, k.video_median_ms, k.video_sigma
    );
    let _ = writeln!(t, "loss = {}", k.video_loss);
    let _ = writeln!(t, "duplicate = {}", k.video_duplicate);
    if let Some(b) = &k.bursts {
        let _ = writeln!(
            t,
            "bursts = {{ every = \"{}ms\", length = \"{}ms\", extra = \"{}ms\" }}",
            b.every_ms, b.length_ms, b.extra_ms
        );
    }

    let _ = writeln!(t, "\n[hub]");
    let _ = writeln!(t, "reference_rate = \"{}\"", k.reference_rate);
    let _ = writeln!(t, "policy = \"{}\"", k.policy);
    let _ = writeln!(t, "buffer = \"{}ms\"", k.buffer_ms);
    let _ = writeln!(t, "max_latency = \"{}ms\"", k.max_latency_ms);
    let _ = writeln!(t, "rule = \"{}\"", k.rule);
    let _ = writeln!(t, "missing = \"{}\"", k.missing);
    if k.distributed {
        let _ = writeln!(t, "coordination = \"distributed\"");
    }

    for f in &k.faults {
        t += &fault_toml(f);
    }

    let _ = writeln!(t, "\n[score]");
    let _ = writeln!(t, "lock_threshold = {}", dur(k.lock_threshold_ns));
    let _ = writeln!(t, "lock_hold = {}", dur(k.lock_hold_ms * 1_000_000));

    // What `camsync run` can judge by itself; the swarm judges the rest
    // (the liveness window's frame sets, time running forward). Keep this
    // table last: the CLI appends the in-flight bound to it.
    let _ = writeln!(t, "\n[expect.align]");
    let _ = writeln!(t, "unaccounted_frames = {{ max = 0 }}");
    let _ = writeln!(t, "misaligned_frame_sets = {{ max = 0 }}");
    t
}

fn fault_toml(f: &FaultDraw) -> String {
    let mut t = format!(
        "\n[[faults]]\nkind = \"{}\"\nat = {}\n",
        kind_name(f.kind),
        dur(f.at)
    );
    if let Some(d) = f.duration {
        t += &format!("duration = {}\n", dur(d));
    }
    if f.by != 0 {
        t += &format!("by = {}\n", dur(f.by));
    }
    if let Some(target) = &f.target {
        t += &format!("target = \"{target}\"\n");
    }
    if f.ppb != 0.0 {
        t += &format!("ppb = {:?}\n", f.ppb);
    }
    if f.factor != 1.0 {
        t += &format!("factor = {:?}\n", f.factor);
    }
    if f.probability != 0.0 {
        t += &format!("probability = {:?}\n", f.probability);
    }
    if f.burst != 0.0 {
        t += &format!("burst = {:?}\n", f.burst);
    }
    if let Some(p) = f.period {
        t += &format!("period = {}\n", dur(p));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_exactly() {
        assert_eq!(dur(60_000_000_000), "\"60s\"");
        assert_eq!(dur(1_500_000_000), "\"1500ms\"");
        assert_eq!(dur(-1_000_000_000), "\"-1s\"");
        assert_eq!(dur(2_500), "\"2500ns\"");
        assert_eq!(dur(0), "\"0s\"");
    }
}
