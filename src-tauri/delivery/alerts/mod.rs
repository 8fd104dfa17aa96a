//! Alerts: rules over a trailing window of events (`rule`), judged after every flush and every
//! 15 s from one stable view of the store (`measure`, `state`); each transition is logged,
//! delivered to the channels the rule wants (`channels`: its webhook, the window's desktop
//! notifications; each on a task of its own) and announced to whoever subscribes (the window
//! refreshes its badge and marks). Rules and their states live in `alerts.json` in the data
//! directory. The built-in rule waits for the product's first event: the demo's error bursts
//! are its story, not the product's (`Alerts::product_event`).

pub mod channels;
mod measure;
mod outbox;
mod preview;
mod rule;
mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::storage::batcher::Status;
use crate::storage::store::Store;
use crate::support::clock::Clock;
pub use crate::support::files::Invalid;

pub use channels::webhook::{Payload, RETRIES};
pub use channels::{Channel, ChannelError, Channels, Delivery, QUEUE_PER_RULE};
pub use measure::Questions;
use outbox::{Outbox, Pending};
pub use preview::{Preview, Replayed};
pub use rule::{check_id, window_text, CompareTo, Metric, Op, Rule, RuleError, BUILT_IN_ID};
pub use state::{DeliveryFailure, Measure, RuleState, State, Transition, KEPT_TRANSITIONS};

/// Rules are judged at least this often, so a window slides past old events with no traffic.
const EVERY: Duration = Duration::from_secs(15);
/// And at most this often: under load flushes come five a second, and each evaluation reads
/// the store once per rule. After an evaluation that took longer, the pause is twice as long as
/// it took: the rules never hold the store's one connection more than a third of the time.
const MIN_GAP: Duration = Duration::from_secs(1);
/// The most rules an instance keeps: each costs a query per evaluation.
pub const MAX_RULES: usize = 200;
const FILE: &str = "alerts.json";

/// Errors keeping rules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    #[error(transparent)]
    BadRule(#[from] RuleError),
    #[error("no alert rule {0:?}: GET /api/alerts lists them")]
    NotFound(String),
    #[error(
        "at most {MAX_RULES} alert rules: delete one (DELETE /api/alerts/ID) before adding {0:?}"
    )]
    TooMany(String),
    #[error("cannot write {}: {source}; check the data directory's free space and permissions", path.display())]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid alerts file ({reason}): fix or delete it", path.display())]
    BadFile { path: PathBuf, reason: String },
    #[error(
        "range: a preview replays at most 24h, judged every minute (got {0}); pick a shorter range"
    )]
    LongPreview(crate::questions::panels::Range),
    #[error("cannot replay the rule over the stored events: {0}")]
    Replay(Box<measure::MeasureError>),
}

/// Rules and their states; the stored rules that break a rule kept aside, never judged.
#[derive(Debug, Clone, Default)]
struct Book {
    rules: BTreeMap<String, Rule>,
    invalid: BTreeMap<String, Invalid>,
    states: BTreeMap<String, RuleState>,
    /// When the first event not sent by the demo was acknowledged; until then the built-in
    /// rule is not judged.
    product_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// `alerts.json`: every rule as stored (valid or not), the states, and when the product's
/// first event came.
#[derive(Serialize, Deserialize)]
struct File {
    rules: BTreeMap<String, Value>,
    #[serde(default)]
    states: BTreeMap<String, RuleState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl Book {
    /// Reads each rule with the rules a `PUT` must pass; one that breaks them is kept aside.
    fn read(file: File) -> Self {
        let mut book = Book {
            states: file.states,
            product_since: file.product_since,
            ..Book::default()
        };
        for (id, value) in file.rules {
            match serde_json::from_value::<Rule>(value.clone()) {
                Ok(rule) => {
                    book.rules.insert(id, rule);
                }
                Err(error) => {
                    tracing::warn!(rule = %id, %error, "a stored alert rule breaks a rule; it is kept but not judged");
                    let invalid = Invalid {
                        id: id.clone(),
                        error: error.to_string(),
                        definition: value,
                    };
                    book.invalid.insert(id, invalid);
                }
            }
        }
        book
    }

    fn file(&self) -> File {
        let rules = self.rules.iter().map(|(id, r)| (id.clone(), json!(r)));
        let invalid = self
            .invalid
            .values()
            .map(|i| (i.id.clone(), i.definition.clone()));
        File {
            rules: rules.chain(invalid).collect(),
            states: self.states.clone(),
            product_since: self.product_since,
        }
    }
}

/// A rule with its state, as `GET /api/alerts` and the window show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
    #[serde(flatten)]
    pub state: RuleState,
    /// The webhook channel's entry of `delivery_errors`, under the name it had before there
    /// were channels.
    pub last_webhook_error: Option<DeliveryFailure>,
    /// The built-in rule, before the product's first event: not judged (demo events do not
    /// count).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub waiting_for_product: bool,
}

/// A transition, announced to subscribers (the window) and worded for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub rule: Rule,
    pub transition: Transition,
}

