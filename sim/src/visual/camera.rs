//! One camera's view of the scene: where it looks and how wide, its lens's
//! barrel distortion, exposure, gain and black level, sensor noise, and an
//! optional rolling shutter (rows exposed one after another over the
//! readout time).

use super::scene::Scene;
use crate::rng::Stream;
use rand::RngExt;
use rand::distr::Distribution;
use statrs::distribution::Normal;

pub struct CameraView {
    pub width: usize,
    pub height: usize,
    /// Pitch point at the picture's centre, and metres per pixel there.
    centre: (f64, f64),
    metres_per_pixel: f64,
    /// Barrel distortion: r' = r (1 + k1 r²), r in half-widths.
    k1: f64,
    gain: f32,
    black: f32,
    noise: Normal,
    pub exposure_s: f64,
    pub readout_s: f64,
    rng: Stream,
}

impl CameraView {
    /// A view of a pitch `width_m` × `height_m`: each camera looks at a
    /// different part, overlapping its neighbours, with its own exposure
    /// and colour response.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        width: usize,
        height: usize,
        pitch: (f64, f64),
        exposure_s: f64,
        readout_s: f64,
        noise_sd: f64,
        draw: &mut Stream,
        rng: Stream,
    ) -> Self {
        // Broadcast framing: 30–45 % of the pitch's width, around the
        // middle where play is.
        let span = pitch.0 * draw.random_range(0.30..0.45);
        CameraView {
            width,
            height,
            centre: (
                pitch.0 * draw.random_range(0.45..0.55),
                pitch.1 * draw.random_range(0.45..0.55),
            ),
            metres_per_pixel: span / width as f64,
            k1: draw.random_range(0.0..0.08),
            gain: draw.random_range(0.8..1.2),
            black: draw.random_range(0.0..0.05),
            noise: Normal::new(0.0, noise_sd.max(1e-9)).expect("sd > 0"),
            exposure_s,
            readout_s,
            rng,
        }
    }

    /// The picture of frame captured (first row starting) at true second `t`.
    pub fn capture(&mut self, scene: &Scene, t: f64) -> Vec<u8> {
        let (w, h) = (self.width as f64, self.height as f64);
        let half = w / 2.0;
        let (centre, mpp, k1) = (self.centre, self.metres_per_pixel, self.k1);
        let to_world = |u: f64, v: f64| {
            let (x, y) = ((u - w / 2.0) / half, (v - h / 2.0) / half);
            let stretch = 1.0 + k1 * (x * x + y * y);
            (
                centre.0 + x * stretch * half * mpp,
                centre.1 + y * stretch * half * mpp,
            )
        };
        let readout = self.readout_s;
        let height = self.height;
        let light = scene.render(
            self.width,
            self.height,
            to_world,
            mpp,
            |row| t + readout * row as f64 / height as f64,
            self.exposure_s,
        );
        light
            .into_iter()
            .map(|v| {
                let noise = self.noise.sample(&mut self.rng) as f32 / 255.0;
                ((v * self.gain + self.black + noise) * 255.0)
                    .round()
                    .clamp(0.0, 255.0) as u8
            })
            .collect()
    }
}
