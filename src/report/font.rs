//! The one font of every plot: DejaVu Sans (Bitstream Vera licence, see
//! font/LICENSE-DejaVu.txt), compiled in. plotters lays text out with its
//! metrics (registered for the `ab_glyph` feature, so no system font library
//! is read), and the page embeds the same bytes as a web font, so a browser
//! draws the labels with the font they were measured in.

use super::base64;
use std::sync::Once;

pub const FAMILY: &str = "DejaVu Sans";
const TTF: &[u8] = include_bytes!("font/DejaVuSans.ttf");

/// Registers the font with plotters (once per process).
pub fn register() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, TTF)
            .unwrap_or_else(|_| panic!("the compiled-in {FAMILY} is a valid TrueType font"));
    });
}

/// The CSS that makes the page's SVG text use the embedded font.
pub fn css_font_face() -> String {
    format!(
        "@font-face {{ font-family: \"{FAMILY}\"; src: url(data:font/ttf;base64,{}) format(\"truetype\"); }}",
        base64::encode(TTF)
    )
}
