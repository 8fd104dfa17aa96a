//! `pulseboard bench`: the figures in docs/BENCHMARKS.md, measured through the real engine.
//!
//! 1. Ingest: N clients post 500-event batches over HTTP; events/s acknowledged and stored. Then
//!    chDB's own insert rate for the same kind of rows, into a table without views and into
//!    `events` with its views: what end-to-end ingest is measured against.
//! 2. Event-to-panel latency at default flush settings, at a trickle and under a steady load:
//!    from the 202 to the probe counted in `GET /api/panels/active_users`.
//! 3. Panel and funnel query latency (24h range, cache bypassed) at each requested stored-event
//!    count, idle and while a steady load is ingested; the bulk loader writes straight through
//!    the store's insert path.
//! 4. Memory (RSS, peak RSS) and disk after each phase.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Deserialize;

use crate::cli::demo::TrafficModel;
use crate::engine::instance::{Endpoint, Instance};
use crate::engine::{Engine, EngineConfig};
use crate::ingest::event;
use crate::questions::filters::Filters;
use crate::questions::funnels::{Breakdown, Funnel};
use crate::questions::insights::{reads_rollups, Insight};
use crate::questions::panels::{PanelName, Range, Scope, Source, Window};
use crate::storage::store::{migrations, rowbinary};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Where the benchmark's data goes [default: a fresh temporary directory, removed after]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Concurrent clients posting 500-event batches
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Events to ingest end to end over HTTP
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Event-to-panel latency samples (0 skips the phase)
    #[arg(long, default_value_t = 20)]
    pub latency_samples: usize,
    /// Events per second ingested in the background while the latency is measured a second
    /// time (0 measures at a trickle only)
    #[arg(long, default_value_t = 10_000)]
    pub latency_load: u64,
    /// Alert rules judged while the latency is measured (varied metrics, windows and filters,
    /// none firing; they replace the built-in rule): what judging them costs flushes and panels
    #[arg(long, default_value_t = 0)]
    pub alert_rules: usize,
    /// Events per second ingested in the background while the panels are timed a second time
    /// (0 times them idle only)
    #[arg(long, default_value_t = 50_000)]
    pub panel_load: u64,
    /// Stored-event counts at which to time the panel queries, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1000000,10000000")]
    pub panel_sizes: Vec<u64>,
    /// Timed runs per panel and size
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Drop every materialized view first, to measure ingest without them (skips the panel
    /// phase; use a throwaway --data-dir)
    #[arg(long)]
    pub without_views: bool,
    /// Also measure an outage: ingest while the store is down, then the replay (builds with
    /// the `fault-injection` feature only)
    #[cfg(feature = "fault-injection")]
    #[arg(long)]
    pub outage: bool,
    /// Instead of the phases above: ingest at --soak-rate for this long (e.g. 10m) while a
    /// dashboard reads every second, and report memory, open files and the journal over time
    #[arg(long, value_parser = crate::support::duration::parse)]
    pub soak: Option<Duration>,
    /// Events per second during --soak
    #[arg(long, default_value_t = 50_000)]
    pub soak_rate: u64,
    /// Instead of the phases above: feed the journal client ids at --dedup-rate per second of a
    /// simulated clock for this long (e.g. 24h) and report the memory and disk they cost
    #[arg(long, value_parser = crate::support::duration::parse)]
    pub dedup: Option<Duration>,
    /// Client ids per simulated second during --dedup
    #[arg(long, default_value_t = 5_000)]
    pub dedup_rate: u64,
    /// Events per wire format in the format comparison (own format with and without client
    /// ids, Segment /v1/batch, PostHog /batch/); 0 skips it
    #[arg(long, default_value_t = 300_000)]
    pub format_events: u64,
}

mod dedup;
mod formats;
mod load;
mod people;
mod soak;

use load::Load;

const BATCH: usize = 500;
const LOAD_CHUNK: u64 = 200_000;
/// Rows per INSERT when measuring chDB's own insert rate (a flush under load is about this big).
const RATE_CHUNK: usize = 50_000;
/// The probes' country: none of the demo traffic's, so a probe is visible under any load.
const PROBE_COUNTRY: &str = "AQ";

