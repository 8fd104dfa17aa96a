//! `pulseboard demo`: realistic product traffic sent to a running ingest endpoint.
//!
//! Two halves: [`TrafficModel`], a pure seeded generator of events (sessions, a signup funnel, a
//! long tail of features, error bursts), and [`run`], which paces batches of those events over
//! HTTP. `run` never prints, so the desktop window can drive it in-process; the CLI prints through
//! [`print_progress`] and [`print_summary`].

use std::io::Write;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::charts::thousands;
use crate::secret::Sensitive;
use reqwest::{Client, StatusCode, Url};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};

use crate::event::MAX_BATCH;

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

// ---------------------------------------------------------------------------------------------
// Traffic model
// ---------------------------------------------------------------------------------------------

/// One generated event, in the shape `POST /v1/events` takes. No timestamp: the server stamps it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoEvent {
    pub event_name: &'static str,
    pub session_id: String,
    pub user_id: Option<String>,
    pub device_type: &'static str,
    pub country_code: &'static str,
    pub properties: Value,
}

const LOGGED_IN_SHARE: f64 = 0.6;
/// Share of anonymous sessions that start signing up.
const FUNNEL_SHARE: f64 = 0.3;
const SIGNUP_COMPLETION: f64 = 0.55;
/// Mean session length is 2 + this many events; the tail is exponential.
const MEAN_EXTRA_EVENTS: f64 = 10.0;
const MAX_SESSION_EVENTS: u32 = 120;
const BASE_ERROR_RATE: f64 = 0.003;

const DEVICES: [(&str, u32); 3] = [("desktop", 60), ("mobile", 35), ("tablet", 5)];
const COUNTRIES: [(&str, u32); 15] = [
    ("US", 30),
    ("GB", 10),
    ("DE", 9),
    ("IN", 9),
    ("FR", 7),
    ("BR", 6),
    ("JP", 6),
    ("CA", 5),
    ("AU", 4),
    ("NL", 3),
    ("ES", 3),
    ("IT", 3),
    ("SE", 2),
    ("MX", 2),
    ("PL", 1),
];
/// Ordered by popularity: the model gives rank k a weight of 1/k (Zipf).
const FEATURES: [&str; 25] = [
    "export",
    "dashboards",
    "alerts",
    "sharing",
    "search",
    "comments",
    "funnels",
    "retention",
    "segments",
    "annotations",
    "saved_queries",
    "scheduled_reports",
    "cohorts",
    "webhooks",
    "api_keys",
    "csv_import",
    "integrations",
    "embeds",
    "goals",
    "dark_mode",
    "custom_events",
    "heatmaps",
    "session_replay",
    "audit_log",
    "sso",
];
const ANONYMOUS_ACTIONS: [(&str, u32); 2] = [("page_view", 60), ("button_click", 40)];
const LOGGED_IN_ACTIONS: [(&str, u32); 3] = [
    ("page_view", 45),
    ("button_click", 35),
    ("feature_used", 20),
];
const ANONYMOUS_PATHS: [(&str, u32); 9] = [
    ("/", 30),
    ("/pricing", 15),
    ("/features", 12),
    ("/docs", 12),
    ("/blog", 10),
    ("/signup", 8),
    ("/integrations", 6),
    ("/changelog", 4),
    ("/about", 3),
];
const LOGGED_IN_PATHS: [(&str, u32); 8] = [
    ("/dashboard", 35),
    ("/reports", 15),
    ("/alerts", 10),
    ("/settings", 8),
    ("/docs", 8),
    ("/team", 5),
    ("/integrations", 5),
    ("/billing", 3),
];
const BUTTONS: [(&str, u32); 10] = [
    ("get_started", 14),
    ("sign_in", 12),
    ("save", 12),
    ("filter", 12),
    ("add_widget", 10),
    ("share", 9),
    ("export_csv", 8),
    ("invite", 8),
    ("dismiss", 8),
    ("upgrade", 7),
];
const SIGNUP_METHODS: [(&str, u32); 3] = [("email", 55), ("google", 35), ("github", 10)];
const PLANS: [(&str, u32); 3] = [("free", 80), ("pro", 15), ("team", 5)];
const ERROR_MESSAGES: [(&str, u32); 5] = [
    ("NetworkError: request timed out", 35),
    ("TypeError: undefined is not a function", 25),
    ("ChunkLoadError: loading chunk 7 failed", 20),
    ("QuotaExceededError: localStorage is full", 12),
    ("SyntaxError: unexpected token < in JSON", 8),
];
/// During a burst one failure dominates, as in a real incident.
const INCIDENT_MESSAGE: &str = "TypeError: cannot read properties of undefined (reading 'series')";