impl Notice {
    /// `Errors spike is firing` / `Errors spike resolved`: a notification's summary.
    pub fn summary(&self) -> String {
        match self.transition.state {
            State::Firing => format!("{} is firing", self.rule.name),
            State::Ok => format!("{} resolved", self.rule.name),
        }
    }

    /// `error_rate_pct is 2.5 (above 1) over the last 5m`, `events changed by -40 %
    /// (drops_by_pct 30) over the last 15m against the 15m before`: a notification's body.
    pub fn body(&self) -> String {
        let (t, rule) = (&self.transition, &self.rule);
        let (is, against) = match rule.op.is_change() {
            true => {
                let compared = rule.compare_to.unwrap_or_default();
                (
                    "changed by",
                    format!(" against {}", compared.text(rule.window_s)),
                )
            }
            false => ("is", String::new()),
        };
        format!(
            "{} {is} {}{} ({} {}) over the last {}{against}",
            rule.metric.name(),
            t.value,
            if rule.op.is_change() { " %" } else { "" },
            rule.op.as_str(),
            t.threshold,
            window_text(rule.window_s)
        )
    }

    /// The webhook's body: Slack shows `text`; the other fields are for machines.
    pub fn payload(&self) -> Payload {
        let t = &self.transition;
        Payload {
            text: format!("{}: {}", self.summary(), self.body()),
            rule: self.id.clone(),
            state: t.state.as_str(),
            metric: self.rule.metric.name(),
            value: t.value,
            threshold: t.threshold,
            at: t.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}

/// The rules, states and pending deliveries read from a data directory, before the engine
/// starts judging them (a damaged file stops the start before the store opens).
pub struct Saved {
    path: PathBuf,
    book: Book,
    outbox: Outbox,
}

impl Saved {
    /// Reads `alerts.json` (the built-in rule alone when there is none yet) and `outbox.json`
    /// in `data_dir`.
    pub fn load(data_dir: &Path) -> Result<Self, AlertError> {
        let path = data_dir.join(FILE);
        let book = load(&path)?;
        let outbox = Outbox::load(data_dir)?;
        Ok(Self { path, book, outbox })
    }
}

/// The rules of one engine, their states, and the tasks that judge them and call webhooks.
pub struct Alerts {
    path: PathBuf,
    book: Mutex<Book>,
    store: Arc<Store>,
    /// What `funnel_conversion_pct:<id>`, `funnel_step_pct:<id>:<n>` and `insight:<id>` rules
    /// measure.
    questions: Questions,
    status: Arc<Status>,
    clock: Clock,
    /// A rule was added or changed: judge now rather than at the next tick.
    changed: Notify,
    notices: broadcast::Sender<Notice>,
    /// Each channel's queue, drained by its own task.
    outlets: Vec<Outlet>,
    /// Deliveries to durable channels not yet made.
    outbox: Arc<Outbox>,
    /// `book.product_since` is set: read on every ingest request without taking the lock.
    product_seen: AtomicBool,
}

/// One rule's measurement, and the flushes the store held when it was taken.
struct Measured {
    id: String,
    rule: Rule,
    measure: Result<Measure, measure::MeasureError>,
    as_of_flush: u64,
}

/// A channel and the queue of its task.
struct Outlet {
    channel: Arc<dyn Channel>,
    queue: mpsc::UnboundedSender<Pending>,
}

impl Alerts {
    /// Starts judging `saved`'s rules until `shutdown` turns true, delivering transitions to
    /// the webhook channel and to `channels`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        Saved { path, book, outbox }: Saved,
        store: Arc<Store>,
        questions: Questions,
        status: Arc<Status>,
        clock: Clock,
        channels: &Channels,
        shutdown: watch::Receiver<bool>,
    ) -> (Arc<Self>, JoinHandle<()>) {
        let webhook: Arc<dyn Channel> = Arc::new(channels::webhook::Webhook::default());
        let mut queues = Vec::new();
        let outlets = std::iter::once(&webhook)
            .chain(channels.all())
            .map(|channel| {
                let (queue, receiver) = mpsc::unbounded_channel();
                queues.push((channel.clone(), receiver));
                Outlet {
                    channel: channel.clone(),
                    queue,
                }
            })
            .collect();
        let alerts = Arc::new(Self {
            path,
            product_seen: AtomicBool::new(book.product_since.is_some()),
            book: Mutex::new(book),
            store,
            questions,
            status,
            clock,
            changed: Notify::new(),
            notices: broadcast::channel(64).0,
            outlets,
            outbox: Arc::new(outbox),
        });
        let weak = Arc::downgrade(&alerts);
        let report: channels::Report = Arc::new(move |rule, channel, failure| {
            if let Some(alerts) = weak.upgrade() {
                alerts.delivery_outcome(rule, channel, failure);
            }
        });
        for (channel, queue) in queues {
            let outbox = alerts.outbox.clone();
            let task = channels::dispatch(channel, queue, outbox, report.clone(), shutdown.clone());
            tokio::spawn(task);
        }
        // What the last run left undelivered goes first, in order.
        for pending in alerts.outbox.waiting() {
            let outlet = alerts
                .outlets
                .iter()
                .find(|o| o.channel.name() == pending.channel);
            match outlet {
                Some(outlet) => {
                    let _ = outlet.queue.send(pending);
                }
                None => alerts.outbox.done(pending.seq),
            }
        }
        let task = tokio::spawn(alerts.clone().run(shutdown));
        (alerts, task)
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stored rules that break a rule, by id (not judged until replaced or deleted).
    pub fn invalid(&self) -> Vec<Invalid> {
        self.book().invalid.values().cloned().collect()
    }

    /// Every rule with its state, by id.
    pub fn list(&self) -> Vec<AlertView> {
        let book = self.book();
        book.rules
            .iter()
            .map(|(id, rule)| view(id, rule, &book))
            .collect()
    }

    /// Notes that the product (not the demo) sent an event, so the built-in rule is judged from
    /// now on; once per data directory, and cheap on every later call.
    pub fn product_event(&self) {
        if self.product_seen.load(Ordering::Relaxed) {
            return;
        }
        let mut book = self.book();
        if book.product_since.is_none() {
            book.product_since = Some(self.clock.now());
            self.keep(&book);
            tracing::info!(
                "the product's first event: the built-in alert rule is judged from now on"
            );
        }
        self.product_seen.store(true, Ordering::Relaxed);
        drop(book);
        self.changed.notify_one();
    }

    /// Stores `body` as rule `id` (checked first, saved before it takes effect; a rule replaced
    /// keeps its state, so the next judgement reports a change the edit causes).
    pub fn put(&self, id: &str, body: &Value) -> Result<AlertView, AlertError> {
        let rule = Rule::parse(id, body)?;
        self.check_question(&rule.metric)?;
        let mut book = self.book();
        let known = book.rules.contains_key(id) || book.invalid.contains_key(id);
        if !known && book.rules.len() + book.invalid.len() >= MAX_RULES {
            return Err(AlertError::TooMany(id.to_owned()));
        }
        let mut next = book.clone();
        next.rules.insert(id.to_owned(), rule);
        next.invalid.remove(id);
        save(&self.path, &next)?;
        *book = next;
        let stored = view(id, &book.rules[id], &book);
        drop(book);
        self.changed.notify_one();
        Ok(stored)
    }

    /// The funnel or insight a metric names must exist (and the funnel have the step).
    fn check_question(&self, metric: &Metric) -> Result<(), RuleError> {
        let metric_error = |rule: String| RuleError {
            field: "metric".into(),
            rule,
        };
        if let Metric::Insight(id) = metric {
            (self.questions.insights.get(id)).map_err(|_| {
                metric_error(format!("no insight {id:?}: GET /api/insights lists them"))
            })?;
        }
        if let Some((id, step)) = metric.funnel() {
            let funnel = (self.questions.funnels.get(id)).map_err(|_| {
                metric_error(format!("no funnel {id:?}: GET /api/funnels lists them"))
            })?;
            if step > funnel.steps.len() {
                let steps = funnel.steps.len();
                return Err(metric_error(format!("funnel {id:?} has {steps} steps")));
            }
        }
        Ok(())
    }

    /// Deletes rule `id` (the built-in one too: it stays deleted) and its state.
    pub fn delete(&self, id: &str) -> Result<(), AlertError> {
        check_id(id)?;
        let mut book = self.book();
        let mut next = book.clone();
        let known = next.rules.remove(id).is_some() | next.invalid.remove(id).is_some();
        if !known {
            return Err(AlertError::NotFound(id.to_owned()));
        }
        next.states.remove(id);
        save(&self.path, &next)?;
        *book = next;
        Ok(())
    }

    /// Transitions from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut flushes = self.status.subscribe();
        let mut ended = Instant::now() - MIN_GAP;
        let mut gap = MIN_GAP;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(gap.saturating_sub(ended.elapsed())) => {}
                _ = shutdown.changed() => break,
            }
            let started = Instant::now();
            self.evaluate().await;
            ended = Instant::now();
            gap = MIN_GAP.max((ended - started) * 2);
            tokio::select! {
                _ = flushes.changed() => {}
                _ = self.changed.notified() => {}
                _ = tokio::time::sleep(EVERY) => {}
                _ = shutdown.changed() => break,
            }
        }
    }

    /// Judges every rule: one query each over its window ending at the same "now", each from a
    /// stable view of its own — a flush waits for one rule's query at most, never for the
    /// whole list.
    async fn evaluate(&self) {
        let product = self.product_seen.load(Ordering::Relaxed);
        let rules: Vec<(String, Rule)> = (self.book().rules.clone().into_iter())
            .filter(|(id, _)| product || id != BUILT_IN_ID)
            .collect();
        if rules.is_empty() {
            return;
        }
        let at = self.clock.now();
        let mut measured = Vec::with_capacity(rules.len());
        for (id, rule) in rules {
            let view = self.status.stable_view().await;
            let measure = measure::measure(&self.store, &self.questions, &rule, at).await;
            let as_of_flush = view.flushes;
            drop(view);
            measured.push(Measured {
                id,
                rule,
                measure,
                as_of_flush,
            });
        }
        for notice in self.record(measured, at) {
            self.announce(notice);
        }
    }

    /// Applies measurements to the states; returns the transitions. A rule changed or deleted
    /// while it was measured is left to the next evaluation.
    fn record(&self, measured: Vec<Measured>, at: chrono::DateTime<chrono::Utc>) -> Vec<Notice> {
        let mut book = self.book();
        let mut notices = Vec::new();
        for Measured {
            id,
            rule,
            measure,
            as_of_flush,
        } in measured
        {
            if book.rules.get(&id) != Some(&rule) {
                continue;
            }
            let measure = match measure {
                Ok(measure) => measure,
                // The store is down or refusing (/health says so), or the rule's funnel was
                // deleted: the state waits.
                Err(error) => {
                    tracing::debug!(rule = %id, %error, "alert rule not judged");
                    continue;
                }
            };
            let state = book.states.entry(id.clone()).or_default();
            if let Some(transition) = state.judge(&rule, measure, at, as_of_flush) {
                notices.push(Notice {
                    id,
                    rule,
                    transition,
                });
            }
        }
        if !notices.is_empty() {
            self.keep(&book);
        }
        notices
    }

    /// Saves the states, which the engine can live without: a failure is logged, not fatal.
    fn keep(&self, book: &Book) {
        if let Err(error) = save(&self.path, book) {
            tracing::warn!(%error, "alert states not saved; they are kept in memory");
        }
    }

    /// The log line, the channels' deliveries and the subscribers' notice of one transition.
    fn announce(&self, notice: Notice) {
        let t = &notice.transition;
        match t.state {
            State::Firing => {
                tracing::warn!(rule = %notice.id, value = t.value, threshold = t.threshold, "alert firing: {}", notice.body())
            }
            State::Ok => {
                tracing::info!(rule = %notice.id, value = t.value, threshold = t.threshold, "alert resolved: {}", notice.body())
            }
        }
        for outlet in &self.outlets {
            let channel = &outlet.channel;
            if channel.wants(&notice.rule) {
                let pending = self
                    .outbox
                    .add(channel.name(), notice.clone(), channel.durable());
                // The queue lives as long as the engine; a stopped one has nobody to deliver for.
                let _ = outlet.queue.send(pending);
            }
        }
        // Nobody listening (serve has no window) is fine.
        let _ = self.notices.send(notice);
    }

    /// Shows a channel's failure on its rule, or clears an earlier one after a success.
    fn delivery_outcome(&self, id: &str, channel: &str, failure: Option<DeliveryFailure>) {
        let mut book = self.book();
        let Some(state) = book.states.get_mut(id) else {
            return;
        };
        if state.delivery_errors.get(channel) == failure.as_ref() {
            return;
        }
        match failure {
            Some(failure) => state.delivery_errors.insert(channel.to_owned(), failure),
            None => state.delivery_errors.remove(channel),
        };
        self.keep(&book);
    }
}

