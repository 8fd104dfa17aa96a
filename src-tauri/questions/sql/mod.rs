//! SQL for analysts and their tools: one read-only statement a user wrote, checked on what
//! ClickHouse parsed (`guard.rs`), run on the store's database under limits the statement
//! cannot lift. `/api/sql` and the window read its [`Answer`]; `/clickhouse` passes the
//! engine's own output through in the format the client asked for ([`Sql::output`]).

pub mod chart;
pub mod guard;
pub mod saved;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::questions::shelf::Shelf;
use crate::storage::store::{escape_param, Params, Store, StoreError};
use crate::support::csv::{Cell, Csv};
pub use guard::{Checked, Refusal};
pub use saved::SavedQuery;

/// What one statement may take: `--sql-timeout`, `--sql-max-rows`.
#[derive(Debug, Clone, Copy)]
pub struct SqlLimits {
    pub timeout: Duration,
    pub max_rows: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_rows: 10_000,
        }
    }
}

/// The memory one statement may use: a query that would take the laptop's memory fails
/// with ClickHouse's own message instead.
const MAX_MEMORY_BYTES: u64 = 2 << 30;

/// Why a statement gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The read-only rule refused it (before it ran).
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// ClickHouse refused or stopped it: its own text (a syntax error, an unknown column, the
    /// time limit).
    #[error("{0}")]
    Engine(String),
    /// The store could not be asked (a server down, the engine closed): retry later.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SqlError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Statement(text) | StoreError::Query(text) => SqlError::Engine(text),
            StoreError::Rejected { reason, .. } => SqlError::Engine(reason),
            StoreError::Decode(text) => SqlError::Engine(text),
            other => SqlError::Store(other),
        }
    }
}

/// A column of the answer: its name and ClickHouse type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `/api/sql`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub rows_read: u64,
    pub elapsed_ms: f64,
    /// More rows than `--sql-max-rows` came back: the rest were cut.
    pub truncated: bool,
}

impl Answer {
    /// The answer as CSV: a header of column names, numbers as numbers, text guarded.
    pub fn csv(&self) -> Csv {
        let mut csv = Csv::with_header(self.columns.iter().map(|c| c.name.clone()).collect());
        for row in &self.rows {
            csv.row(row.iter().map(|value| match value {
                Value::Null => Cell::Empty,
                Value::Number(n) => Cell::number(n),
                Value::String(s) => Cell::text(s.clone()),
                other => Cell::text(other.to_string()),
            }));
        }
        csv
    }
}

/// ClickHouse's `JSONCompact` document.
#[derive(Deserialize)]
struct Compact {
    meta: Vec<Column>,
    data: Vec<Vec<Value>>,
    #[serde(default)]
    statistics: Statistics,
}

#[derive(Deserialize, Default)]
struct Statistics {
    #[serde(default)]
    elapsed: f64,
    #[serde(default)]
    rows_read: u64,
}

/// The console: the store, its database, the limits, and the queries the team saved.
pub struct Sql {
    store: Arc<Store>,
    database: String,
    limits: SqlLimits,
    pub saved: Shelf<SavedQuery>,
}

impl Sql {
    pub fn new(
        store: Arc<Store>,
        database: String,
        limits: SqlLimits,
        saved: Shelf<SavedQuery>,
    ) -> Self {
        Self {
            store,
            database,
            limits,
            saved,
        }
    }

    pub fn limits(&self) -> SqlLimits {
        self.limits
    }

    /// The database unqualified names mean.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Parses `text` with ClickHouse and checks it against the read-only rule; `params` bind
    /// its `{name:Type}` placeholders (an `Identifier` one names a table, so it is checked
    /// bound).
    pub async fn check(&self, text: &str, params: &Params) -> Result<Checked, SqlError> {
        if text.trim().trim_end_matches(';').trim().is_empty() {
            return Err(Refusal("the query is empty: send one SELECT".into()).into());
        }
        // Both only parse: no setting is needed, and none may end up inside the statement.
        let canonical = self
            .store
            .raw(
                "SELECT formatQuery({q:String})",
                "RawBLOB",
                &vec![("q".to_string(), escape_param(text))],
                &[],
            )
            .await
            .map_err(|e| without_wrapper(e.into()))?;
        let canonical = String::from_utf8_lossy(&canonical).trim().to_string();
        let explain = format!("EXPLAIN AST {canonical}");
        let ast = self.store.raw(&explain, "TSVRaw", params, &[]).await?;
        Ok(guard::check(
            &canonical,
            &String::from_utf8_lossy(&ast),
            &self.database,
        )?)
    }

