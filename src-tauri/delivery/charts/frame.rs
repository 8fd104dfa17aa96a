//! The frame every panel shares: background, caption, margins, and the "No data yet" notice.

use plotters::coord::ranged1d::AsRangedCoord;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::theme::{text, BACKGROUND};
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

pub(crate) fn no_data_if<DB: DrawingBackend>(empty: bool, area: &Area<DB>) -> DrawResult<DB> {
    if empty {
        no_data(area)?;
    }
    Ok(())
}

pub(crate) fn no_data<DB: DrawingBackend>(area: &Area<DB>) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    let style = text(14.0).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        "No data yet",
        (w as i32 / 2, h as i32 / 2),
        style,
    ))
}
