//! Where two cameras' views overlap: the scale and shift that carry one
//! camera's pixels onto the other's, found by matching their backgrounds
//! (the window's mean picture, where moving players blur away) with
//! normalised cross-correlation, coarse to fine. Correlation ignores gain
//! and black level, so exposure and colour response do not matter; a lens's
//! barrel distortion is absorbed as well as a similarity can.

use super::pearson::Pearson;

/// A picture of floats, row by row.
#[derive(Clone, Debug)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

impl Plane {
    /// Bilinear sample at (x, y); `None` outside.
    pub fn at(&self, x: f64, y: f64) -> Option<f32> {
        if x < 0.0 || y < 0.0 {
            return None;
        }
        let (i, j) = (x as usize, y as usize);
        if i + 1 >= self.width || j + 1 >= self.height {
            return None;
        }
        let (a, b) = ((x - i as f64) as f32, (y - j as f64) as f32);
        let p = |i: usize, j: usize| self.pixels[j * self.width + i];
        Some(
            (p(i, j) * (1.0 - a) + p(i + 1, j) * a) * (1.0 - b)
                + (p(i, j + 1) * (1.0 - a) + p(i + 1, j + 1) * a) * b,
        )
    }

    /// Half the size, each pixel the mean of four.
    fn halved(&self) -> Plane {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut pixels = Vec::with_capacity(w * h);
        for j in 0..h {
            for i in 0..w {
                let p = |x: usize, y: usize| self.pixels[y * self.width + x];
                pixels.push(
                    (p(2 * i, 2 * j)
                        + p(2 * i + 1, 2 * j)
                        + p(2 * i, 2 * j + 1)
                        + p(2 * i + 1, 2 * j + 1))
                        / 4.0,
                );
            }
        }
        Plane {
            width: w,
            height: h,
            pixels,
        }
    }
}

/// b's pixel (u, v) shows what a's pixel (scale·u + dx, scale·v + dy) shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mapping {
    pub scale: f64,
    pub dx: f64,
    pub dy: f64,
    /// Correlation of the backgrounds under the mapping.
    pub score: f64,
    /// Share of b's picture that falls inside a's.
    pub overlap: f64,
}

impl Mapping {
    pub fn apply(&self, u: f64, v: f64) -> (f64, f64) {
        (self.scale * u + self.dx, self.scale * v + self.dy)
    }
}

/// Correlation of b with a under (scale, dx, dy), over b's pixels that land
/// in a, sampled every `stride` pixels; with the overlap share.
fn score(a: &Plane, b: &Plane, scale: f64, dx: f64, dy: f64, stride: usize) -> (f64, f64) {
    let mut p = Pearson::default();
    let mut total = 0usize;
    for v in (0..b.height).step_by(stride) {
        for u in (0..b.width).step_by(stride) {
            total += 1;
            if let Some(pa) = a.at(scale * u as f64 + dx, scale * v as f64 + dy) {
                p.add(pa as f64, b.pixels[v * b.width + u] as f64);
            }
        }
    }
    let overlap = p.count() as f64 / total.max(1) as f64;
    if p.count() < 16 {
        return (-1.0, overlap);
    }
    (p.correlation().unwrap_or(-1.0), overlap)
}

/// Refines, for the block of b at `block` (x0, y0, x1, y1), the position of
/// its counterpart in a — the mapping's prediction shifted by up to
/// `reach` pixels, in quarter pixels — by the backgrounds' correlation: a
/// lens's distortion bends the similarity locally. Returns the shift.
pub fn refine_block(
    a: &Plane,
    b: &Plane,
    m: &Mapping,
    block: (usize, usize, usize, usize),
    reach: f64,
) -> Option<(f64, f64, f64)> {
    let (x0, y0, x1, y1) = block;
    let ncc = |ox: f64, oy: f64| -> Option<f64> {
        let mut p = Pearson::default();
        for v in y0..y1 {
            for u in x0..x1 {
                let (x, y) = m.apply(u as f64 + 0.5, v as f64 + 0.5);
                let pa = a.at(x + ox - 0.5, y + oy - 0.5)? as f64;
                p.add(pa, b.pixels[v * b.width + u] as f64);
            }
        }
        p.correlation()
    };
    let mut best: Option<(f64, f64, f64)> = None;
    let steps = (reach * 4.0) as i64;
    for sy in -steps..=steps {
        for sx in -steps..=steps {
            let (ox, oy) = (sx as f64 / 4.0, sy as f64 / 4.0);
            if let Some(r) = ncc(ox, oy)
                && best.is_none_or(|b| r > b.2)
            {
                best = Some((ox, oy, r));
            }
        }
    }
    // A parabola through the peak and its neighbours, per axis.
    let (ox, oy, r) = best?;
    let refine = |l: Option<f64>, h: Option<f64>| match (l, h) {
        (Some(l), Some(h)) if l - 2.0 * r + h < 0.0 => 0.25 * 0.5 * (l - h) / (l - 2.0 * r + h),
        _ => 0.0,
    };
    let fx = refine(ncc(ox - 0.25, oy), ncc(ox + 0.25, oy));
    let fy = refine(ncc(ox, oy - 0.25), ncc(ox, oy + 0.25));
    Some((ox + fx, oy + fy, r))
}

