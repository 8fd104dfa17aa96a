//! A funnel's conversion over time: the total as a thick line, each group of a breakdown as a
//! thin one with the group furthest below the total in the alert colour, the bucket still open
//! drawn hollow (its actors may yet convert), and a hover per bucket with its counts.

use plotters::prelude::*;

use super::{FunnelTrend, Point, Series};
use crate::delivery::charts::axes::{time_axis, time_mesh, TimeAxis};
use crate::delivery::charts::frame::{self, canvas, chart_on, notice_if, Empty};
use crate::delivery::charts::hover::columns;
use crate::delivery::charts::labels::{event_text, hh_mm, pct, thousands};
use crate::delivery::charts::theme::{COMPLETED, CONVERSION, FEATURE, RATE, SESSIONS, TEXT};
use crate::delivery::charts::{self, marks, Area, Chart, DrawResult, Hover, Mark, Output};

/// The group drawn in the alert colour: the one whose conversion over the range is furthest
/// below the total's (by at least a point), if any.
pub fn lagging(trend: &FunnelTrend) -> Option<&str> {
    let total = conversion(trend.series.first()?);
    let groups = trend.series[1..]
        .iter()
        .filter_map(|s| Some((s.group.as_deref()?, conversion(s))));
    super::lagging(total, groups)
}

/// Last step over first step of all a series' buckets together.
fn conversion(series: &Series) -> Option<f64> {
    let (first, last) = series.points.iter().fold((0, 0), |(f, l), p| {
        (f + p.steps[0], l + p.steps[p.steps.len() - 1])
    });
    (first > 0).then(|| last as f64 * 100.0 / first as f64)
}

/// The trend as an SVG document, captioned with the funnel's `name`.
/// `marks` (annotations) are drawn where they fall on its span.
pub fn svg(name: &str, trend: &FunnelTrend, marks: &[Mark]) -> String {
    let caption = format!(
        "{} — conversion over time, {}",
        event_text(name, Output::Svg),
        trend.range
    );
    let mut trend = trend.clone();
    for series in &mut trend.series {
        series.group = series.group.as_deref().map(|g| event_text(g, Output::Svg));
    }
    charts::svg_of(|root, hovers| draw(root, &caption, &trend, marks, hovers))
}

fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    caption: &str,
    trend: &FunnelTrend,
    marks: &[Mark],
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = canvas(root, caption)?;
    let empty = Empty::of(!trend.filters.is_empty());
    let Some(total) = trend.series.first() else {
        return notice_if(Some(empty), &area);
    };
    let interval = trend.interval_s;
    let start = total.points.first().map_or(0, |p| p.t);
    let end = total.points.last().map_or(0, |p| p.t) + interval;
    let mut chart = chart_on(&area, time_axis(start..end), 0.0..100.0, 0)?;
    time_mesh(&mut chart).y_label_formatter(&pct).draw()?;
    // A point sits in the middle of its bucket.
    let at = |p: &Point| Some((p.t + interval / 2, p.conversion_pct?));
    let lagging = lagging(trend);
    let palette = [
        FEATURE.mix(0.7),
        TEXT.mix(0.5),
        COMPLETED.mix(0.6),
        SESSIONS.mix(0.6),
    ];
    // With a group lagging, the others step back: the story is it against the total.
    let others = if lagging.is_some() { 0.4 } else { 1.0 };
    let mut legend = Vec::new();
    for (i, series) in trend.series.iter().enumerate().skip(1) {
        let (color, width) = match series.group.as_deref() == lagging {
            true => (RATE.to_rgba(), 2),
            false => (palette[i % palette.len()].mix(others), 1),
        };
        line(&mut chart, series, at, color.stroke_width(width))?;
        let name = series.group.as_deref().filter(|g| !g.is_empty());
        legend.push((name.unwrap_or("(none)").to_owned(), color));
    }
    line(&mut chart, total, at, CONVERSION.stroke_width(3))?;
    if !legend.is_empty() {
        legend.insert(0, ("all".to_owned(), CONVERSION.to_rgba()));
        for (name, color) in legend {
            chart
                .draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(3))
                });
        }
        frame::legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    // The open bucket: hollow, its actors may still convert.
    if let Some(open) = total.points.last().and_then(at) {
        chart.draw_series([Circle::new(open, 4, CONVERSION.stroke_width(2))])?;
    }
    let xs: Vec<i32> = total
        .points
        .iter()
        .map(|p| chart.backend_coord(&(p.t + interval / 2, 0.0)).0)
        .collect();
    let last = total.points.len().saturating_sub(1);
    let titles = total.points.iter().enumerate().map(|(i, p)| {
        let open = if i == last {
            " (bucket still open)"
        } else {
            ""
        };
        let n = p.steps.len();
        format!(
            "{} · {} of {} entered converted · {}{open}",
            hh_mm(&p.t),
            thousands(p.steps[n - 1]),
            thousands(p.steps[0]),
            p.conversion_pct.map_or_else(|| "–".to_owned(), |c| pct(&c)),
        )
    });
    hovers.extend(columns(
        &xs,
        chart.plotting_area().get_pixel_range(),
        titles,
    ));
    marks::draw(&mut chart, marks, &(start..end), 0.0..100.0, hovers)?;
    notice_if(
        total
            .points
            .iter()
            .all(|p| p.steps[0] == 0)
            .then_some(empty),
        &area,
    )
}

/// Draws `series` as lines between its buckets with a conversion: a bucket nobody entered
/// breaks the line, and a lone bucket is a dot.
fn line<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB, TimeAxis, plotters::coord::types::RangedCoordf64>,
    series: &Series,
    at: impl Fn(&Point) -> Option<(i64, f64)>,
    style: ShapeStyle,
) -> DrawResult<DB> {
    let mut runs: Vec<Vec<(i64, f64)>> = vec![Vec::new()];
    for point in &series.points {
        match at(point) {
            Some(xy) => runs.last_mut().expect("one run").push(xy),
            None => runs.push(Vec::new()),
        }
    }
    for run in runs.into_iter().filter(|r| !r.is_empty()) {
        let dot = if run.len() == 1 { 2 } else { 0 };
        chart.draw_series(LineSeries::new(run, style).point_size(dot))?;
    }
    Ok(())
}
