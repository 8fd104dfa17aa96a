//! The frame every panel shares: background, caption, margins, and the notice of an empty
//! chart ("No data yet", or "No events match these filters").

use plotters::coord::ranged1d::AsRangedCoord;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::theme::{text, BACKGROUND, GRID};
use super::{Area, Chart, DrawResult};

/// Room for y labels such as "1000" or "12.5 %".
pub(crate) const Y_LABELS_W: u32 = 56;

/// `Active users — 1h`: a chart's title and the range it covers.
pub(crate) fn caption(title: &str, range: &str) -> String {
    format!("{title} — {range}")
}

/// Paints the background and the caption; returns the area left below the caption.
pub(crate) fn canvas<DB: DrawingBackend>(
    root: &Area<DB>,
    caption: &str,
) -> DrawResult<DB, Area<DB>> {
    root.fill(&BACKGROUND)?;
    root.titled(caption, text(16.0))
}

/// A chart with the common margins; `right` is the width of a secondary y axis (0 for none).
pub(crate) fn chart_on<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a Area<DB>,
    x: X,
    y: Y,
    right: u32,
) -> DrawResult<DB, Chart<'a, DB, X::CoordDescType, Y::CoordDescType>> {
    ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(Y_LABELS_W)
        .right_y_label_area_size(right)
        .build_cartesian_2d(x, y)
}

/// The legend of the series drawn with a `label`: their names on a panel at `position`.
pub(crate) fn legend<'a, DB, X, Y>(
    chart: &mut Chart<'a, DB, X, Y>,
    position: SeriesLabelPosition,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(BACKGROUND.mix(0.85))
        .border_style(GRID)
        .label_font(text(11.0))
        .draw()
}

/// Why a chart is empty: no event has arrived yet, or none matches the filters applied — the
/// two call for different remedies (send events; loosen the filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    NoData,
    NoMatch,
}

impl Empty {
    /// The notice for a chart computed with filters (`filtered`) or without.
    pub fn of(filtered: bool) -> Self {
        match filtered {
            true => Empty::NoMatch,
            false => Empty::NoData,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Empty::NoData => "No data yet",
            Empty::NoMatch => "No events match these filters",
        }
    }
}

/// Says why `area`'s chart is empty, in its middle, when `empty` is some.
pub(crate) fn notice_if<DB: DrawingBackend>(
    empty: Option<Empty>,
    area: &Area<DB>,
) -> DrawResult<DB> {
    let Some(empty) = empty else { return Ok(()) };
    let (w, h) = area.dim_in_pixel();
    let style = text(14.0).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        empty.text(),
        (w as i32 / 2, h as i32 / 2),
        style,
    ))
}
