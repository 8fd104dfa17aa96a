//! People (DESIGN.md "People, and who dropped off"): the actors behind the numbers — a user, or
//! the session of someone who never signed in — found by the prefix of their id
//! (`sql/people/list.sql`), and one actor's events, newest first, a page at a time
//! (`sql/people/events.sql`).

use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

use crate::questions::filters::{FilterError, Filters};
use crate::questions::panels::{Range, Scope, Window};
use crate::storage::batcher::Status;
use crate::storage::store::{Store, StoreError};
use crate::support::clock::Clock;

const LIST_SQL: &str = include_str!("../../sql/people/list.sql");
const RECENT_SQL: &str = include_str!("../../sql/people/recent.sql");
/// How far back `recent.sql` looks first, then next, … before the whole range: most lists are
/// found in the last minutes' events, and aggregating every actor of a day at 10M events takes
/// seconds.
const RECENT_S: [i64; 3] = [300, 3600, 6 * 3600];
const EVENTS_SQL: &str = include_str!("../../sql/people/events.sql");
/// An actor id is a user id or a session id: at most 128 characters at ingest; a longer one is
/// refused at 256 (DESIGN.md), so a client's typo is not silently "nobody".
pub const MAX_ACTOR_CHARS: usize = 256;
pub const MAX_PEOPLE: u32 = 500;
pub const MAX_EVENTS: u32 = 1000;

/// `limit=`: 1 to `max` (`default` when absent).
pub fn parse_limit(text: Option<&str>, default: u32, max: u32) -> Result<u32, FilterError> {
    let Some(text) = text else {
        return Ok(default);
    };
    text.parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| FilterError::new("limit", format!("1 to {max} (got {text:?})")))
}

/// An actor id from a path or a query: 1 to 256 characters.
pub fn check_actor(param: &str, actor: &str) -> Result<(), FilterError> {
    crate::support::text::check(actor).map_err(|rule| FilterError::new(param, rule))?;
    let chars = actor.chars().count();
    if chars == 0 || chars > MAX_ACTOR_CHARS {
        let rule = format!("1 to {MAX_ACTOR_CHARS} characters (got {chars})");
        return Err(FilterError::new(param, rule));
    }
    Ok(())
}

/// One actor, as `GET /api/people` lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub actor: String,
    #[serde(serialize_with = "rfc3339_ms")]
    pub first_seen: i64,
    #[serde(serialize_with = "rfc3339_ms")]
    pub last_seen: i64,
    pub events: u64,
    pub sessions: u64,
    /// The country and device of the actor's last event.
    pub country: String,
    pub device: String,
}

/// `GET /api/people`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeopleList {
    pub range: Range,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub search: String,
    pub people: Vec<Person>,
    /// More actors match than `limit`.
    pub more: bool,
}

#[derive(Debug, Deserialize)]
struct PersonRow {
    actor: String,
    first_ms: i64,
    last_ms: i64,
    events: u64,
    sessions: u64,
    latest: (String, String),
}

/// One stored event, as a person's timeline shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    pub event_id: String,
    pub event_name: String,
    #[serde(rename(serialize = "timestamp"), serialize_with = "rfc3339_ms")]
    pub timestamp_ms: i64,
    pub session_id: String,
    pub user_id: Option<String>,
    pub device_type: String,
    pub country_code: String,
    /// The stored JSON object, passed through as it is.
    #[serde(serialize_with = "raw_json")]
    pub properties: String,
}

/// `GET /api/people/{actor}/events`.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub actor: String,
    pub range: Range,
    pub as_of_flush: u64,
    pub events: Vec<StoredEvent>,
    /// Where the next page starts (`before=`), when there is one.
    pub next_before: Option<String>,
}

/// Serialises Unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339_ms<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::questions::panels::format_time_ms(*ms))
}

/// The stored properties as the object they are (a string only if the store held something else).
fn raw_json<S: Serializer>(json: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(value) => value.serialize(s),
        Err(_) => s.serialize_str(json),
    }
}

/// The people of an instance, over its store.
pub struct People {
    store: Arc<Store>,
    status: Arc<Status>,
    clock: Clock,
}

impl People {
    pub fn new(store: Arc<Store>, status: Arc<Status>, clock: Clock) -> Self {
        Self {
            store,
            status,
            clock,
        }
    }

    fn window(&self, scope: &Scope) -> Window {
        Window::new(scope.range, scope.at.unwrap_or_else(|| self.clock.now()))
    }

