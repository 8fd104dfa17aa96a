//! The command line: `pulseboard [serve|demo|bench]`. Every flag also reads `PULSEBOARD_<FLAG>`.

pub mod bench;
pub mod demo;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::engine::instance::{Endpoint, Instance, InstanceError};
use crate::engine::{ConfigError, EngineConfig};
use crate::http::{Access, Limits};
use crate::support::duration;
use crate::support::secret::Sensitive;

/// Why a command failed; `main` prints it and exits 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error(transparent)]
    Demo(#[from] crate::cli::demo::DemoError),
    #[error(transparent)]
    Profile(#[from] crate::storage::profiles::cli::ProfileCliError),
    #[error(transparent)]
    Bench(#[from] crate::cli::bench::BenchError),
    #[error(transparent)]
    Engine(#[from] crate::storage::libchdb::cli::EngineCliError),
    /// `export` could not fetch or write the image; the message says what to do.
    #[error("{0}")]
    Export(String),
    /// The window could not open; the message says what to do.
    #[error("{0}")]
    Window(String),
}

#[derive(Debug, Parser)]
#[command(
    name = "pulseboard",
    version,
    about = "Live product analytics on your laptop: a local ingest endpoint, embedded ClickHouse, live panels.",
    long_about = "Live product analytics on your laptop.\n\n\
        Your product POSTs events to a local endpoint; Pulseboard keeps them durable in a SQLite \
        journal, batches them into ClickHouse (embedded chDB, nothing to install) and keeps four \
        panels live: active users, signup funnel, top features, error rate.\n\n\
        Window:  pulseboard                  (the dashboard; takes the same flags as serve)\n\
        Start:   pulseboard serve            (headless: http://127.0.0.1:8787/api/panels)\n\
        Traffic: pulseboard demo --rate 2000 --duration 60s\n\
        Export:  pulseboard export --range 24h --out dashboard.png\n\
        Send:    curl -X POST http://127.0.0.1:8787/v1/events -H 'Content-Type: application/json' \\\n\
        \x20          -d '[{\"event_name\":\"page_view\",\"session_id\":\"s1\"}]'"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: the dashboard window, running the same engine as `serve`.
    #[command(flatten)]
    pub window: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine with no window: ingest, store and /api/panels.
    Serve(ServeArgs),
    /// Send realistic product traffic to a running Pulseboard.
    Demo(DemoArgs),
    /// Measure ingest throughput, event-to-panel latency and panel query latency.
    Bench(crate::cli::bench::BenchArgs),
    /// Save the whole dashboard of a running Pulseboard as a PNG.
    Export(ExportArgs),
    /// Manage connection profiles (ClickHouse servers; passwords in the OS keychain).
    Profile {
        #[command(subcommand)]
        command: crate::storage::profiles::cli::ProfileCommand,
    },
    /// Install the embedded ClickHouse engine (libchdb) into the user's cache, or show where it is.
    Engine {
        #[command(subcommand)]
        command: crate::storage::libchdb::cli::EngineCommand,
    },
}

/// Options shared by everything that runs an engine.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Where the journal and the embedded ClickHouse data live [default: the platform's data
    /// directory, e.g. ~/.local/share/pulseboard]
    #[arg(long, env = "PULSEBOARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Flush to ClickHouse at least this often (e.g. 500ms, 2s, 1m)
    #[arg(long, env = "PULSEBOARD_FLUSH_INTERVAL", default_value = "2s", value_parser = duration::parse)]
    pub flush_interval: Duration,
    /// The shortest gap between two flushes: events reach the panels within about this long
    /// (e.g. 200ms; 0 flushes as soon as anything waits)
    #[arg(long, env = "PULSEBOARD_FLUSH_MIN_INTERVAL", default_value = "200ms", value_parser = duration::parse)]
    pub flush_min_interval: Duration,
    /// Flush as soon as this many events are waiting
    #[arg(long, env = "PULSEBOARD_FLUSH_SIZE", default_value_t = 1000)]
    pub flush_size: u64,
    /// Largest flush (events) under load; bigger backlogs go in several flushes
    #[arg(long, env = "PULSEBOARD_MAX_FLUSH", default_value_t = 200_000)]
    pub max_flush: u64,
    /// Stop accepting (503 + Retry-After) when the journal holds this much (e.g. 512MiB, 1GiB)
    #[arg(long, env = "PULSEBOARD_JOURNAL_CAP", default_value = "1GiB", value_parser = parse_size)]
    pub journal_cap: u64,
    /// Remember each client-given event id this long, so a client's re-send is acknowledged
    /// but stored once (e.g. 24h, 7d; 1m to 30d). Costs about 16 bytes of memory and of disk
    /// per id: 24h at 5,000 ids/s is about 7 GB of each (docs/BENCHMARKS.md)
    #[arg(long, env = "PULSEBOARD_DEDUP_WINDOW", default_value = "24h", value_parser = duration::parse)]
    pub dedup_window: Duration,
    /// Largest request body for /v1/events (e.g. 1MiB)
    #[arg(long, env = "PULSEBOARD_BODY_LIMIT", default_value = "1MiB", value_parser = parse_size)]
    pub body_limit: u64,
    /// Keep raw events this many days (set when the table is first created)
    #[arg(long, env = "PULSEBOARD_RETENTION_DAYS", default_value_t = 90)]
    pub retention_days: u32,
    /// Connection profile to store events in (`embedded`, or one added with `pulseboard profile
    /// add`) [default: the active profile, see `pulseboard profile list`]
    #[arg(long, env = "PULSEBOARD_PROFILE")]
    pub profile: Option<String>,
    /// Give up on one ClickHouse server call after this long (server profiles)
    #[arg(long, env = "PULSEBOARD_STORE_TIMEOUT", default_value = "30s", value_parser = duration::parse)]
    pub store_timeout: Duration,
    /// Stop a SQL statement (/api/sql, /clickhouse, the SQL view) after this long. The
    /// embedded engine answers one statement at a time: flushes and the dashboard wait
    /// behind a long one, at most this long
    #[arg(long, env = "PULSEBOARD_SQL_TIMEOUT", default_value = "10s", value_parser = duration::parse)]
    pub sql_timeout: Duration,
    /// Answer at most this many rows of a SQL statement (/api/sql says `truncated`)
    #[arg(long, env = "PULSEBOARD_SQL_MAX_ROWS", default_value_t = 10_000)]
    pub sql_max_rows: usize,
}

impl EngineArgs {
    /// The engine configuration these flags describe, checked.
    pub fn config(&self) -> Result<EngineConfig, ConfigError> {
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => EngineConfig::default_data_dir()?,
        };
        let mut config = EngineConfig::new(data_dir);
        config.flush.flush_interval = self.flush_interval;
        config.flush.flush_min_interval = self.flush_min_interval;
        config.flush.flush_size = self.flush_size;
        config.flush.max_flush_events = self.max_flush;
        config.journal_cap_bytes = self.journal_cap;
        config.dedup_window = self.dedup_window;
        config.body_limit = usize::try_from(self.body_limit).unwrap_or(usize::MAX);
        config.retention_days = self.retention_days;
        config.store_timeout = self.store_timeout;
        config.sql.timeout = self.sql_timeout;
        config.sql.max_rows = self.sql_max_rows;
        config.validate()?;
        config.use_profile(self.profile.as_deref())?;
        Ok(config)
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port for the ingest endpoint and the API (0 picks a free one)
    #[arg(long, env = "PULSEBOARD_PORT", default_value_t = 8787)]
    pub port: u16,
    /// Address to listen on; any address but loopback needs an ingest token
    #[arg(long, env = "PULSEBOARD_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Ingest token: clients must send `Authorization: Bearer <token>`. Set it through the
    /// environment, not the command line, where other users can read it
    #[arg(long, env = "PULSEBOARD_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<String>,
    /// Origins whose web pages may send events (browser SDKs), comma-separated, e.g.
    /// https://app.example.com,http://localhost:3000; `*` allows any. A page on any other
    /// origin is refused (403) [default: none]
    #[arg(long, env = "PULSEBOARD_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Host names requests may use besides localhost, 127.0.0.1 and [::1] when bound to the
    /// loopback (a reverse proxy's), comma-separated; others get 421 [default: none]
    #[arg(long, env = "PULSEBOARD_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Connections served at once; more wait until one closes
    #[arg(long, env = "PULSEBOARD_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The Pulseboard to send to
    #[arg(long, env = "PULSEBOARD_URL", default_value = "http://127.0.0.1:8787")]
    pub url: String,
    /// Events per second
    #[arg(long, env = "PULSEBOARD_RATE", default_value_t = 2000)]
    pub rate: u32,
    /// How long to send (e.g. 30s, 5m)
    #[arg(long, env = "PULSEBOARD_DURATION", default_value = "60s", value_parser = duration::parse)]
    pub duration: Duration,
    /// The instance's ingest token, if it requires one (from the environment only)
    #[arg(skip = std::env::var("PULSEBOARD_INGEST_TOKEN").ok())]
    pub ingest_token: Option<String>,
    /// The story the traffic tells: steady, or campaign (signups through email verification,
    /// two hours of history first, Gmail users losing ~40 % at verification for a while)
    #[arg(long, env = "PULSEBOARD_SCENARIO", value_enum, default_value_t)]
    pub scenario: crate::cli::demo::Scenario,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The Pulseboard to read (the window or `serve`)
    #[arg(long, env = "PULSEBOARD_URL", default_value = "http://127.0.0.1:8787")]
    pub url: String,
    /// Time range: 1h, 6h or 24h
    #[arg(long, env = "PULSEBOARD_RANGE", default_value = "24h")]
    pub range: String,
    /// The PNG file to write
    #[arg(long, env = "PULSEBOARD_OUT")]
    pub out: PathBuf,
    /// The instance's ingest token, if it requires one (from the environment only)
    #[arg(skip = std::env::var("PULSEBOARD_INGEST_TOKEN").ok())]
    pub ingest_token: Option<String>,
}

/// Runs `pulseboard export`: fetches the instance's dashboard PNG and writes it atomically.
pub async fn export(args: ExportArgs) -> Result<(), CliError> {
    fetch_png(args).await.map_err(CliError::Export)
}

async fn fetch_png(args: ExportArgs) -> Result<(), String> {
    let range = crate::questions::panels::Range::parse(&args.range)
        .ok_or_else(|| format!("--range must be 1h, 6h or 24h (got {:?})", args.range))?;
    let base = args.url.trim_end_matches('/');
    let mut request = reqwest::Client::new()
        .get(format!("{base}/api/dashboard.png"))
        .query(&[("range", &range.to_string())]);
    let sent_token = args.ingest_token.is_some();
    if let Some(token) = args.ingest_token.map(Sensitive::from) {
        request = request.bearer_auth(token.expose());
    }
    let response = request.send().await.map_err(|e| {
        format!("no Pulseboard answers at {base} ({e}); start it with `pulseboard` or `pulseboard serve`, or pass --url")
    })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{base} stopped answering mid-way ({e}); try again"))?;
    if status == reqwest::StatusCode::UNAUTHORIZED {
        let what = if sent_token {
            "refused PULSEBOARD_INGEST_TOKEN"
        } else {
            "requires an ingest token"
        };
        return Err(format!(
            "{base} {what}: set PULSEBOARD_INGEST_TOKEN to the token it was started with"
        ));
    }
    // Another program on that port answers a web page or a 404: never save that as a PNG.
    let is_png = body.starts_with(b"\x89PNG\r\n\x1a\n");
    if status == reqwest::StatusCode::NOT_FOUND || (status.is_success() && !is_png) {
        return Err(format!(
            "{base} is not a Pulseboard (it answered {status} without a dashboard); pass the address of `pulseboard serve` or the window with --url"
        ));
    }
    if !status.is_success() {
        // Pulseboard's own errors are one short JSON line; cut anything else (a proxy's page).
        let said: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(format!("{base} answered {status}: {}", said.trim()));
    }
    write_atomically(&args.out, &body)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let (w, h) = crate::questions::panels::DASHBOARD_PNG_SIZE;
    println!("wrote {} ({w}x{h}, {})", args.out.display(), range);
    Ok(())
}

/// Writes `path` whole or not at all: a reader never sees half an image, and a failed write
/// leaves no partial file behind.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let part = path.with_extension("png.part");
    let written = std::fs::write(&part, bytes).and_then(|()| std::fs::rename(&part, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}

/// Parses `1048576`, `512KiB`, `1MiB`, `1GiB` (also KB/MB/GB, as binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 1MiB or 1GiB"))?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {s:?}; use KiB, MiB or GiB"
            ))
        }
    };
    Ok(n * scale)
}