    /// Runs `text` and answers its columns and rows (at most `--sql-max-rows`).
    pub async fn answer(&self, text: &str) -> Result<Answer, SqlError> {
        let checked = self.check(text, &Vec::new()).await?;
        if let Some(format) = checked.format {
            return Err(Refusal(format!(
                "FORMAT {format}: /api/sql answers JSON or CSV (\"format\": \"csv\"); \
                 ClickHouse's formats are on /clickhouse"
            ))
            .into());
        }
        let json = [(
            "output_format_json_quote_64bit_integers".to_string(),
            "0".to_string(),
        )];
        let bytes = self
            .store
            .raw(
                &checked.text,
                "JSONCompact",
                &Vec::new(),
                &self.settings(&json),
            )
            .await?;
        let compact: Compact = serde_json::from_slice(&bytes)
            .map_err(|e| SqlError::Engine(format!("unexpected answer from ClickHouse: {e}")))?;
        let mut rows = compact.data;
        let truncated = rows.len() > self.limits.max_rows;
        rows.truncate(self.limits.max_rows);
        Ok(Answer {
            columns: compact.meta,
            rows,
            rows_read: compact.statistics.rows_read,
            elapsed_ms: (compact.statistics.elapsed * 1000.0 * 100.0).round() / 100.0,
            truncated,
        })
    }

    /// Runs a checked statement and answers ClickHouse's own output in `format` (the
    /// statement's `FORMAT` wins), with the client's `settings` under Pulseboard's limits.
    pub async fn output(
        &self,
        checked: &Checked,
        format: &str,
        params: &Params,
        settings: &[(String, String)],
    ) -> Result<Vec<u8>, SqlError> {
        // These formats read a schema or template file named by a setting.
        let with_files = ["Template", "Protobuf", "CapnProto"];
        if with_files.iter().any(|f| format.starts_with(f)) {
            return Err(Refusal(format!(
                "FORMAT {format} reads a schema file: choose another output format"
            ))
            .into());
        }
        let settings = self.settings(settings);
        Ok(self
            .store
            .raw(&checked.text, format, params, &settings)
            .await?)
    }

    /// The client's settings, then the limits, then `readonly = 1` last: once it is set no
    /// later setting can change anything.
    fn settings(&self, client: &[(String, String)]) -> Vec<(String, String)> {
        let limits = [
            (
                "max_execution_time",
                format!("{}", self.limits.timeout.as_secs_f64()),
            ),
            ("timeout_overflow_mode", "throw".into()),
            // `break` stops at the block past the limit: one more row says it was cut.
            ("max_result_rows", (self.limits.max_rows + 1).to_string()),
            ("result_overflow_mode", "break".into()),
            ("max_memory_usage", MAX_MEMORY_BYTES.to_string()),
            ("allow_introspection_functions", "0".into()),
            // A team server stops the statement when Pulseboard's request goes away (the
            // client closed its connection and the handler was dropped).
            ("cancel_http_readonly_queries_on_client_close", "1".into()),
            ("allow_ddl", "0".into()),
            ("readonly", "1".into()),
        ];
        client
            .iter()
            .cloned()
            .chain(limits.into_iter().map(|(k, v)| (k.to_string(), v)))
            .collect()
    }
}

/// ClickHouse's syntax error as if the user's text had been run itself: without the
/// `In scope SELECT formatQuery(…)` that parsed it.
fn without_wrapper(error: SqlError) -> SqlError {
    match error {
        SqlError::Engine(text) => match (
            text.find(" : In scope SELECT formatQuery("),
            text.rfind(" ("),
        ) {
            (Some(start), Some(end)) if end > start => {
                SqlError::Engine(format!("{}{}", &text[..start], &text[end..]))
            }
            _ => SqlError::Engine(text),
        },
        other => other,
    }
}

/// Settings a client may send (`/clickhouse`'s URL parameters): how the answer is written,
/// and a few that shape a query's result. Every other setting is refused, whatever it is: some
/// carry SQL (`additional_result_filter`, `implicit_table_at_top_level`) or a path
/// (`format_template_resultset`, `output_format_schema`), and ClickHouse applies them all
/// before `readonly` takes effect.
pub fn is_client_setting(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "output_format_json_",
        "output_format_arrow_",
        "output_format_parquet_",
        "output_format_pretty_",
        "output_format_csv_",
        "output_format_tsv_",
        "output_format_native_",
        "format_csv_",
        "date_time_",
    ];
    const NAMES: &[&str] = &[
        "output_format_decimal_trailing_zeros",
        "output_format_write_statistics",
        "cast_string_to_dynamic_use_inference",
        "session_timezone",
        "join_use_nulls",
        "aggregate_functions_null_for_empty",
        "extremes",
        "max_threads",
        "max_block_size",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}
