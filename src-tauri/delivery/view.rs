//! What the dashboard window shows, computed here and not in JavaScript: the four panels with
//! their charts, the connection status in words, and the empty-state hint.

mod alerts;
mod board;

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use plotters::prelude::BitMapBackend;

use crate::delivery::charts::{thousands, Area, ChartError, DrawResult, Mark, Output};
use crate::delivery::settings::Choice;
use crate::engine::{Engine, Health, Replay};
use crate::questions::funnels::{
    self, Breakdown, CountBy, Funnel, FunnelReport, FunnelTrend, Interval,
};
use crate::questions::panels::{conversion_pct, Dashboard, PanelError, PanelName, Range, Scope};

pub use alerts::{replayed_text, AlertRow, AlertsView};
pub use board::{insight_tile, BoardTile};

/// Everything the window renders, pushed after flushes and returned by every command.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub range: Range,
    /// Where the range ends: none while live (now).
    pub at: Option<DateTime<Utc>>,
    /// The range in the header's words, in local time: `Live`, `up to Mon 30 Nov 14:00`,
    /// `Sun 29 Nov 02:00 – Mon 30 Nov 14:00`.
    pub time_text: String,
    pub panels: Dashboard,
    /// Every panel of the registry, in the dashboard's order: the window lays out a tile per
    /// entry (one it has no hand-made place for gets the plain one: title, summary, chart).
    pub tiles: Vec<TileHead>,
    /// Plotters SVG per panel name: the same charts `/api/panels/{name}.svg` serves.
    pub charts: BTreeMap<&'static str, String>,
    pub status: StatusView,
    /// The one-line summaries under the charts that have one (signup funnel, error rate), by
    /// panel name, worded and rounded by each panel with its own percentage rules.
    pub summaries: BTreeMap<&'static str, String>,
    pub ingest: IngestView,
    /// The funnel the signup panel shows instead of the hourly signups, when one is chosen.
    pub funnel: Option<FunnelPanel>,
    /// No event in the range and none waiting: show how to send one.
    pub empty: bool,
    pub demo_running: bool,
    /// Alert rules in words, the header's badge; their marks are in `charts`.
    pub alerts: AlertsView,
    /// The dashboard the team arranged, in order (`GET /api/dashboard`'s tiles).
    pub board: Vec<BoardTile>,
    /// The annotations in the range, oldest first, for the list that deletes them.
    pub notes: Vec<NoteRow>,
}

/// An annotation as the window lists it: its local time and text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteRow {
    pub id: String,
    /// `Mon 30 Nov 14:05`, local time.
    pub when: String,
    pub text: String,
}

/// A funnel drawn in the signup panel's place: its steps chart and a one-line summary; and
/// its conversion over time, a tile of its own.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelPanel {
    pub id: String,
    pub name: String,
    pub chart: String,
    pub summary: String,
    pub trend_chart: String,
}

impl FunnelPanel {
    fn of(funnel: &Funnel, report: &FunnelReport, trend: &FunnelTrend, notes: &[Mark]) -> Self {
        let (first, last) = match (report.steps.first(), report.steps.last()) {
            (Some(first), Some(last)) => (first.count, last.count),
            _ => (0, 0),
        };
        let summary = match conversion_pct(first, last) {
            Some(pct) => format!(
                "{} of {} {} converted ({pct:.1} %), steps in order",
                thousands(last),
                thousands(first),
                match funnel.count_by {
                    CountBy::User => "users",
                    CountBy::Session => "sessions",
                }
            ),
            None => "nobody entered".into(),
        };
        Self {
            id: funnel.id.clone(),
            name: funnel.name.clone(),
            chart: funnels::chart::svg(&funnel.name, report),
            summary,
            trend_chart: funnels::trend_chart::svg(&funnel.name, trend, notes),
        }
    }
}

/// A tile's name (its elements' ids end in it) and its title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TileHead {
    pub name: &'static str,
    pub title: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestView {
    pub url: String,
    pub curl: String,
}

/// The header's dot, its one-word label, and a sentence for the tooltip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusView {
    pub level: Level,
    pub label: String,
    pub text: String,
    /// Events acknowledged but not yet in ClickHouse because it is unreachable.
    pub spilled: u64,
    pub profile: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Green,
    Yellow,
    Red,
}

/// What the window asks for: the range and the instance's own state.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The range, the filter bar's filters and the funnel for the signup panel.
    pub choice: Choice,
    /// Where the instance listens (for the empty state's curl line).
    pub url: &'a str,
    pub demo_running: bool,
}

/// Builds views and keeps the last good one: while the store cannot answer, the window shows
/// the last panels (or empty frames when there were none yet) with the current status, so it
/// turns red, not blank.
#[derive(Default)]
pub struct Viewer {
    last: Mutex<Option<View>>,
}

impl Viewer {
    pub async fn view(&self, engine: &Engine, request: &Request<'_>) -> View {
        let built = build(engine, request).await;
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match built {
            Ok(view) => {
                *last = Some(view.clone());
                view
            }
            Err(error) => {
                tracing::debug!(%error, "panels unavailable; showing the last ones");
                match last.clone() {
                    Some(view) => with_fresh_status(view, engine),
                    None => without_data(engine, request),
                }
            }
        }
    }