/// Picks an item with probability proportional to its weight.
fn pick<T: Copy>(rng: &mut fastrand::Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut ticket = rng.u32(..total);
    for &(item, weight) in weighted {
        if ticket < weight {
            return item;
        }
        ticket -= weight;
    }
    unreachable!("the ticket is below the total weight")
}

/// When a session that entered the funnel signs up, as step numbers within the session.
#[derive(Debug, Clone, Copy)]
struct Signup {
    started_at: u32,
    completed_at: Option<u32>,
}

#[derive(Debug)]
struct Session {
    id: String,
    user_id: Option<String>,
    device_type: &'static str,
    country_code: &'static str,
    path: &'static str,
    step: u32,
    length: u32,
    signup: Option<Signup>,
}

impl Session {
    fn new(rng: &mut fastrand::Rng, user_pool: u32) -> Self {
        let logged_in = rng.f64() < LOGGED_IN_SHARE;
        let user_id = logged_in.then(|| format!("u-{}", rng.u32(1..=user_pool)));
        let mut length = session_length(rng);
        let signup = (!logged_in && rng.f64() < FUNNEL_SHARE).then(|| {
            // Room for a page before, the start, and a later completion.
            length = length.max(4);
            plan_signup(rng, length)
        });
        Self {
            id: format!("s-{:016x}", rng.u64(..)),
            path: if logged_in {
                "/dashboard"
            } else {
                pick(rng, &ANONYMOUS_PATHS)
            },
            user_id,
            device_type: pick(rng, &DEVICES),
            country_code: pick(rng, &COUNTRIES),
            step: 0,
            length,
            signup,
        }
    }
}

fn session_length(rng: &mut fastrand::Rng) -> u32 {
    let tail = -(1.0 - rng.f64()).ln() * MEAN_EXTRA_EVENTS;
    (2 + tail as u32).min(MAX_SESSION_EVENTS)
}

/// Plans the funnel inside the session, so a decided completion always happens before it ends.
fn plan_signup(rng: &mut fastrand::Rng, length: u32) -> Signup {
    let started_at = rng.u32(1..length - 2);
    let completes = rng.f64() < SIGNUP_COMPLETION;
    Signup {
        started_at,
        completed_at: completes.then(|| rng.u32(started_at + 1..length)),
    }
}

/// Error bursts on the model's simulated clock.
#[derive(Debug)]
struct Incidents {
    next_start_ms: u64,
    end_ms: u64,
    error_rate: f64,
}

impl Incidents {
    fn new(rng: &mut fastrand::Rng) -> Self {
        // The first burst comes early so a one-minute demo shows one.
        Self {
            next_start_ms: rng.u64(10_000..=25_000),
            end_ms: 0,
            error_rate: 0.0,
        }
    }

    /// The burst error rate at `now_ms`, or `None` outside a burst.
    fn burst(&mut self, rng: &mut fastrand::Rng, now_ms: u64) -> Option<f64> {
        if now_ms >= self.next_start_ms {
            self.end_ms = now_ms + rng.u64(2_000..=6_000);
            self.error_rate = 0.03 + 0.05 * rng.f64();
            self.next_start_ms = now_ms + rng.u64(20_000..=40_000);
        }
        (now_ms < self.end_ms).then_some(self.error_rate)
    }
}

/// A seeded, deterministic source of realistic events.
///
/// Time is simulated: event `n` happens at `n / rate` seconds, which keeps bursts at their
/// intended spacing when the sender keeps up and makes the model testable without a clock.
#[derive(Debug)]
pub struct TrafficModel {
    rng: fastrand::Rng,
    sessions: Vec<Session>,
    user_pool: u32,
    /// Users created by completed signups, numbered after the pool.
    signups: u32,
    features: Vec<(&'static str, u32)>,
    incidents: Incidents,
    rate: u64,
    emitted: u64,
}

impl TrafficModel {
    pub fn new(seed: u64, rate: u32) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let pool = (rate / 10).clamp(200, 5_000);
        let user_pool = pool * 10;
        let sessions = (0..pool)
            .map(|_| Session::new(&mut rng, user_pool))
            .collect();
        let features = FEATURES
            .iter()
            .zip(1..)
            .map(|(&f, rank)| (f, 100_000 / rank))
            .collect();
        Self {
            incidents: Incidents::new(&mut rng),
            rng,
            sessions,
            user_pool,
            signups: 0,
            features,
            rate: u64::from(rate.max(1)),
            emitted: 0,
        }
    }

