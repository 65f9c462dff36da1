//! The report's charts, each drawn by plotters into an SVG string: lines
//! over a shared x axis (with an optional right-hand axis), |offset| on a
//! log axis, a scatter with its Pareto front, and a timeline of spans and
//! marks. Every text is set in the embedded font (see `font`).

use super::font::{self, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 340;

/// One named series of (x, y) points.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Distinct, print-safe colours (Okabe–Ito, then greys).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(40, 40, 40),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The legend box every chart draws, upper right, over a background of
/// white at `opacity`.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    opacity: f64,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(opacity))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FAMILY, 13))
        .draw()
        .map_err(fail)
}

fn fail<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw a plot: {e:?}")
}

/// The range of some values, widened a little (and made non-empty).
fn span(values: impl Iterator<Item = f64>, pad: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi <= lo {
        // One value: a flat line in the middle, or a count of 0 at the floor.
        if lo == 0.0 {
            return (0.0, 1.0);
        }
        let d = lo.abs() * 0.1;
        return (lo - d, hi + d);
    }
    let d = if pad { (hi - lo) * 0.05 } else { 0.0 };
    (lo - d, hi + d)
}

/// A range at least 0.2 % of its magnitude wide: differences below that are
/// noise (a few ns of a 23 ms latency) and would only repeat one tick label.
fn at_least_relative((lo, hi): (f64, f64)) -> (f64, f64) {
    let mid = (lo + hi) / 2.0;
    let min = mid.abs() * 0.002;
    if hi - lo >= min {
        (lo, hi)
    } else {
        (mid - min / 2.0, mid + min / 2.0)
    }
}

/// An SVG of the given size drawn by `draw`.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    font::register();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        draw(&root)?;
        root.present().map_err(fail)?;
    }
    Ok(out)
}

/// Lines against the left axis, and optionally more against a right axis;
/// both axes take in 0 (the quantities drawn are read against nothing: a
/// delay, a share, a count, a change).
pub fn lines(
    title: &str,
    x_desc: &str,
    left: (&str, &[Line]),
    right: Option<(&str, &[Line])>,
) -> Result<String, String> {
    svg((WIDTH, HEIGHT), |root| {
        let all_x = left
            .1
            .iter()
            .chain(right.iter().flat_map(|r| r.1.iter()))
            .flat_map(|l| l.points.iter().map(|p| p.0));
        let (x0, x1) = span(all_x, false);
        let zero = Some(0.0);
        let (y0, y1) = at_least_relative(span(
            left.1
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .chain(zero),
            true,
        ));
        let (r0, r1) = at_least_relative(span(
            right
                .iter()
                .flat_map(|r| r.1.iter())
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .chain(zero),
            true,
        ));
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(72)
            .right_y_label_area_size(if right.is_some() { 72 } else { 0 })
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(fail)?
            .set_secondary_coord(x0..x1, r0..r1);
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(left.0)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(fail)?;
        for (i, l) in left.1.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(l.points.iter().copied(), c.stroke_width(2)))
                .map_err(fail)?
                .label(l.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
        }
        if let Some((desc, extra)) = right {
            chart
                .configure_secondary_axes()
                .y_desc(desc)
                .label_style((FAMILY, 13))
                .axis_desc_style((FAMILY, 14))
                .draw()
                .map_err(fail)?;
            for (i, l) in extra.iter().enumerate() {
                let c = colour(left.1.len() + i);
                chart
                    .draw_secondary_series(LineSeries::new(
                        l.points.iter().copied(),
                        c.mix(0.8).stroke_width(1),
                    ))
                    .map_err(fail)?
                    .label(format!("{} (right)", l.name))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                    });
            }
        }
        draw_legend(&mut chart, 0.85)?;
        Ok(())
    })
}

