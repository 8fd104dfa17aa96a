//! `bench --soak`: a steady ingest for a long stretch while a dashboard reads, sampling what
//! must stay flat on a laptop — memory, open files, the journal on disk.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

use super::{demo_bodies, journal_on_disk, post_batch, status_mib, stored_events, Posted, BATCH};
use crate::engine::Engine;

/// Posting clients: enough to keep the rate up while one waits on a group commit.
const CLIENTS: usize = 4;
const SAMPLE_EVERY: Duration = Duration::from_secs(30);

/// What the soak's load and reader have done so far.
#[derive(Default)]
struct Counters {
    acked: AtomicU64,
    refused: AtomicU64,
    reads: AtomicU64,
    stop: AtomicBool,
}

pub(super) async fn run(
    engine: &Arc<Engine>,
    addr: SocketAddr,
    dir: &Path,
    duration: Duration,
    rate: u64,
) -> Result<(), String> {
    eprintln!("soak: {rate} events/s for {duration:?} while a dashboard reads every second…");
    let counters = Arc::new(Counters::default());
    let bodies = Arc::new(demo_bodies(64));
    let per_client = Duration::from_secs_f64(CLIENTS as f64 * BATCH as f64 / rate.max(1) as f64);
    let mut tasks = Vec::new();
    for id in 0..CLIENTS {
        let (counters, bodies) = (counters.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            post_steadily(addr, id, &bodies, per_client, &counters).await
        }));
    }
    let reader = tokio::spawn(read_dashboard(addr, counters.clone()));
    println!(
        "## Soak: {rate} events/s for {} s while a dashboard reads\n",
        duration.as_secs()
    );
    println!("| at s | acknowledged | acknowledged/s | stored | RSS MiB | open files | journal on disk MiB | journal held MiB | dashboard reads |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let mut last = (0u64, Instant::now());
    while started.elapsed() < duration {
        tokio::time::sleep(SAMPLE_EVERY.min(duration.saturating_sub(started.elapsed()))).await;
        let acked = counters.acked.load(Ordering::SeqCst);
        let rate_now = (acked - last.0) as f64 / last.1.elapsed().as_secs_f64();
        last = (acked, Instant::now());
        println!(
            "| {} | {acked} | {rate_now:.0} | {} | {} | {} | {:.1} | {:.1} | {} |",
            started.elapsed().as_secs(),
            stored_events(engine).await?,
            status_mib("VmRSS:"),
            open_files(),
            journal_on_disk(dir) as f64 / f64::from(1 << 20),
            engine.journal.held_bytes() as f64 / f64::from(1 << 20),
            counters.reads.load(Ordering::SeqCst),
        );
    }
    counters.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let _ = reader.await;
    while engine.journal.held_events() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (acked, stored) = (
        counters.acked.load(Ordering::SeqCst),
        stored_events(engine).await?,
    );
    println!(
        "\nAfter the soak: {acked} acknowledged, {stored} stored, {} answers 503\n",
        counters.refused.load(Ordering::SeqCst)
    );
    if stored != acked {
        return Err(format!(
            "stored {stored} events but {acked} were acknowledged"
        ));
    }
    Ok(())
}

/// Posts one 500-event batch every `every` until told to stop.
async fn post_steadily(
    addr: SocketAddr,
    id: usize,
    bodies: &[Vec<u8>],
    every: Duration,
    counters: &Counters,
) -> Result<(), String> {
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/v1/events");
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut i = id;
    while !counters.stop.load(Ordering::SeqCst) {
        tick.tick().await;
        match post_batch(&http, &url, &bodies[i % bodies.len()]).await? {
            Posted::Accepted => counters.acked.fetch_add(BATCH as u64, Ordering::SeqCst),
            Posted::Full => counters.refused.fetch_add(1, Ordering::SeqCst),
        };
        i += 1;
    }
    Ok(())
}

/// A dashboard: all four panels, every second.
async fn read_dashboard(addr: SocketAddr, counters: Arc<Counters>) {
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/panels?range=1h");
    while !counters.stop.load(Ordering::SeqCst) {
        if http
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            counters.reads.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}
