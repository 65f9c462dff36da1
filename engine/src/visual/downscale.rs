//! Pictures brought to the analysis size: the estimator's grid, registration
//! and lag search were tuned on pictures about a hundred pixels wide, and a
//! region's mean brightness is all it reads, so a recording's full-size
//! frames are box-filtered down first — every source pixel counts once, so
//! motion stays continuous and codec noise averages out.

use super::LumaFrame;

/// A downscaled picture that owns its pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedLuma {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl OwnedLuma {
    pub fn view(&self) -> LumaFrame<'_> {
        LumaFrame {
            width: self.width,
            height: self.height,
            pixels: &self.pixels,
        }
    }
}

/// The smallest whole factor that brings `width` to at most `max_width`.
pub fn factor_for(width: usize, max_width: usize) -> usize {
    width.div_ceil(max_width.max(1)).max(1)
}

/// Each output pixel the rounded mean of a `factor`×`factor` block; the
/// right and bottom edges' partial blocks are dropped. `None` when the frame
/// is short of its stated size or smaller than one block.
pub fn box_downscale(frame: &LumaFrame<'_>, factor: usize) -> Option<OwnedLuma> {
    let f = factor.max(1);
    let (w, h) = (frame.width / f, frame.height / f);
    if w == 0 || h == 0 || frame.pixels.len() < frame.width * frame.height {
        return None;
    }
    let mut sums = vec![0u32; w];
    let mut pixels = Vec::with_capacity(w * h);
    let area = (f * f) as u32;
    for j in 0..h {
        sums.iter_mut().for_each(|s| *s = 0);
        for row in frame.pixels[j * f * frame.width..]
            .chunks(frame.width)
            .take(f)
        {
            for (s, block) in sums.iter_mut().zip(row.chunks_exact(f)) {
                *s += block.iter().map(|&p| p as u32).sum::<u32>();
            }
        }
        pixels.extend(sums.iter().map(|&s| ((s + area / 2) / area) as u8));
    }
    Some(OwnedLuma {
        width: w,
        height: h,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_averaged_and_partial_edges_dropped() {
        // 5×3 at factor 2: two output pixels, the last column and row dropped.
        let pixels = [
            0, 10, 100, 100, 7, //
            20, 30, 200, 201, 7, //
            9, 9, 9, 9, 9,
        ];
        let frame = LumaFrame {
            width: 5,
            height: 3,
            pixels: &pixels,
        };
        let out = box_downscale(&frame, 2).unwrap();
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.pixels, vec![15, 150]);
        assert_eq!(box_downscale(&frame, 1).unwrap().pixels, pixels.to_vec());
        assert_eq!(box_downscale(&frame, 4), None);
        assert_eq!(factor_for(1920, 160), 12);
        assert_eq!(factor_for(1921, 160), 13);
        assert_eq!(factor_for(96, 160), 1);
    }
}
