//! The ClickHouse store: where flushed events land and panels are queried.
//!
//! `embedded` runs chDB in process (the default, zero set-up); `server` reaches a team's ClickHouse
//! server, cluster or cloud service over HTTP(S). Every store speaks the same SQL: the schema
//! migrations in `sql/schema/` and the panel queries in `sql/panels/`.

pub mod chdb;
pub mod embedded;
mod error;
pub mod rowbinary;
pub mod server;

use serde::de::DeserializeOwned;

pub use embedded::Embedded;
pub use error::{exception_code, refusal, Refusal, StoreError};
pub use server::{Server, ServerConfig};

/// A ClickHouse identifier Pulseboard will splice into SQL (a database name): a letter or `_`
/// followed by letters, digits or `_`.
pub fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Query parameters bound to `{name:Type}` placeholders: values travel as text and the engine
/// types them, so nothing is spliced into SQL.
pub type Params = Vec<(String, String)>;

/// A `String` parameter's value as ClickHouse reads it from the HTTP interface
/// (`param_<name>`): text with backslashes, quotes, tabs and line breaks escaped. (Other types
/// are written as their literals, `['DE']`, and go as they are.)
pub fn escape_param(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '\'' | '`' => escaped.extend(['\\', c]),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The store behind the batcher and the panels.
// One store per process, behind an `Arc`: the HTTP client's few hundred bytes cost nothing.
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Embedded(Embedded),
    Server(Server),
}

impl Store {
    /// `"embedded"` or `"server"`, as `/health` reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Embedded(_) => "embedded",
            Store::Server(_) => "server",
        }
    }

    /// Inserts RowBinary-encoded events; `token` makes a repeated insert of the same flush a
    /// no-op (ClickHouse insert deduplication).
    pub async fn insert(&self, rows: Vec<u8>, token: &str) -> Result<(), StoreError> {
        faults::check(false)?;
        if let Some(statement) = faults::refused_statement() {
            return self.execute(statement).await;
        }
        match self {
            Store::Embedded(s) => s.insert(rows, token).await?,
            Store::Server(s) => s.insert(rows, token).await?,
        }
        faults::check(true)
    }

    /// Runs a statement that returns nothing.
    pub async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Store::Embedded(s) => s.execute(sql).await,
            Store::Server(s) => s.execute(sql).await,
        }
    }

    /// Runs a query and decodes its rows (JSONEachRow).
    pub async fn query<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: Params,
    ) -> Result<Vec<T>, StoreError> {
        faults::check(false)?;
        let bytes = match self {
            Store::Embedded(s) => s.query(sql, params).await?,
            Store::Server(s) => s.query(sql, params).await?,
        };
        bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| {
                serde_json::from_slice(line).map_err(|e| {
                    StoreError::Decode(format!("{e} in {}", String::from_utf8_lossy(line)))
                })
            })
            .collect()
    }

    /// Runs a statement a user wrote and answers the engine's output in `format` (a `FORMAT`
    /// clause wins). `params` are already in the escaped text form ([`escape_param`]);
    /// `settings` apply to this statement only, in order.
    pub async fn raw(
        &self,
        sql: &str,
        format: &str,
        params: &Params,
        settings: &[(String, String)],
    ) -> Result<Vec<u8>, StoreError> {
        faults::check(false)?;
        match self {
            Store::Embedded(s) => s.raw(sql, format, params, settings).await,
            Store::Server(s) => s.raw(sql, format, params, settings).await,
        }
    }

    /// Applies the schema migrations that are not yet recorded.
    pub async fn migrate(&self, retention_days: u32) -> Result<Vec<&'static str>, StoreError> {
        migrations::apply(self, retention_days, migrations::MIGRATIONS).await
    }

    /// Releases the store (for chDB: closes the engine so the process can exit cleanly).
    pub async fn close(&self) {
        match self {
            Store::Embedded(s) => s.close().await,
            Store::Server(s) => s.close().await,
        }
    }
}

/// The schema of one store, applied once: when the engine starts, or, for a server that was down
/// then, before its first flush.
pub struct Schema {
    retention_days: u32,
    applied: tokio::sync::OnceCell<()>,
}

impl Schema {
    pub fn new(retention_days: u32) -> Self {
        Self {
            retention_days,
            applied: tokio::sync::OnceCell::new(),
        }
    }

    pub async fn ensure(&self, store: &Store) -> Result<(), StoreError> {
        let apply = || async {
            let applied = store.migrate(self.retention_days).await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "schema migrations applied");
            }
            Ok(())
        };
        self.applied.get_or_try_init(apply).await.map(drop)
    }
}

pub mod migrations;

/// Fault injection for tests: makes the store fail as an unreachable server would, or lose the
/// acknowledgement of an insert that did land. Compiled only with the `fault-injection` feature,
/// so a release build has no such switch.
pub mod faults {
    /// How the store misbehaves.
    #[cfg(feature = "fault-injection")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Fault {
        /// Normal operation.
        Up,
        /// Every call fails before reaching ClickHouse.
        Down,
        /// Inserts reach ClickHouse, then report failure (a reply lost on the way back).
        LoseAck,
        /// Inserts send ClickHouse a statement it refuses for good (an unknown table).
        BadStatement,
    }

    #[cfg(feature = "fault-injection")]
    static FAULT: std::sync::Mutex<Fault> = std::sync::Mutex::new(Fault::Up);

    /// Sets the store's behaviour.
    #[cfg(feature = "fault-injection")]
    pub fn set(fault: Fault) {
        *FAULT.lock().unwrap_or_else(|p| p.into_inner()) = fault;
    }

    /// Fails when the store is down (`after` false) or when inserts lose their ack (`after` true).
    #[cfg(feature = "fault-injection")]
    pub(super) fn check(after: bool) -> Result<(), super::StoreError> {
        let fault = *FAULT.lock().unwrap_or_else(|p| p.into_inner());
        match (fault, after) {
            (Fault::Down, false) | (Fault::LoseAck, true) => Err(super::StoreError::Injected),
            _ => Ok(()),
        }
    }

    /// In `BadStatement` mode, the statement to send instead of an insert.
    #[cfg(feature = "fault-injection")]
    pub(super) fn refused_statement() -> Option<&'static str> {
        let fault = *FAULT.lock().unwrap_or_else(|p| p.into_inner());
        (fault == Fault::BadStatement)
            .then_some("INSERT INTO table_that_fault_injection_never_creates VALUES (1)")
    }

    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub(super) fn check(_after: bool) -> Result<(), super::StoreError> {
        Ok(())
    }

    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub(super) fn refused_statement() -> Option<&'static str> {
        None
    }
}
