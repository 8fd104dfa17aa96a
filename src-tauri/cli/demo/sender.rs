//! The HTTP sender: posts batches of model events to `POST /v1/events` on a schedule set by the
//! rate, a few requests in flight, backing off when the journal is full, and keeps the totals.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, StatusCode, Url};
use serde::de::IgnoredAny;
use serde::Deserialize;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use super::campaign::{Campaign, BACKFILL_MS};
use super::traffic::{DemoEvent, TrafficModel};
use super::{DemoError, DemoSummary, Scenario};
use crate::ingest::event::MAX_BATCH;
use crate::ingest::DEMO_HEADER;
use crate::support::secret::Sensitive;

/// Several requests in flight let a high rate through despite per-request latency.
const MAX_IN_FLIGHT: usize = 4;
/// The campaign's history carries the product's traffic at the live rate up to this many
/// events a second (two hours of it: at most 720K events, sent first).
const MAX_HISTORY_RATE: u32 = 100;
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
pub(super) enum Outcome {
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

/// The campaign's events not sent yet, read off the wall clock, and the product's traffic
/// over its history (at the live rate, so history and the present read alike).
struct CampaignFeed {
    campaign: Campaign,
    sent_until_ms: i64,
    history: TrafficModel,
}

impl CampaignFeed {
    fn new(seed: u64, rate: u32) -> Self {
        let origin_ms = chrono::Utc::now().timestamp_millis() - BACKFILL_MS;
        let history_rate = rate.min(MAX_HISTORY_RATE);
        Self {
            campaign: Campaign { seed, origin_ms },
            sent_until_ms: origin_ms,
            history: TrafficModel::for_campaign(seed.rotate_left(17), history_rate),
        }
    }

    /// Whether history is left to send (then requests go out as fast as they return).
    fn backfilling(&self) -> bool {
        self.history.elapsed_ms() < BACKFILL_MS as u64
    }

    /// What is due by now, at most `cap` events (the history drains over many requests): the
    /// campaign's signups first, then the product's traffic of the history, stamped.
    fn due(&mut self, cap: usize) -> Vec<DemoEvent> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut events = self.campaign.events(self.sent_until_ms, now_ms);
        self.sent_until_ms = now_ms;
        if let Some(cut) = events.get(cap).and_then(|e| e.timestamp) {
            // Cut between two milliseconds, so what is left starts whole next time.
            events.retain(|e| e.timestamp < Some(cut));
            self.sent_until_ms = cut;
        }
        let origin_ms = self.campaign.origin_ms;
        while events.len() < cap && self.backfilling() {
            let at = origin_ms + self.history.elapsed_ms() as i64;
            events.push(DemoEvent {
                timestamp: Some(at),
                ..self.history.next_event()
            });
        }
        events
    }
}

/// Schedules batches against the clock and keeps the totals.
pub(super) struct Sender {
    client: Client,
    endpoint: Url,
    model: TrafficModel,
    campaign: Option<CampaignFeed>,
    pub(super) in_flight: JoinSet<Outcome>,
    pub(super) totals: DemoSummary,
    rate: u32,
    /// Batches smaller than this wait for the next tick, so requests stay near rate/20 events.
    min_batch: u64,
    pub(super) start: Instant,
    /// Events sent, or forgiven, since `start`.
    scheduled: u64,
    paused_until: Option<Instant>,
}

impl Sender {
    /// A sender whose schedule starts now, drawing events from a freshly seeded model.
    pub(super) fn new(client: Client, endpoint: Url, rate: u32, scenario: Scenario) -> Self {
        let seed = fastrand::u64(..);
        let (model, campaign) = match scenario {
            Scenario::Steady => (TrafficModel::new(seed, rate), None),
            Scenario::Campaign => (
                TrafficModel::for_campaign(seed, rate),
                Some(CampaignFeed::new(seed, rate)),
            ),
        };
        Self {
            client,
            endpoint,
            model,
            campaign,
            in_flight: JoinSet::new(),
            totals: DemoSummary::default(),
            rate,
            min_batch: u64::from(rate / 20).clamp(1, MAX_BATCH as u64),
            start: Instant::now(),
            scheduled: 0,
            paused_until: None,
        }
    }