/// A benchmark that could not run to the end; the message says where it stopped.
#[derive(Debug, thiserror::Error)]
#[error("benchmark stopped: {0}")]
pub struct BenchError(String);

/// Runs every phase and prints a Markdown report on stdout (progress on stderr).
pub async fn run(args: BenchArgs) -> Result<(), BenchError> {
    run_phases(args).await.map_err(BenchError)
}

async fn run_phases(args: BenchArgs) -> Result<(), String> {
    let temp;
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempdir()?;
            temp.0.clone()
        }
    };
    if let Some(span) = args.dedup {
        println!("# Pulseboard benchmark\n\n{}\n", machine());
        return dedup::run(&data_dir, span, args.dedup_rate).await;
    }
    let endpoint = Endpoint {
        addr: ([127, 0, 0, 1], 0).into(),
        access: crate::http::Access::default(),
        limits: crate::http::Limits::default(),
    };
    let instance = Instance::start(EngineConfig::new(data_dir.clone()), endpoint)
        .await
        .map_err(|e| e.to_string())?;
    let engine = instance.engine();
    let outcome = match args.without_views {
        true => drop_views(&engine).await,
        false => Ok(()),
    };
    let outcome = match outcome {
        Ok(()) => phases(&args, &engine, instance.bound(), &data_dir).await,
        failed => failed,
    };
    instance.stop().await;
    outcome
}

/// Drops the materialized views of a fresh store, so ingest runs without pre-aggregation.
async fn drop_views(engine: &Engine) -> Result<(), String> {
    for (view, _) in migrations::views() {
        execute(engine, format!("DROP VIEW IF EXISTS {view}")).await?;
    }
    eprintln!("materialized views dropped: ingest runs without pre-aggregation");
    Ok(())
}

/// Runs one statement on the bench's store.
async fn execute(engine: &Engine, sql: String) -> Result<(), String> {
    engine.store.execute(&sql).await.map_err(|e| e.to_string())
}

async fn phases(
    args: &BenchArgs,
    engine: &Arc<Engine>,
    addr: SocketAddr,
    dir: &Path,
) -> Result<(), String> {
    println!("# Pulseboard benchmark\n");
    println!("{}\n", machine());
    if let Some(duration) = args.soak {
        return soak::run(engine, addr, dir, duration, args.soak_rate).await;
    }
    if args.events > 0 {
        ingest(args, engine, addr).await?;
        insert_rates(engine, dir, args.events).await?;
        report_resources(dir);
        if args.format_events > 0 {
            formats::run(engine, addr, args.clients, args.format_events).await?;
        }
        #[cfg(feature = "fault-injection")]
        if args.outage {
            outage(args, engine, addr).await?;
        }
    }
    if args.latency_samples > 0 {
        alert_rules(engine, args.alert_rules)?;
        latency(args.latency_samples, engine, addr, 0).await?;
        if args.latency_load > 0 {
            latency(args.latency_samples, engine, addr, args.latency_load).await?;
        }
    }
    // Without the views the panels would read stale tables: nothing to time.
    let sizes = if args.without_views {
        &[][..]
    } else {
        &args.panel_sizes[..]
    };
    for &size in sizes {
        panels(engine, addr, size, args).await?;
        report_resources(dir);
    }
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Machine: {cores} cores ({cpu}); measured {}",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
}

// ---- 1. ingest ----------------------------------------------------------------------------

