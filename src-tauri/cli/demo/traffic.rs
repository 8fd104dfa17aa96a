//! The traffic model: a pure, seeded generator of realistic product events (sessions, a signup
//! funnel, a long tail of features, error bursts). No I/O: the sender paces it over HTTP, and
//! `pulseboard bench` also feeds its events straight to a store.

use serde::Serialize;
use serde_json::{json, Value};

/// One generated event, in the shape `POST /v1/events` takes.
#[derive(Debug, Clone, Serialize)]
pub struct DemoEvent {
    pub event_name: &'static str,
    /// Epoch milliseconds; none for the steady traffic (the server stamps it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
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

pub(super) const DEVICES: [(&str, u32); 3] = [("desktop", 60), ("mobile", 35), ("tablet", 5)];
pub(super) const COUNTRIES: [(&str, u32); 15] = [
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
pub(super) fn pick<T: Copy>(rng: &mut fastrand::Rng, weighted: &[(T, u32)]) -> T {
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
    fn new(rng: &mut fastrand::Rng, user_pool: u32, funnel_share: f64) -> Self {
        let logged_in = rng.f64() < LOGGED_IN_SHARE;
        let user_id = logged_in.then(|| format!("u-{}", rng.u32(1..=user_pool)));
        let mut length = session_length(rng);
        let signup = (!logged_in && rng.f64() < funnel_share).then(|| {
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

    /// No burst, ever.
    fn none() -> Self {
        Self {
            next_start_ms: u64::MAX,
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
    /// Users created by signups (from their start), numbered after the pool.
    signups: u32,
    features: Vec<(&'static str, u32)>,
    incidents: Incidents,
    rate: u64,
    emitted: u64,
    /// Share of anonymous sessions that sign up (none when a scenario sends its own signups).
    funnel_share: f64,
}

impl TrafficModel {
    pub fn new(seed: u64, rate: u32) -> Self {
        Self::with_funnel_share(seed, rate, FUNNEL_SHARE)
    }

    /// The traffic behind a campaign: no signups (the scenario sends its own) and no error
    /// bursts (they are not its story; the base error rate stays).
    pub fn for_campaign(seed: u64, rate: u32) -> Self {
        let mut model = Self::with_funnel_share(seed, rate, 0.0);
        model.incidents = Incidents::none();
        model
    }

    /// Where the next event falls on the model's clock, in milliseconds from its start.
    pub fn elapsed_ms(&self) -> u64 {
        self.emitted * 1_000 / self.rate
    }

    fn with_funnel_share(seed: u64, rate: u32, funnel_share: f64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let pool = (rate / 10).clamp(200, 5_000);
        let user_pool = pool * 10;
        let sessions = (0..pool)
            .map(|_| Session::new(&mut rng, user_pool, funnel_share))
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
            funnel_share,
        }
    }

    pub fn next_event(&mut self) -> DemoEvent {
        let now_ms = self.elapsed_ms();
        self.emitted += 1;
        let burst = self.incidents.burst(&mut self.rng, now_ms);
        let i = self.rng.usize(..self.sessions.len());
        let (event_name, properties) = self.act(i, burst);
        let session = &self.sessions[i];
        let event = DemoEvent {
            event_name,
            timestamp: None,
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
                // The signup form creates the account, which is identified from then on: the
                // funnels count the same user from start to completion.
                self.signups += 1;
                session.user_id = Some(format!("u-{}", self.user_pool + self.signups));
                return (
                    "signup_started",
                    json!({"method": pick(rng, &SIGNUP_METHODS)}),
                );
            }
            Some(s) if s.completed_at == Some(session.step) => {
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
            *session = Session::new(&mut self.rng, self.user_pool, self.funnel_share);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::STANDARD_NAMES;
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
            crate::ingest::event::validate(value, crate::ingest::event::TimeBounds::new(0, 90))
                .unwrap();
        }
    }
}
