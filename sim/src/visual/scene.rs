//! A shared scene every camera sees from its own place: a textured pitch,
//! players and a ball moving on smooth paths, lighting that drifts, and
//! optional flashes. Everything is an analytic function of true time, so a
//! camera can render it at any capture instant (its sub-frame offset
//! included) and ground truth is exact.

use crate::rng::Stream;
use rand::RngExt;

/// Lighting, flash and motion of the scene (metres, seconds, linear light).
#[derive(Clone, Debug)]
pub struct SceneConfig {
    pub width_m: f64,
    pub height_m: f64,
    pub players: usize,
    /// Nothing moves and the light is steady: no timing information.
    pub still: bool,
    /// Flashes: mean seconds between them, and how long each lasts.
    pub flashes: Option<(f64, f64)>,
    pub duration_s: f64,
}

/// A moving disc. The ball's path is a sum of sinusoids per axis, smooth
/// and bounded; a player follows the ball some time behind, from his place
/// in the formation, wobbling on his own sinusoids — so play, like real
/// play, gathers where the ball is. Exact at any instant.
#[derive(Clone, Debug)]
struct Mover {
    radius: f64,
    brightness: f32,
    /// (amplitude, angular frequency, phase) per axis.
    x: [(f64, f64, f64); 3],
    y: [(f64, f64, f64); 3],
    centre: (f64, f64),
    /// For a player: how long after the ball he gets there.
    follows: Option<f64>,
}

fn sum(terms: &[(f64, f64, f64); 3], t: f64) -> f64 {
    terms.iter().map(|&(a, w, p)| a * (w * t + p).sin()).sum()
}

impl Mover {
    fn own(&self, t: f64) -> (f64, f64) {
        (
            self.centre.0 + sum(&self.x, t),
            self.centre.1 + sum(&self.y, t),
        )
    }
}

pub struct Scene {
    config: SceneConfig,
    /// The pitch's texture, `TEXTURE_W` × `TEXTURE_H` over the whole pitch.
    texture: Vec<f32>,
    movers: Vec<Mover>,
    /// Flash intervals in true seconds, in order.
    flashes: Vec<(f64, f64)>,
    /// Slow light drift: (amplitude, angular frequency, phase).
    light: (f64, f64, f64),
}

/// An instant, where every mover is then, and the light.
type Placed = (f64, Vec<(f64, f64)>, f32);

const TEXTURE_W: usize = 640;
const TEXTURE_H: usize = 384;
/// How much brighter the scene is during a flash.
const FLASH_GAIN: f32 = 1.5;

impl Scene {
    pub fn new(config: SceneConfig, rng: &mut Stream) -> Scene {
        // Grass: value noise at three scales plus mown stripes.
        let grid = |rng: &mut Stream, n: usize| -> Vec<f32> {
            (0..n * n).map(|_| rng.random::<f32>()).collect()
        };
        let octaves: Vec<(usize, Vec<f32>, f32)> = [(8usize, 0.5f32), (32, 0.3), (128, 0.2)]
            .into_iter()
            .map(|(n, w)| (n, grid(rng, n + 1), w))
            .collect();
        let mut texture = vec![0.0f32; TEXTURE_W * TEXTURE_H];
        for v in 0..TEXTURE_H {
            for u in 0..TEXTURE_W {
                let (fx, fy) = (u as f32 / TEXTURE_W as f32, v as f32 / TEXTURE_H as f32);
                let mut value = 0.0;
                for (n, g, w) in &octaves {
                    let (x, y) = (fx * *n as f32, fy * *n as f32);
                    let (i, j) = (x as usize, y as usize);
                    let (a, b) = (x - i as f32, y - j as f32);
                    let at = |i: usize, j: usize| g[j * (n + 1) + i];
                    let top = at(i, j) * (1.0 - a) + at(i + 1, j) * a;
                    let bottom = at(i, j + 1) * (1.0 - a) + at(i + 1, j + 1) * a;
                    value += w * (top * (1.0 - b) + bottom * b);
                }
                let stripe = if (u / 40) % 2 == 0 { 0.08 } else { 0.0 };
                texture[v * TEXTURE_W + u] = 0.25 + 0.35 * value + stripe;
            }
        }
        let (w, h) = (config.width_m, config.height_m);
        // Sinusoids of amplitude `span`/k and a speed of about `speed` m/s.
        let axis = |rng: &mut Stream, span: f64, speed: f64| {
            std::array::from_fn(|k| {
                let a = span / (k + 1) as f64 * rng.random_range(0.5..1.0);
                let wv = speed / a.max(0.1) * rng.random_range(0.3..0.6);
                (a, wv, rng.random_range(0.0..std::f64::consts::TAU))
            })
        };
        let mut movers = Vec::new();
        if !config.still {
            // The ball: small, bright, fast, over the middle of the pitch.
            movers.push(Mover {
                radius: 0.5,
                brightness: 1.0,
                x: axis(rng, w * 0.12, 12.0),
                y: axis(rng, h * 0.12, 12.0),
                centre: (w / 2.0, h / 2.0),
                follows: None,
            });
            for i in 0..config.players {
                let shirt = if i % 2 == 0 { 0.95 } else { 0.05 };
                movers.push(Mover {
                    radius: 1.0,
                    brightness: shirt,
                    x: axis(rng, 2.0, 3.0),
                    y: axis(rng, 2.0, 3.0),
                    centre: (rng.random_range(-18.0..18.0), rng.random_range(-12.0..12.0)),
                    follows: Some(rng.random_range(0.2..1.5)),
                });
            }
        }
        let mut flashes = Vec::new();
        if let Some((every, length)) = config.flashes {
            let mut t = 0.0;
            loop {
                let u: f64 = rng.random();
                t += -(1.0 - u).ln() * every;
                if t >= config.duration_s {
                    break;
                }
                flashes.push((t, t + length));
            }
        }
        let light = if config.still {
            (0.0, 0.0, 0.0)
        } else {
            (
                0.1,
                std::f64::consts::TAU / rng.random_range(20.0..60.0),
                rng.random_range(0.0..std::f64::consts::TAU),
            )
        };
        Scene {
            config,
            texture,
            movers,
            flashes,
            light,
        }
    }