async fn ingest(args: &BenchArgs, engine: &Arc<Engine>, addr: SocketAddr) -> Result<(), String> {
    eprintln!("ingest: {} events, {} clients…", args.events, args.clients);
    let stored_before = stored_events(engine).await?;
    let started = Instant::now();
    let (acked, refused) = post_all(args, addr).await?;
    let acked_in = started.elapsed();
    while engine.journal.held_events() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stored_in = started.elapsed();
    let stored = stored_events(engine).await? - stored_before;
    println!("## Ingest end to end (HTTP → journal → chDB)\n");
    println!("| clients | events acknowledged | stored | acknowledged/s | stored/s (until journal empty) | 503 answers | flushes |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {acked} | {stored} | {:.0} | {:.0} | {refused} | {} |\n",
        args.clients,
        acked as f64 / acked_in.as_secs_f64(),
        stored as f64 / stored_in.as_secs_f64(),
        engine.status.flush_count()
    );
    if stored != acked {
        return Err(format!(
            "stored {stored} events but {acked} were acknowledged"
        ));
    }
    Ok(())
}

/// `args.clients` clients post `args.events` events; returns (acknowledged, 503 answers).
async fn post_all(args: &BenchArgs, addr: SocketAddr) -> Result<(u64, u64), String> {
    let bodies = Arc::new(demo_bodies(64));
    post_bodies(addr, "/v1/events", args.clients, bodies, args.events).await
}

/// `clients` clients post `bodies` (500 events each, round robin) to `path` until `total`
/// events were acknowledged; returns (acknowledged, 503 answers).
async fn post_bodies(
    addr: SocketAddr,
    path: &'static str,
    clients: usize,
    bodies: Arc<Vec<Vec<u8>>>,
    total: u64,
) -> Result<(u64, u64), String> {
    let sent = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..clients)
        .map(|_| {
            let (bodies, sent) = (bodies.clone(), sent.clone());
            tokio::spawn(async move { client(addr, path, &bodies, &sent, total).await })
        })
        .collect();
    let mut refused = 0;
    for c in clients {
        refused += c.await.map_err(|e| e.to_string())??;
    }
    Ok((sent.load(Ordering::SeqCst), refused))
}

/// An outage (test builds only: the store is failed on purpose): ingest while everything
/// spills to the journal, then the replay once the store is back.
#[cfg(feature = "fault-injection")]
async fn outage(args: &BenchArgs, engine: &Arc<Engine>, addr: SocketAddr) -> Result<(), String> {
    use crate::storage::store::faults::{self, Fault};
    eprintln!(
        "outage: {} events while the store is down, then the replay…",
        args.events
    );
    let stored_before = stored_events(engine).await?;
    faults::set(Fault::Down);
    let started = Instant::now();
    let posted = post_all(args, addr).await;
    let spill_in = started.elapsed();
    faults::set(Fault::Up);
    let (acked, refused) = posted?;
    let replay_started = Instant::now();
    while engine.journal.held_events() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let replay_in = replay_started.elapsed();
    let stored = stored_events(engine).await? - stored_before;
    println!("## Outage: ingest while spilling, then replay\n");
    println!("| clients | acknowledged while down | acknowledged/s while down | replayed/s | stored | 503 answers |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {acked} | {:.0} | {:.0} | {stored} | {refused} |\n",
        args.clients,
        acked as f64 / spill_in.as_secs_f64(),
        acked as f64 / replay_in.as_secs_f64(),
    );
    if stored != acked {
        return Err(format!(
            "stored {stored} events but {acked} were acknowledged"
        ));
    }
    Ok(())
}

/// Pre-serialised 500-event bodies so the clients measure the server, not JSON encoding.
pub(crate) fn demo_bodies(n: usize) -> Vec<Vec<u8>> {
    let mut model = TrafficModel::new(7, 100_000);
    (0..n)
        .map(|_| {
            let batch: Vec<_> = (0..BATCH).map(|_| model.next_event()).collect();
            serde_json::to_vec(&batch).expect("demo events serialise")
        })
        .collect()
}

