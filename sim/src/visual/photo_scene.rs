//! A scene made of real photographs, for feature extractors that need real
//! pictures (a face detector finds no face in rendered blobs): a still
//! background photo, and photo cut-outs (sprites, e.g. a face) gliding
//! across it on smooth random paths, watched by cameras that each frame a
//! different part of it with their own gain, black level and noise.
//!
//! The photos come in as grey pixels; reading files is the caller's
//! business, so the simulator stays free of I/O. World units are the
//! background's pixels.

use crate::rng::Stream;
use rand::RngExt;
use rand::distr::Distribution;
use statrs::distribution::Normal;

/// A grey photograph.
#[derive(Clone, Debug)]
pub struct Photo {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Photo {
    /// The part [x0, x0 + w) × [y0, y0 + h), mirrored left-right if asked.
    pub fn crop(&self, x0: usize, y0: usize, w: usize, h: usize, mirror: bool) -> Photo {
        let mut pixels = Vec::with_capacity(w * h);
        for y in y0..y0 + h {
            for x in 0..w {
                let x = if mirror { x0 + w - 1 - x } else { x0 + x };
                pixels.push(self.pixels[y * self.width + x]);
            }
        }
        Photo {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Bilinear sample at (x, y), clamped at the edges.
    fn at(&self, x: f64, y: f64) -> f32 {
        let x = x.clamp(0.0, (self.width - 1) as f64);
        let y = y.clamp(0.0, (self.height - 1) as f64);
        let (i, j) = (x as usize, y as usize);
        let (i1, j1) = ((i + 1).min(self.width - 1), (j + 1).min(self.height - 1));
        let (a, b) = ((x - i as f64) as f32, (y - j as f64) as f32);
        let p = |i: usize, j: usize| self.pixels[j * self.width + i] as f32;
        (p(i, j) * (1.0 - a) + p(i1, j) * a) * (1.0 - b)
            + (p(i, j1) * (1.0 - a) + p(i1, j1) * a) * b
    }
}

/// A cut-out on a path: its centre at time t is `centre` plus a sum of
/// sines on each axis (smooth, with no jumps: the correlation needs
/// motion that is continuous between frames).
struct Sprite {
    photo: Photo,
    /// World units per sprite pixel.
    scale: f64,
    centre: (f64, f64),
    /// (amplitude, angular frequency, phase) per term, x then y.
    path: [Vec<(f64, f64, f64)>; 2],
}

impl Sprite {
    fn position(&self, t: f64) -> (f64, f64) {
        let axis = |terms: &[(f64, f64, f64)]| {
            terms
                .iter()
                .map(|(a, w, p)| a * (w * t + p).sin())
                .sum::<f64>()
        };
        (
            self.centre.0 + axis(&self.path[0]),
            self.centre.1 + axis(&self.path[1]),
        )
    }

    /// The sprite's grey and opacity at world point (x, y) when centred at
    /// `at`: opacity is a feathered ellipse, so edges blend in smoothly.
    fn sample(&self, at: (f64, f64), x: f64, y: f64) -> Option<(f32, f32)> {
        let (w, h) = (self.photo.width as f64, self.photo.height as f64);
        let u = (x - at.0) / self.scale + w / 2.0;
        let v = (y - at.1) / self.scale + h / 2.0;
        let (dx, dy) = ((u - w / 2.0) / (w / 2.0), (v - h / 2.0) / (h / 2.0));
        let r = (dx * dx + dy * dy).sqrt();
        if r >= 1.0 {
            return None;
        }
        // Opaque inside 80 % of the ellipse, fading to nothing at its rim.
        let alpha = ((1.0 - r) / 0.2).min(1.0) as f32;
        Some((self.photo.at(u, v), alpha))
    }
}

pub struct PhotoScene {
    background: Photo,
    sprites: Vec<Sprite>,
}

impl PhotoScene {
    pub fn new(background: Photo) -> Self {
        PhotoScene {
            background,
            sprites: Vec::new(),
        }
    }

    /// Adds `photo` drawn `height` world units tall, wandering about
    /// `centre` by up to about `reach` (x, y) at up to about `speed` world
    /// units per second.
    pub fn add_sprite(
        &mut self,
        photo: Photo,
        height: f64,
        centre: (f64, f64),
        reach: (f64, f64),
        speed: f64,
        draw: &mut Stream,
    ) {
        let mut axis = |reach: f64| {
            (0..3)
                .map(|k| {
                    let amplitude = reach / 3.0 * draw.random_range(0.6..1.0);
                    // Speeds up to `speed` per term, but slow terms for the
                    // large reach.
                    let omega = (speed / 3.0 / amplitude).min(6.0) * draw.random_range(0.5..1.0)
                        / (k + 1) as f64;
                    (
                        amplitude,
                        omega,
                        draw.random_range(0.0..std::f64::consts::TAU),
                    )
                })
                .collect()
        };
        let path = [axis(reach.0), axis(reach.1)];
        self.sprites.push(Sprite {
            scale: height / photo.height as f64,
            photo,
            centre,
            path,
        });
    }

    /// The scene's grey at world point (x, y), sprites at their positions.
    fn at(&self, positions: &[(f64, f64)], x: f64, y: f64) -> f32 {
        let mut value = self.background.at(x, y);
        for (sprite, &p) in self.sprites.iter().zip(positions) {
            if let Some((grey, alpha)) = sprite.sample(p, x, y) {
                value += (grey - value) * alpha;
            }
        }
        value
    }
}

/// One camera's framing of a photo scene.
pub struct PhotoCamera {
    pub width: usize,
    pub height: usize,
    /// World point at the picture's centre, and world units per pixel.
    centre: (f64, f64),
    units_per_pixel: f64,
    gain: f32,
    black: f32,
    noise: Normal,
    pub exposure_s: f64,
    rng: Stream,
}

/// Time samples across the exposure (motion blur), and samples per pixel
/// on each axis (a pixel averages the light over its area, not one point).
const EXPOSURE_TAPS: usize = 4;
const AREA_TAPS: usize = 2;

impl PhotoCamera {
    /// A `width`×`height` camera looking at `centre`, `span` world units
    /// wide, with its own response.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        width: usize,
        height: usize,
        centre: (f64, f64),
        span: f64,
        exposure_s: f64,
        noise_sd: f64,
        draw: &mut Stream,
        rng: Stream,
    ) -> Self {
        PhotoCamera {
            width,
            height,
            centre,
            units_per_pixel: span / width as f64,
            gain: draw.random_range(0.85..1.15),
            black: draw.random_range(0.0..8.0),
            noise: Normal::new(0.0, noise_sd.max(1e-9)).expect("sd > 0"),
            exposure_s,
            rng,
        }
    }

    /// The picture of the frame whose exposure starts at true second `t`.
    pub fn capture(&mut self, scene: &PhotoScene, t: f64) -> Vec<u8> {
        let taps: Vec<Vec<(f64, f64)>> = (0..EXPOSURE_TAPS)
            .map(|k| {
                let at = t + self.exposure_s * (k as f64 + 0.5) / EXPOSURE_TAPS as f64;
                scene.sprites.iter().map(|s| s.position(at)).collect()
            })
            .collect();
        let upp = self.units_per_pixel;
        let (x0, y0) = (
            self.centre.0 - self.width as f64 / 2.0 * upp,
            self.centre.1 - self.height as f64 / 2.0 * upp,
        );
        let n = (EXPOSURE_TAPS * AREA_TAPS * AREA_TAPS) as f32;
        let mut out = Vec::with_capacity(self.width * self.height);
        for v in 0..self.height {
            for u in 0..self.width {
                let mut sum = 0.0;
                for positions in &taps {
                    for sy in 0..AREA_TAPS {
                        for sx in 0..AREA_TAPS {
                            let x = x0 + (u as f64 + (sx as f64 + 0.5) / AREA_TAPS as f64) * upp;
                            let y = y0 + (v as f64 + (sy as f64 + 0.5) / AREA_TAPS as f64) * upp;
                            sum += scene.at(positions, x, y);
                        }
                    }
                }
                let noise = self.noise.sample(&mut self.rng) as f32;
                out.push(
                    (sum / n * self.gain + self.black + noise)
                        .round()
                        .clamp(0.0, 255.0) as u8,
                );
            }
        }
        out
    }
}
