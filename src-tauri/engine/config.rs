//! What the engine needs to start, built and checked here so that `serve`, the window and the
//! benchmarks refuse the same bad values with the same words (nothing is clamped silently).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::delivery::alerts::Channels;
use crate::questions::sql::SqlLimits;
use crate::storage::batcher::FlushPolicy;
use crate::storage::profiles::{self, ProfileError, EMBEDDED};
use crate::storage::store::ServerConfig;
use crate::support::clock::Clock;

/// Everything the engine needs to start. Each field is the flag of the same name (`serve
/// --help`), so errors name the flag.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the journal and the embedded ClickHouse data live.
    pub data_dir: PathBuf,
    /// When the batcher flushes (`--flush-size`, `--flush-interval`, `--flush-min-interval`,
    /// `--max-flush`).
    pub flush: FlushPolicy,
    /// The journal refuses new events (503) above this many bytes held (`--journal-cap`).
    pub journal_cap_bytes: u64,
    /// A client's event id is remembered at least this long, so a re-send is stored once
    /// (`--dedup-window`).
    pub dedup_window: Duration,
    /// The largest request body the ingest routes read (`--body-limit`).
    pub body_limit: usize,
    /// ClickHouse database for the embedded store.
    pub database: String,
    /// The connection profile in use (`embedded` or a server profile's name).
    pub profile: String,
    /// A team's ClickHouse server to use instead of the embedded store (from the profile).
    pub server: Option<ServerConfig>,
    /// Finds another profile's server (`None`: the embedded store), for events the journal
    /// still holds from a run with that profile.
    pub resolve_profile: ProfileResolver,
    /// Raw events older than this are dropped by ClickHouse (TTL) (`--retention-days`).
    pub retention_days: u32,
    /// A server profile's call gives up after this long (`--store-timeout`).
    pub store_timeout: Duration,
    /// "Now" for event time and panels: the system clock but in tests.
    pub clock: Clock,
    /// Where alert transitions go besides a rule's webhook (the window's desktop notifications).
    pub alert_channels: Channels,
    /// What one statement of a user's SQL may take (`--sql-timeout`, `--sql-max-rows`).
    pub sql: SqlLimits,
}

/// A setting outside its rule, or a profile that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("--{setting} {rule} (got {got})")]
    Invalid {
        setting: &'static str,
        rule: String,
        got: String,
    },
    #[error("this user has no data directory on this platform: pass --data-dir")]
    NoDataDir,
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Longest flush interval: past it a trickle of events would wait longer than anyone watches.
const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(3600);
const MIN_FLUSH_INTERVAL: Duration = Duration::from_millis(10);
const MIN_BODY_LIMIT: usize = 1 << 10;
/// A request body is held in memory while it is parsed.
const MAX_BODY_LIMIT: usize = 64 << 20;
const MIN_JOURNAL_CAP: u64 = 1 << 10;
/// Shorter than a client's retry schedule would let re-sends through.
const MIN_DEDUP_WINDOW: Duration = Duration::from_secs(60);
/// Memory grows with the window (about 16 bytes per id): a month of ids is plenty.
const MAX_DEDUP_WINDOW: Duration = Duration::from_secs(30 * 86_400);
/// ClickHouse's `DateTime` ends in 2106; ten years is past any campaign.
const MAX_RETENTION_DAYS: u32 = 3650;
const MIN_SQL_TIMEOUT: Duration = Duration::from_millis(100);
// A user's statement holds the embedded engine (one connection) for up to this long.
const MAX_SQL_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_SQL_ROWS: usize = 1_000_000;