/// Posts batches until `total` events were acknowledged overall; returns the 503 count. The
/// clients share one count, and the count picks the body: no body is sent twice while there
/// are bodies enough (bodies with client ids would be acknowledged but stored once).
async fn client(
    addr: SocketAddr,
    path: &str,
    bodies: &[Vec<u8>],
    sent: &AtomicU64,
    total: u64,
) -> Result<u64, String> {
    let http = reqwest::Client::new();
    let url = format!("http://{addr}{path}");
    let mut refused = 0;
    loop {
        let at = sent.fetch_add(BATCH as u64, Ordering::SeqCst);
        if at >= total {
            break;
        }
        let body = &bodies[(at / BATCH as u64) as usize % bodies.len()];
        while post_batch(&http, &url, body).await? == Posted::Full {
            refused += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The last fetch_add overshot: take back what this client did not send.
    sent.fetch_sub(BATCH as u64, Ordering::SeqCst);
    Ok(refused)
}

/// What the server said to one batch.
#[derive(Debug, PartialEq, Eq)]
enum Posted {
    Accepted,
    /// 503: the journal is full; the batch may be sent again later.
    Full,
}

/// Posts one pre-serialised batch; any answer but 2xx or 503 stops the benchmark.
async fn post_batch(http: &reqwest::Client, url: &str, body: &[u8]) -> Result<Posted, String> {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        200..=299 => Ok(Posted::Accepted),
        503 => Ok(Posted::Full),
        s => Err(format!(
            "ingest answered {s}: {}",
            response.text().await.unwrap_or_default()
        )),
    }
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

pub(crate) async fn stored_events(engine: &Engine) -> Result<u64, String> {
    let rows: Vec<Count> = engine
        .store
        .query("SELECT count() AS n FROM events", Vec::new())
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.first().map_or(0, |c| c.n))
}

/// chDB's insert rate for `n` demo events in RATE_CHUNK-row inserts: into a copy of `events`
/// without views (the yardstick for end-to-end ingest), then into `events` itself.
async fn insert_rates(engine: &Engine, dir: &Path, n: u64) -> Result<(), String> {
    eprintln!("insert rates: {n} events straight into chDB…");
    let chunks = demo_rows(n)?;
    let raw = "bench_raw_events";
    execute(engine, format!("DROP TABLE IF EXISTS {raw}")).await?;
    execute(engine, format!("CREATE TABLE {raw} AS events")).await?;
    let file = dir.join("bench-rows.bin");
    let started = Instant::now();
    for rows in &chunks {
        std::fs::write(&file, rows).map_err(|e| e.to_string())?;
        let insert = format!(
            "INSERT INTO {raw} ({}) SELECT * FROM file('{}', 'RowBinary', '{}')",
            rowbinary::COLUMNS,
            file.display(),
            rowbinary::STRUCTURE
        );
        execute(engine, insert).await?;
    }
    let bare = n as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&file);
    execute(engine, format!("DROP TABLE {raw}")).await?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    for (i, rows) in chunks.into_iter().enumerate() {
        engine
            .store
            .insert(rows, &format!("bench-rate-{token}-{i}"))
            .await
            .map_err(|e| e.to_string())?;
    }
    let viewed = n as f64 / started.elapsed().as_secs_f64();
    let views = migrations::views().len();
    println!("## chDB insert rate, same rows ({RATE_CHUNK}-row RowBinary inserts)\n");
    println!("| table | rows/s |\n|---|---|");
    println!("| a copy of `events` without views | {bare:.0} |");
    println!("| `events` with its {views} materialized views | {viewed:.0} |\n");
    Ok(())
}

/// `n` demo events stamped now, RowBinary-encoded in RATE_CHUNK-event chunks.
fn demo_rows(n: u64) -> Result<Vec<Vec<u8>>, String> {
    let mut model = TrafficModel::new(13, 100_000);
    let now_ms = Utc::now().timestamp_millis();
    let mut chunks = Vec::new();
    let mut left = n as usize;
    while left > 0 {
        let size = left.min(RATE_CHUNK);
        let mut rows = Vec::with_capacity(size * 160);
        for _ in 0..size {
            encode_demo(&mut model, now_ms, now_ms, &mut rows)?;
        }
        chunks.push(rows);
        left -= size;
    }
    Ok(chunks)
}

