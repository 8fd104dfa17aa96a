//! Active users: the headline (distinct sessions in the last 5 minutes, exact) over a sparkline
//! of distinct sessions per bucket (1 min for 1h, 5 min for 6h, 15 min for 24h).

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::delivery::charts::axes::{count_axis, time_axis, time_mesh, time_span};
use crate::delivery::charts::frame::{canvas, caption, chart_on};
use crate::delivery::charts::hover::columns;
use crate::delivery::charts::labels::{hh_mm, thousands};
use crate::delivery::charts::theme::SESSIONS;
use crate::delivery::charts::{marks, Area, DrawResult, Hover, Mark, Output};
use crate::questions::panels::kind::Kind;
use crate::questions::panels::model::rfc3339;
use crate::questions::panels::query::{Query, Sql};
use crate::questions::range::Range;
use crate::storage::store::StoreError;
use crate::support::csv::{Cell, Csv};

// The headline is exact by definition and reads five minutes of raw events in either form.
const VALUE: &str = include_str!("../../../../sql/panels/active_users_value.sql");
const VALUE_SQL: Sql = Sql {
    rollups: VALUE,
    raw: VALUE,
};
const SERIES_SQL: Sql = Sql {
    rollups: include_str!("../../../../sql/panels/active_users_series.sql"),
    raw: include_str!("../../../../sql/panels/raw/active_users_series.sql"),
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveUsers {
    pub value: u64,
    pub series: Vec<SessionsPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionsPoint {
    #[serde(serialize_with = "rfc3339")]
    pub t: i64,
    pub sessions: u64,
}

/// A row as the series query returns it (times as Unix seconds).
#[derive(Debug, Deserialize)]
struct SessionsRow {
    t: i64,
    sessions: u64,
}

#[derive(Deserialize)]
struct Count {
    sessions: u64,
}

impl Kind for ActiveUsers {
    const NAME: &'static str = "active_users";
    const TITLE: &'static str = "Active users";

    fn empty() -> Self {
        Self {
            value: 0,
            series: Vec::new(),
        }
    }

    async fn compute(q: &Query<'_>) -> Result<Self, StoreError> {
        let value: Vec<Count> = q.rows(&VALUE_SQL).await?;
        let rows: Vec<SessionsRow> = q.rows(&SERIES_SQL).await?;
        // Every bucket of the window, zero where no session was seen.
        let series = q
            .window
            .buckets(q.window.bucket_s)
            .map(|t| SessionsPoint {
                t,
                sessions: rows.iter().find(|r| r.t == t).map_or(0, |r| r.sessions),
            })
            .collect();
        Ok(Self {
            value: value.first().map_or(0, |c| c.sessions),
            series,
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
        // The headline counts sessions in 5 minutes; the sparkline per bucket: say which.
        let bucket_s = range.bucket_seconds();
        let title = format!(
            "{} · sessions per {}",
            caption(Self::TITLE, &range.to_string()),
            bucket_words(bucket_s)
        );
        let area = canvas(root, &title)?;
        let span = time_span(self.series.iter().map(|s| s.t), range.seconds(), 0);
        let max = self.series.iter().map(|s| s.sessions).max().unwrap_or(0);
        let y = count_axis(max);
        let mut chart = chart_on(&area, time_axis(span.clone()), y.clone(), 0)?;
        time_mesh(&mut chart).draw()?;
        // The bucket still filling is dashed: its count only grows, and a plunge there is not
        // traffic collapsing.
        let open = self
            .series
            .last()
            .is_some_and(|s| s.t + bucket_s > chrono::Utc::now().timestamp());
        let closed = &self.series[..self.series.len() - usize::from(open)];
        let points = closed.iter().map(|s| (s.t, s.sessions));
        chart.draw_series(
            AreaSeries::new(points, 0, SESSIONS.mix(0.3)).border_style(SESSIONS.stroke_width(2)),
        )?;
        if open {
            let tail = self.series[self.series.len().saturating_sub(2)..].iter();
            let tail = tail.map(|s| (s.t, s.sessions));
            chart.draw_series(DashedLineSeries::new(tail, 4, 4, SESSIONS.stroke_width(2)))?;
        }
        let xs: Vec<i32> = self
            .series
            .iter()
            .map(|s| chart.backend_coord(&(s.t, 0)).0)
            .collect();
        let last = self.series.len().saturating_sub(1);
        let titles = self.series.iter().enumerate().map(|(i, s)| {
            let still = if open && i == last {
                " so far (still open)"
            } else {
                ""
            };
            format!(
                "{} · {} sessions{still}",
                hh_mm(&s.t),
                thousands(s.sessions)
            )
        });
        hovers.extend(columns(
            &xs,
            chart.plotting_area().get_pixel_range(),
            titles,
        ));
        marks::draw(&mut chart, marks, &span, y, hovers)?;
        Ok(())
    }

    fn csv(&self) -> Csv {
        let mut csv = Csv::new(&["t", "sessions"]);
        for point in &self.series {
            csv.row([
                Cell::text(crate::questions::panels::model::format_time(point.t)),
                Cell::number(point.sessions),
            ]);
        }
        csv
    }

    fn is_empty(&self) -> bool {
        self.value == 0 && self.series.iter().all(|p| p.sessions == 0)
    }
}

/// `minute`, `5 min`, `hour`, `day`: a bucket's length as the caption says it.
fn bucket_words(seconds: i64) -> String {
    match seconds {
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        _ => format!("{} min", seconds / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::charts::fixtures::titles;
    use crate::delivery::charts::frame::Empty;
    use crate::questions::panels::fixtures::{active_users, assert_svg, has_text};
    use crate::questions::panels::Panel;
    use crate::questions::range::Range;

    #[test]
    fn active_users_shows_headline_and_times() {
        let svg = active_users().svg(Range::H1, &[], Empty::NoData);
        assert_svg(&svg);
        assert!(svg.contains("Active users — 1h · sessions per minute"));
        let six = active_users().svg(Range::H6, &[], Empty::NoData);
        assert!(six.contains("Active users — 6h · sessions per 5 min"));
        assert!(
            !svg.contains("still open"),
            "every bucket of the fixture is closed"
        );
        assert!(svg.contains(r##"fill="#111827""##), "no dark background");
        assert!(has_text(&svg, "12:00"), "no HH:MM tick at the hour");
    }

    #[test]
    fn the_bucket_still_filling_is_dashed_and_says_so() {
        let minute = chrono::Utc::now().timestamp() / 60 * 60;
        let series = [(minute - 120, 40), (minute - 60, 42), (minute, 3)]
            .map(|(t, sessions)| SessionsPoint { t, sessions });
        let panel = Panel::ActiveUsers(ActiveUsers {
            value: 50,
            series: series.to_vec(),
        });
        let svg = panel.svg(Range::H1, &[], Empty::NoData);
        let titles = titles(&svg);
        assert!(
            titles
                .last()
                .unwrap()
                .ends_with(" · 3 sessions so far (still open)"),
            "{titles:?}"
        );
        assert!(titles[1].ends_with(" · 42 sessions"), "{titles:?}");
    }

    #[test]
    fn its_csv_is_the_series() {
        let csv = active_users().csv().render();
        let lines: Vec<_> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "t,sessions");
        assert_eq!(lines[1], "2026-01-01T12:00:00Z,0");
        assert_eq!(lines[7], "2026-01-01T12:06:00Z,6");
        assert_eq!(lines.len(), 62, "a header, 60 points and the last CRLF");
    }
}