impl EngineConfig {
    /// The defaults of `pulseboard serve`, on `data_dir`, with the embedded store.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            flush: FlushPolicy {
                flush_size: 1000,
                flush_interval: Duration::from_secs(2),
                flush_min_interval: Duration::from_millis(200),
                max_flush_events: 200_000,
            },
            journal_cap_bytes: 1 << 30,
            dedup_window: Duration::from_secs(86_400),
            body_limit: 1 << 20,
            database: "pulseboard".into(),
            profile: EMBEDDED.into(),
            server: None,
            resolve_profile: ProfileResolver(Arc::new(embedded_only)),
            retention_days: 90,
            store_timeout: Duration::from_secs(30),
            clock: Clock::system(),
            alert_channels: Channels::default(),
            sql: SqlLimits::default(),
        }
    }

    /// The platform's data directory for Pulseboard (e.g. `~/.local/share/pulseboard`).
    pub fn default_data_dir() -> Result<PathBuf, ConfigError> {
        directories::ProjectDirs::from("dev", "pulseboard", "pulseboard")
            .map(|dirs| dirs.data_dir().to_owned())
            .ok_or(ConfigError::NoDataDir)
    }

    /// Stores in `profile` (default: the active one), with its password from the keychain.
    /// Events the journal holds for another profile are delivered through the same profiles
    /// file. Call it after setting `store_timeout`.
    pub fn use_profile(&mut self, profile: Option<&str>) -> Result<(), ConfigError> {
        let store_timeout = self.store_timeout;
        let resolve = move |name: &str| -> Result<Option<ServerConfig>, ProfileError> {
            if name == EMBEDDED {
                return Ok(None);
            }
            Ok(profiles::open()?
                .store_for(name)?
                .server_config(store_timeout))
        };
        let name = match profile {
            Some(name) => name.to_string(),
            None => profiles::open()?.active_name().to_string(),
        };
        self.server = resolve(&name)?;
        self.profile = name;
        self.resolve_profile = ProfileResolver(Arc::new(resolve));
        Ok(())
    }

    /// Checks every setting against its rule; the error names the first one that breaks it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let flush = &self.flush;
        let interval = flush.flush_interval;
        if !(MIN_FLUSH_INTERVAL..=MAX_FLUSH_INTERVAL).contains(&interval) {
            return Err(invalid(
                "flush-interval",
                "must be between 10ms and 1h",
                format!("{interval:?}"),
            ));
        }
        if flush.flush_min_interval > MAX_FLUSH_INTERVAL {
            return Err(invalid(
                "flush-min-interval",
                "must be at most 1h",
                format!("{:?}", flush.flush_min_interval),
            ));
        }
        if flush.flush_size == 0 {
            return Err(invalid("flush-size", "must be at least 1 event", "0"));
        }
        if flush.max_flush_events < flush.flush_size {
            return Err(invalid(
                "max-flush",
                format!("must be at least --flush-size ({})", flush.flush_size),
                flush.max_flush_events.to_string(),
            ));
        }
        if self.journal_cap_bytes < MIN_JOURNAL_CAP {
            return Err(invalid(
                "journal-cap",
                "must be at least 1KiB",
                format!("{} bytes", self.journal_cap_bytes),
            ));
        }
        if !(MIN_DEDUP_WINDOW..=MAX_DEDUP_WINDOW).contains(&self.dedup_window) {
            return Err(invalid(
                "dedup-window",
                "must be between 1m and 30d",
                format!("{:?}", self.dedup_window),
            ));
        }
        if !(MIN_BODY_LIMIT..=MAX_BODY_LIMIT).contains(&self.body_limit) {
            return Err(invalid(
                "body-limit",
                "must be between 1KiB and 64MiB",
                format!("{} bytes", self.body_limit),
            ));
        }
        if !(1..=MAX_RETENTION_DAYS).contains(&self.retention_days) {
            return Err(invalid(
                "retention-days",
                "must be between 1 and 3650",
                self.retention_days.to_string(),
            ));
        }
        if !(MIN_SQL_TIMEOUT..=MAX_SQL_TIMEOUT).contains(&self.sql.timeout) {
            return Err(invalid(
                "sql-timeout",
                "must be between 100ms and 10m",
                format!("{:?}", self.sql.timeout),
            ));
        }
        if !(1..=MAX_SQL_ROWS).contains(&self.sql.max_rows) {
            return Err(invalid(
                "sql-max-rows",
                "must be between 1 and 1000000",
                self.sql.max_rows.to_string(),
            ));
        }
        if self.store_timeout.is_zero() {
            return Err(invalid("store-timeout", "must be more than 0", "0s"));
        }
        if !crate::storage::store::is_identifier(&self.database) {
            return Err(invalid(
                "database",
                "must be a letter or _ followed by letters, digits or _",
                &self.database,
            ));
        }
        Ok(())
    }
}

fn invalid(setting: &'static str, rule: impl Into<String>, got: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        setting,
        rule: rule.into(),
        got: got.to_string(),
    }
}

/// Looks up a profile's server by name (see [`EngineConfig::resolve_profile`]).
#[derive(Clone)]
pub struct ProfileResolver(pub Arc<ResolveFn>);

/// A profile name → its server (`None`: the embedded store), or why not.
pub type ResolveFn = dyn Fn(&str) -> Result<Option<ServerConfig>, ProfileError> + Send + Sync;

impl std::fmt::Debug for ProfileResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProfileResolver")
    }
}

/// The resolver that knows only the built-in embedded store.
fn embedded_only(name: &str) -> Result<Option<ServerConfig>, ProfileError> {
    if name == EMBEDDED {
        return Ok(None);
    }
    Err(ProfileError::NotFound {
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_setting_is_named_with_its_rule() {
        type Change = fn(&mut EngineConfig);
        let cases: [(Change, &str); 9] = [
            (
                |c| c.flush.flush_size = 0,
                "--flush-size must be at least 1 event (got 0)",
            ),
            (
                |c| c.flush.max_flush_events = 10,
                "--max-flush must be at least --flush-size (1000) (got 10)",
            ),
            (
                |c| c.flush.flush_interval = Duration::ZERO,
                "--flush-interval must be between 10ms and 1h (got 0ns)",
            ),
            (
                |c| c.flush.flush_interval = Duration::from_secs(7200),
                "--flush-interval must be between 10ms and 1h (got 7200s)",
            ),
            (
                |c| c.journal_cap_bytes = 10,
                "--journal-cap must be at least 1KiB (got 10 bytes)",
            ),
            (
                |c| c.dedup_window = Duration::from_secs(1),
                "--dedup-window must be between 1m and 30d (got 1s)",
            ),
            (
                |c| c.body_limit = 1 << 30,
                "--body-limit must be between 1KiB and 64MiB (got 1073741824 bytes)",
            ),
            (
                |c| c.retention_days = 0,
                "--retention-days must be between 1 and 3650 (got 0)",
            ),
            (
                |c| c.database = "1db".into(),
                "--database must be a letter or _ followed by letters, digits or _ (got 1db)",
            ),
        ];
        let defaults = EngineConfig::new("/tmp/x".into());
        assert!(defaults.validate().is_ok());
        for (change, expected) in cases {
            let mut config = defaults.clone();
            change(&mut config);
            assert_eq!(config.validate().unwrap_err().to_string(), expected);
        }
    }
}
