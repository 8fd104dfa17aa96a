//! Error rate: the share of events that are errors, per minute, against the alert threshold.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{time_axis, time_mesh, time_span};
use super::frame::{canvas, caption, chart_on, no_data_if};
use super::hover::{columns, Hover};
use super::labels::{hh_mm, pct, thousands};
use super::marks::{self, Mark};
use super::theme::{text, RATE, THRESHOLD};
use super::{Area, DrawResult};
use crate::panels::{ErrorMinute, ErrorRate, PanelName, Range};

/// Below this many events a minute's rate is drawn faded and its hover says so: 1 error in 4
/// events is 25 %, which says little (the same number alerts wait for by default).
const FEW_EVENTS: u64 = 20;

pub(super) fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    p: &ErrorRate,
    range: Range,
    marks: &[Mark],
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = canvas(root, &caption(PanelName::ErrorRate, range))?;
    let span = time_span(p.series.iter().map(|m| m.minute), range, 0);
    let max = p.series.iter().map(|m| m.rate_pct).fold(0.0, f64::max);
    // Never so low that the threshold line would sit at the very top or off the chart.
    let top = (max * 1.2).max(2.0).max(p.threshold_pct * 1.2);
    let mut chart = chart_on(&area, time_axis(span.clone()), 0.0..top, 0)?;
    time_mesh(&mut chart).y_label_formatter(&pct).draw()?;

    let threshold = [(span.start, p.threshold_pct), (span.end, p.threshold_pct)];
    chart.draw_series(DashedLineSeries::new(
        threshold,
        6,
        4,
        THRESHOLD.stroke_width(1),
    ))?;
    let label = format!("{} threshold", pct(&p.threshold_pct));
    let label_style = text(12.0)
        .color(&THRESHOLD)
        .pos(Pos::new(HPos::Right, VPos::Bottom));
    chart.plotting_area().draw(
        &(EmptyElement::at((span.end, p.threshold_pct)) + Text::new(label, (-4, -3), label_style)),
    )?;

    // The whole line faded, then at full strength between minutes with enough events; a
    // minute with few events gets a faded dot.
    let point = |m: &ErrorMinute| (m.minute, m.rate_pct);
    let faded = RATE.mix(0.35);
    chart.draw_series(LineSeries::new(
        p.series.iter().map(point),
        faded.stroke_width(2),
    ))?;
    for run in p.series.split(|m| m.total < FEW_EVENTS) {
        chart.draw_series(LineSeries::new(run.iter().map(point), RATE.stroke_width(2)))?;
    }
    let few = p.series.iter().filter(|m| m.total < FEW_EVENTS);
    chart.draw_series(few.map(|m| Circle::new(point(m), 3, faded.filled())))?;
    // A lone minute with events draws no line: mark it, so its hover title has a mark under it.
    if let [m] = p.series.as_slice() {
        if m.total >= FEW_EVENTS {
            chart.draw_series([Circle::new(point(m), 3, RATE.filled())])?;
        }
    }
    let xs: Vec<i32> = p
        .series
        .iter()
        .map(|m| chart.backend_coord(&(m.minute, 0.0)).0)
        .collect();
    let titles = p.series.iter().map(|m| {
        let few = if m.total < FEW_EVENTS {
            " (few events)"
        } else {
            ""
        };
        format!(
            "{} · {} errors of {} events · {}{few}",
            hh_mm(&m.minute),
            thousands(m.errors),
            thousands(m.total),
            pct(&m.rate_pct)
        )
    });
    hovers.extend(columns(
        &xs,
        chart.plotting_area().get_pixel_range(),
        titles,
    ));
    marks::draw(&mut chart, marks, &span, 0.0..top, hovers)?;
    no_data_if(p.series.is_empty(), &area)
}

#[cfg(test)]
mod tests {
    use crate::charts::fixtures::{assert_svg, errors, has_text, titles, T0};
    use crate::charts::svg;
    use crate::panels::{ErrorMinute, ErrorRate, Panel, Range};

    #[test]
    fn error_rate_draws_the_threshold() {
        let svg = svg(&errors(), Range::H1);
        assert_svg(&svg);
        assert!(svg.contains("Error rate — 1h"));
        assert!(has_text(&svg, "1 % threshold"));
        // 5 % peak: the axis reaches 6 %, so the peak is not clipped.
        assert!(has_text(&svg, "6 %"));
        // Two minutes draw a line and no dots; a lone minute, which draws no line, a dot.
        assert_eq!(svg.matches("<circle").count(), 0);
        let lone = Panel::ErrorRate(ErrorRate {
            threshold_pct: 1.0,
            series: vec![ErrorMinute {
                minute: T0,
                errors: 8,
                total: 3978,
                rate_pct: 0.2,
            }],
        });
        let svg = crate::charts::svg(&lone, Range::H24);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert_eq!(titles(&svg), ["12:00 · 8 errors of 3,978 events · 0.2 %"]);
    }

    #[test]
    fn a_rate_over_few_events_is_faded_and_says_so() {
        let minute = |i: i64, errors, total| ErrorMinute {
            minute: T0 + i * 60,
            errors,
            total,
            rate_pct: crate::panels::error_rate_pct(errors, total),
        };
        let series = vec![minute(0, 1, 200), minute(1, 1, 4), minute(2, 2, 300)];
        let panel = Panel::ErrorRate(ErrorRate {
            threshold_pct: 1.0,
            series,
        });
        let svg = svg(&panel, Range::H1);
        assert_svg(&svg);
        // One faded dot, on the minute of 4 events; its hover says why it is faded.
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("opacity=\"0.35\""));
        assert_eq!(
            titles(&svg)[1],
            "12:01 · 1 errors of 4 events · 25 % (few events)"
        );
    }

    #[test]
    fn alert_marks_show_where_a_rule_fired_and_resolved() {
        let mark = |at, firing, label: &str| crate::charts::Mark {
            at,
            firing,
            label: label.into(),
        };
        let marks = [
            mark(T0 + 120, true, "Errors spike fired (error_rate_pct 2.5)"),
            mark(
                T0 + 300,
                false,
                "Errors spike resolved (error_rate_pct 0.5)",
            ),
            // Days before the chart's span: not drawn.
            mark(T0 - 10 * 86_400, true, "old"),
        ];
        let svg = crate::charts::svg_marked(&errors(), Range::H1, &marks);
        assert_svg(&svg);
        let titles = titles(&svg);
        assert_eq!(
            titles[titles.len() - 2..],
            [
                "12:02 · Errors spike fired (error_rate_pct 2.5)",
                "12:05 · Errors spike resolved (error_rate_pct 0.5)"
            ]
        );
        assert_eq!(svg.matches("<polygon").count(), 2, "one triangle per mark");
    }
}
