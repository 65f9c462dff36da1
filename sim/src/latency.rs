//! Sampling one-way delays from a scenario's latency distribution (statrs).

use crate::rng::Stream;
use crate::scenario::LatencySpec;
use rand::distr::Distribution;
use statrs::distribution::{Exp, LogNormal, Normal, Pareto};

#[derive(Clone, Debug)]
pub enum LatencySampler {
    Constant(f64),
    Normal(Normal),
    Shifted { min: f64, tail: Tail },
}

#[derive(Clone, Debug)]
pub enum Tail {
    LogNormal(LogNormal),
    Exp(Exp),
    Pareto(Pareto),
}

impl LatencySampler {
    pub fn new(spec: &LatencySpec) -> Self {
        // Degenerate parameters (zero spread) mean a constant; every other
        // combination is valid by construction of the scenario types.
        match *spec {
            LatencySpec::Constant { value } => LatencySampler::Constant(value.ns() as f64),
            LatencySpec::Normal { mean, sd } if sd.ns() == 0 => {
                LatencySampler::Constant(mean.ns() as f64)
            }
            LatencySpec::Normal { mean, sd } => LatencySampler::Normal(
                Normal::new(mean.ns() as f64, sd.ns() as f64).expect("sd > 0"),
            ),
            LatencySpec::Lognormal { min, median, sigma } => {
                if sigma.0 == 0.0 || median.ns() == 0 {
                    LatencySampler::Constant((min.ns() + median.ns()) as f64)
                } else {
                    LatencySampler::Shifted {
                        min: min.ns() as f64,
                        tail: Tail::LogNormal(
                            LogNormal::new((median.ns() as f64).ln(), sigma.0).expect("sigma > 0"),
                        ),
                    }
                }
            }
            LatencySpec::Exponential { min, mean } => {
                if mean.ns() == 0 {
                    LatencySampler::Constant(min.ns() as f64)
                } else {
                    LatencySampler::Shifted {
                        min: min.ns() as f64,
                        tail: Tail::Exp(Exp::new(1.0 / mean.ns() as f64).expect("rate > 0")),
                    }
                }
            }
            LatencySpec::Pareto { min, shape } => {
                if min.ns() == 0 {
                    LatencySampler::Constant(0.0)
                } else {
                    LatencySampler::Shifted {
                        min: 0.0,
                        tail: Tail::Pareto(
                            Pareto::new(min.ns() as f64, shape.0).expect("scale, shape > 0"),
                        ),
                    }
                }
            }
        }
    }

    /// The fixed part of the delay (propagation, serialisation); what lies
    /// above it is time spent in queues.
    pub fn floor(&self) -> i64 {
        match self {
            LatencySampler::Constant(v) => v.round() as i64,
            LatencySampler::Normal(n) => {
                use statrs::statistics::Distribution as _;
                n.mean().unwrap_or(0.0).round() as i64
            }
            LatencySampler::Shifted { min, tail } => {
                let scale = match tail {
                    Tail::Pareto(p) => p.scale(),
                    _ => 0.0,
                };
                (min + scale).round() as i64
            }
        }
    }

    /// One delay in whole nanoseconds, never negative.
    pub fn sample(&self, rng: &mut Stream) -> i64 {
        let v = match self {
            LatencySampler::Constant(v) => *v,
            LatencySampler::Normal(n) => n.sample(rng),
            LatencySampler::Shifted { min, tail } => {
                min + match tail {
                    Tail::LogNormal(d) => d.sample(rng),
                    Tail::Exp(d) => d.sample(rng),
                    Tail::Pareto(d) => d.sample(rng),
                }
            }
        };
        // Pareto tails can be astronomically long; a packet an hour late is lost.
        v.clamp(0.0, 3.6e12).round() as i64
    }
}