    pub fn next_event(&mut self) -> DemoEvent {
        let now_ms = self.emitted * 1_000 / self.rate;
        self.emitted += 1;
        let burst = self.incidents.burst(&mut self.rng, now_ms);
        let i = self.rng.usize(..self.sessions.len());
        let (event_name, properties) = self.act(i, burst);
        let session = &self.sessions[i];
        let event = DemoEvent {
            event_name,
            session_id: session.id.clone(),
            user_id: session.user_id.clone(),
            device_type: session.device_type,
            country_code: session.country_code,
            properties,
        };
        self.advance(i);
        event
    }

    /// The next thing session `i` does: its funnel step if due, else an error or a normal action.
    fn act(&mut self, i: usize, burst: Option<f64>) -> (&'static str, Value) {
        let rng = &mut self.rng;
        let session = &mut self.sessions[i];
        match session.signup {
            Some(s) if s.started_at == session.step => {
                return (
                    "signup_started",
                    json!({"method": pick(rng, &SIGNUP_METHODS)}),
                );
            }
            Some(s) if s.completed_at == Some(session.step) => {
                // The new account is identified from its first event on.
                self.signups += 1;
                session.user_id = Some(format!("u-{}", self.user_pool + self.signups));
                return ("signup_completed", json!({"plan": pick(rng, &PLANS)}));
            }
            _ => {}
        }
        if rng.f64() < burst.unwrap_or(BASE_ERROR_RATE) {
            let message = if burst.is_some() {
                INCIDENT_MESSAGE
            } else {
                pick(rng, &ERROR_MESSAGES)
            };
            return (
                "error_occurred",
                json!({"message": message, "path": session.path}),
            );
        }
        let logged_in = session.user_id.is_some();
        let actions: &[_] = if logged_in {
            &LOGGED_IN_ACTIONS
        } else {
            &ANONYMOUS_ACTIONS
        };
        match pick(rng, actions) {
            "page_view" => {
                let paths: &[_] = if logged_in {
                    &LOGGED_IN_PATHS
                } else {
                    &ANONYMOUS_PATHS
                };
                session.path = pick(rng, paths);
                ("page_view", json!({"path": session.path}))
            }
            "button_click" => (
                "button_click",
                json!({"button": pick(rng, &BUTTONS), "path": session.path}),
            ),
            _ => (
                "feature_used",
                json!({"feature": pick(rng, &self.features)}),
            ),
        }
    }

