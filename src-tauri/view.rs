//! What the dashboard window shows, computed here and not in JavaScript: the four panels with
//! their charts, the connection status in words, and the empty-state hint.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use crate::charts::{self, thousands};
use crate::engine::Engine;
use crate::panels::{Dashboard, Panel, PanelError, PanelName, Range, Source};

/// Everything the window renders, pushed after flushes and returned by every command.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub range: Range,
    pub panels: Dashboard,
    /// Plotters SVG per panel name: the same charts `/api/panels/{name}.svg` serves.
    pub charts: BTreeMap<&'static str, String>,
    pub status: StatusView,
    pub ingest: IngestView,
    /// No event in the range and none waiting: show how to send one.
    pub empty: bool,
    pub demo_running: bool,
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

/// Builds the view of `range` for the engine listening at `url`.
pub async fn build(
    engine: &Engine,
    range: Range,
    url: &str,
    demo_running: bool,
) -> Result<View, PanelError> {
    let mut panels = Vec::with_capacity(PanelName::ALL.len());
    for name in PanelName::ALL {
        let panel = engine
            .panels
            // "Now" (not a fixed end): the cache serves every viewer until the next flush or minute.
            .panel(name, range, Source::Views, None)
            .await?;
        panels.push(panel);
    }
    Ok(assemble(engine, range, url, demo_running, &panels))
}

/// The view with no panel data, when the store cannot answer and nothing was shown yet (a
/// server that is down at start): the status and the charts' frames, not an error.
pub fn without_data(engine: &Engine, range: Range, url: &str, demo_running: bool) -> View {
    let mut view = assemble(engine, range, url, demo_running, &[]);
    view.empty = false;
    view
}

fn assemble(
    engine: &Engine,
    range: Range,
    url: &str,
    demo_running: bool,
    panels: &[Arc<Panel>],
) -> View {
    let dashboard = Dashboard::assemble(range, Utc::now(), panels);
    let charts = [
        Panel::ActiveUsers(dashboard.active_users.clone()),
        Panel::SignupFunnel(dashboard.signup_funnel.clone()),
        Panel::TopFeatures(dashboard.top_features.clone()),
        Panel::ErrorRate(dashboard.error_rate.clone()),
    ];
    let charts = PanelName::ALL
        .into_iter()
        .zip(&charts)
        .map(|(name, panel)| (name.as_str(), charts::svg(panel, range)))
        .collect();
    let held = engine.journal.held_events();
    View {
        range,
        empty: dashboard.is_empty() && held == 0,
        panels: dashboard,
        charts,
        status: status(engine, held),
        ingest: IngestView {
            url: url.to_string(),
            curl: crate::ingest::curl_example(url),
        },
        demo_running,
    }
}

/// Keeps `last`'s panels (the store cannot answer for new ones) with the engine's status now.
pub fn with_fresh_status(mut last: View, engine: &Engine) -> View {
    let held = engine.journal.held_events();
    last.status = status(engine, held);
    last.empty = last.empty && held == 0;
    last
}

fn status(engine: &Engine, held: u64) -> StatusView {
    let state = engine.status.snapshot();
    let health = Health {
        reachable: state.reachable,
        unreachable_since: state.unreachable_since,
        held,
        refused: state
            .needs_action
            .then(|| state.last_error.clone())
            .flatten(),
        backlog: state.backlog,
        // More than a few flushes' worth waiting while the store answers: it is behind.
        backlog_threshold: engine.config.flush.flush_size.saturating_mul(5),
    };
    describe(&health, engine.store.kind(), &engine.config.profile)
}

/// The facts the status is derived from, apart from the engine so the rules can be tested.
struct Health {
    reachable: bool,
    unreachable_since: Option<DateTime<Utc>>,
    held: u64,
    /// Why the store refuses our requests, when a retry cannot help (shown as it is: the
    /// message says what to fix).
    refused: Option<String>,
    /// `(sent, total)` of the backlog replaying after an outage.
    backlog: Option<(u64, u64)>,
    backlog_threshold: u64,
}

fn describe(h: &Health, store: &str, profile: &str) -> StatusView {
    let waiting = thousands(h.held);
    let (level, label, text) = if let Some(reason) = &h.refused {
        (
            Level::Red,
            "refused",
            format!("{reason} — {waiting} events waiting locally"),
        )
    } else if !h.reachable {
        let since = h
            .unreachable_since
            .map(|t| format!(" since {}", t.with_timezone(&Local).format("%H:%M")))
            .unwrap_or_default();
        (
            Level::Red,
            "unreachable",
            format!("ClickHouse unreachable{since} — {waiting} events waiting locally"),
        )
    } else if let Some((sent, total)) = h.backlog {
        (
            Level::Yellow,
            "replaying",
            format!(
                "Replaying the backlog: {} of {} events sent to ClickHouse",
                thousands(sent),
                thousands(total)
            ),
        )
    } else if h.held > h.backlog_threshold {
        (
            Level::Yellow,
            "catching up",
            format!("ClickHouse is catching up — {waiting} events waiting locally are being sent"),
        )
    } else {
        (
            Level::Green,
            "live",
            format!("ClickHouse ({store}) reachable; events are flushed as they arrive"),
        )
    };
    StatusView {
        level,
        label: label.to_string(),
        text,
        spilled: if h.reachable { 0 } else { h.held },
        profile: profile.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(reachable: bool, held: u64) -> Health {
        Health {
            reachable,
            unreachable_since: None,
            held,
            refused: None,
            backlog: None,
            backlog_threshold: 5000,
        }
    }

    #[test]
    fn status_follows_the_store_and_the_backlog() {
        let green = describe(&health(true, 120), "embedded", "embedded");
        assert_eq!((green.level, green.spilled), (Level::Green, 0));
        assert_eq!(green.label, "live");

        let red = describe(&health(false, 4210), "server", "prod");
        assert_eq!((red.level, red.spilled), (Level::Red, 4210));
        assert_eq!(
            red.text,
            "ClickHouse unreachable — 4,210 events waiting locally"
        );
        assert_eq!(red.profile, "prod");

        let yellow = describe(&health(true, 12_345), "server", "prod");
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
            refused: Some(reason.into()),
            ..health(false, 42)
        };
        let status = describe(&h, "server", "team");
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
            describe(&h, "embedded", "embedded").text,
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
