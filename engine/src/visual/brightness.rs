//! The classical features: brightness. An object crossing a region changes
//! its mean brightness continuously (edges are anti-aliased, motion blurs),
//! which is what a sub-frame correlation needs; correlation is blind to gain
//! and black level, so exposure and colour balance between cameras do not
//! matter.

use super::{FeatureExtractor, LumaFrame, Plane};

#[derive(Clone, Copy, Debug, Default)]
pub struct Brightness;

impl FeatureExtractor for Brightness {
    fn map(&mut self, frame: &LumaFrame<'_>) -> Plane {
        Plane {
            width: frame.width,
            height: frame.height,
            pixels: frame.pixels.iter().map(|&p| p as f32).collect(),
        }
    }
}