    /// Moves session `i` on a step; a finished session is replaced by a fresh one.
    fn advance(&mut self, i: usize) {
        let session = &mut self.sessions[i];
        session.step += 1;
        if session.step >= session.length {
            *session = Session::new(&mut self.rng, self.user_pool);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

/// Several requests in flight let a high rate through despite per-request latency.
const MAX_IN_FLIGHT: usize = 4;
/// About 20 requests a second at the configured rate.
const PACE_TICK: Duration = Duration::from_millis(50);
const REPORT_EVERY: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopped run waits for answers to requests already sent.
const DRAIN_GRACE: Duration = Duration::from_secs(3);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const BODY_EXCERPT_CHARS: usize = 200;

/// The body of a 202; only the counts matter here.
#[derive(Debug, Deserialize)]
struct Ack {
    accepted: u64,
    rejected: Vec<IgnoredAny>,
}

/// What became of one request.
#[derive(Debug)]
enum Outcome {
    Acked {
        accepted: u64,
        rejected: u64,
    },
    /// 503: the journal is full; wait this long before sending again.
    Busy(Duration),
    Refused {
        status: StatusCode,
        body: String,
    },
    Transport(reqwest::Error),
}

async fn post_batch(client: Client, endpoint: Url, events: Vec<DemoEvent>) -> Outcome {
    let response = match client.post(endpoint).json(&events).send().await {
        Ok(response) => response,
        Err(e) => return Outcome::Transport(e),
    };
    match response.status() {
        StatusCode::ACCEPTED => match response.json::<Ack>().await {
            Ok(ack) => Outcome::Acked {
                accepted: ack.accepted,
                rejected: ack.rejected.len() as u64,
            },
            Err(e) => Outcome::Transport(e),
        },
        StatusCode::SERVICE_UNAVAILABLE => Outcome::Busy(retry_after(response.headers())),
        status => {
            let body = response.text().await.unwrap_or_default();
            Outcome::Refused {
                status,
                body: body.chars().take(BODY_EXCERPT_CHARS).collect(),
            }
        }
    }
}

/// `Retry-After` in seconds; a 503 without one still deserves a pause.
fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
        .min(MAX_RETRY_AFTER)
}

/// The innermost cause reads best ("Connection refused"), not reqwest's wrapper.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Schedules batches against the clock and keeps the totals.
struct Sender {
    client: Client,
    endpoint: Url,
    model: TrafficModel,
    in_flight: JoinSet<Outcome>,
    totals: DemoSummary,
    rate: u32,
    /// Batches smaller than this wait for the next tick, so requests stay near rate/20 events.
    min_batch: u64,
    start: Instant,
    /// Events sent, or forgiven, since `start`.
    scheduled: u64,
    paused_until: Option<Instant>,
}

impl Sender {
    /// A request with the next `count` events, counted as sent, to await or spawn.
    fn post(&mut self, count: u64) -> impl std::future::Future<Output = Outcome> {
        self.totals.sent += count;
        self.scheduled += count;
        let events = (0..count).map(|_| self.model.next_event()).collect();
        post_batch(self.client.clone(), self.endpoint.clone(), events)
    }

    /// Sends what the schedule says is due, within the in-flight limit.
    fn launch_due(&mut self, now: Instant) {
        let target = (f64::from(self.rate) * (now - self.start).as_secs_f64()) as u64;
        // A server that falls behind gets at most a second of backlog, not a flood.
        self.scheduled = self
            .scheduled
            .max(target.saturating_sub(u64::from(self.rate)));
        if self.paused_until.is_some_and(|until| now < until) {
            // A recovering server should not meet the backlog of its pause.
            self.scheduled = target;
            return;
        }
        loop {
            let due = target.saturating_sub(self.scheduled);
            if self.in_flight.len() >= MAX_IN_FLIGHT || due < self.min_batch {
                return;
            }
            let request = self.post(due.min(MAX_BATCH as u64));
            self.in_flight.spawn(request);
        }
    }

    fn record(&mut self, done: Result<Outcome, JoinError>) {
        match done {
            Ok(Outcome::Acked { accepted, rejected }) => {
                self.totals.accepted += accepted;
                self.totals.rejected += rejected;
            }
            Ok(Outcome::Busy(wait)) => {
                self.totals.failed_requests += 1;
                let until = Instant::now() + wait;
                self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
            }
            Ok(Outcome::Refused { .. } | Outcome::Transport(_)) | Err(_) => {
                self.totals.failed_requests += 1;
            }
        }
    }

    /// Waits briefly for answers to requests already out; the rest count as failed.
    async fn drain(&mut self) {
        let grace = tokio::time::sleep(DRAIN_GRACE);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                _ = &mut grace => break,
                done = self.in_flight.join_next() => match done {
                    Some(done) => self.record(done),
                    None => return,
                },
            }
        }
        self.totals.failed_requests += self.in_flight.len() as u64;
        self.in_flight.abort_all();
    }
}

/// Turns totals into a progress reading with the rate since the previous one.
struct Meter {
    duration: Duration,
    at: Instant,
    sent: u64,
}

impl Meter {
    fn read(&mut self, sender: &Sender, now: Instant) -> DemoProgress {
        let totals = &sender.totals;
        let span = (now - self.at).as_secs_f64();
        let rate_per_s = if span > 0.0 {
            (totals.sent - self.sent) as f64 / span
        } else {
            0.0
        };
        self.at = now;
        self.sent = totals.sent;
        DemoProgress {
            elapsed: now - sender.start,
            duration: self.duration,
            sent: totals.sent,
            accepted: totals.accepted,
            rejected: totals.rejected,
            failed_requests: totals.failed_requests,
            rate_per_s,
        }
    }
}