/// The mapping of b onto a with the best background correlation among those
/// covering at least `min_overlap` of b; `None` when none does.
pub fn register(a: &Plane, b: &Plane, min_overlap: f64) -> Option<Mapping> {
    // Coarse: a quarter of the size, every scale from 1/2 to 2 by 4 %, every
    // whole-pixel shift.
    let (a4, b4) = (a.halved().halved(), b.halved().halved());
    let mut best: Option<Mapping> = None;
    let consider = |m: Mapping, best: &mut Option<Mapping>| {
        if m.overlap >= min_overlap && best.is_none_or(|b| m.score > b.score) {
            *best = Some(m);
        }
    };
    let mut scale = 0.5f64;
    while scale <= 2.0 {
        let span_x = (a4.width as f64 + b4.width as f64 * scale) as i64;
        let span_y = (a4.height as f64 + b4.height as f64 * scale) as i64;
        for dy in -span_y..=span_y {
            for dx in -span_x..=span_x {
                let (s, overlap) = score(&a4, &b4, scale, dx as f64, dy as f64, 1);
                consider(
                    Mapping {
                        scale,
                        dx: dx as f64 * 4.0,
                        dy: dy as f64 * 4.0,
                        score: s,
                        overlap,
                    },
                    &mut best,
                );
            }
        }
        scale *= 1.04;
    }
    let mut m = best?;
    // Fine: at full size, around the coarse answer, in shrinking steps.
    let mut steps = (0.02, 2.0);
    for _ in 0..6 {
        let mut improved = m;
        for ds in [-1.0, 0.0, 1.0] {
            for ddy in [-1.0, 0.0, 1.0] {
                for ddx in [-1.0, 0.0, 1.0] {
                    let scale = m.scale * (1.0 + ds * steps.0);
                    let (dx, dy) = (m.dx + ddx * steps.1, m.dy + ddy * steps.1);
                    let (s, overlap) = score(a, b, scale, dx, dy, 1);
                    if overlap >= min_overlap && s > improved.score {
                        improved = Mapping {
                            scale,
                            dx,
                            dy,
                            score: s,
                            overlap,
                        };
                    }
                }
            }
        }
        if improved == m {
            steps = (steps.0 / 2.0, steps.1 / 2.0);
        }
        m = improved;
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texture(w: usize, h: usize, at: impl Fn(f64, f64) -> f32) -> Plane {
        let mut pixels = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                pixels.push(at(x as f64, y as f64));
            }
        }
        Plane {
            width: w,
            height: h,
            pixels,
        }
    }

    #[test]
    fn a_zoomed_shifted_view_is_found() {
        // Value noise: a pseudo-random lattice every 3 pixels, interpolated.
        let lattice = |i: i64, j: i64| {
            let h = (i.wrapping_mul(73_856_093) ^ j.wrapping_mul(19_349_663)) as u64;
            (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / (1u64 << 24) as f64
        };
        let world = |x: f64, y: f64| {
            let (x, y) = (x / 3.0, y / 3.0);
            let (i, j) = (x.floor() as i64, y.floor() as i64);
            let (a, b) = (x - i as f64, y - j as f64);
            let top = lattice(i, j) * (1.0 - a) + lattice(i + 1, j) * a;
            let bottom = lattice(i, j + 1) * (1.0 - a) + lattice(i + 1, j + 1) * a;
            (top * (1.0 - b) + bottom * b) as f32
        };
        let a = texture(96, 54, world);
        // b sees a's (1.25·u + 10, 1.25·v + 4), at another gain.
        let b = texture(64, 36, |u, v| {
            2.0 * world(1.25 * u + 10.0, 1.25 * v + 4.0) + 3.0
        });
        let m = register(&a, &b, 0.3).unwrap();
        assert!((m.scale - 1.25).abs() < 0.02, "{m:?}");
        assert!(
            (m.dx - 10.0).abs() < 1.0 && (m.dy - 4.0).abs() < 1.0,
            "{m:?}"
        );
        assert!(m.score > 0.95);
    }
}
