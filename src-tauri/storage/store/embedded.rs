//! The embedded store: chDB in process, data under `<data-dir>/clickhouse`.
//!
//! chDB calls block, so they run on tokio's blocking pool behind one mutex (one connection per
//! process). A flush is written to a spool file and inserted with `INSERT … SELECT FROM file()`:
//! inline RowBinary aborts chDB above ~800 KB, and one INSERT per flush keeps parts few.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::chdb::{self, Chdb};
use super::rowbinary;
use super::{Params, StoreError};

/// The embedded ClickHouse engine.
pub struct Embedded {
    engine: Arc<Mutex<Option<Chdb>>>,
    spool: PathBuf,
}

impl Embedded {
    /// Opens chDB on `data_dir` and makes `database` the session's database.
    pub async fn open(data_dir: &Path, database: &str) -> Result<Self, StoreError> {
        check_identifier(database)?;
        let library = chdb::find_library()?;
        let path = data_dir.join("clickhouse");
        let spool = data_dir.join("spool");
        std::fs::create_dir_all(&spool)?;
        let setup = format!("CREATE DATABASE IF NOT EXISTS {database}");
        let use_db = format!("USE {database}");
        let engine = tokio::task::spawn_blocking(move || {
            let mut engine = Chdb::open(&library, &path)?;
            engine.query(setup.as_bytes(), "TSV")?;
            engine.query(use_db.as_bytes(), "TSV")?;
            Ok::<_, StoreError>(engine)
        })
        .await
        .expect("chDB open panicked")?;
        Ok(Self {
            engine: Arc::new(Mutex::new(Some(engine))),
            spool,
        })
    }

    async fn with_engine<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Chdb) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = engine.lock().unwrap_or_else(|p| p.into_inner());
            f(guard.as_mut().ok_or(StoreError::Closed)?)
        })
        .await
        .expect("chDB call panicked")
    }

    pub async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        let sql = sql.to_owned();
        self.with_engine(move |e| e.query(sql.as_bytes(), "TSV").map(drop))
            .await
    }

    pub async fn query(&self, sql: &str, params: Params) -> Result<Vec<u8>, StoreError> {
        let sql = sql.to_owned();
        self.with_engine(move |e| e.query_with_params(&sql, "JSONEachRow", &params))
            .await
    }

    /// `settings` become the statement's own `SETTINGS` clause, after any `FORMAT` (ClickHouse
    /// takes it there): chDB's one session must not keep them.
    pub async fn raw(
        &self,
        sql: &str,
        format: &str,
        params: &Params,
        settings: &[(String, String)],
    ) -> Result<Vec<u8>, StoreError> {
        let mut sql = sql.to_owned();
        if !settings.is_empty() {
            let clause = settings
                .iter()
                .map(|(name, value)| format!("{name} = {}", setting_value(value)))
                .collect::<Vec<_>>();
            sql = format!("{sql}\nSETTINGS {}", clause.join(", "));
        }
        let (format, params) = (format.to_owned(), params.clone());
        self.with_engine(move |e| e.query_with_params(&sql, &format, &params))
            .await
    }

    pub async fn insert(&self, rows: Vec<u8>, token: &str) -> Result<(), StoreError> {
        check_token(token)?;
        let file = self.spool.join(format!("{token}.bin"));
        let sql = format!(
            "INSERT INTO events ({}) SETTINGS insert_deduplication_token = '{token}' \
             SELECT * FROM file('{}', 'RowBinary', '{}')",
            rowbinary::COLUMNS,
            escape(&file),
            rowbinary::STRUCTURE,
        );
        self.with_engine(move |e| {
            std::fs::write(&file, &rows)?;
            let result = e.query(sql.as_bytes(), "TSV").map(drop);
            // The journal still holds these rows; the file only carries this attempt.
            let _ = std::fs::remove_file(&file);
            result
        })
        .await
    }

    pub async fn close(&self) {
        let engine = self.engine.clone();
        let _ = tokio::task::spawn_blocking(move || {
            engine.lock().unwrap_or_else(|p| p.into_inner()).take();
        })
        .await;
    }
}

/// A number as it is, anything else as a quoted string (ClickHouse parses a setting from
/// either).
fn setting_value(value: &str) -> String {
    if value.parse::<f64>().is_ok_and(f64::is_finite) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn check_identifier(name: &str) -> Result<(), StoreError> {
    if super::is_identifier(name) {
        return Ok(());
    }
    Err(StoreError::Statement(format!(
        "database name {name:?} must be a letter or _ followed by letters, digits or _"
    )))
}

// Tokens are made by the journal (a UUID and a number); refuse anything else rather than quote it.
fn check_token(token: &str) -> Result<(), StoreError> {
    if !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
    {
        Ok(())
    } else {
        Err(StoreError::Statement(format!(
            "invalid deduplication token {token:?}"
        )))
    }
}

fn escape(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('\'', "\\'")
}
