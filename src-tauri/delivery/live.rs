//! Live events (DESIGN.md "Live events"): every ingest request's outcome — the events made
//! durable and the items refused, with why and what was sent — handed to whoever watches
//! (`GET /api/events/live`, the Live view), never making ingest wait.
//!
//! Ingest hands each request's outcome to every stream's bounded queue with `try_send`; a
//! stream that has fallen [`BACKLOG`] requests behind only counts what it missed. A stream sends
//! at most [`PER_SECOND`] items a second and counts the rest, said once a second as `skipped`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::time::Instant;

use crate::ingest::event::{Event, Rejection};
use crate::questions::filters::Filters;
use crate::questions::panels::format_time_ms;

/// Streams open at once; the next is refused (503) until one closes.
pub const MAX_STREAMS: usize = 16;
/// Items a stream sends in a second; the rest are counted in `skipped`.
pub const PER_SECOND: u32 = 200;
/// Ingest requests a stream may fall behind by: at 500 events a request, at most 16,000
/// events held for it, shared with every other stream.
const BACKLOG: usize = 32;

/// The wire format a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Events,
    Segment,
    Posthog,
}

/// What one ingest request brought: its events once durable, and the items it refused.
pub struct Landed {
    pub source: Source,
    pub received_ms: i64,
    pub accepted: Vec<Event>,
    pub rejected: Vec<Rejection>,
}

/// What a stream asks for: events passing the filters (and of one name); refused items
/// always, since what they were cannot be known.
#[derive(Debug, Clone, Default)]
pub struct Interest {
    pub filters: Filters,
    pub event: Option<String>,
}

impl Interest {
    fn wants(&self, event: &Event) -> bool {
        self.event
            .as_ref()
            .is_none_or(|name| *name == event.event_name)
            && self
                .filters
                .matches(&event.country_code, &event.device_type, &event.properties)
    }

    /// The items of `landed` this stream would have sent.
    fn count(&self, landed: &Landed) -> u64 {
        let events = landed.accepted.iter().filter(|e| self.wants(e)).count();
        (events + landed.rejected.len()) as u64
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{MAX_STREAMS} live event streams are open already (other windows or clients); close one and try again")]
pub struct TooManyStreams;

struct Subscriber {
    queue: mpsc::Sender<Arc<Landed>>,
    /// Items lost while the queue was full.
    missed: Arc<AtomicU64>,
    interest: Arc<Interest>,
}

/// The streams open now.
#[derive(Default)]
pub struct Live {
    subscribers: Mutex<Vec<Subscriber>>,
    /// How many, read without the lock: ingest pays nothing while nobody watches.
    open: AtomicUsize,
    closed: AtomicBool,
}

impl Live {
    fn subscribers(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands `landed` to every stream, at once: a full queue counts it as missed instead.
    pub fn publish(&self, landed: Landed) {
        if self.open.load(Ordering::Relaxed) == 0 {
            return;
        }
        let landed = Arc::new(landed);
        let mut subscribers = self.subscribers();
        subscribers.retain(|s| match s.queue.try_send(landed.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                s.missed
                    .fetch_add(s.interest.count(&landed), Ordering::Relaxed);
                true
            }
            Err(TrySendError::Closed(_)) => false,
        });
        self.open.store(subscribers.len(), Ordering::Relaxed);
    }

    /// A new stream of what `interest` asks for, unless [`MAX_STREAMS`] are open.
    pub fn subscribe(&self, interest: Interest) -> Result<Stream, TooManyStreams> {
        let mut subscribers = self.subscribers();
        subscribers.retain(|s| !s.queue.is_closed());
        if subscribers.len() >= MAX_STREAMS {
            return Err(TooManyStreams);
        }
        let (queue, receiver) = mpsc::channel(BACKLOG);
        let missed = Arc::new(AtomicU64::new(0));
        let interest = Arc::new(interest);
        // After `close`, a stream that ends at once: its sender is dropped here.
        if !self.closed.load(Ordering::Relaxed) {
            subscribers.push(Subscriber {
                queue,
                missed: missed.clone(),
                interest: interest.clone(),
            });
        }
        self.open.store(subscribers.len(), Ordering::Relaxed);
        Ok(Stream {
            receiver,
            missed,
            interest,
            ready: VecDeque::new(),
            second: Instant::now(),
            sent: 0,
            skipped: 0,
        })
    }

    /// Ends every stream (the server is stopping) and refuses none after: new ones end at once.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.subscribers().clear();
        self.open.store(0, Ordering::Relaxed);
    }

    /// Streams open now.
    pub fn streams(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// One item a stream sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An event as stored, with its `source` and `received_at`.
    Accepted(Value),
    /// `{"source", "received_at", "index", "error", "raw"}`.
    Rejected(Value),
    /// Items not sent since the last `skipped`: over the rate, or missed while behind.
    Skipped(u64),
}

impl Item {
    /// The SSE event's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Accepted(_) => "accepted",
            Item::Rejected(_) => "rejected",
            Item::Skipped(_) => "skipped",
        }
    }

