//! Reports: self-contained HTML pages with SVG plots, for one run (its
//! `--json` output, series included) or for a sweep (its output directory).

mod base64;
mod font;
pub mod html;
mod plot;
pub mod run_page;
pub mod series;
pub mod sweep_page;
