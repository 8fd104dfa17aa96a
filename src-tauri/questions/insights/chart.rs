//! An insight drawn: each series over time (a line, or bars side by side in their bucket), the
//! previous range dashed behind when compared, a legend of the groups, a hover per bucket, and
//! the annotations' marks.

use plotters::prelude::*;

use super::{Answer, Chart as Kind, Series};
use crate::delivery::charts::axes::{time_axis, time_mesh};
use crate::delivery::charts::frame::{canvas, chart_on, legend, notice_if, Empty};
use crate::delivery::charts::hover::columns;
use crate::delivery::charts::labels::{event_text, hh_mm};
use crate::delivery::charts::theme::{SERIES, TEXT};
use crate::delivery::charts::{self, marks, Area, DrawResult, Hover, Mark, Output};

/// The answer as an SVG document, captioned with the insight's name, drawn as `kind` (lines,
/// or bars for `bar`), with `marks` where they fall on its span.
pub fn svg(answer: &Answer, kind: Kind, marks: &[Mark]) -> String {
    let caption = format!(
        "{} — {} · {}",
        event_text(&answer.name, Output::Svg),
        answer.measure,
        answer.range
    );
    let mut answer = answer.clone();
    for series in &mut answer.series {
        series.group = series.group.as_deref().map(|g| event_text(g, Output::Svg));
    }
    charts::svg_of(|root, hovers| draw(root, &caption, &answer, kind, marks, hovers))
}

fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    caption: &str,
    answer: &Answer,
    kind: Kind,
    marks: &[Mark],
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = canvas(root, caption)?;
    let empty = Empty::of(!answer.filters.is_empty());
    let Some(first) = answer.series.first() else {
        return notice_if(Some(empty), &area);
    };
    let interval = answer.interval_s;
    let start = first.points.first().map_or(0, |p| p.t);
    let end = first.points.last().map_or(0, |p| p.t) + interval;
    let previous = answer.previous.as_deref().unwrap_or_default();
    let top = answer
        .series
        .iter()
        .chain(previous)
        .flat_map(|s| s.points.iter().filter_map(|p| p.value))
        .fold(0.0_f64, f64::max);
    let y_max = if top > 0.0 { top * 1.1 } else { 1.0 };
    let mut chart = chart_on(&area, time_axis(start..end), 0.0..y_max, 0)?;
    time_mesh(&mut chart).draw()?;
    for series in previous {
        let dashed = TEXT.mix(0.35).stroke_width(1);
        let run = values(series, interval);
        chart.draw_series(DashedLineSeries::new(run, 4, 4, dashed))?;
    }
    let n = answer.series.len() as i64;
    for (i, series) in answer.series.iter().enumerate() {
        let color = SERIES[i % SERIES.len()];
        let style = color.stroke_width(if i == 0 { 3 } else { 2 });
        match kind {
            Kind::Bar => {
                let width = interval / n.max(1);
                let bars = series.points.iter().filter_map(|p| {
                    let x = p.t + width * i as i64;
                    let v = p.value?;
                    Some(Rectangle::new(
                        [(x, 0.0), (x + width.max(1), v)],
                        color.filled(),
                    ))
                });
                chart.draw_series(bars)?;
            }
            _ => {
                let dot = if series.points.len() == 1 { 3 } else { 0 };
                chart.draw_series(
                    LineSeries::new(values(series, interval), style).point_size(dot),
                )?;
            }
        }
        if let Some(group) = &series.group {
            let name = if group.is_empty() { "(none)" } else { group };
            chart
                .draw_series(std::iter::empty::<Circle<(i64, f64), i32>>())?
                .label(name.to_owned())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(3))
                });
        }
    }
    if answer.breakdown.is_some() {
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    }
    let xs: Vec<i32> = first
        .points
        .iter()
        .map(|p| chart.backend_coord(&(p.t + interval / 2, 0.0)).0)
        .collect();
    let titles = (0..first.points.len()).map(|i| {
        let values: Vec<String> = answer
            .series
            .iter()
            .map(|s| {
                let v = s.points[i].value.map_or_else(|| "–".to_owned(), number);
                match &s.group {
                    Some(g) => format!("{g}: {v}"),
                    None => v,
                }
            })
            .collect();
        format!("{} · {}", hh_mm(&first.points[i].t), values.join(" · "))
    });
    hovers.extend(columns(
        &xs,
        chart.plotting_area().get_pixel_range(),
        titles,
    ));
    marks::draw(&mut chart, marks, &(start..end), 0.0..y_max, hovers)?;
    notice_if((top == 0.0).then_some(empty), &area)
}

/// The points with a value, each in the middle of its bucket.
fn values(series: &Series, interval: i64) -> Vec<(i64, f64)> {
    series
        .points
        .iter()
        .filter_map(|p| Some((p.t + interval / 2, p.value?)))
        .collect()
}

/// A value as a label: whole numbers as they are, others to 2 decimals.
fn number(v: f64) -> String {
    match v.fract() == 0.0 {
        true => format!("{v}"),
        false => format!("{v:.2}"),
    }
}