/// Appends the model's next event, stamped `at_ms` and validated as the API would, as RowBinary.
fn encode_demo(
    model: &mut TrafficModel,
    at_ms: i64,
    now_ms: i64,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut value = serde_json::to_value(model.next_event()).expect("demo events serialise");
    value["timestamp"] = at_ms.into();
    let event = event::validate(value, event::TimeBounds::new(now_ms, 90))
        .map_err(|e| format!("demo event rejected: {e}"))?;
    rowbinary::encode(&event, out);
    Ok(())
}

// ---- 2. event-to-panel latency ------------------------------------------------------------

/// From the 202 for one probe event (a new session from PROBE_COUNTRY) to the headline of the
/// dashboard filtered by that country counting it, while `load` events/s of demo traffic
/// arrive in the background (0: none).
/// Replaces the rules with `count` that are judged at every evaluation and never fire.
fn alert_rules(engine: &Engine, count: usize) -> Result<(), String> {
    if count == 0 {
        return Ok(());
    }
    let _ = engine.alerts.delete(crate::delivery::alerts::BUILT_IN_ID);
    let metrics = [
        ("error_rate_pct", "above", 99.0),
        ("events", "above", 1e12),
        ("active_users", "above", 1e9),
        ("events", "below", 0.0),
    ];
    let windows = ["1m", "5m", "15m", "1h"];
    let filters = [
        serde_json::json!({}),
        serde_json::json!({"country": "DE"}),
        serde_json::json!({"device": "mobile"}),
        serde_json::json!({"prop.plan": "pro"}),
    ];
    for i in 0..count {
        let (metric, op, threshold) = metrics[i % metrics.len()];
        let rule = serde_json::json!({"metric": metric, "op": op, "threshold": threshold,
            "for": windows[i / metrics.len() % windows.len()], "min_events": 0,
            "filters": filters[i / 16 % filters.len()]});
        engine
            .alerts
            .put(&format!("bench-{i}"), &rule)
            .map_err(|e| e.to_string())?;
    }
    eprintln!("{count} alert rules in place");
    Ok(())
}

async fn latency(
    samples: usize,
    engine: &Engine,
    addr: SocketAddr,
    load: u64,
) -> Result<(), String> {
    let rules = engine.alerts.list().len();
    eprintln!(
        "latency: {samples} samples, {load} events/s in the background, {rules} alert rules…"
    );
    let flushes_before = engine.status.flush_count();
    let http = reqwest::Client::new();
    let panel = format!("http://{addr}/api/panels/active_users?range=1h&country={PROBE_COUNTRY}");
    let active = |http: reqwest::Client, url: String| async move {
        let v: serde_json::Value = http
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        v["active_users"]["value"]
            .as_u64()
            .ok_or_else(|| format!("unexpected panel: {v}"))
    };
    let background = (load > 0).then(|| Load::start(addr, load));
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let before = active(http.clone(), panel.clone()).await?;
        let body = serde_json::json!([{"event_name": "page_view", "country_code": PROBE_COUNTRY,
            "session_id": format!("latency-{i}-{}", uuid::Uuid::new_v4())}]);
        let response = http
            .post(format!("http://{addr}/v1/events"))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let acked = Instant::now();
        if response.status().as_u16() != 202 {
            return Err(format!("latency probe answered {}", response.status()));
        }
        while active(http.clone(), panel.clone()).await? <= before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        times.push(acked.elapsed());
        // Spread probes over the flush cycle.
        tokio::time::sleep(Duration::from_millis(fastrand::u64(100..1500))).await;
    }
    let backlog = engine.journal.held_events();
    let flushes = engine.status.flush_count() - flushes_before;
    let achieved = match background {
        Some(load) => format!("{:.0}", load.stop().await?),
        None => "0 (a trickle: the probes only)".to_owned(),
    };
    println!("## Event-to-panel latency (default flush: 200 ms minimum gap, 1000 events, 2 s)\n");
    println!(
        "| background load, events/s | alert rules | samples | p50 | p95 | max | flushes | backlog at the end |\n\
         |---|---|---|---|---|---|---|---|"
    );
    println!(
        "| {achieved} | {rules} | {samples} | {} | {} | {} | {flushes} | {backlog} |\n",
        ms(pct(&mut times, 50)),
        ms(pct(&mut times, 95)),
        ms(pct(&mut times, 100))
    );
    Ok(())
}