/// Lines of |y| on a log axis, values under `floor` drawn at it (so a
/// clock exactly on time stays on the chart).
pub fn log_lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Line],
    floor: f64,
) -> Result<String, String> {
    svg((WIDTH, HEIGHT), |root| {
        let (x0, x1) = span(
            series.iter().flat_map(|l| l.points.iter().map(|p| p.0)),
            false,
        );
        let top = series
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1.abs()))
            .fold(floor * 10.0, f64::max)
            * 2.0;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, (floor..top).log_scale())
            .map_err(fail)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(RGBColor(238, 238, 238))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(fail)?;
        for (i, l) in series.iter().enumerate() {
            let c = colour(i);
            let points = l.points.iter().map(|&(x, y)| (x, y.abs().max(floor)));
            chart
                .draw_series(LineSeries::new(points, c.stroke_width(1)))
                .map_err(fail)?
                .label(l.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
        }
        draw_legend(&mut chart, 0.85)?;
        Ok(())
    })
}

/// All points grey, the front joined and coloured, the chosen point large
/// and named.
pub struct Front<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub all: Vec<(f64, f64)>,
    pub front: Vec<(f64, f64)>,
    pub chosen: Option<((f64, f64), String)>,
}

pub fn front(f: &Front) -> Result<String, String> {
    svg((WIDTH, 420), |root| {
        let (x0, x1) = span(f.all.iter().map(|p| p.0), true);
        let (y0, y1) = span(f.all.iter().map(|p| p.1), true);
        let mut chart = ChartBuilder::on(root)
            .caption(f.title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(fail)?;
        chart
            .configure_mesh()
            .x_desc(f.x_desc)
            .y_desc(f.y_desc)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(fail)?;
        let grey = RGBColor(160, 160, 160);
        chart
            .draw_series(f.all.iter().map(|&p| Circle::new(p, 3, grey.filled())))
            .map_err(fail)?
            .label("points (mean over seeds)")
            .legend(move |(x, y)| Circle::new((x + 9, y), 3, grey.filled()));
        let blue = colour(0);
        chart
            .draw_series(LineSeries::new(
                f.front.iter().copied(),
                blue.stroke_width(2),
            ))
            .map_err(fail)?;
        chart
            .draw_series(f.front.iter().map(|&p| Circle::new(p, 5, blue.filled())))
            .map_err(fail)?
            .label("Pareto front")
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, blue.filled()));
        if let Some((p, name)) = &f.chosen {
            let red = RGBColor(200, 30, 30);
            chart
                .draw_series(std::iter::once(Circle::new(*p, 9, red.stroke_width(3))))
                .map_err(fail)?
                .label(format!("recommended: {name}"))
                .legend(move |(x, y)| Circle::new((x + 9, y), 6, red.stroke_width(2)));
        }
        draw_legend(&mut chart, 0.9)?;
        Ok(())
    })
}

/// A row of a timeline: spans (start, end) and marks (instants), in the
/// x axis' unit.
pub struct Track {
    pub name: String,
    pub spans: Vec<(f64, f64)>,
    pub marks: Vec<f64>,
}

pub fn timeline(title: &str, x_desc: &str, x_end: f64, tracks: &[Track]) -> Result<String, String> {
    let rows = tracks.len().max(1);
    let height = (90 + 34 * rows as u32).max(160);
    svg((WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(8)
            .build_cartesian_2d(0.0..x_end.max(1e-9), 0.0..rows as f64)
            .map_err(fail)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_labels(0)
            .disable_y_mesh()
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(fail)?;
        if tracks.is_empty() {
            chart
                .draw_series(std::iter::once(Text::new(
                    "no faults and no alerts in this run",
                    (x_end * 0.02, 0.5),
                    (FAMILY, 15).into_font().color(&BLACK),
                )))
                .map_err(fail)?;
        }
        for (i, t) in tracks.iter().enumerate() {
            let c = colour(i);
            let y = (rows - 1 - i) as f64;
            chart
                .draw_series(t.spans.iter().map(|&(a, b)| {
                    Rectangle::new([(a, y + 0.15), (b.max(a), y + 0.55)], c.mix(0.5).filled())
                }))
                .map_err(fail)?;
            chart
                .draw_series(
                    t.marks
                        .iter()
                        .map(|&x| Circle::new((x, y + 0.35), 4, c.filled())),
                )
                .map_err(fail)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    t.name.clone(),
                    (x_end * 0.005, y + 0.95),
                    (FAMILY, 13).into_font().color(&BLACK),
                )))
                .map_err(fail)?;
        }
        Ok(())
    })
}
