//! The engine's health: what `/health` serialises and the window's status is derived from.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// The engine's state as one value. Field names are the `/health` contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub status: Condition,
    /// Why `status` is `degraded` (null while ok): the store unreachable or refusing, a backlog
    /// over [`backlog_limit`](Health::backlog_limit), or no flush for [`LAG_LIMIT`] while
    /// events wait.
    pub reason: Option<String>,
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

/// Events that wait this long with no flush landing: the store is not keeping up.
pub const LAG_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// What the engine's condition is judged from.
pub struct Signs {
    pub reachable: bool,
    pub last_error: Option<String>,
    pub held: u64,
    /// `--max-flush`: what one flush may carry.
    pub max_flush: u64,
    /// How long ago the last flush landed (since the start when none has).
    pub since_flush: std::time::Duration,
}

impl Health {
    /// More than five of the largest flushes wait: ingest is outrunning the store.
    pub fn backlog_limit(max_flush: u64) -> u64 {
        max_flush.saturating_mul(5)
    }

    /// `ok`, or `degraded` with the reason a person should read first.
    pub fn condition(signs: &Signs) -> (Condition, Option<String>) {
        let reason = if !signs.reachable {
            Some(match &signs.last_error {
                Some(error) => format!("the store is failing: {error}"),
                None => "the store is unreachable".to_owned(),
            })
        } else if signs.held > Self::backlog_limit(signs.max_flush) {
            Some(format!(
                "{} events wait for the store, more than five flushes' worth (--max-flush {}): ingest is outrunning it",
                signs.held, signs.max_flush
            ))
        } else if signs.held > 0 && signs.since_flush > LAG_LIMIT {
            Some(format!(
                "{} events have waited {} s with no flush landing",
                signs.held,
                signs.since_flush.as_secs()
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => (Condition::Degraded, Some(reason)),
            None => (Condition::Ok, None),
        }
    }

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn degraded_says_why_first_things_first() {
        let signs = |reachable, held, since_s| Signs {
            reachable,
            last_error: (!reachable).then(|| "connection refused".to_owned()),
            held,
            max_flush: 200_000,
            since_flush: Duration::from_secs(since_s),
        };
        assert_eq!(
            Health::condition(&signs(true, 999_999, 29)),
            (Condition::Ok, None)
        );
        assert_eq!(
            Health::condition(&signs(true, 0, 3600)),
            (Condition::Ok, None)
        );
        let (status, reason) = Health::condition(&signs(false, 5, 1));
        assert_eq!(status, Condition::Degraded);
        assert_eq!(reason.unwrap(), "the store is failing: connection refused");
        let (_, reason) = Health::condition(&signs(true, 1_000_001, 1));
        assert!(reason
            .unwrap()
            .starts_with("1000001 events wait for the store, more than five flushes' worth"));
        let (_, reason) = Health::condition(&signs(true, 12, 31));
        assert_eq!(
            reason.unwrap(),
            "12 events have waited 31 s with no flush landing"
        );
    }
}
