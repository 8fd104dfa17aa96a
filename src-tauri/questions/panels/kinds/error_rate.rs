//! Error rate: per minute of the range, `error_occurred` events among all events, against the
//! alert threshold (1 %).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use crate::delivery::charts::axes::{time_axis, time_mesh, time_span};
use crate::delivery::charts::frame::{canvas, caption, chart_on};
use crate::delivery::charts::hover::columns;
use crate::delivery::charts::labels::{hh_mm, pct, thousands};
use crate::delivery::charts::theme::{text, RATE, THRESHOLD};
use crate::delivery::charts::{marks, Area, DrawResult, Hover, Mark, Output};
use crate::questions::panels::kind::Kind;
use crate::questions::panels::model::{error_rate_pct, format_time, rfc3339, ERROR_THRESHOLD_PCT};
use crate::questions::panels::query::{Query, Sql};
use crate::questions::range::Range;
use crate::storage::store::StoreError;
use crate::support::csv::{Cell, Csv};

const SQL: Sql = Sql {
    rollups: include_str!("../../../../sql/panels/error_rate.sql"),
    raw: include_str!("../../../../sql/panels/raw/error_rate.sql"),
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRate {
    pub threshold_pct: f64,
    /// The minutes that saw events, in order.
    pub series: Vec<ErrorMinute>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorMinute {
    #[serde(serialize_with = "rfc3339")]
    pub minute: i64,
    pub errors: u64,
    pub total: u64,
    pub rate_pct: f64,
}

/// A row as the query returns it (times as Unix seconds).
#[derive(Debug, Deserialize)]
struct ErrorRow {
    minute: i64,
    errors: u64,
    total: u64,
}

/// Below this many events a minute's rate is drawn faded and its hover says so: 1 error in 4
/// events is 25 %, which says little (the same number alerts wait for by default).
const FEW_EVENTS: u64 = 20;

impl Kind for ErrorRate {
    const NAME: &'static str = "error_rate";
    const TITLE: &'static str = "Error rate";

    fn empty() -> Self {
        Self {
            threshold_pct: ERROR_THRESHOLD_PCT,
            series: Vec::new(),
        }
    }

    async fn compute(q: &Query<'_>) -> Result<Self, StoreError> {
        let rows: Vec<ErrorRow> = q.rows(&SQL).await?;
        let series = rows
            .iter()
            .map(|r| ErrorMinute {
                minute: r.minute,
                errors: r.errors,
                total: r.total,
                rate_pct: error_rate_pct(r.errors, r.total),
            })
            .collect();
        Ok(Self {
            series,
            ..Self::empty()
        })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        range: Range,
        marks: &[Mark],
        _out: Output,
        hovers: &mut Vec<Hover>,
    ) -> DrawResult<DB> {
        let p = self;
        let area = canvas(root, &caption(Self::TITLE, &range.to_string()))?;
        let span = time_span(p.series.iter().map(|m| m.minute), range.seconds(), 0);
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
            &(EmptyElement::at((span.end, p.threshold_pct))
                + Text::new(label, (-4, -3), label_style)),
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
        Ok(())
    }

    fn csv(&self) -> Csv {
        let mut csv = Csv::new(&["minute", "errors", "total", "rate_pct"]);
        for m in &self.series {
            csv.row([
                Cell::text(format_time(m.minute)),
                Cell::number(m.errors),
                Cell::number(m.total),
                Cell::number(m.rate_pct),
            ]);
        }
        csv
    }

    fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// `1 errors in 3,000 events (0.03 %)` over the whole range.
    fn summary(&self) -> Option<String> {
        let errors: u64 = self.series.iter().map(|m| m.errors).sum();
        let total: u64 = self.series.iter().map(|m| m.total).sum();
        Some(match total {
            0 => "no events".into(),
            _ => format!(
                "{} errors in {} events ({:.2} %)",
                thousands(errors),
                thousands(total),
                error_rate_pct(errors, total)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorMinute, ErrorRate};
    use crate::delivery::charts::fixtures::{assert_svg, has_text, titles};
    use crate::delivery::charts::frame::Empty;
    use crate::questions::panels::fixtures::{errors, minute, T0};
    use crate::questions::panels::Panel;
    use crate::questions::range::Range;

    #[test]
    fn error_rate_draws_the_threshold() {
        let svg = errors().svg(Range::H1, &[], Empty::NoData);
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
        let svg = lone.svg(Range::H24, &[], Empty::NoData);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert_eq!(titles(&svg), ["12:00 · 8 errors of 3,978 events · 0.2 %"]);
    }

    #[test]
    fn a_rate_over_few_events_is_faded_and_says_so() {
        let series = vec![minute(0, 1, 200), minute(1, 1, 4), minute(2, 2, 300)];
        let panel = Panel::ErrorRate(ErrorRate {
            threshold_pct: 1.0,
            series,
        });
        let svg = panel.svg(Range::H1, &[], Empty::NoData);
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
    fn marks_show_where_a_rule_fired_and_resolved_and_notes() {
        use crate::delivery::charts::{Mark, MarkKind};
        let mark = |at, kind, label: &str| Mark {
            at,
            kind,
            label: label.into(),
        };
        let marks = [
            mark(
                T0 + 120,
                MarkKind::Fired,
                "Errors spike fired (error_rate_pct 2.5)",
            ),
            mark(T0 + 240, MarkKind::Note, "fixed the sender domain"),
            mark(
                T0 + 300,
                MarkKind::Resolved,
                "Errors spike resolved (error_rate_pct 0.5)",
            ),
            // Days before the chart's span: not drawn.
            mark(T0 - 10 * 86_400, MarkKind::Fired, "old"),
        ];
        let svg = errors().svg(Range::H1, &marks, Empty::NoData);
        assert_svg(&svg);
        let titles = titles(&svg);
        assert_eq!(
            titles[titles.len() - 3..],
            [
                "12:02 · Errors spike fired (error_rate_pct 2.5)",
                "12:04 · fixed the sender domain",
                "12:05 · Errors spike resolved (error_rate_pct 0.5)"
            ]
        );
        assert_eq!(svg.matches("<polygon").count(), 3, "one triangle per mark");
    }

    #[test]
    fn its_summary_and_csv_use_the_panels_rounding() {
        use crate::questions::panels::Kind;
        let rate = |series| ErrorRate {
            threshold_pct: 1.0,
            series,
        };
        assert_eq!(rate(vec![]).summary().unwrap(), "no events");
        let p = rate(vec![minute(0, 1, 1000), minute(1, 0, 2000)]);
        assert_eq!(p.summary().unwrap(), "1 errors in 3,000 events (0.03 %)");
        assert_eq!(
            p.csv().render(),
            "minute,errors,total,rate_pct\r\n\
             2026-01-01T12:00:00Z,1,1000,0.1\r\n\
             2026-01-01T12:01:00Z,0,2000,0\r\n"
        );
    }
}
