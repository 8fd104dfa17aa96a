//! The chart kit: plotters in a dark theme, as SVG (the API and the window, with a hover
//! `<title>` on every point and bar) and PNG (export). It knows no panel or funnel: each tile
//! kind draws itself with these parts (`questions/panels/*.rs`, `questions/funnels/chart.rs`).
//!
//! The same drawing code serves both backends. Text is measured (and, in the PNG, drawn) with a
//! bundled DejaVu Sans through ab_glyph, so no system font library is needed. Times are Unix
//! seconds on an `i64` axis with hand-picked ticks, because plotters' own numeric ticks would
//! land on odd clock times.

pub(crate) mod axes;
#[cfg(test)]
pub(crate) mod fixtures;
mod font;
pub(crate) mod frame;
pub(crate) mod hover;
pub(crate) mod labels;
pub(crate) mod marks;
mod png;
pub(crate) mod theme;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use hover::Hover;
pub use labels::{thousands, Output};
pub use marks::{Mark, MarkKind};
pub use png::{png, ChartError};

const SIZE: (u32, u32) = (640, 320);

// Every panel is drawn through these generic types: the same code paints the SVG charts and
// the PNG of the whole dashboard.
pub type Area<DB> = DrawingArea<DB, Shift>;
pub type Chart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;
pub type DrawResult<DB, T = ()> =
    Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What `draw` paints, as an SVG document with its hover titles.
pub fn svg_of(
    draw: impl for<'a, 'b> FnOnce(
        &'b Area<SVGBackend<'a>>,
        &'b mut Vec<Hover>,
    ) -> DrawResult<SVGBackend<'a>>,
) -> String {
    font::register();
    let mut out = String::new();
    let mut hovers = Vec::new();
    {
        // The backend writes into `out` on present; the scope ends its borrow before we return.
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, &mut hovers)
            .and_then(|()| root.present())
            .expect("drawing into a string cannot fail");
    }
    let targets: String = hovers.iter().map(Hover::svg).collect();
    let end = out.rfind("</svg>").unwrap_or(out.len());
    out.insert_str(end, &targets);
    out
}