    /// Forgets the last view (another store's panels must not show after a profile switch).
    pub fn forget(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Builds the view of `request.choice.range` from the engine's panels now.
pub async fn build(engine: &Engine, request: &Request<'_>) -> Result<View, PanelError> {
    // "Now" (not a fixed end): the cache serves every viewer until the next flush or minute.
    let scope = request.choice.scope();
    let dashboard = engine.panels.dashboard(&scope).await?;
    let mut view = assemble(engine, request, &dashboard);
    if let Some(id) = &request.choice.funnel {
        view.funnel = funnel_panel(engine, id, &scope).await;
    }
    view.board = board::board(engine, &scope, &engine.annotations.marks()).await;
    Ok(view)
}

/// The dashboard as the window shows it, as one PNG ("Save as PNG"): the chosen funnel in the
/// signup panel's place, broken down as the Funnels view last showed it, and the annotations.
pub async fn png(
    engine: &Engine,
    choice: &Choice,
    dashboard: &Dashboard,
) -> Result<Vec<u8>, ChartError> {
    let marks = engine.annotations.marks();
    let Some(id) = &choice.funnel else {
        return dashboard.png(&marks, None);
    };
    let breakdown = choice
        .funnel_view
        .as_ref()
        .filter(|view| &view.id == id)
        .and_then(|view| Breakdown::of_funnel(&view.breakdown).ok());
    let scope = choice.scope();
    let funnel = engine.funnels.get(id).ok();
    let report = engine.funnels.report(id, &scope, breakdown).await.ok();
    let Some((funnel, report)) = funnel.zip(report) else {
        return dashboard.png(&marks, None);
    };
    let draw: &dyn for<'a, 'b> Fn(&'b Area<BitMapBackend<'a>>) -> DrawResult<BitMapBackend<'a>> =
        &|area| funnels::chart::draw_on(area, &funnel.name, &report, Output::Png, &mut Vec::new());
    dashboard.png(&marks, Some((PanelName::SignupFunnel, draw)))
}

/// The chosen funnel for the signup panel; none when it was deleted or cannot be computed
/// (the panel then shows the hourly signups).
async fn funnel_panel(engine: &Engine, id: &str, scope: &Scope) -> Option<FunnelPanel> {
    let funnel = engine.funnels.get(id).ok()?;
    let report = engine.funnels.report(id, scope, None).await;
    let trend = engine.funnels.trend(id, scope, None, Interval::Auto).await;
    match report.and_then(|report| Ok((report, trend?))) {
        Ok((report, trend)) => {
            let notes = engine.annotations.marks();
            Some(FunnelPanel::of(&funnel, &report, &trend, &notes))
        }
        Err(error) => {
            tracing::debug!(%error, id, "the chosen funnel is unavailable");
            None
        }
    }
}

/// The annotations of the range ending at `at` (none: now).
fn notes_in(engine: &Engine, range: Range, at: Option<DateTime<Utc>>) -> Vec<NoteRow> {
    let end = at.unwrap_or_else(|| engine.config.clock.now());
    let window = crate::questions::panels::Window::new(range, end);
    (engine
        .annotations
        .within(window.start_ms, window.end_ms)
        .into_iter())
    .map(|a| NoteRow {
        id: a.id,
        when: a
            .at
            .with_timezone(&Local)
            .format("%a %-d %b %H:%M")
            .to_string(),
        text: a.text,
    })
    .collect()
}

/// The header's words for a range ending at `at` (none: live), in local time.
fn time_text(range: Range, at: Option<DateTime<Utc>>) -> String {
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&Local)
            .format("%a %-d %b %H:%M")
            .to_string()
    };
    match (range, at) {
        (_, None) => "Live".into(),
        (Range::Span(_), Some(to)) => {
            let from = to - chrono::Duration::seconds(range.seconds());
            format!("{} – {}", local(from), local(to))
        }
        (_, Some(at)) => format!("up to {}", local(at)),
    }
}

/// The view with no panel data, when the store cannot answer and nothing was shown yet (a
/// server that is down at start): the status and the charts' frames, not an error.
fn without_data(engine: &Engine, request: &Request<'_>) -> View {
    let now = engine.config.clock.now();
    let scope = request.choice.scope();
    let mut view = assemble(
        engine,
        request,
        &Dashboard::assemble(&scope, now, 0, Vec::new()),
    );
    view.empty = false;
    view
}

