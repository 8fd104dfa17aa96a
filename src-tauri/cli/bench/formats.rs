//! Ingest through each wire format in one run: Pulseboard's own `/v1/events` (generated ids,
//! then client ids, which the journal checks for re-sends), Segment's `/v1/batch` and PostHog's
//! `/batch/`. Every event carries a fresh id, so nothing is deduplicated away.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{post_bodies, stored_events, BATCH};
use crate::cli::demo::{DemoEvent, TrafficModel};
use crate::engine::Engine;

type Shape = fn(&DemoEvent) -> Value;
type Wrap = fn(Vec<Value>) -> Value;

const FORMATS: [(&str, &str, Shape, Wrap); 4] = [
    ("own, generated ids", "/v1/events", own, Value::Array),
    (
        "own, client ids (dedup checked)",
        "/v1/events",
        own_with_id,
        Value::Array,
    ),
    ("Segment /v1/batch", "/v1/batch", segment, segment_batch),
    ("PostHog /batch/", "/batch/", posthog, posthog_batch),
];

pub(super) async fn run(
    engine: &Arc<Engine>,
    addr: SocketAddr,
    clients: usize,
    events: u64,
) -> Result<(), String> {
    println!("## Ingest by wire format ({events} events each, {clients} clients)\n");
    println!("| format | acknowledged/s | stored/s | vs own format |");
    println!("|---|---|---|---|");
    let mut baseline = None;
    for (name, path, shape, wrap) in FORMATS {
        eprintln!("formats: {name}…");
        let bodies = Arc::new(bodies(events, shape, wrap));
        let before = stored_events(engine).await?;
        let started = Instant::now();
        let (acked, _) = post_bodies(addr, path, clients, bodies, events).await?;
        let acked_in = started.elapsed();
        while engine.journal.held_events() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let stored = stored_events(engine).await? - before;
        let rate = acked as f64 / acked_in.as_secs_f64();
        let base = *baseline.get_or_insert(rate);
        println!(
            "| {name} | {rate:.0} | {:.0} | {:.2} |",
            stored as f64 / started.elapsed().as_secs_f64(),
            rate / base
        );
        if stored != acked {
            return Err(format!("{name}: stored {stored} of {acked} acknowledged"));
        }
    }
    println!();
    Ok(())
}

/// Pre-serialised 500-event bodies for every event to send, each with its own id.
fn bodies(events: u64, shape: Shape, wrap: Wrap) -> Vec<Vec<u8>> {
    let mut model = TrafficModel::new(11, 100_000);
    let batches = events.div_ceil(BATCH as u64);
    (0..batches)
        .map(|_| {
            let batch = (0..BATCH).map(|_| shape(&model.next_event())).collect();
            serde_json::to_vec(&wrap(batch)).expect("events serialise")
        })
        .collect()
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn own(e: &DemoEvent) -> Value {
    serde_json::to_value(e).expect("demo events serialise")
}

fn own_with_id(e: &DemoEvent) -> Value {
    let mut value = own(e);
    value["event_id"] = json!(id());
    value
}

fn segment(e: &DemoEvent) -> Value {
    json!({"type": "track", "event": e.event_name, "userId": e.user_id,
           "anonymousId": e.session_id, "messageId": id(), "properties": e.properties,
           "context": {"sessionId": e.session_id, "device": {"type": e.device_type},
                       "location": {"country": e.country_code}}})
}

fn segment_batch(batch: Vec<Value>) -> Value {
    json!({ "batch": batch })
}

fn posthog(e: &DemoEvent) -> Value {
    let mut properties = e.properties.clone();
    properties["$session_id"] = json!(e.session_id);
    properties["$device_type"] = json!(e.device_type);
    properties["$geoip_country_code"] = json!(e.country_code);
    let distinct_id = e.user_id.clone().unwrap_or_else(|| e.session_id.clone());
    json!({"event": e.event_name, "distinct_id": distinct_id, "uuid": id(),
           "properties": properties})
}

fn posthog_batch(batch: Vec<Value>) -> Value {
    json!({ "api_key": "bench", "batch": batch })
}
