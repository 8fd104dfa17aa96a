//! A SQL answer drawn when it reads as a trend: a time column first, then numbers — a line per
//! number column over the times, with a hover per row. Any other answer has no chart.

use chrono::{NaiveDate, NaiveDateTime};
use plotters::prelude::*;
use serde_json::Value;

use super::{Answer, Column};
use crate::delivery::charts::axes::{time_axis, time_mesh};
use crate::delivery::charts::frame::{canvas, chart_on, legend};
use crate::delivery::charts::hover::columns;
use crate::delivery::charts::labels::{event_text, hh_mm};
use crate::delivery::charts::theme::SERIES;
use crate::delivery::charts::{self, Area, DrawResult, Hover, Output};

/// The times (Unix seconds) and, per number column, its name and values.
#[derive(Debug, PartialEq)]
struct Lines {
    times: Vec<i64>,
    series: Vec<(String, Vec<Option<f64>>)>,
}

/// The answer as a line chart, when it is a time column and number columns.
pub fn svg(answer: &Answer) -> Option<String> {
    let lines = lines(answer)?;
    Some(charts::svg_of(|root, hovers| draw(root, &lines, hovers)))
}

fn lines(answer: &Answer) -> Option<Lines> {
    let (time, numbers) = answer.columns.split_first()?;
    let fits = is_time(time) && !numbers.is_empty() && numbers.iter().all(is_number);
    if !fits || answer.rows.is_empty() {
        return None;
    }
    let times = answer
        .rows
        .iter()
        .map(|row| row.first().and_then(seconds))
        .collect::<Option<Vec<_>>>()?;
    let series = numbers
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let values = answer.rows.iter().map(|row| number(row.get(i + 1)?));
            (column.name.clone(), values.collect())
        })
        .collect();
    Some(Lines { times, series })
}

/// `Nullable(…)` and `LowCardinality(…)` are read as what they wrap.
fn bare(kind: &str) -> &str {
    let mut kind = kind;
    for wrapper in ["Nullable(", "LowCardinality("] {
        kind = kind
            .strip_prefix(wrapper)
            .and_then(|k| k.strip_suffix(')'))
            .unwrap_or(kind);
    }
    kind
}

fn is_time(column: &Column) -> bool {
    let kind = bare(&column.kind);
    kind.starts_with("DateTime") || kind == "Date" || kind == "Date32"
}

fn is_number(column: &Column) -> bool {
    let kind = bare(&column.kind);
    ["Int", "UInt", "Float", "Decimal"]
        .iter()
        .any(|p| kind.starts_with(p))
}

/// A time as ClickHouse writes it in JSON (`2026-12-03 17:00:00[.000]`, `2026-12-03`), read
/// as UTC, Pulseboard's time zone in the store.
fn seconds(value: &Value) -> Option<i64> {
    let text = value.as_str()?;
    let time = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })?;
    Some(time.and_utc().timestamp())
}

/// A number as JSON carries it, or as a string (64-bit integers and decimals may be quoted).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    lines: &Lines,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = canvas(root, "Query result")?;
    let first = lines.times.iter().copied().min().unwrap_or(0);
    let last = lines
        .times
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(first + 60);
    // A margin on both sides, so that the first and last times' labels are not cut.
    let margin = ((last - first) / 20).max(30);
    let (start, end) = (first - margin, last + margin);
    let values = || lines.series.iter().flat_map(|(_, v)| v.iter().flatten());
    let top = values().copied().fold(0.0_f64, f64::max);
    let bottom = values().copied().fold(0.0_f64, f64::min);
    let y_max = if top > 0.0 { top * 1.1 } else { 1.0 };
    let mut chart = chart_on(&area, time_axis(start..end), bottom..y_max, 0)?;
    time_mesh(&mut chart).draw()?;
    for (i, (name, values)) in lines.series.iter().enumerate() {
        let color = SERIES[i % SERIES.len()];
        let points: Vec<(i64, f64)> = (lines.times.iter().copied())
            .zip(values.iter())
            .filter_map(|(t, v)| Some((t, (*v)?)))
            .collect();
        let dot = if points.len() == 1 { 3 } else { 0 };
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(dot))?
            .label(event_text(name, Output::Svg))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(3)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    let xs: Vec<i32> = (lines.times.iter())
        .map(|t| chart.backend_coord(&(*t, 0.0)).0)
        .collect();
    let titles = (0..lines.times.len()).map(|row| {
        let values: Vec<String> = (lines.series.iter())
            .map(|(name, v)| match v[row] {
                Some(v) => format!("{} {v}", event_text(name, Output::Svg)),
                None => format!("{} –", event_text(name, Output::Svg)),
            })
            .collect();
        format!("{} · {}", hh_mm(&lines.times[row]), values.join(" · "))
    });
    hovers.extend(columns(
        &xs,
        chart.plotting_area().get_pixel_range(),
        titles,
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(columns: &[(&str, &str)], rows: Value) -> Answer {
        Answer {
            columns: (columns.iter())
                .map(|(name, kind)| Column {
                    name: name.to_string(),
                    kind: kind.to_string(),
                })
                .collect(),
            rows: serde_json::from_value(rows).unwrap(),
            rows_read: 0,
            elapsed_ms: 0.0,
            truncated: false,
        }
    }

    #[test]
    fn a_time_then_numbers_is_a_trend_and_anything_else_is_not() {
        let hourly = answer(
            &[
                ("hour", "DateTime"),
                ("started", "UInt64"),
                ("rate", "Nullable(Float64)"),
            ],
            json!([
                ["2026-12-03 16:00:00", 4, null],
                ["2026-12-03 17:00:00", "5", 0.5]
            ]),
        );
        assert_eq!(
            lines(&hourly),
            Some(Lines {
                times: vec![1_796_313_600, 1_796_317_200],
                series: vec![
                    ("started".into(), vec![Some(4.0), Some(5.0)]),
                    ("rate".into(), vec![None, Some(0.5)]),
                ],
            })
        );
        assert!(svg(&hourly).unwrap().contains("<svg"));
        let day = answer(&[("d", "Date"), ("n", "Int32")], json!([["2026-12-03", 1]]));
        assert_eq!(lines(&day).unwrap().times, vec![1_796_256_000]);
        let names = answer(
            &[("event_name", "String"), ("n", "UInt64")],
            json!([["a", 1]]),
        );
        assert_eq!(lines(&names), None);
        let text_values = answer(
            &[("t", "DateTime"), ("s", "String")],
            json!([["2026-12-03 16:00:00", "x"]]),
        );
        assert_eq!(lines(&text_values), None);
        let empty = answer(&[("t", "DateTime"), ("n", "UInt64")], json!([]));
        assert_eq!(svg(&empty), None);
    }
}
