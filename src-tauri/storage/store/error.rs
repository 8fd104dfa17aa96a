//! Every way the store can fail, and whether a retry helps — decided here for both stores.
//!
//! ClickHouse names each failure with a numbered exception ("Code: 62. DB::Exception: …"),
//! whether it comes from chDB in process or from a server over HTTP. The number sorts it: a
//! statement, credential or grant error stays wrong however often it is retried (someone must
//! act: `needs_action`), anything else may pass (a server restarting, too many parts, memory).

use std::path::PathBuf;

use super::chdb;

/// Errors at the store boundary. Messages say what to do about them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error(
        "libchdb.so (chDB {ver}) was not found; looked in: {searched}. \
         Run `pulseboard engine install` (or open the window, which offers to) to fetch it \
         into the cache, or set {env}=/path/to/libchdb.so",
        ver = chdb::LIBCHDB_VERSION,
        env = chdb::LIBCHDB_ENV
    )]
    LibraryMissing { searched: String },
    #[error(
        "cannot load {path}: {reason}. Delete it and run `pulseboard engine install` to fetch \
         a fresh copy"
    )]
    LibraryLoad { path: PathBuf, reason: String },
    #[error("chDB runs one engine per process and it is already open")]
    AlreadyOpen,
    #[error("chDB could not start: {0}")]
    Connect(String),
    /// The embedded engine refused a statement for good (its SQL, schema or types).
    #[error(
        "the embedded ClickHouse refused Pulseboard's SQL ({0}); the events wait in the \
         journal. Restart Pulseboard to re-apply the migrations; if it persists, report it"
    )]
    Statement(String),
    /// A failure of the embedded engine that a retry may get past.
    #[error("ClickHouse: {0}")]
    Query(String),
    #[error("unexpected ClickHouse output: {0}")]
    Decode(String),
    #[error("store I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "ClickHouse at {url} is unreachable: {reason}. Check the profile's URL and that the \
         server is up; events wait in the journal until it answers"
    )]
    Unreachable { url: String, reason: String },
    #[error("ClickHouse at {url} refused the request: {reason}")]
    Rejected { url: String, reason: String },
    #[error("the store is closed")]
    Closed,
    #[cfg(feature = "fault-injection")]
    #[error("injected fault (test build): the store is failing on purpose")]
    Injected,
}

impl StoreError {
    /// Whether trying the same call again later may succeed (the batcher keeps retrying those;
    /// the others need someone to act first).
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Unreachable { .. } | StoreError::Query(_) | StoreError::Io(_) => true,
            #[cfg(feature = "fault-injection")]
            StoreError::Injected => true,
            StoreError::LibraryMissing { .. }
            | StoreError::LibraryLoad { .. }
            | StoreError::AlreadyOpen
            | StoreError::Connect(_)
            | StoreError::Statement(_)
            | StoreError::Decode(_)
            | StoreError::Closed
            | StoreError::Rejected { .. } => false,
        }
    }

    /// An error message of the embedded engine, sorted by its exception code.
    pub(crate) fn from_engine(message: String) -> Self {
        match refusal(&message) {
            Some(_) => StoreError::Statement(message),
            None => StoreError::Query(message),
        }
    }
}

/// Why ClickHouse refused for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Credentials,
    Grant,
    Statement,
}

// UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED.
const CREDENTIALS: &[u32] = &[192, 193, 194, 516];
// READONLY, IP_ADDRESS_NOT_ALLOWED, DATABASE_ACCESS_DENIED, ACCESS_DENIED, SET_NON_GRANTED_ROLE.
const GRANTS: &[u32] = &[164, 195, 291, 497, 512];
// The exceptions ClickHouse answers with HTTP 400, 404, 413 or 501 (syntax, unknown table,
// database, column, function or setting, unparsable values, type mismatches), plus
// NO_SUCH_COLUMN_IN_TABLE, ILLEGAL_TYPE_OF_ARGUMENT and unknown or bad query parameters.
const STATEMENT: &[u32] = &[
    6, 8, 15, 16, 25, 26, 27, 36, 37, 38, 41, 43, 44, 46, 47, 48, 50, 53, 56, 60, 62, 63, 72, 73,
    78, 81, 115, 117, 123, 152, 167, 168, 223, 229, 321, 336, 376, 427, 441, 456, 457, 511,
];

/// Sorts an error answer. Everything not known to be permanent counts as retryable: a needless
/// retry only waits, while giving up on a passing failure would strand the flush.
pub fn refusal(text: &str) -> Option<Refusal> {
    match exception_code(text) {
        Some(code) if CREDENTIALS.contains(&code) => Some(Refusal::Credentials),
        Some(code) if GRANTS.contains(&code) => Some(Refusal::Grant),
        Some(code) if STATEMENT.contains(&code) => Some(Refusal::Statement),
        Some(_) => None,
        // No exception: a proxy's bare status ("Unauthorized"), or "401 Unauthorized" when the
        // body was empty.
        None => match text.trim_start_matches(|c: char| c.is_ascii_digit()).trim() {
            "Unauthorized" | "Forbidden" => Some(Refusal::Credentials),
            "Bad Request" | "Not Found" => Some(Refusal::Statement),
            _ => None,
        },
    }
}

/// The `N` of ClickHouse's "Code: N. DB::Exception: …".
pub fn exception_code(text: &str) -> Option<u32> {
    let rest = &text[text.find("Code: ")? + "Code: ".len()..];
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_are_sorted_by_their_code() {
        let syntax = "Code: 62. DB::Exception: Syntax error: failed at position 1 (INSRT)";
        let parts =
            "Code: 252. DB::Exception: Too many parts (300). Merges are slower than inserts";
        let unknown = StoreError::from_engine("something without a code".into());
        assert!(matches!(
            StoreError::from_engine(syntax.into()),
            StoreError::Statement(_)
        ));
        assert!(!StoreError::from_engine(syntax.into()).is_retryable());
        assert!(matches!(
            StoreError::from_engine(parts.into()),
            StoreError::Query(_)
        ));
        assert!(StoreError::from_engine(parts.into()).is_retryable());
        assert!(unknown.is_retryable(), "{unknown}");
    }
}