// ---- 3. panel query latency ---------------------------------------------------------------

async fn panels(
    engine: &Arc<Engine>,
    addr: SocketAddr,
    size: u64,
    args: &BenchArgs,
) -> Result<(), String> {
    let runs = args.runs;
    let have = stored_events(engine).await?;
    if have < size {
        bulk_load(engine, size - have).await?;
    }
    let settled = settle(engine).await?;
    let stored = stored_events(engine).await?;
    eprintln!("panels: timing at {stored} stored events…");
    let views = Scope::new(Range::H24);
    let idle = time_panels(engine, &views, runs).await?;
    let (busy, load) = match args.panel_load {
        0 => (None, "not measured (`--panel-load 0`).".to_owned()),
        rate => {
            let load = Load::start(addr, rate);
            let busy = time_panels(engine, &views, runs).await;
            let achieved = load.stop().await?;
            let load =
                format!("{achieved:.0} events/s posted over HTTP in the background meanwhile.");
            (Some(busy?), load)
        }
    };
    let raw = Scope {
        source: Source::Raw,
        ..views
    };
    let raw = time_panels(engine, &raw, runs).await?;
    println!("## Panel queries, 24h range, {stored} events stored ({runs} runs, cache bypassed)\n");
    println!("Timed {settled} While ingesting: {load}\n");
    println!("| panel | views p50 | views p95 | while ingesting p50 | while ingesting p95 | raw events p50 | raw events p95 |");
    println!("|---|---|---|---|---|---|---|");
    let names = PanelName::ALL
        .iter()
        .map(|p| p.as_str())
        .chain(["**all four**"]);
    for (i, name) in names.enumerate() {
        let (mut v, mut r) = (idle[i].clone(), raw[i].clone());
        let mut b = busy.as_ref().map_or_else(Vec::new, |b| b[i].clone());
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            ms(pct(&mut v, 50)),
            ms(pct(&mut v, 95)),
            ms_or_dash(&mut b, 50),
            ms_or_dash(&mut b, 95),
            ms(pct(&mut r, 50)),
            ms(pct(&mut r, 95))
        );
    }
    println!();
    filtered_panels(engine, stored, runs).await?;
    funnels(engine, stored, runs).await?;
    insights(engine, stored, runs).await?;
    people::people(engine, stored, runs).await?;
    sql(engine, stored, runs).await
}

/// Merges the rollup tables' parts after a bulk load (`OPTIMIZE … FINAL`), as in a store that
/// filled over days and merged long ago; says how long that took. Raw events are left as loaded.
async fn settle(engine: &Engine) -> Result<String, String> {
    let started = Instant::now();
    for (_, table) in migrations::views() {
        execute(engine, format!("OPTIMIZE TABLE {table} FINAL")).await?;
    }
    Ok(format!(
        "after merging the rollup tables' parts (`OPTIMIZE … FINAL`, {:.1} s; raw events as loaded).",
        started.elapsed().as_secs_f64()
    ))
}

/// The four panels under each kind of filter: country and device read the rollups with those
/// dimensions, a property reads raw events.
async fn filtered_panels(engine: &Engine, stored: u64, runs: usize) -> Result<(), String> {
    println!(
        "## Filtered dashboards, 24h range, {stored} events stored ({runs} runs, cache bypassed)\n"
    );
    println!("| filters | all four p50 | all four p95 |");
    println!("|---|---|---|");
    let filters: [&[(&str, &str)]; 4] = [
        &[("country", "DE")],
        &[("device", "mobile")],
        &[("country", "US,GB"), ("device", "desktop")],
        &[("prop.path", "/pricing")],
    ];
    for pairs in filters {
        let scope = Scope {
            filters: Filters::parse(pairs.iter().copied()).map_err(|e| e.to_string())?,
            ..Scope::new(Range::H24)
        };
        let mut all = time_panels(engine, &scope, runs).await?.swap_remove(4);
        let label: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "| `{}` | {} | {} |",
            label.join("&"),
            ms(pct(&mut all, 50)),
            ms(pct(&mut all, 95))
        );
    }
    println!();
    Ok(())
}

