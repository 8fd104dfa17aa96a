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
    // Bars fill their hour (up to now for the current one).
    let span = time_span(hours.iter().map(|h| h.hour), range, HOUR);
    // The stretch of each hour the chart shows: the current hour only reaches now.
    let end = span.end;
    let bucket = move |h: &FunnelHour| (h.hour, (h.hour + HOUR).min(end));
    // A fraction of an hour's drawn stretch.
    let at = move |h: &FunnelHour, tenths: i64| {
        let (from, to) = bucket(h);
        from + (to - from) * tenths / 10
    };
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

    // One group per hour, inside it: "completed" drawn narrower over "started", so the pair reads
    // as one hour's funnel (side by side, they read as two half-hours).
    let bars = |(from, to): (i64, i64), color: RGBColor, count: fn(&FunnelHour) -> u64| {
        let drawn = hours.iter().filter(move |h| count(h) > 0);
        drawn
            .map(move |h| Rectangle::new([(at(h, from), 0), (at(h, to), count(h))], color.filled()))
    };
    chart
        .draw_series(bars((1, 9), STARTED, |h| h.started))?
        .label("started")
        .legend(swatch(STARTED));
    chart
        .draw_series(bars((3, 7), COMPLETED, |h| h.completed))?
        .label("completed")
        .legend(swatch(COMPLETED));

    // A gap in the line where nothing started, rather than a line across it.
    let mid = |h: &FunnelHour| h.conversion_pct.map(|c| (at(h, 5), c));
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
        let (from, to) = bucket(h);
        let (x0, x1) = (
            chart.backend_coord(&(from, 0)).0,
            chart.backend_coord(&(to, 0)).0,
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
    use crate::panels::{FunnelHour, Panel, Range};

    /// `(x, x + width)` of every bar painted `fill`, in document order.
    fn bars(svg: &str, fill: &str) -> Vec<(f64, f64)> {
        let attr = |rect: &str, name: &str| -> f64 {
            let value = rect.split(&format!(" {name}=\"")).nth(1).unwrap();
            value.split('"').next().unwrap().parse().unwrap()
        };
        svg.split("<rect")
            .skip(1)
            .filter(|r| {
                r.split("/>")
                    .next()
                    .unwrap()
                    .contains(&format!("fill=\"{fill}\""))
            })
            // Not the legend's 10 × 10 swatch.
            .filter(|r| (attr(r, "width"), attr(r, "height")) != (10.0, 10.0))
            .map(|r| (attr(r, "x"), attr(r, "x") + attr(r, "width")))
            .collect()
    }

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

    #[test]
    fn an_hours_bars_sit_inside_it_and_the_current_hour_ends_now() {
        let now = chrono::Utc::now().timestamp();
        let hour = now - now.rem_euclid(3600);
        let funnel = Panel::SignupFunnel(vec![
            FunnelHour {
                hour: hour - 3600,
                started: 10,
                completed: 6,
                conversion_pct: Some(60.0),
            },
            FunnelHour {
                hour,
                started: 8,
                completed: 2,
                conversion_pct: Some(25.0),
            },
        ]);
        let svg = svg(&funnel, Range::H6);
        let (started, completed) = (bars(&svg, "#60A5FA"), bars(&svg, "#34D399"));
        assert_eq!((started.len(), completed.len()), (2, 2), "{svg}");
        for (s, c) in started.iter().zip(&completed) {
            assert!(
                s.0 <= c.0 && c.1 <= s.1,
                "completed {c:?} inside started {s:?}"
            );
        }
        // The current hour is drawn up to now: its bar is no wider than the part elapsed.
        let hour_px = started[0].1 - started[0].0;
        let elapsed = (now - hour) as f64 / 3600.0;
        let current_px = started[1].1 - started[1].0;
        assert!(
            current_px <= hour_px * elapsed + 1.0,
            "{current_px} of {hour_px} at {elapsed}"
        );
    }
}
