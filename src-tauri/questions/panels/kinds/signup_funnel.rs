//! Signup funnel: per hour of the range, `signup_started` and `signup_completed` counts and
//! the conversion between them, drawn as bars with the conversion line on a second axis.

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::delivery::charts::axes::{count_axis, time_axis, time_mesh, time_span, HOUR};
use crate::delivery::charts::frame::{canvas, caption, chart_on, Y_LABELS_W};
use crate::delivery::charts::labels::{hh_mm, pct, thousands};
use crate::delivery::charts::theme::{text, BACKGROUND, COMPLETED, CONVERSION, GRID, STARTED};
use crate::delivery::charts::{marks, Area, DrawResult, Hover, Mark, Output};
use crate::questions::panels::kind::Kind;
use crate::questions::panels::model::{conversion_pct, format_time, rfc3339};
use crate::questions::panels::query::{Query, Sql};
use crate::questions::range::Range;
use crate::storage::store::StoreError;
use crate::support::csv::{Cell, Csv};

const SQL: Sql = Sql {
    rollups: include_str!("../../../../sql/panels/signup_funnel.sql"),
    raw: include_str!("../../../../sql/panels/raw/signup_funnel.sql"),
};

/// Every hour of the range, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct SignupFunnel(pub Vec<FunnelHour>);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelHour {
    #[serde(serialize_with = "rfc3339")]
    pub hour: i64,
    pub started: u64,
    pub completed: u64,
    pub conversion_pct: Option<f64>,
}

/// A row as the query returns it (times as Unix seconds).
#[derive(Debug, Deserialize)]
struct FunnelRow {
    hour: i64,
    started: u64,
    completed: u64,
}

impl Kind for SignupFunnel {
    const NAME: &'static str = "signup_funnel";
    const TITLE: &'static str = "Signup funnel";

    fn empty() -> Self {
        Self(Vec::new())
    }

    async fn compute(q: &Query<'_>) -> Result<Self, StoreError> {
        let rows: Vec<FunnelRow> = q.rows(&SQL).await?;
        // Every hour of the window; conversion is null where nothing started.
        let hours = q
            .window
            .buckets(3600)
            .map(|hour| {
                let (started, completed) = rows
                    .iter()
                    .find(|r| r.hour == hour)
                    .map_or((0, 0), |r| (r.started, r.completed));
                FunnelHour {
                    hour,
                    started,
                    completed,
                    conversion_pct: conversion_pct(started, completed),
                }
            })
            .collect();
        Ok(Self(hours))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        range: Range,
        marks: &[Mark],
        _out: Output,
        hovers: &mut Vec<Hover>,
    ) -> DrawResult<DB> {
        let hours = &self.0;
        let area = canvas(root, &caption(Self::TITLE, &range.to_string()))?;
        // Bars fill their hour (up to now for the current one).
        let span = time_span(hours.iter().map(|h| h.hour), range.seconds(), HOUR);
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
        let y = count_axis(max.saturating_add(max / 2));
        let mut chart = chart_on(&area, time_axis(span.clone()), y.clone(), Y_LABELS_W)?
            .set_secondary_coord(span.clone(), 0.0..100.0);
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
            drawn.map(move |h| {
                Rectangle::new([(at(h, from), 0), (at(h, to), count(h))], color.filled())
            })
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
        marks::draw(&mut chart, marks, &span, y, hovers)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(BACKGROUND.mix(0.8))
            .border_style(GRID)
            .label_font(text(12.0))
            .draw()?;
        Ok(())
    }

    fn csv(&self) -> Csv {
        let mut csv = Csv::new(&["hour", "started", "completed", "conversion_pct"]);
        for h in &self.0 {
            csv.row([
                Cell::text(format_time(h.hour)),
                Cell::number(h.started),
                Cell::number(h.completed),
                Cell::maybe(h.conversion_pct),
            ]);
        }
        csv
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|h| h.started == 0 && h.completed == 0)
    }

    /// `1,001 of 3,000 completed (33.4 %) · events` over the whole range: it counts events, so
    /// it says so beside a funnel's count of people who went through the steps in order.
    fn summary(&self) -> Option<String> {
        let started: u64 = self.0.iter().map(|h| h.started).sum();
        let completed: u64 = self.0.iter().map(|h| h.completed).sum();
        Some(match conversion_pct(started, completed) {
            Some(pct) => format!(
                "{} of {} completed ({pct:.1} %) · events",
                thousands(completed),
                thousands(started)
            ),
            None => "no signups started".into(),
        })
    }
}