/// Times a 3-step funnel over 24h of raw events, alone and broken down.
async fn funnels(engine: &Engine, stored: u64, runs: usize) -> Result<(), String> {
    let definition = serde_json::json!({"steps": [{"event_name": "signup_started"},
        {"event_name": "button_click"}, {"event_name": "signup_completed"}]});
    let funnel = Funnel::parse("bench", &definition).map_err(|e| e.to_string())?;
    println!(
        "## Funnel queries, 24h range, {stored} events stored ({runs} runs, cache bypassed)\n"
    );
    println!("signup_started → button_click → signup_completed, 1h window, per user.\n");
    println!("| breakdown | p50 | p95 |");
    println!("|---|---|---|");
    for breakdown in [
        None,
        Some(Breakdown::Country),
        Some(Breakdown::Prop("method".into())),
    ] {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let window = Window::new(Range::H24, Utc::now());
            let start = Instant::now();
            engine
                .funnels
                .counts(&funnel, &window, &Filters::default(), breakdown.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            times.push(start.elapsed());
        }
        let name = breakdown.map_or_else(|| "none".to_owned(), |b| b.as_text());
        println!(
            "| {name} | {} | {} |",
            ms(pct(&mut times, 50)),
            ms(pct(&mut times, 95))
        );
    }
    println!();
    Ok(())
}

/// Times insights over 24h: counts that read the rollups, and users by a property (raw).
async fn insights(engine: &Engine, stored: u64, runs: usize) -> Result<(), String> {
    println!(
        "## Insight queries, 24h range, {stored} events stored ({runs} runs, cache bypassed)\n"
    );
    println!("Each answer is two queries (totals per group, then every 15-minute bucket of the top 10).\n");
    println!("| insight | reads | p50 | p95 |");
    println!("|---|---|---|---|");
    let cases = [
        (
            "count of page_view, button_click by country",
            serde_json::json!({"events": ["page_view", "button_click"], "breakdown": "country"}),
        ),
        (
            "count of every event by event name",
            serde_json::json!({"breakdown": "event_name"}),
        ),
        (
            "users of page_view by prop.path",
            serde_json::json!({"events": ["page_view"], "measure": "users", "breakdown": "prop.path"}),
        ),
    ];
    for (label, definition) in cases {
        let insight = Insight::parse("bench", &definition).map_err(|e| e.to_string())?;
        let reads = match reads_rollups(&insight, &Filters::default()) {
            true => "count rollups",
            false => "raw events",
        };
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            // A new instant each run: a question the cache has not seen.
            let scope = Scope {
                at: Some(Utc::now()),
                ..Scope::new(Range::H24)
            };
            let start = Instant::now();
            (engine.insights)
                .ask(None, &insight, &scope, false)
                .await
                .map_err(|e| e.to_string())?;
            times.push(start.elapsed());
        }
        println!(
            "| {label} | {reads} | {} | {} |",
            ms(pct(&mut times, 50)),
            ms(pct(&mut times, 95))
        );
    }
    println!();
    Ok(())
}