fn assemble(engine: &Engine, request: &Request<'_>, dashboard: &Dashboard) -> View {
    let range = request.choice.range;
    let rules = engine.alerts.list();
    let notes = engine.annotations.marks();
    let panels = dashboard.panels();
    let charts = panels
        .iter()
        .map(|panel| {
            let mut marks = alerts::marks(&rules, panel.name(), &request.choice.filters);
            marks.extend_from_slice(&notes);
            (panel.name().as_str(), dashboard.svg(panel.name(), &marks))
        })
        .collect();
    let summaries = panels
        .iter()
        .filter_map(|panel| Some((panel.name().as_str(), panel.summary()?)))
        .collect();
    let tiles = panels
        .iter()
        .map(|panel| TileHead {
            name: panel.name().as_str(),
            title: panel.name().title(),
        })
        .collect();
    let health = engine.health();
    View {
        range,
        at: request.choice.at,
        time_text: time_text(range, request.choice.at),
        empty: dashboard.is_empty() && health.buffer_size == 0,
        summaries,
        panels: dashboard.clone(),
        tiles,
        charts,
        status: status(engine, &health),
        ingest: IngestView {
            url: request.url.to_string(),
            curl: crate::http::curl_example(request.url),
        },
        demo_running: request.demo_running,
        funnel: None,
        alerts: AlertsView::of(&rules),
        board: Vec::new(),
        notes: notes_in(engine, range, request.choice.at),
    }
}

/// Keeps `last`'s panels (the store cannot answer for new ones) with the engine's status now.
fn with_fresh_status(mut last: View, engine: &Engine) -> View {
    let health = engine.health();
    last.status = status(engine, &health);
    last.empty = last.empty && health.buffer_size == 0;
    last
}

fn status(engine: &Engine, health: &Health) -> StatusView {
    // More than a few flushes' worth waiting while the store answers: it is behind.
    let backlog_threshold = engine.config.flush.flush_size.saturating_mul(5);
    describe(health, backlog_threshold)
}

fn describe(h: &Health, backlog_threshold: u64) -> StatusView {
    let waiting = thousands(h.buffer_size);
    let (level, label, text) = if let Some(reason) = h.refusal() {
        (
            Level::Red,
            "refused",
            format!("{reason} — {waiting} events waiting locally"),
        )
    } else if !h.store_reachable {
        let since = h
            .unreachable_since
            .map(|t| format!(" since {}", t.with_timezone(&Local).format("%H:%M")))
            .unwrap_or_default();
        (
            Level::Red,
            "unreachable",
            format!("ClickHouse unreachable{since} — {waiting} events waiting locally"),
        )
    } else if let Some(Replay { sent, total }) = h.replay {
        (
            Level::Yellow,
            "replaying",
            format!(
                "Replaying the backlog: {} of {} events sent to ClickHouse",
                thousands(sent),
                thousands(total)
            ),
        )
    } else if h.buffer_size > backlog_threshold {
        (
            Level::Yellow,
            "catching up",
            format!("ClickHouse is catching up — {waiting} events waiting locally are being sent"),
        )
    } else {
        (
            Level::Green,
            "live",
            format!(
                "ClickHouse ({}) reachable; events are flushed as they arrive",
                h.store
            ),
        )
    };
    StatusView {
        level,
        label: label.to_string(),
        text,
        spilled: h.spilled,
        profile: h.profile.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn health(reachable: bool, held: u64) -> Health {
        Health {
            status: if reachable {
                crate::engine::Condition::Ok
            } else {
                crate::engine::Condition::Degraded
            },
            reason: None,
            buffer_size: held,
            last_flush: None,
            spilled: Health::spilled(reachable, held),
            store: "server",
            profile: "prod".into(),
            store_reachable: reachable,
            unreachable_since: None,
            last_error: None,
            needs_action: false,
            journal_bytes: 0,
            replay: None,
            flushes: 0,
            failed_flushes: 0,
            panel_queries: 0,
        }
    }

    #[test]
    fn status_follows_the_store_and_the_backlog() {
        let green = describe(&health(true, 120), 5000);
        assert_eq!((green.level, green.spilled), (Level::Green, 0));
        assert_eq!(green.label, "live");

        let red = describe(&health(false, 4210), 5000);
        assert_eq!((red.level, red.spilled), (Level::Red, 4210));
        assert_eq!(
            red.text,
            "ClickHouse unreachable — 4,210 events waiting locally"
        );
        assert_eq!(red.profile, "prod");

        let yellow = describe(&health(true, 12_345), 5000);
        assert_eq!((yellow.level, yellow.spilled), (Level::Yellow, 0));
        assert!(
            yellow.text.contains("12,345 events waiting"),
            "{}",
            yellow.text
        );
    }

    #[test]
    fn a_refusal_is_shown_with_its_reason() {
        let reason = "ClickHouse at https://ch:8443 refused the request: authentication failed";
        let h = Health {
            last_error: Some(reason.into()),
            needs_action: true,
            ..health(false, 42)
        };
        let status = describe(&h, 5000);
        assert_eq!(
            (status.level, status.label.as_str()),
            (Level::Red, "refused")
        );
        assert_eq!(status.text, format!("{reason} — 42 events waiting locally"));
    }

    #[test]
    fn the_red_status_says_since_when() {
        let since = DateTime::parse_from_rfc3339("2026-11-24T12:03:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let h = Health {
            unreachable_since: Some(since),
            ..health(false, 1)
        };
        let local = since.with_timezone(&Local).format("%H:%M").to_string();
        assert_eq!(
            describe(&h, 5000).text,
            format!("ClickHouse unreachable since {local} — 1 events waiting locally")
        );
    }

    #[test]
    fn thousands_separators() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (4210, "4,210"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), s);
        }
    }
}