    /// A request with the campaign's due events and the next `count` (or fewer, to fit one
    /// batch) steady ones, counted as sent, to await or spawn.
    fn post(&mut self, count: u64) -> impl std::future::Future<Output = Outcome> {
        let mut events = match &mut self.campaign {
            Some(feed) => feed.due(MAX_BATCH / 2),
            None => Vec::new(),
        };
        let count = count.min((MAX_BATCH - events.len()) as u64);
        events.extend((0..count).map(|_| self.model.next_event()));
        self.totals.sent += events.len() as u64;
        self.scheduled += count;
        post_batch(self.client.clone(), self.endpoint.clone(), events)
    }

    /// Sends what the schedule says is due, within the in-flight limit.
    pub(super) fn launch_due(&mut self, now: Instant) {
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
            let backfilling = self
                .campaign
                .as_ref()
                .is_some_and(CampaignFeed::backfilling);
            if self.in_flight.len() >= MAX_IN_FLIGHT || (due < self.min_batch && !backfilling) {
                return;
            }
            let request = self.post(due.min(MAX_BATCH as u64));
            self.in_flight.spawn(request);
        }
    }

    pub(super) fn record(&mut self, done: Result<Outcome, JoinError>) {
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
    pub(super) async fn drain(&mut self) {
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

/// The HTTP client every batch goes through, carrying the ingest token when there is one and
/// the demo's header (its events are not the product's).
pub(super) fn client(token: Option<&Sensitive<String>>) -> Result<Client, DemoError> {
    let mut headers = HeaderMap::new();
    headers.insert(DEMO_HEADER, reqwest::header::HeaderValue::from_static("1"));
    if let Some(token) = token {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| DemoError::BadToken)?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Client::builder()
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(DemoError::Client)
}

/// Where batches go: `POST /v1/events` under the instance's base URL.
pub(super) fn endpoint(url: &str) -> Result<Url, DemoError> {
    let full = format!("{}/v1/events", url.trim_end_matches('/'));
    Url::parse(&full).map_err(|e| DemoError::InvalidUrl {
        url: url.into(),
        reason: e.to_string(),
    })
}

/// Sends one batch and waits for it, so a wrong `--url` fails fast with a clear message.
pub(super) async fn first_request(sender: &mut Sender, url: &str) -> Result<(), DemoError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
        headers.insert(RETRY_AFTER, "5".parse().unwrap());
        assert_eq!(retry_after(&headers), Duration::from_secs(5));
        headers.insert(RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after(&headers), MAX_RETRY_AFTER);
    }

    /// The history reads like the live traffic: the same rate every minute up to now, and an
    /// error share the built-in 1 % rule never crosses.
    #[test]
    fn the_campaign_history_is_the_traffic_at_the_live_rate_without_bursts() {
        let mut feed = CampaignFeed::new(7, 100);
        let origin_ms = feed.campaign.origin_ms;
        let mut per_minute = vec![(0u64, 0u64); (BACKFILL_MS / 60_000) as usize];
        while feed.backfilling() {
            for event in feed.due(MAX_BATCH / 2) {
                if event.event_name.starts_with("signup_") || event.event_name == "email_verified" {
                    continue; // The campaign's own signups.
                }
                let minute = ((event.timestamp.unwrap() - origin_ms) / 60_000) as usize;
                per_minute[minute].0 += 1;
                per_minute[minute].1 += u64::from(event.event_name == "error_occurred");
            }
        }
        assert!(
            per_minute.iter().all(|(events, _)| *events == 6_000),
            "{per_minute:?}"
        );
        for five in per_minute.chunks(5) {
            let errors: u64 = five.iter().map(|(_, e)| e).sum();
            assert!(
                errors * 100 < 30_000 && errors > 0,
                "{errors} errors in 30,000 events"
            );
        }
    }
}
