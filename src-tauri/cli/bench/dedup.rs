//! `bench --dedup 24h`: what remembering client ids costs. The journal's own append path takes
//! `--dedup-rate` ids per simulated second on a fixed clock moved by hand, so a day of ids takes
//! minutes, not a day; flushes are confirmed as they come so only the ids stay. Every simulated
//! hour: ids remembered, memory, the journal on disk; at the end, the cost of reading the ids
//! back when the journal opens again.

use std::path::Path;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{journal_on_disk, status_mib};
use crate::ingest::event::{validate, Event, TimeBounds};
use crate::storage::journal::{Journal, Options};
use crate::support::clock::Clock;

/// Simulated seconds per append: one commit carries this many seconds of ids.
const STEP_S: u64 = 10;

pub(super) async fn run(dir: &Path, span: Duration, rate: u64) -> Result<(), String> {
    let window = Options::capped(0).dedup_window;
    let start = chrono::Utc::now();
    let clock = Clock::fixed(start);
    let options = Options {
        cap_bytes: u64::MAX,
        dedup_window: window,
        clock: clock.clone(),
    };
    crate::support::datadir::create_private(dir).map_err(|e| e.to_string())?;
    let journal = Journal::open(dir, options.clone()).map_err(|e| e.to_string())?;
    let base_rss = status_mib("VmRSS:");
    eprintln!("dedup: {rate} client ids per simulated second for {span:?} (window {window:?})…");
    println!(
        "## Remembered client ids: {rate}/s for {} h, {} h window (simulated clock)\n",
        span.as_secs() / 3600,
        window.as_secs() / 3600
    );
    println!("| simulated h | ids remembered | RSS MiB | RSS over start, bytes/id | journal on disk MiB | disk bytes/id | ids/s (wall) | slowest append this hour, ms |");
    println!("|---|---|---|---|---|---|---|---|");
    let template = template_event(start.timestamp_millis())?;
    let (mut at_s, mut last) = (0u64, (Instant::now(), 0u64));
    let mut slowest = Duration::ZERO;
    while at_s < span.as_secs() {
        at_s += STEP_S;
        clock.set(start + chrono::Duration::seconds(at_s as i64));
        let events = step_events(&template, at_s, rate * STEP_S);
        let appending = Instant::now();
        journal.append(&events).await.map_err(|e| e.to_string())?;
        slowest = slowest.max(appending.elapsed());
        if let Some(flush) = journal.next_flush(u64::MAX).map_err(|e| e.to_string())? {
            journal.confirm(&flush).map_err(|e| e.to_string())?;
        }
        if at_s % 3600 == 0 || at_s >= span.as_secs() {
            let ids = journal.remembered_ids();
            let per_s = (at_s * rate - last.1) as f64 / last.0.elapsed().as_secs_f64();
            last = (Instant::now(), at_s * rate);
            report(at_s, ids, base_rss, journal_on_disk(dir), per_s, slowest);
            slowest = Duration::ZERO;
        }
    }
    drop(journal);
    let rss_closed = status_mib("VmRSS:");
    let opening = Instant::now();
    let journal = Journal::open(dir, options).map_err(|e| e.to_string())?;
    println!(
        "\nOpening the journal again read {} ids back in {:.1} s; RSS {} → {} MiB; peak RSS {} MiB.\n",
        journal.remembered_ids(),
        opening.elapsed().as_secs_f64(),
        rss_closed,
        status_mib("VmRSS:"),
        status_mib("VmHWM:"),
    );
    Ok(())
}

fn report(at_s: u64, ids: u64, base_rss: u64, disk: u64, per_s: f64, slowest: Duration) {
    let rss = status_mib("VmRSS:");
    let per_id = |bytes: u64| bytes as f64 / ids.max(1) as f64;
    println!(
        "| {} | {ids} | {rss} | {:.1} | {} | {:.1} | {per_s:.0} | {} |",
        at_s / 3600,
        per_id(rss.saturating_sub(base_rss) << 20),
        disk >> 20,
        per_id(disk),
        slowest.as_millis(),
    );
}

fn template_event(now_ms: i64) -> Result<Event, String> {
    let value = serde_json::json!({"event_name": "signup", "session_id": "s"});
    let mut event = validate(value, TimeBounds::new(now_ms, 90)).map_err(|e| e.to_string())?;
    event.id_given = true;
    Ok(event)
}

/// `n` events with distinct ids laid out as UUIDv7 (time first), as PostHog's SDKs send them.
fn step_events(template: &Event, at_s: u64, n: u64) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            event_id: Uuid::from_u128(((at_s as u128) << 80) | (0x7 << 76) | i as u128),
            ..template.clone()
        })
        .collect()
}