fn endpoint(url: &str) -> Result<Url, DemoError> {
    let full = format!("{}/v1/events", url.trim_end_matches('/'));
    Url::parse(&full).map_err(|e| DemoError::InvalidUrl {
        url: url.into(),
        reason: e.to_string(),
    })
}

/// Sends one batch and waits for it, so a wrong `--url` fails fast with a clear message.
async fn first_request(sender: &mut Sender, url: &str) -> Result<(), DemoError> {
    match sender.post(sender.min_batch).await {
        Outcome::Transport(e) if !e.is_decode() => Err(DemoError::Unreachable {
            url: url.into(),
            reason: root_cause(&e),
        }),
        // A 4xx never heals by itself: wrong server, or events this build cannot send.
        Outcome::Refused { status, body } if status.is_client_error() => Err(DemoError::Refused {
            url: url.into(),
            status,
            body,
        }),
        outcome => {
            sender.record(Ok(outcome));
            Ok(())
        }
    }
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
    let endpoint = endpoint(&opts.url)?;
    if *stop.borrow_and_update() {
        return Ok(DemoSummary::default());
    }
    let mut headers = HeaderMap::new();
    if let Some(token) = &opts.token {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| DemoError::BadToken)?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let client = Client::builder()
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(DemoError::Client)?;
    let start = Instant::now();
    let mut sender = Sender {
        client,
        endpoint,
        model: TrafficModel::new(fastrand::u64(..), opts.rate),
        in_flight: JoinSet::new(),
        totals: DemoSummary::default(),
        rate: opts.rate,
        min_batch: u64::from(opts.rate / 20).clamp(1, MAX_BATCH as u64),
        start,
        scheduled: 0,
        paused_until: None,
    };
    first_request(&mut sender, &opts.url).await?;

    let deadline = tokio::time::sleep_until(start + opts.duration);
    tokio::pin!(deadline);
    let mut pace = tokio::time::interval(PACE_TICK);
    pace.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut report = tokio::time::interval_at(start + REPORT_EVERY, REPORT_EVERY);
    let mut meter = Meter {
        duration: opts.duration,
        at: start,
        sent: 0,
    };
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

// ---------------------------------------------------------------------------------------------
// Printing (CLI only)
// ---------------------------------------------------------------------------------------------

/// Rewrites one live line on stderr.
pub fn print_progress(p: &DemoProgress) {
    let line = format!(
        "demo {}s/{}s  {} sent  {}/s  accepted {}  rejected {}  failed requests {}",
        p.elapsed.as_secs(),
        p.duration.as_secs(),
        thousands(p.sent),
        thousands(p.rate_per_s.round() as u64),
        thousands(p.accepted),
        thousands(p.rejected),
        thousands(p.failed_requests),
    );
    // Trailing blanks wipe what a longer previous line left behind.
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{line}    ");
    let _ = err.flush();
}

/// Ends the live line on stderr and prints the totals to stdout.
pub fn print_summary(s: &DemoSummary, elapsed: Duration) {
    eprintln!();
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.sent as f64 / secs
    } else {
        0.0
    };
    println!(
        "demo done in {:.1}s: {} sent ({}/s), accepted {}, rejected {}, failed requests {}",
        secs,
        thousands(s.sent),
        thousands(rate.round() as u64),
        thousands(s.accepted),
        thousands(s.rejected),
        thousands(s.failed_requests),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::STANDARD_NAMES;
    use axum::http::StatusCode as AxumStatus;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use axum::{Json, Router};
    use std::collections::HashMap;
    use std::sync::OnceLock;

    const SEED: u64 = 0x5eed_2024;
    const EVENTS: usize = 200_000;

    /// 200 simulated seconds at 1,000 events/s, generated once for all the model tests.
    fn generate() -> &'static [DemoEvent] {
        static EVENTS_ONCE: OnceLock<Vec<DemoEvent>> = OnceLock::new();
        EVENTS_ONCE.get_or_init(|| {
            let mut model = TrafficModel::new(SEED, 1_000);
            (0..EVENTS).map(|_| model.next_event()).collect()
        })
    }

    fn count_by<'a>(events: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
        let mut counts = HashMap::new();
        for key in events {
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn model_is_deterministic_for_a_seed() {
        let mut a = TrafficModel::new(7, 500);
        let mut b = TrafficModel::new(7, 500);
        for _ in 0..1_000 {
            let (x, y) = (a.next_event(), b.next_event());
            assert_eq!(
                serde_json::to_string(&x).unwrap(),
                serde_json::to_string(&y).unwrap()
            );
        }
    }

    #[test]
    fn model_produces_realistic_mix() {
        let events = generate();
        let names = count_by(events.iter().map(|e| e.event_name));
        for name in names.keys() {
            assert!(
                STANDARD_NAMES.contains(name),
                "unexpected event name {name}"
            );
        }
        assert!(events.iter().all(|e| !e.session_id.is_empty()));

        let started = names["signup_started"] as f64;
        let completed = names["signup_completed"] as f64;
        let ratio = completed / started;
        assert!(
            (0.50..=0.60).contains(&ratio),
            "completed/started = {ratio} ({started} started)"
        );

        let errors = names["error_occurred"] as f64 / EVENTS as f64;
        assert!((0.001..=0.03).contains(&errors), "error share {errors}");

        let features = count_by(
            events
                .iter()
                .filter_map(|e| e.properties["feature"].as_str()),
        );
        let mut counts: Vec<usize> = features.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        assert!(counts.len() >= 20, "only {} features seen", counts.len());
        assert!(
            counts[0] >= 2 * counts[4],
            "no dominant feature: {counts:?}"
        );
    }

    #[test]
    fn sessions_look_real() {
        let events = generate();
        let logged_in = events.iter().filter(|e| e.user_id.is_some()).count() as f64;
        let share = logged_in / EVENTS as f64;
        assert!((0.5..=0.75).contains(&share), "logged-in share {share}");
        let devices = count_by(events.iter().map(|e| e.device_type));
        assert!(devices["desktop"] > devices["mobile"] && devices["mobile"] > devices["tablet"]);
        let sessions = count_by(events.iter().map(|e| e.session_id.as_str()));
        assert!(
            sessions.len() > 5_000,
            "sessions never end: {}",
            sessions.len()
        );
        let completed = events.iter().filter(|e| e.event_name == "signup_completed");
        assert!(completed.clone().count() > 0);
        assert!(completed.into_iter().all(|e| e.user_id.is_some()));
    }

    #[test]
    fn errors_come_in_bursts() {
        let events = generate();
        // 1,000 events per simulated second: error share per second.
        let per_second: Vec<f64> = events
            .chunks(1_000)
            .map(|c| {
                c.iter()
                    .filter(|e| e.event_name == "error_occurred")
                    .count() as f64
                    / 1e3
            })
            .collect();
        let burst_seconds = per_second.iter().filter(|&&share| share >= 0.02).count();
        let calm_seconds = per_second.iter().filter(|&&share| share <= 0.01).count();
        assert!(
            (3..=60).contains(&burst_seconds),
            "burst seconds {burst_seconds}"
        );
        assert!(
            calm_seconds > per_second.len() / 2,
            "calm seconds {calm_seconds}"
        );
    }

    #[test]
    fn every_event_serialises_with_required_fields() {
        for event in generate() {
            let value = serde_json::to_value(event).unwrap();
            let field = |name: &str| value[name].as_str().unwrap_or_default().to_string();
            assert!(
                STANDARD_NAMES.contains(&field("event_name").as_str()),
                "{value}"
            );
            assert!(!field("session_id").is_empty(), "{value}");
            assert!(
                value["user_id"].is_null() || value["user_id"].is_string(),
                "{value}"
            );
            assert_eq!(field("country_code").len(), 2, "{value}");
            assert!(value["properties"].is_object(), "{value}");
            let needs = match event.event_name {
                "feature_used" => "feature",
                "page_view" => "path",
                "error_occurred" => "message",
                _ => "",
            };
            assert!(
                needs.is_empty() || value["properties"][needs].is_string(),
                "{value}"
            );
            crate::event::validate(value, 0).unwrap();
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
        headers.insert(RETRY_AFTER, "5".parse().unwrap());
        assert_eq!(retry_after(&headers), Duration::from_secs(5));
        headers.insert(RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after(&headers), MAX_RETRY_AFTER);
    }

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
