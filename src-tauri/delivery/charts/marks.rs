//! Marks on a time chart: a vertical line where an alert rule fired (red) or resolved (green),
//! or where someone noted something (an annotation, white), with a hover title saying what.

use std::ops::Range as Span;

use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;

use super::axes::TimeAxis;
use super::hover::Hover;
use super::labels::hh_mm;
use super::theme::{COMPLETED, TEXT, THRESHOLD};
use super::{Chart, DrawResult};

/// Half the width of a mark's hover region, in pixels: easy to point at, narrow enough to
/// leave the points' own titles around it.
const HOVER_HALF_W: i32 = 4;

/// Where an alert rule changed state, or an annotation, on a time chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Unix seconds.
    pub at: i64,
    pub kind: MarkKind,
    /// `Errors spike fired (error_rate_pct 2.5)`, `fixed the sender domain`: the hover title
    /// after the time.
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Fired,
    Resolved,
    Note,
}

/// Draws the marks that fall on `span`, from `y.start` to `y.end`.
pub(crate) fn draw<DB: DrawingBackend, Y: Ranged>(
    chart: &mut Chart<'_, DB, TimeAxis, Y>,
    marks: &[Mark],
    span: &Span<i64>,
    y: Span<Y::ValueType>,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB>
where
    Y::ValueType: Clone + 'static,
{
    // The span's end is on the chart too (its newest point, or now).
    let on_chart = span.start..=span.end;
    let shown: Vec<&Mark> = marks.iter().filter(|m| on_chart.contains(&m.at)).collect();
    for mark in &shown {
        let colour = match mark.kind {
            MarkKind::Fired => THRESHOLD,
            MarkKind::Resolved => COMPLETED,
            MarkKind::Note => TEXT,
        };
        let line = [(mark.at, y.start.clone()), (mark.at, y.end.clone())];
        chart.draw_series([PathElement::new(line, colour.stroke_width(2))])?;
        chart.draw_series([TriangleMarker::new(
            (mark.at, y.end.clone()),
            5,
            colour.filled(),
        )])?;
    }
    let (_, plot_y) = chart.plotting_area().get_pixel_range();
    hovers.extend(shown.iter().map(|mark| {
        let x = chart.backend_coord(&(mark.at, y.start.clone())).0;
        let title = format!("{} · {}", hh_mm(&mark.at), mark.label);
        Hover::new(x - HOVER_HALF_W..x + HOVER_HALF_W, plot_y.clone(), title)
    }));
    Ok(())
}