fn swatch(color: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
}

#[cfg(test)]
mod tests {
    use super::{FunnelHour, SignupFunnel};
    use crate::delivery::charts::fixtures::{assert_svg, has_text};
    use crate::delivery::charts::frame::Empty;
    use crate::questions::panels::fixtures::funnel;
    use crate::questions::panels::Panel;
    use crate::questions::range::Range;

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
    fn its_summary_and_csv_use_the_panels_rounding() {
        let hour = |h: i64, started, completed| FunnelHour {
            hour: crate::questions::panels::fixtures::T0 + h * 3600,
            started,
            completed,
            conversion_pct: crate::questions::panels::conversion_pct(started, completed),
        };
        let funnel = SignupFunnel(vec![hour(0, 2000, 1000), hour(1, 1000, 1), hour(2, 0, 0)]);
        let csv = funnel.csv().render();
        assert_eq!(
            csv,
            "hour,started,completed,conversion_pct\r\n\
             2026-01-01T12:00:00Z,2000,1000,50\r\n\
             2026-01-01T13:00:00Z,1000,1,0.1\r\n\
             2026-01-01T14:00:00Z,0,0,\r\n"
        );
        use crate::questions::panels::Kind;
        assert_eq!(
            funnel.summary().unwrap(),
            "1,001 of 3,000 completed (33.4 %) · events"
        );
        assert_eq!(
            SignupFunnel(vec![]).summary().unwrap(),
            "no signups started"
        );
    }

    #[test]
    fn funnel_has_legend_bars_and_conversion_axis() {
        let svg = funnel().svg(Range::H6, &[], Empty::NoData);
        assert_svg(&svg);
        assert!(svg.contains("Signup funnel — 6h"));
        for label in ["started", "completed", "conversion %", "100 %"] {
            assert!(has_text(&svg, label), "missing {label}");
        }
        // One point per hour with a conversion, none for the hour where nothing started.
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn notes_and_alerts_are_marked_on_the_hourly_bars() {
        use crate::delivery::charts::fixtures::{titles, T0};
        use crate::delivery::charts::{Mark, MarkKind};
        let marks = [
            Mark {
                at: T0 + 3600 + 300,
                kind: MarkKind::Note,
                label: "fixed the sender domain".into(),
            },
            // Days before the chart's span: not drawn.
            Mark {
                at: T0 - 10 * 86_400,
                kind: MarkKind::Note,
                label: "old".into(),
            },
        ];
        let svg = funnel().svg(Range::H6, &marks, Empty::NoData);
        assert_svg(&svg);
        let titles = titles(&svg);
        assert_eq!(titles.last().unwrap(), "13:05 · fixed the sender domain");
        assert!(!titles.iter().any(|t| t.ends_with("old")), "{titles:?}");
    }

    #[test]
    fn an_hours_bars_sit_inside_it_and_the_current_hour_ends_now() {
        let now = chrono::Utc::now().timestamp();
        let hour = now - now.rem_euclid(3600);
        let funnel = Panel::SignupFunnel(SignupFunnel(vec![
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
        ]));
        let svg = funnel.svg(Range::H6, &[], Empty::NoData);
        let (started, completed) = (bars(&svg, "#60A5FA"), bars(&svg, "#34D399"));
        assert_eq!((started.len(), completed.len()), (2, 2), "{svg}");
        for (s, c) in started.iter().zip(&completed) {
            assert!(
                s.0 <= c.0 && c.1 <= s.1,
                "completed {c:?} inside started {s:?}"
            );
        }
        // The current hour is drawn up to now: its bar is no wider than the part elapsed (give
        // or take a pixel at each of its two rounded edges, and the clock moving on while it
        // draws).
        let hour_px = started[0].1 - started[0].0;
        let elapsed = (now - hour) as f64 / 3600.0;
        let current_px = started[1].1 - started[1].0;
        assert!(
            current_px <= hour_px * elapsed + 2.0,
            "{current_px} of {hour_px} at {elapsed}"
        );
    }
}
