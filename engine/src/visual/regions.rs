//! Regions of a picture and their counterparts in another camera's view.

use super::register::{Mapping, Plane};

/// An axis-aligned rectangle of pixels [x0, x1) × [y0, y1).
#[derive(Clone, Copy, Debug)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

/// The mean over the reference's counterpart of the camera's cell `r`:
/// every pixel of the cell mapped (plus the refined shift) and sampled.
pub fn counterpart_mean(p: &Plane, m: &Mapping, r: Rect, ox: f64, oy: f64) -> f32 {
    let mut sum = 0.0;
    let mut n = 0;
    for v in r.y0..r.y1 {
        for u in r.x0..r.x1 {
            let (x, y) = m.apply(u as f64 + 0.5, v as f64 + 0.5);
            if let Some(value) = p.at(x + ox - 0.5, y + oy - 0.5) {
                sum += value;
                n += 1;
            }
        }
    }
    sum / n.max(1) as f32
}

pub fn mean_in(p: &Plane, r: Rect) -> f32 {
    let mut sum = 0.0;
    for y in r.y0..r.y1 {
        sum += p.pixels[y * p.width + r.x0..y * p.width + r.x1]
            .iter()
            .sum::<f32>();
    }
    sum / ((r.x1 - r.x0) * (r.y1 - r.y0)).max(1) as f32
}
