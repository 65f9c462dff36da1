//! The live deployment: engine nodes on real sockets and clocks.
//!
//! - `transport`: what the driver needs of a network (PTP's two ports,
//!   receive and transmit timestamps); `udp_timestamped` is the kernel's,
//!   with SO_TIMESTAMPING.
//! - `driver`: one node's event loop, generic over the transport and the
//!   base clock, so it also runs on turmoil's simulated hosts.
//! - `live_node`: the engine's nodes with the status the driver reports.
//! - `config`, `run`: `camsync live CONFIG`.
//! - `metrics`: the Prometheus endpoint; `frame_wire`: frame metadata from
//!   the cameras to the hub.

pub mod config;
pub mod driver;
pub mod frame_wire;
pub mod live_node;
pub mod metrics;
pub mod precise_sleep;
pub mod run;
pub mod transport;
pub mod udp_timestamped;

pub use config::{ConfigError, LiveConfig};
pub use run::{LiveError, LiveOptions, run};
