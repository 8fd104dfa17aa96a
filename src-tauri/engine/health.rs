//! The engine's health: what `/health` serialises and the window's status is derived from.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// The engine's state as one value. Field names are the `/health` contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub status: Condition,
    /// Events in the journal not yet confirmed by the store.
    pub buffer_size: u64,
    #[serde(serialize_with = "millis")]
    pub last_flush: Option<DateTime<Utc>>,
    /// The part of `buffer_size` that waits because the store is failing.
    pub spilled: u64,
    /// `embedded` or `server`.
    pub store: &'static str,
    /// The connection profile whose store the engine writes to.
    pub profile: String,
    pub store_reachable: bool,
    #[serde(serialize_with = "seconds")]
    pub unreachable_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The store refuses what a retry cannot fix: `last_error` says what to change.
    pub needs_action: bool,
    pub journal_bytes: u64,
    /// After an outage, the backlog being sent, until it is through.
    pub replay: Option<Replay>,
    /// Confirmed flushes so far.
    pub flushes: u64,
    /// Flush attempts that failed so far.
    pub failed_flushes: u64,
    /// Dashboard computations that reached the store (cache misses).
    pub panel_queries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    Ok,
    Degraded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Replay {
    pub sent: u64,
    pub total: u64,
}

impl Health {
    /// Events acknowledged but not in ClickHouse because it is failing: the journal's backlog
    /// while the store is unreachable, none while it answers.
    pub fn spilled(reachable: bool, held: u64) -> u64 {
        if reachable {
            0
        } else {
            held
        }
    }

    /// Why the store refuses, when a retry cannot help.
    pub fn refusal(&self) -> Option<&str> {
        self.last_error.as_deref().filter(|_| self.needs_action)
    }
}

fn millis<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .serialize(s)
}

fn seconds<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .serialize(s)
}