    pub fn data(&self) -> Value {
        match self {
            Item::Accepted(v) | Item::Rejected(v) => v.clone(),
            Item::Skipped(count) => json!({ "count": count }),
        }
    }
}

/// One watcher's view of what lands.
pub struct Stream {
    receiver: mpsc::Receiver<Arc<Landed>>,
    missed: Arc<AtomicU64>,
    interest: Arc<Interest>,
    /// Items of the last request taken, within this second's allowance.
    ready: VecDeque<Item>,
    /// When the current second began, what it sent and what it could not.
    second: Instant,
    sent: u32,
    skipped: u64,
}

impl Stream {
    /// The next item to send; `None` once the server closes the stream.
    pub async fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            let turn = self.second + Duration::from_secs(1);
            let owed = self.skipped > 0 || self.missed.load(Ordering::Relaxed) > 0;
            tokio::select! {
                landed = self.receiver.recv() => self.take(&*landed?),
                _ = tokio::time::sleep_until(turn), if owed => {}
            }
            if let Some(skipped) = self.turn_second() {
                return Some(Item::Skipped(skipped));
            }
        }
    }

    /// Starts a new second when one has passed: what the last one could not send, if anything.
    fn turn_second(&mut self) -> Option<u64> {
        let now = Instant::now();
        if now < self.second + Duration::from_secs(1) {
            return None;
        }
        self.second = now;
        self.sent = 0;
        let skipped = std::mem::take(&mut self.skipped) + self.missed.swap(0, Ordering::Relaxed);
        (skipped > 0).then_some(skipped)
    }

    /// Queues the items of `landed` this stream wants, as far as the second's allowance goes.
    fn take(&mut self, landed: &Landed) {
        if let Some(skipped) = self.turn_second() {
            self.ready.push_back(Item::Skipped(skipped));
        }
        let received_at = format_time_ms(landed.received_ms);
        let events = landed
            .accepted
            .iter()
            .filter(|e| self.interest.wants(e))
            .map(|e| Item::Accepted(accepted(e, landed.source, &received_at)));
        let refused = landed
            .rejected
            .iter()
            .map(|r| Item::Rejected(rejected(r, landed.source, &received_at)));
        for item in events.chain(refused) {
            if self.sent < PER_SECOND {
                self.sent += 1;
                self.ready.push_back(item);
            } else {
                self.skipped += 1;
            }
        }
    }
}

fn accepted(event: &Event, source: Source, received_at: &str) -> Value {
    let properties: Value = serde_json::from_str(&event.properties).unwrap_or_else(|_| json!({}));
    json!({
        "event_id": event.event_id,
        "event_name": event.event_name,
        "timestamp": format_time_ms(event.timestamp_ms),
        "session_id": event.session_id,
        "user_id": event.user_id,
        "device_type": event.device_type,
        "country_code": event.country_code,
        "properties": properties,
        "source": source,
        "received_at": received_at,
    })
}

