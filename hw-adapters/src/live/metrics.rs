//! Prometheus metrics for `--metrics ADDR`: every node's offset, delay,
//! frequency, port and lock state, the hub's buffer and frame-set
//! completeness, alerts and dropped packets, labelled by node name.

use super::live_node::NodeStatus;
use camsync_engine::frame::FrameSet;
use camsync_engine::ptp::ServoState;
use camsync_engine::ptp::port_state::PortState;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Labels = Vec<(String, String)>;

const PORT_STATES: [PortState; 6] = [
    PortState::Listening,
    PortState::Master,
    PortState::Passive,
    PortState::Uncalibrated,
    PortState::Slave,
    PortState::Faulty,
];

#[derive(Clone, Default)]
pub struct Metrics {
    registry: Arc<Registry>,
    offset_ns: Family<Labels, Gauge>,
    path_delay_ns: Family<Labels, Gauge>,
    frequency_ppb: Family<Labels, Gauge<f64, AtomicU64>>,
    correction_ns: Family<Labels, Gauge>,
    port_state: Family<Labels, Gauge>,
    servo_locked: Family<Labels, Gauge>,
    buffer_depth: Family<Labels, Gauge>,
    buffer_target_ns: Family<Labels, Gauge>,
    frame_sets: Family<Labels, Counter>,
    completeness: Family<Labels, Gauge<f64, AtomicU64>>,
    frames_sent: Family<Labels, Counter>,
    frames_accounted: Family<Labels, Counter>,
    alerts: Family<Labels, Counter>,
    dropped: Family<Labels, Counter>,
    received: Family<Labels, Counter>,
}

fn node(name: &str) -> Labels {
    vec![("node".into(), name.into())]
}

fn node_and(name: &str, key: &str, value: &str) -> Labels {
    vec![("node".into(), name.into()), (key.into(), value.into())]
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Metrics::default();
        let mut r = Registry::default();
        r.register(
            "camsync_ptp_offset_ns",
            "Last measured offset from the master (ns)",
            m.offset_ns.clone(),
        );
        r.register(
            "camsync_ptp_path_delay_ns",
            "Filtered mean path delay (ns)",
            m.path_delay_ns.clone(),
        );
        r.register(
            "camsync_ptp_frequency_ppb",
            "Frequency correction of the disciplined clock (ppb)",
            m.frequency_ppb.clone(),
        );
        r.register(
            "camsync_clock_correction_ns",
            "Disciplined (overlay) clock minus its free-running base clock (ns); the host clock is never adjusted",
            m.correction_ns.clone(),
        );
        r.register(
            "camsync_ptp_port_state",
            "1 for the port's current state (ptp4l's names)",
            m.port_state.clone(),
        );
        r.register(
            "camsync_ptp_servo_locked",
            "1 when the servo is locked (s2)",
            m.servo_locked.clone(),
        );
        r.register(
            "camsync_hub_buffer_depth_frames",
            "Frames held by the hub waiting for their sets",
            m.buffer_depth.clone(),
        );
        r.register(
            "camsync_hub_buffer_target_ns",
            "The hub's release delay (ns)",
            m.buffer_target_ns.clone(),
        );
        r.register(
            "camsync_frame_sets",
            "Frame sets released, by completeness",
            m.frame_sets.clone(),
        );
        r.register(
            "camsync_frame_set_completeness",
            "Fraction of cameras with a proper frame in the last released set",
            m.completeness.clone(),
        );
        r.register(
            "camsync_frames_sent",
            "Frames stamped and sent to the hub",
            m.frames_sent.clone(),
        );
        r.register(
            "camsync_frames_accounted",
            "Frames in no set, by reason",
            m.frames_accounted.clone(),
        );
        r.register("camsync_alerts", "Alerts raised, by kind", m.alerts.clone());
        r.register(
            "camsync_packets_dropped",
            "Packets counted and dropped, by reason",
            m.dropped.clone(),
        );
        r.register(
            "camsync_packets_received",
            "Datagrams received, by channel",
            m.received.clone(),
        );
        m.registry = Arc::new(r);
        m
    }

    pub fn status(&self, name: &str, s: &NodeStatus) {
        for state in PORT_STATES {
            self.port_state
                .get_or_create(&node_and(name, "state", state.as_str()))
                .set(i64::from(state == s.port_state));
        }
        if let Some(servo) = s.servo {
            self.servo_locked
                .get_or_create(&node(name))
                .set(i64::from(servo == ServoState::Locked));
        }
        if let Some(c) = s.correction {
            self.correction_ns.get_or_create(&node(name)).set(c.0);
        }
        if let Some(f) = s.frequency_ppb {
            self.frequency_ppb.get_or_create(&node(name)).set(f);
        }
        if let Some(d) = s.path_delay {
            self.path_delay_ns.get_or_create(&node(name)).set(d.0);
        }
        if let Some(h) = s.held_frames {
            self.buffer_depth.get_or_create(&node(name)).set(h as i64);
        }
        if let Some(t) = s.buffer_target {
            self.buffer_target_ns.get_or_create(&node(name)).set(t.0);
        }
    }

    pub fn servo(&self, name: &str, offset_ns: i64, frequency_ppb: f64, path_delay_ns: i64) {
        self.offset_ns.get_or_create(&node(name)).set(offset_ns);
        self.frequency_ppb
            .get_or_create(&node(name))
            .set(frequency_ppb);
        self.path_delay_ns
            .get_or_create(&node(name))
            .set(path_delay_ns);
    }

    pub fn frame_set(&self, name: &str, set: &FrameSet) {
        let complete = if set.is_complete() { "true" } else { "false" };
        self.frame_sets
            .get_or_create(&node_and(name, "complete", complete))
            .inc();
        let proper = set.slots.iter().filter(|s| s.is_proper()).count();
        let fraction = proper as f64 / set.slots.len().max(1) as f64;
        self.completeness.get_or_create(&node(name)).set(fraction);
    }

    pub fn frame_sent(&self, name: &str) {
        self.frames_sent.get_or_create(&node(name)).inc();
    }
    pub fn frame_accounted(&self, name: &str, reason: &str) {
        self.frames_accounted
            .get_or_create(&node_and(name, "reason", reason))
            .inc();
    }
    pub fn alert(&self, name: &str, kind: &str) {
        self.alerts
            .get_or_create(&node_and(name, "kind", kind))
            .inc();
    }
    pub fn dropped(&self, name: &str, reason: &str) {
        self.dropped
            .get_or_create(&node_and(name, "reason", reason))
            .inc();
    }
    pub fn received(&self, name: &str, event: bool) {
        let channel = if event { "event" } else { "general" };
        self.received
            .get_or_create(&node_and(name, "channel", channel))
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped. A tiny
/// HTTP/1.0-style server: one request per connection, then close — what a
/// Prometheus scrape or curl needs, without an HTTP stack.
pub async fn serve(listener: TcpListener, metrics: Metrics) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            // Read the request head (bounded: a scrape's head is short).
            while len < buf.len() {
                match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    stream.read(&mut buf[len..]),
                )
                .await
                {
                    Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                    Ok(Ok(n)) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let mut parts = head.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let response = if method == "GET"
                && (path == "/metrics" || path.starts_with("/metrics?"))
            {
                let body = metrics.render();
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                let body = "camsync serves /metrics\n";
                format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