/// A user's SQL through `Sql::answer` (what `/api/sql` runs: ClickHouse parses it, the guard
/// walks its tree, it runs read-only and the answer is made JSON) against chDB's own time for
/// the statement (its `statistics.elapsed`).
async fn sql(engine: &Engine, stored: u64, runs: usize) -> Result<(), String> {
    println!("## SQL through /api/sql's path, {stored} events stored ({runs} runs)\n");
    println!("| statement | p50 | p95 | ClickHouse's own p50 | overhead p50 |");
    println!("|---|---|---|---|---|");
    let cases = [
        ("SELECT count() FROM events", "SELECT count() FROM events"),
        (
            "10,000 rows as JSON",
            "SELECT event_name, timestamp, session_id, user_id, properties FROM events LIMIT 10000",
        ),
    ];
    for (label, query) in cases {
        let (mut total, mut own) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        for _ in 0..runs {
            let start = Instant::now();
            let answer = engine.sql.answer(query).await.map_err(|e| e.to_string())?;
            let json = serde_json::to_vec(&answer).map_err(|e| e.to_string())?;
            total.push(start.elapsed());
            own.push(Duration::from_secs_f64(answer.elapsed_ms / 1000.0));
            std::hint::black_box(json);
        }
        let (p50, own50) = (pct(&mut total, 50), pct(&mut own, 50));
        println!(
            "| {label} | {} | {} | {} | {} |",
            ms(p50),
            ms(pct(&mut total, 95)),
            ms(own50),
            ms(p50.saturating_sub(own50))
        );
    }
    println!();
    Ok(())
}

/// Times each panel and all four together; returns five lists of durations.
async fn time_panels(
    engine: &Engine,
    scope: &Scope,
    runs: usize,
) -> Result<Vec<Vec<Duration>>, String> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 5];
    for _ in 0..runs {
        let start = Instant::now();
        for (i, name) in PanelName::ALL.into_iter().enumerate() {
            let t = Instant::now();
            engine
                .panels
                .compute(name, scope, Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            times[i].push(t.elapsed());
        }
        times[4].push(start.elapsed());
    }
    Ok(times)
}

/// Writes `n` demo events spread over the last 24 hours straight through the store's insert
/// path (the same RowBinary + deduplication token a flush uses).
async fn bulk_load(engine: &Engine, n: u64) -> Result<(), String> {
    let mut model = TrafficModel::new(11, 100_000);
    let now_ms = Utc::now().timestamp_millis();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let mut loaded = 0;
    while loaded < n {
        let chunk = LOAD_CHUNK.min(n - loaded);
        let mut rows = Vec::with_capacity(chunk as usize * 160);
        for _ in 0..chunk {
            let at_ms = now_ms - fastrand::i64(1..86_400_000);
            encode_demo(&mut model, at_ms, now_ms, &mut rows)?;
        }
        engine
            .store
            .insert(rows, &format!("bench-{run}-{loaded}"))
            .await
            .map_err(|e| e.to_string())?;
        loaded += chunk;
        eprint!(
            "\rbulk load: {loaded}/{n} events ({:.0}/s)",
            loaded as f64 / started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    Ok(())
}

// ---- 4. resources and helpers -------------------------------------------------------------

fn report_resources(dir: &Path) {
    let disk = dir_size(&dir.join("clickhouse")) / (1 << 20);
    println!("Memory: RSS {} MiB, peak RSS {} MiB (engine, HTTP server and load clients in one process); ClickHouse data on disk: {disk} MiB\n", status_mib("VmRSS:"), status_mib("VmHWM:"));
}

/// A memory figure of this process from /proc (`VmRSS:`, `VmHWM:`), in MiB.
fn status_mib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// The journal's files (database, WAL, shared memory) as the disk holds them.
fn journal_on_disk(dir: &Path) -> u64 {
    [
        "journal.sqlite3",
        "journal.sqlite3-wal",
        "journal.sqlite3-shm",
    ]
    .iter()
    .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
    .map(|m| m.len())
    .sum()
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn pct(times: &mut [Duration], p: usize) -> Duration {
    times.sort();
    let i = ((times.len() * p).div_ceil(100)).clamp(1, times.len()) - 1;
    times[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ms_or_dash(times: &mut [Duration], p: usize) -> String {
    match times.is_empty() {
        true => "—".to_owned(),
        false => ms(pct(times, p)),
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

fn tempdir() -> Result<TempDir, String> {
    let dir = std::env::temp_dir().join(format!(
        "pulseboard-bench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(TempDir(dir))
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
