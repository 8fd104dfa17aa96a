//! Signup funnel: started and completed bars per hour, with the conversion line on a second axis.

use plotters::prelude::*;

use super::axes::{count_axis, time_axis, time_mesh, time_span, HOUR};
use super::frame::{canvas, caption, chart_on, no_data_if, Y_LABELS_W};
use super::hover::Hover;
use super::labels::{hh_mm, pct, thousands};
use super::theme::{text, BACKGROUND, COMPLETED, CONVERSION, GRID, STARTED};
use super::{Area, DrawResult};
use crate::panels::{FunnelHour, PanelName, Range};

pub(super) fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    hours: &[FunnelHour],
    range: Range,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = canvas(root, &caption(PanelName::SignupFunnel, range))?;
    // Bars fill their hour, so the axis must reach the end of the last one.
    let span = time_span(hours.iter().map(|h| h.hour), range, HOUR);
    let max = hours
        .iter()
        .map(|h| h.started.max(h.completed))
        .max()
        .unwrap_or(0);
    // Headroom above the bars for the legend.
    let mut chart = chart_on(
        &area,
        time_axis(span.clone()),
        count_axis(max.saturating_add(max / 2)),
        Y_LABELS_W,
    )?
    .set_secondary_coord(span, 0.0..100.0);
    time_mesh(&mut chart).draw()?;
    chart
        .configure_secondary_axes()
        .axis_style(GRID)
        .label_style(text(12.0))
        .y_labels(6)
        .y_label_formatter(&pct)
        .draw()?;

    // Each hour holds two bars side by side, with a gap either side of the pair.
    let tenth = HOUR / 10;
    let bars = |from: i64, color: RGBColor, count: fn(&FunnelHour) -> u64| {
        let drawn = hours.iter().filter(move |h| count(h) > 0);
        drawn.map(move |h| {
            let x = h.hour + from * tenth;
            Rectangle::new([(x, 0), (x + 4 * tenth, count(h))], color.filled())
        })
    };
    chart
        .draw_series(bars(1, STARTED, |h| h.started))?
        .label("started")
        .legend(swatch(STARTED));
    chart
        .draw_series(bars(5, COMPLETED, |h| h.completed))?
        .label("completed")
        .legend(swatch(COMPLETED));

    // A gap in the line where nothing started, rather than a line across it.
    let mid = |h: &FunnelHour| h.conversion_pct.map(|c| (h.hour + HOUR / 2, c));
    for run in hours.split(|h| h.conversion_pct.is_none()) {
        chart.draw_secondary_series(LineSeries::new(
            run.iter().filter_map(mid),
            CONVERSION.stroke_width(2),
        ))?;
    }
    chart
        .draw_secondary_series(
            hours
                .iter()
                .filter_map(mid)
                .map(|p| Circle::new(p, 3, CONVERSION.filled())),
        )?
        .label("conversion %")
        .legend(swatch(CONVERSION));

    let (_, ys) = chart.plotting_area().get_pixel_range();
    hovers.extend(hours.iter().map(|h| {
        let (x0, x1) = (
            chart.backend_coord(&(h.hour, 0)).0,
            chart.backend_coord(&(h.hour + HOUR, 0)).0,
        );
        let conversion = h.conversion_pct.map_or_else(|| "–".into(), |c| pct(&c));
        let title = format!(
            "{} · {} started · {} completed · {conversion} conversion",
            hh_mm(&h.hour),
            thousands(h.started),
            thousands(h.completed)
        );
        Hover::new(x0..x1, ys.clone(), title)
    }));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(BACKGROUND.mix(0.8))
        .border_style(GRID)
        .label_font(text(12.0))
        .draw()?;
    no_data_if(hours.is_empty(), &area)
}

fn swatch(color: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
}

#[cfg(test)]
mod tests {
    use crate::charts::fixtures::{assert_svg, funnel, has_text};
    use crate::charts::svg;
    use crate::panels::Range;

    #[test]
    fn funnel_has_legend_bars_and_conversion_axis() {
        let svg = svg(&funnel(), Range::H6);
        assert_svg(&svg);
        assert!(svg.contains("Signup funnel — 6h"));
        for label in ["started", "completed", "conversion %", "100 %"] {
            assert!(has_text(&svg, label), "missing {label}");
        }
        // One point per hour with a conversion, none for the hour where nothing started.
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