    /// Where every mover is at `t`.
    fn positions_at(&self, t: f64, out: &mut [(f64, f64)]) {
        for (p, m) in out.iter_mut().zip(&self.movers) {
            *p = match m.follows {
                None => m.own(t),
                Some(lag) => {
                    let ball = self.movers[0].own(t - lag);
                    let own = m.own(t);
                    (ball.0 + own.0, ball.1 + own.1)
                }
            };
        }
    }

    pub fn flashes(&self) -> &[(f64, f64)] {
        &self.flashes
    }

    fn light_at(&self, t: f64) -> f32 {
        let (a, w, p) = self.light;
        (1.0 + a * (w * t + p).sin()) as f32
    }

    /// The share of [from, to) lit by a flash.
    fn flash_share(&self, from: f64, to: f64) -> f32 {
        let first = self.flashes.partition_point(|f| f.1 <= from);
        let lit: f64 = self.flashes[first..]
            .iter()
            .take_while(|f| f.0 < to)
            .map(|f| f.1.min(to) - f.0.max(from))
            .sum();
        (lit / (to - from).max(1e-9)) as f32
    }

    fn background(&self, x: f64, y: f64) -> f32 {
        let u = (x / self.config.width_m * TEXTURE_W as f64).clamp(0.0, (TEXTURE_W - 2) as f64);
        let v = (y / self.config.height_m * TEXTURE_H as f64).clamp(0.0, (TEXTURE_H - 2) as f64);
        let (i, j) = (u as usize, v as usize);
        let (a, b) = ((u - i as f64) as f32, (v - j as f64) as f32);
        let at = |i: usize, j: usize| self.texture[j * TEXTURE_W + i];
        let top = at(i, j) * (1.0 - a) + at(i + 1, j) * a;
        let bottom = at(i, j + 1) * (1.0 - a) + at(i + 1, j + 1) * a;
        top * (1.0 - b) + bottom * b
    }

    /// Renders a view: `pixel_to_world` maps a pixel centre to pitch metres,
    /// `pixel_m` is a pixel's size on the pitch (for anti-aliased edges).
    /// Each row `r` is exposed over [row_start(r), row_start(r) + exposure)
    /// in true seconds; the picture averages three instants of it (motion
    /// blur) and integrates flashes exactly.
    pub fn render(
        &self,
        width: usize,
        height: usize,
        pixel_to_world: impl Fn(f64, f64) -> (f64, f64),
        pixel_m: f64,
        row_start: impl Fn(usize) -> f64,
        exposure: f64,
    ) -> Vec<f32> {
        let mut out = vec![0.0f32; width * height];
        const TAPS: [f64; 3] = [1.0 / 6.0, 0.5, 5.0 / 6.0];
        // Per tap, the instant its movers were placed at and where: rows
        // exposed at the same instants (a global shutter) share them.
        let mut placed: [Placed; TAPS.len()] =
            std::array::from_fn(|_| (f64::NAN, vec![(0.0, 0.0); self.movers.len()], 0.0));
        let mut near: Vec<(f64, f32, f64, f64)> = Vec::with_capacity(self.movers.len());
        let mut row: Vec<(f64, f64, f32)> = Vec::with_capacity(width);
        for r in 0..height {
            let start = row_start(r);
            let flash = self.flash_share(start, start + exposure) * FLASH_GAIN;
            // The pitch band this row sees (a lens bends rows a little).
            let ys = [0.0, width as f64 / 2.0, width as f64]
                .map(|c| pixel_to_world(c, r as f64 + 0.5).1);
            let (y_low, y_high) = (
                ys.iter().copied().fold(f64::MAX, f64::min) - pixel_m,
                ys.iter().copied().fold(f64::MIN, f64::max) + pixel_m,
            );
            // Where each pixel of the row looks, and the still pitch there:
            // the same for every tap.
            row.clear();
            row.extend((0..width).map(|c| {
                let (x, y) = pixel_to_world(c as f64 + 0.5, r as f64 + 0.5);
                (x, y, self.background(x, y))
            }));
            for (tap, (at, positions, light)) in TAPS.iter().zip(placed.iter_mut()) {
                let t = start + tap * exposure;
                if *at != t {
                    *at = t;
                    self.positions_at(t, positions);
                    *light = self.light_at(t);
                }
                let (positions, light) = (&*positions, *light);
                near.clear();
                near.extend(
                    self.movers
                        .iter()
                        .zip(positions)
                        .filter(|(m, p)| p.1 + m.radius >= y_low && p.1 - m.radius <= y_high)
                        .map(|(m, p)| (m.radius, m.brightness, p.0, p.1)),
                );
                for (c, &(x, y, background)) in row.iter().enumerate() {
                    let mut value = background;
                    for &(radius, brightness, mx, my) in &near {
                        if (x - mx).abs() > radius + pixel_m {
                            continue;
                        }
                        let d = ((x - mx).powi(2) + (y - my).powi(2)).sqrt();
                        let alpha = ((radius - d) / pixel_m + 0.5).clamp(0.0, 1.0) as f32;
                        if alpha > 0.0 {
                            value += alpha * (brightness - value);
                        }
                    }
                    out[r * width + c] += value * light * (1.0 + flash) / TAPS.len() as f32;
                }
            }
        }
        out
    }
}
