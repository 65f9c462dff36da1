//! The README's live demo, as a test: `scenarios/live/demo.toml` run as six
//! processes (a grandmaster, four camera agents playing Y4M clips, a hub) on
//! the loopback of a network namespace of their own; the hub's /metrics must
//! show its port locked in SLAVE and complete frame sets, and every camera
//! must lock. Root and `ip`/`setpriv` needed (skipped loudly otherwise, a
//! failure under CI).

mod netns_lab;

use netns_lab::{Lab, adjtimex_state, wait_for};
use std::time::Duration;

const CAMSYNC: &str = env!("CARGO_BIN_EXE_camsync");

/// A Y4M clip of `frames` grey frames, 64×36 at 25 fps, with a moving bar.
fn clip(frames: usize) -> Vec<u8> {
    let (w, h) = (64, 36);
    let mut out = format!("YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
    for f in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        for y in 0..h {
            for x in 0..w {
                out.push(if (x + f) % w < 4 { 235 } else { 16 + (y as u8) });
            }
        }
        out.extend(std::iter::repeat_n(128u8, w * h / 2));
    }
    out
}

fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
}

#[test]
fn live_demo_hub_prints_complete_frame_sets_and_serves_metrics() {
    if !netns_lab::ready("live_demo") {
        return;
    }
    let before = adjtimex_state();
    let mut lab = Lab::new("dm");
    for i in 0..4 {
        std::fs::write(lab.path(&format!("cam{i}.y4m")), clip(50)).unwrap();
    }
    let demo = std::fs::read_to_string("scenarios/live/demo.toml").expect("the demo configuration");
    let config = lab.write(
        "demo.toml",
        &demo.replace("/tmp/camsync-demo/", &format!("{}/", lab.dir.display())),
    );
    let config = config.to_str().unwrap().to_string();
    let live = |node: &str| -> Vec<String> {
        [
            "live",
            &config,
            "--node",
            node,
            "--summary-interval",
            "2",
            "--duration",
            "90",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut logs = Vec::new();
    for node in ["gm", "cam0", "cam1", "cam2", "cam3"] {
        let args = live(node);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        logs.push(lab.spawn(0, node, CAMSYNC, &args));
    }
    let mut args = live("hub");
    args.extend(["--metrics".to_string(), "127.0.0.1:9187".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let hub_log = lab.spawn(0, "hub", CAMSYNC, &args);

    let scrape = || {
        lab.run(
            0,
            "bash",
            &["-c", "exec 3<>/dev/tcp/127.0.0.1/9187 && printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"],
        )
    };
    // Locked and 50 complete sets (2 s at 25 fps) after lock, then the last
    // released set complete.
    let metrics = wait_for(Duration::from_secs(60), || {
        let m = scrape();
        let complete = metric(
            &m,
            "camsync_frame_sets_total{node=\"hub\",complete=\"true\"}",
        )?;
        let slave = metric(&m, "camsync_ptp_port_state{node=\"hub\",state=\"SLAVE\"}")?;
        (slave == 1.0 && complete >= 50.0).then_some(m)
    });
    let hub = std::fs::read_to_string(&hub_log).unwrap_or_default();
    let metrics = metrics.unwrap_or_else(|| {
        panic!(
            "no complete frame sets with a locked hub:\n{}\n{hub}",
            scrape()
        )
    });
    let lines: Vec<&str> = metrics.lines().filter(|l| !l.starts_with('#')).collect();
    eprintln!("{}", lines.join("\n"));
    assert_eq!(
        metric(&metrics, "camsync_ptp_servo_locked{node=\"hub\"}"),
        Some(1.0)
    );
    assert!(
        hub.contains("| complete |"),
        "the hub prints its frame sets:\n{hub}"
    );
    for (node, log) in ["gm", "cam0", "cam1", "cam2", "cam3"].iter().zip(&logs) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let want = if *node == "gm" {
            "to MASTER"
        } else {
            "to SLAVE"
        };
        assert!(text.contains(want), "{node} never went {want}:\n{text}");
    }
    assert_eq!(
        lab.terminate("hub"),
        Some(0),
        "the hub did not stop cleanly:\n{hub}"
    );
    drop(lab);
    assert_eq!(
        adjtimex_state(),
        before,
        "the host clock's adjtimex state changed"
    );
}
