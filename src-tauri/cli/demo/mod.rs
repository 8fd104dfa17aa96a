//! `pulseboard demo`: realistic product traffic sent to a running ingest endpoint.
//!
//! Two halves: [`TrafficModel`], a pure seeded generator of events (sessions, a signup funnel, a
//! long tail of features, error bursts) — with [`Campaign`], the campaign scenario's signups —
//! and [`run`], which paces batches of those events over HTTP. `run` never prints, so the desktop window can drive it in-process; the CLI prints through
//! [`print_progress`] and [`print_summary`].

pub mod campaign;
mod report;
mod sender;
mod traffic;

use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::support::secret::Sensitive;
pub use campaign::{Campaign, BACKFILL_MS, BROKEN_FROM_MS, BROKEN_TO_MS};
use report::Meter;
pub use report::{print_progress, print_summary};
use sender::Sender;
pub use traffic::{DemoEvent, TrafficModel};

/// About 20 requests a second at the configured rate.
const PACE_TICK: Duration = Duration::from_millis(50);
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Options of `pulseboard demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Base URL of `pulseboard serve`, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// Events per second.
    pub rate: u32,
    pub duration: Duration,
    /// The ingest token, when the instance requires one.
    pub token: Option<Sensitive<String>>,
    pub scenario: Scenario,
}

/// What story the traffic tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Steady product traffic: sessions, signups, features, error bursts.
    #[default]
    Steady,
    /// The steady traffic without its error bursts, with signups that go started →
    /// email_verified → completed, and two hours of history first (the traffic at the live
    /// rate, up to 100 events/s): Gmail users lose about 40 % at verification for 45 minutes,
    /// then recover.
    Campaign,
}

/// Totals at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Events put on the wire, whatever became of them.
    pub sent: u64,
    /// Events the server acknowledged in its 202 bodies.
    pub accepted: u64,
    /// Events the server named in the `rejected` list of its 202 bodies.
    pub rejected: u64,
    /// Requests that got no 202: transport errors, 503 (journal full) and other statuses.
    pub failed_requests: u64,
}

/// A live reading, reported about once a second.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoProgress {
    pub elapsed: Duration,
    /// The planned length of the run, so a reader can show "12s/60s".
    pub duration: Duration,
    pub sent: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub failed_requests: u64,
    /// Events sent per second since the previous reading.
    pub rate_per_s: f64,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--rate must be at least 1 event per second")]
    ZeroRate,
    #[error("invalid --url {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot reach {url} ({reason}); is `pulseboard serve` running at {url}?")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status} to POST /v1/events ({body}); is `pulseboard serve` running at {url}?")]
    Refused {
        url: String,
        status: StatusCode,
        body: String,
    },
    #[error("cannot start the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("the ingest token holds characters an HTTP header cannot carry")]
    BadToken,
}

/// Sends realistic traffic until the duration ends or `stop` becomes true; reports progress
/// through `progress` about once a second. A dropped stop sender leaves the run to its duration.
pub async fn run(
    opts: DemoOptions,
    mut stop: watch::Receiver<bool>,
    mut progress: impl FnMut(&DemoProgress),
) -> Result<DemoSummary, DemoError> {
    if opts.rate == 0 {
        return Err(DemoError::ZeroRate);
    }
    let endpoint = sender::endpoint(&opts.url)?;
    if *stop.borrow_and_update() {
        return Ok(DemoSummary::default());
    }
    let client = sender::client(opts.token.as_ref())?;
    let mut sender = Sender::new(client, endpoint, opts.rate, opts.scenario);
    let start = sender.start;
    sender::first_request(&mut sender, &opts.url).await?;

    let deadline = tokio::time::sleep_until(start + opts.duration);
    tokio::pin!(deadline);
    let mut pace = tokio::time::interval(PACE_TICK);
    pace.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut report = tokio::time::interval_at(start + REPORT_EVERY, REPORT_EVERY);
    let mut meter = Meter::new(opts.duration, start);
    let mut watching = true;
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            changed = stop.changed(), if watching => match changed {
                Ok(()) if *stop.borrow_and_update() => break,
                Ok(()) => {}
                Err(_) => watching = false,
            },
            Some(done) = sender.in_flight.join_next() => sender.record(done),
            _ = pace.tick() => {}
            _ = report.tick() => progress(&meter.read(&sender, Instant::now())),
        }
        sender.launch_due(Instant::now());
    }
    sender.drain().await;
    Ok(sender.totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode as AxumStatus;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::{json, Value};

    /// A stand-in for `pulseboard serve` that answers every batch with `reply`.
    async fn fake_server(reply: fn(usize) -> Response) -> String {
        let app = Router::new().route(
            "/v1/events",
            post(move |Json(batch): Json<Vec<Value>>| async move { reply(batch.len()) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/")
    }

    fn accept_all(n: usize) -> Response {
        (
            AxumStatus::ACCEPTED,
            Json(json!({"accepted": n, "rejected": []})),
        )
            .into_response()
    }

    fn journal_full(_: usize) -> Response {
        let body = Json(json!({"error": "journal full"}));
        (
            AxumStatus::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            body,
        )
            .into_response()
    }

    fn options(url: String, rate: u32, millis: u64) -> DemoOptions {
        DemoOptions {
            url,
            rate,
            duration: Duration::from_millis(millis),
            token: None,
            scenario: Scenario::Steady,
        }
    }

    #[tokio::test]
    async fn run_paces_to_the_rate_and_counts_acks() {
        let url = fake_server(accept_all).await;
        let (_tx, stop) = watch::channel(false);
        let mut readings = Vec::new();
        let summary = run(options(url, 1_000, 2_500), stop, |p| {
            readings.push(p.clone())
        })
        .await
        .unwrap();
        assert!((2_200..=2_600).contains(&summary.sent), "{summary:?}");
        assert_eq!(summary.accepted, summary.sent);
        assert_eq!((summary.rejected, summary.failed_requests), (0, 0));
        assert_eq!(readings.len(), 2, "{readings:?}");
        assert!(
            (700.0..=1_300.0).contains(&readings[1].rate_per_s),
            "{readings:?}"
        );
    }

    #[tokio::test]
    async fn full_journal_pauses_for_retry_after() {
        let url = fake_server(journal_full).await;
        let (_tx, stop) = watch::channel(false);
        let summary = run(options(url, 100, 1_500), stop, |_| {}).await.unwrap();
        // One 503 at the start, a second one after the one-second pause, then silence.
        assert_eq!(summary.failed_requests, 2, "{summary:?}");
        assert_eq!(summary.accepted, 0);
    }

    #[tokio::test]
    async fn stop_flag_ends_the_run() {
        let url = fake_server(accept_all).await;
        let (tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tx.send(true).unwrap();
        });
        let run = run(options(url, 1_000, 60_000), stop, |_| {});
        let summary = tokio::time::timeout(Duration::from_secs(5), run)
            .await
            .unwrap()
            .unwrap();
        assert!(summary.sent > 0 && summary.sent < 1_000, "{summary:?}");
    }

    #[tokio::test]
    async fn unreachable_server_is_explained() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let (_tx, stop) = watch::channel(false);
        let err = run(options(url.clone(), 100, 1_000), stop, |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, DemoError::Unreachable { .. }), "{err:?}");
        assert!(err
            .to_string()
            .contains(&format!("is `pulseboard serve` running at {url}?")));
    }

    #[tokio::test]
    async fn bad_options_are_refused() {
        let (_tx, stop) = watch::channel(false);
        let zero = run(
            options("http://127.0.0.1:1".into(), 0, 1_000),
            stop.clone(),
            |_| {},
        );
        assert!(matches!(zero.await, Err(DemoError::ZeroRate)));
        let bad = run(options("not a url".into(), 10, 1_000), stop, |_| {});
        assert!(matches!(bad.await, Err(DemoError::InvalidUrl { .. })));
    }
}
