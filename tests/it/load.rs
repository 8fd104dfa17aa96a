//! Faults under load: several clients post while the store goes down, or while the process is
//! SIGKILLed again and again. Every acknowledged event must end up stored exactly once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{event, Server};
use crate::support::free_port;

const CLIENTS: usize = 4;
const BATCH: u64 = 50;

/// What the clients saw. `unknown` counts events of requests that were sent but got no answer
/// (the process died mid-request): the journal may or may not hold them.
#[derive(Default)]
struct Tally {
    acked: AtomicU64,
    unknown: AtomicU64,
    refused: AtomicU64,
}

/// `CLIENTS` tasks posting `BATCH`-event requests to `url` until `stop` is set.
fn clients(
    url: String,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..CLIENTS)
        .map(|c| {
            let (url, stop, tally) = (url.clone(), stop.clone(), tally.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = json!((0..BATCH)
                        .map(|i| event("page_view", &format!("c{c}-{n}-{i}")))
                        .collect::<Vec<Value>>());
                    match http
                        .post(format!("{url}/v1/events"))
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 202 => {
                            tally.acked.fetch_add(BATCH, Ordering::Relaxed)
                        }
                        Ok(r) => panic!("unexpected {}: {}", r.status(), r.text().await.unwrap()),
                        // Never reached the server: nothing to account for.
                        Err(e) if e.is_connect() => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            tally.refused.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(_) => tally.unknown.fetch_add(BATCH, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect()
}

async fn stop_clients(stop: &AtomicBool, tasks: Vec<tokio::task::JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_under_load_spills_then_replays_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
    let tasks = clients(server.url.clone(), stop.clone(), tally.clone());

    // Traffic before the outage.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.set_fault("down").await;
    let acked_at_outage = tally.acked.load(Ordering::Relaxed);
    let health = server.unreachable().await;
    let mut most_spilled = health["spilled"].as_u64().unwrap();
    // Three seconds of outage under load: the store stays unreachable throughout.
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let health = server.health().await;
        assert_eq!(health["store_reachable"], false, "{health}");
        most_spilled = most_spilled.max(health["spilled"].as_u64().unwrap());
    }
    assert!(
        tally.acked.load(Ordering::Relaxed) > acked_at_outage,
        "ingest kept acknowledging during the outage"
    );
    assert!(
        most_spilled > 0,
        "the backlog grew while the store was down"
    );
    server.set_fault("up").await;
    // Traffic while the backlog replays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_clients(&stop, tasks).await;

    server.drained().await;
    assert_eq!(tally.unknown.load(Ordering::Relaxed), 0);
    assert_eq!(
        server.stored_events().await,
        tally.acked.load(Ordering::Relaxed)
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_event_and_stores_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    // A fixed port, so the clients keep posting to the same URL across restarts.
    let port = free_port().to_string();
    let args = ["--port", port.as_str()];
    let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
    let mut server = Server::start(dir.path(), &args);
    let tasks = clients(server.url.clone(), stop.clone(), tally.clone());
    // Kill at different moments relative to the flushes (every 200 ms in the tests).
    for pause_ms in [700, 1130, 890, 1370] {
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        server.kill();
        server = Server::start(dir.path(), &args);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_clients(&stop, tasks).await;

    server.drained().await;
    let stored = server.stored_events().await;
    let acked = tally.acked.load(Ordering::Relaxed);
    let unknown = tally.unknown.load(Ordering::Relaxed);
    println!("acknowledged {acked}, unanswered {unknown}, stored {stored}");
    assert!(acked > 0);
    // Every acknowledged event is stored; beyond them only requests cut off by a kill may be
    // (each whole or not at all). A replayed flush (hundreds of events) would break the bound.
    assert!(
        stored >= acked && stored <= acked + unknown,
        "stored {stored}, acknowledged {acked}, unanswered {unknown}"
    );
    assert_eq!(
        (stored - acked) % BATCH,
        0,
        "a request is journaled whole or not at all"
    );
    server.stop();
}