fn view(id: &str, rule: &Rule, book: &Book) -> AlertView {
    let state = book.states.get(id).cloned().unwrap_or_default();
    AlertView {
        id: id.to_owned(),
        rule: rule.clone(),
        last_webhook_error: state.delivery_errors.get("webhook").cloned(),
        state,
        waiting_for_product: id == BUILT_IN_ID && book.product_since.is_none(),
    }
}

/// The rules and states in `path`; the built-in rule alone when the file does not exist yet.
fn load(path: &Path) -> Result<Book, AlertError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Book::read)
                .map_err(|e| AlertError::BadFile {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Book {
            rules: BTreeMap::from([(BUILT_IN_ID.to_owned(), Rule::built_in())]),
            ..Book::default()
        }),
        Err(source) => Err(AlertError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn save(path: &Path, book: &Book) -> Result<(), AlertError> {
    let bytes = serde_json::to_vec_pretty(&book.file()).expect("rules and states serialise");
    crate::support::files::write_private(path, &bytes).map_err(|source| AlertError::Save {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_book_round_trips_through_its_file_and_starts_with_the_built_in_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut book = load(&path).unwrap();
        assert_eq!(
            book.rules.keys().collect::<Vec<_>>(),
            [BUILT_IN_ID],
            "the built-in rule"
        );
        let body = json!({"metric": "active_users", "op": "below", "threshold": 3, "for": "10m",
                          "hold": "0s", "filters": {"device": "mobile"}, "webhook": "http://localhost:9/x"});
        book.rules
            .insert("few".into(), Rule::parse("few", &body).unwrap());
        let at = DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
            .unwrap()
            .to_utc();
        let measure = Measure {
            events: 30,
            value: Some(2.0),
        };
        let rule = book.rules["few"].clone();
        book.states
            .entry("few".into())
            .or_default()
            .judge(&rule, measure, at, 7);
        book.rules.remove(BUILT_IN_ID);
        book.product_since = Some(at);
        save(&path, &book).unwrap();
        let again = load(&path).unwrap();
        assert_eq!(again.rules, book.rules, "deleted stays deleted");
        assert_eq!(again.states, book.states);
        assert_eq!(again.product_since, Some(at), "the product's first event");
        assert_eq!(again.states["few"].state, State::Firing);
    }

    #[test]
    fn a_notice_words_the_transition_for_people_and_slack() {
        let notice = Notice {
            id: "spike".into(),
            rule: Rule {
                name: "Errors spike".into(),
                window_s: 60,
                ..Rule::built_in()
            },
            transition: Transition {
                state: State::Firing,
                at: DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
                    .unwrap()
                    .to_utc(),
                value: 2.5,
                threshold: 1.0,
            },
        };
        assert_eq!(
            serde_json::to_value(notice.payload()).unwrap(),
            json!({
                "text": "Errors spike is firing: error_rate_pct is 2.5 (above 1) over the last 1m",
                "rule": "spike", "state": "firing", "metric": "error_rate_pct", "value": 2.5,
                "threshold": 1.0, "at": "2026-11-23T18:00:00.000Z",
            })
        );
    }
}