fn rejected(rejection: &Rejection, source: Source, received_at: &str) -> Value {
    json!({
        "source": source,
        "received_at": received_at,
        "index": rejection.index,
        "error": rejection.error,
        "raw": rejection.raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::{validate, TimeBounds};

    fn events(n: usize, name: &str) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let value = json!({"event_name": name, "session_id": format!("s{i}"),
                                   "country_code": if i % 2 == 0 { "DE" } else { "FR" }});
                validate(value, TimeBounds::new(0, 90)).unwrap()
            })
            .collect()
    }

    fn landed(accepted: Vec<Event>, rejected: usize) -> Landed {
        Landed {
            source: Source::Events,
            received_ms: 0,
            accepted,
            rejected: (0..rejected)
                .map(|index| Rejection {
                    index,
                    error: "event_name: required".into(),
                    raw: "{}".into(),
                })
                .collect(),
        }
    }

    async fn drain(stream: &mut Stream) -> Vec<Item> {
        let mut items = Vec::new();
        while let Ok(Some(item)) =
            tokio::time::timeout(Duration::from_millis(1500), stream.next()).await
        {
            items.push(item);
        }
        items
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_sends_what_it_asked_for_and_counts_what_is_over_the_rate() {
        let live = Live::default();
        live.publish(landed(events(3, "a"), 0)); // nobody watches: dropped, costs nothing
        let filters = Filters::parse([("country", "DE")]).unwrap();
        let interest = Interest {
            filters,
            event: Some("a".into()),
        };
        let mut stream = live.subscribe(interest).unwrap();
        live.publish(landed(events(4, "a"), 1));
        live.publish(landed(events(4, "b"), 0));
        let items = drain(&mut stream).await;
        let kinds: Vec<&str> = items.iter().map(Item::kind).collect();
        assert_eq!(kinds, ["accepted", "accepted", "rejected"]);
        assert_eq!(items[0].data()["country_code"], "DE");
        assert_eq!(items[2].data()["raw"], "{}");

        // 500 wanted in one second: 200 sent, then `skipped` 300 once the second turns.
        live.publish(landed(events(1000, "a"), 0));
        let items = drain(&mut stream).await;
        assert_eq!(items.len(), 201);
        assert_eq!(items[200], Item::Skipped(300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_falls_behind_counts_what_it_missed_and_ingest_never_waits() {
        let live = Live::default();
        let mut stream = live.subscribe(Interest::default()).unwrap();
        for _ in 0..BACKLOG + 10 {
            live.publish(landed(events(2, "a"), 1));
        }
        let items = drain(&mut stream).await;
        let sent = items
            .iter()
            .filter(|i| !matches!(i, Item::Skipped(_)))
            .count();
        let skipped: u64 = items
            .iter()
            .map(|i| match i {
                Item::Skipped(n) => *n,
                _ => 0,
            })
            .sum();
        assert_eq!(sent, BACKLOG * 3);
        assert_eq!(skipped, 10 * 3);
    }

    #[tokio::test(start_paused = true)]
    async fn streams_are_capped_and_end_when_the_server_closes() {
        let live = Live::default();
        let mut streams: Vec<Stream> = (0..MAX_STREAMS)
            .map(|_| live.subscribe(Interest::default()).unwrap())
            .collect();
        assert!(live.subscribe(Interest::default()).is_err());
        streams.pop();
        assert!(
            live.subscribe(Interest::default()).is_ok(),
            "a closed one frees its place"
        );
        assert_eq!(live.streams(), MAX_STREAMS);
        live.close();
        assert_eq!(streams[0].next().await, None);
        let mut late = live.subscribe(Interest::default()).unwrap();
        assert_eq!(late.next().await, None);
    }
}
