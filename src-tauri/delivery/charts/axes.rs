//! The axes: time on x as Unix seconds with ticks on round clock times, counts on y, and the
//! dark-theme mesh over them.

use std::ops::Range as Span;

use chrono::Utc;
use plotters::chart::MeshStyle;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordi64;
use plotters::prelude::*;

use super::labels::{hh_mm, local_offset_s};
use super::theme::{text, GRID};
use super::Chart;

pub(crate) const HOUR: i64 = 3600;
/// Tick intervals that land on round clock times; the first giving at most 6 intervals wins.
const TICK_STEPS: [i64; 11] = [
    60, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200,
];

pub(crate) type TimeAxis = WithKeyPoints<RangedCoordi64>;

/// The x span of a time chart, `range_s` seconds long and widened to take in every point. It ends now
/// while the data is live (the current bucket is drawn up to now, not to its end), else at the
/// newest point (a panel asked for a past moment): the error series only has minutes with
/// events, so its last point may well be minutes old. `width` is how far right of its time
/// each point's mark reaches.
pub(crate) fn time_span(times: impl Iterator<Item = i64>, range_s: i64, width: i64) -> Span<i64> {
    let now = Utc::now().timestamp();
    let bounds = times.fold(None, |b: Option<(i64, i64)>, t| {
        Some(b.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
    });
    let end = match bounds {
        None => now,
        Some((_, hi)) if hi + width < now - range_s => hi + width,
        Some((_, hi)) => now.max(hi),
    };
    let start = bounds.map_or(end, |(lo, _)| lo).min(end - range_s);
    start..end
}

/// Ticks on round times of this computer's clock (its local time zone), like the labels.
pub(crate) fn time_axis(span: Span<i64>) -> TimeAxis {
    let length = span.end - span.start;
    let step = TICK_STEPS
        .into_iter()
        .find(|s| length / s <= 6)
        .unwrap_or(86_400);
    let offset = local_offset_s(span.end);
    let first = (span.start + offset + step - 1).div_euclid(step) * step - offset;
    let ticks = (first..=span.end).step_by(step as usize).collect();
    span.with_key_points(ticks)
}

/// 0 up to a little above `max`, never empty.
pub(crate) fn count_axis(max: u64) -> Span<u64> {
    0..max.saturating_add(max / 10).saturating_add(1)
}

/// The dark-theme mesh: one grid line per label, light labels. The finer lines are hidden by
/// colour (the SVG backend skips transparent strokes): `max_light_lines(0)` would make plotters
/// loop forever looking for integer ticks.
pub(crate) fn mesh<'a, 'c, DB: DrawingBackend, X, Y>(
    chart: &'c mut Chart<'a, DB, X, Y>,
) -> MeshStyle<'a, 'c, X, Y, DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(GRID)
        .label_style(text(12.0))
        .y_labels(6);
    mesh
}

/// The mesh of a chart whose x axis is time.
pub(crate) fn time_mesh<'a, 'c, DB: DrawingBackend, Y>(
    chart: &'c mut Chart<'a, DB, TimeAxis, Y>,
) -> MeshStyle<'a, 'c, TimeAxis, Y, DB>
where
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = mesh(chart);
    mesh.x_label_formatter(&hh_mm).x_desc("UTC");
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::charts::fixtures::T0;
    use crate::questions::range::Range;

    #[test]
    fn time_ticks_fall_on_round_clock_times() {
        for range in Range::ALL {
            let span = T0 + 7..T0 + 7 + range.seconds();
            let ticks = time_axis(span.clone()).bold_points().to_vec();
            assert!((5..=7).contains(&ticks.len()), "{range:?}: {ticks:?}");
            assert!(ticks.iter().all(|t| span.contains(t) || *t == span.end));
            assert!(ticks.iter().all(|t| t % 600 == 0), "{range:?}: {ticks:?}");
        }
    }
}