impl ServeArgs {
    /// Where to serve the API and who may call it.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            addr: SocketAddr::new(self.bind, self.port),
            access: Access {
                token: self.ingest_token.clone().map(Sensitive::from),
                cors_origins: self.cors_origins.clone(),
                allowed_hosts: self.allowed_hosts.clone(),
            },
            limits: Limits {
                max_connections: self.max_connections,
                ..Limits::default()
            },
        }
    }
}

/// Runs `pulseboard serve` until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let endpoint = args.endpoint();
    // Before opening anything: a refused bind should not wait for the store.
    endpoint
        .access
        .check(args.bind)
        .map_err(|e| InstanceError::Serve(e.into()))?;
    let config = args.engine.config()?;
    let data_dir = config.data_dir.clone();
    let instance = Instance::start(config, endpoint).await?;
    announce(&instance.url(), &data_dir);
    shutdown_signal().await;
    eprintln!("stopping: flushing what is waiting…");
    instance.stop().await;
    Ok(())
}

/// Runs `pulseboard demo` with a live progress line and a summary.
pub async fn demo(args: DemoArgs) -> Result<(), CliError> {
    let options = crate::cli::demo::DemoOptions {
        url: args.url,
        rate: args.rate,
        duration: args.duration,
        token: args.ingest_token.map(Sensitive::from),
        scenario: args.scenario,
    };
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let started = std::time::Instant::now();
    let summary = crate::cli::demo::run(options, stop, crate::cli::demo::print_progress).await?;
    eprintln!();
    crate::cli::demo::print_summary(&summary, started.elapsed());
    Ok(())
}

fn announce(url: &str, data_dir: &std::path::Path) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Pulseboard listening on {url}");
    let _ = writeln!(out, "  data:   {}", data_dir.display());
    let _ = writeln!(out, "  send:   {}", crate::http::curl_example(url));
    let _ = writeln!(out, "  demo:   pulseboard demo --url {url}");
    let _ = writeln!(out, "  panels: {url}/api/panels?range=1h");
    let _ = out.flush();
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("1TiB").is_err());
    }

    #[test]
    fn flags_have_environment_variables() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        let serve = cmd.find_subcommand("serve").unwrap();
        for arg in serve.get_arguments().filter(|a| a.get_long().is_some()) {
            let long = arg.get_long().unwrap();
            let env = format!("PULSEBOARD_{}", long.to_uppercase().replace('-', "_"));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(env.as_str()),
                "--{long}"
            );
        }
    }
}