    /// The actors of `scope` whose id starts with `search`, newest last event first.
    pub async fn list(
        &self,
        scope: &Scope,
        search: &str,
        limit: u32,
    ) -> Result<PeopleList, StoreError> {
        let window = self.window(scope);
        let (filter, mut params) = scope.filters.condition("f_");
        params.extend([
            ("start_ms".to_owned(), window.start_ms.to_string()),
            ("end_ms".to_owned(), window.end_ms.to_string()),
            ("search".to_owned(), search.to_owned()),
            ("limit".to_owned(), (limit + 1).to_string()),
        ]);
        let as_of_flush = self.status.flush_count();
        let actors = self.recent(&window, &filter, &params, limit + 1).await?;
        params.push((
            "actors".to_owned(),
            crate::questions::filters::array_literal(&actors),
        ));
        let rows: Vec<PersonRow> = self
            .store
            .query(&LIST_SQL.replace("{filter}", &filter), params)
            .await?;
        let more = rows.len() > limit as usize;
        let people = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| Person {
                actor: r.actor,
                first_seen: r.first_ms,
                last_seen: r.last_ms,
                events: r.events,
                sessions: r.sessions,
                country: r.latest.0,
                device: r.latest.1,
            })
            .collect();
        Ok(PeopleList {
            range: scope.range,
            as_of_flush,
            filters: scope.filters.clone(),
            search: search.to_owned(),
            people,
            more,
        })
    }

    /// The `want` actors last seen most recently in `window`: from the latest events first,
    /// looking further back only while fewer are found.
    async fn recent(
        &self,
        window: &Window,
        filter: &str,
        params: &[(String, String)],
        want: u32,
    ) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Actor {
            actor: String,
        }
        let sql = RECENT_SQL.replace("{filter}", filter);
        let backs = RECENT_S.iter().map(|s| window.end_ms - s * 1000);
        let sinces = backs
            .filter(|since| *since > window.start_ms)
            .chain([window.start_ms]);
        let mut found = Vec::new();
        for since in sinces {
            let mut params = params.to_vec();
            params.push(("since_ms".to_owned(), since.to_string()));
            let rows: Vec<Actor> = self.store.query(&sql, params).await?;
            found = rows.into_iter().map(|a| a.actor).collect();
            if found.len() >= want as usize {
                break;
            }
        }
        Ok(found)
    }

    /// `actor`'s events in `scope` before `before_ms` (exclusive), newest first, at most
    /// `limit`; `next_before` continues where this page stops.
    pub async fn timeline(
        &self,
        actor: &str,
        scope: &Scope,
        before_ms: Option<i64>,
        limit: u32,
    ) -> Result<Timeline, StoreError> {
        let window = self.window(scope);
        let before = before_ms.unwrap_or(window.end_ms + 1);
        let params = vec![
            ("actor".to_owned(), actor.to_owned()),
            ("start_ms".to_owned(), window.start_ms.to_string()),
            ("end_ms".to_owned(), window.end_ms.to_string()),
            ("before_ms".to_owned(), before.to_string()),
            ("limit".to_owned(), (limit + 1).to_string()),
        ];
        let as_of_flush = self.status.flush_count();
        let mut events: Vec<StoredEvent> = self.store.query(EVENTS_SQL, params).await?;
        let next_before = page_end(&mut events, limit as usize);
        Ok(Timeline {
            actor: actor.to_owned(),
            range: scope.range,
            as_of_flush,
            events,
            next_before: next_before.map(crate::questions::panels::format_time_ms),
        })
    }
}

/// Cuts `events` (newest first, up to `limit + 1`) to a page that ends between two
/// milliseconds, so a `before=` the next page starts at (exclusive) skips nothing: the events
/// of the last millisecond move to the next page whole. Returns that `before`, when more remain.
fn page_end(events: &mut Vec<StoredEvent>, limit: usize) -> Option<i64> {
    if events.len() <= limit {
        return None;
    }
    let boundary = events[limit].timestamp_ms;
    let keep = events.partition_point(|e| e.timestamp_ms > boundary);
    if keep == 0 {
        // More than a page in one millisecond (never seen from an SDK): a page of them, and
        // the rest of that millisecond is not shown.
        events.truncate(limit);
        return Some(boundary);
    }
    events.truncate(keep);
    Some(boundary + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: &[i64]) -> Vec<StoredEvent> {
        ms.iter()
            .map(|&timestamp_ms| StoredEvent {
                event_id: String::new(),
                event_name: "e".into(),
                timestamp_ms,
                session_id: "s".into(),
                user_id: None,
                device_type: "desktop".into(),
                country_code: "DE".into(),
                properties: "{}".into(),
            })
            .collect()
    }

    #[test]
    fn a_page_ends_between_milliseconds() {
        let stamps = |e: &[StoredEvent]| e.iter().map(|e| e.timestamp_ms).collect::<Vec<_>>();
        let mut events = at(&[9, 8, 7]);
        assert_eq!(page_end(&mut events, 3), None);
        assert_eq!(stamps(&events), [9, 8, 7]);
        // The 4th event shares the 3rd's millisecond: both go to the next page.
        let mut events = at(&[9, 8, 7, 7]);
        assert_eq!(page_end(&mut events, 3), Some(8));
        assert_eq!(stamps(&events), [9, 8]);
        let mut events = at(&[9, 8, 7, 6]);
        assert_eq!(page_end(&mut events, 3), Some(7));
        assert_eq!(stamps(&events), [9, 8, 7]);
        let mut events = at(&[5, 5, 5]);
        assert_eq!(page_end(&mut events, 2), Some(5));
        assert_eq!(stamps(&events), [5, 5]);
    }

    #[test]
    fn limits_and_actors_are_checked() {
        assert_eq!(parse_limit(None, 50, 500), Ok(50));
        assert_eq!(parse_limit(Some("500"), 50, 500), Ok(500));
        for bad in ["0", "501", "x", "-1"] {
            assert_eq!(parse_limit(Some(bad), 50, 500).unwrap_err().param, "limit");
        }
        assert!(check_actor("actor", "u-1").is_ok());
        assert!(check_actor("actor", &"a".repeat(256)).is_ok());
        assert_eq!(
            check_actor("actor", &"a".repeat(257)).unwrap_err().param,
            "actor"
        );
        assert!(check_actor("actor", "").is_err());
    }
}
