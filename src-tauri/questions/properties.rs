//! What the events say about themselves, for the filter bar's suggestions: the property keys
//! seen in a range (`GET /api/properties`) and the values one dimension takes
//! (`GET /api/values`), most events first, in their exact case. Cached like the panels: one
//! computation per question per flush.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::questions::breakdown::Breakdown;
use crate::questions::filters::{FilterError, Filters};
use crate::questions::panels::{Range, Scope, Snapshot, SnapshotCache, Window};
use crate::storage::batcher::Status;
use crate::storage::store::{Params, Store, StoreError};
use crate::support::clock::Clock;

const KEYS_SQL: &str = include_str!("../../sql/properties/keys.sql");
const VALUES_SQL: &str = include_str!("../../sql/properties/values.sql");
const MAX_SEARCH_CHARS: usize = 200;

/// A dimension whose values can be listed (`key=`): `country`, `device`, `event_name` or
/// `prop.KEY`, as a breakdown groups by them.
pub type Dimension = Breakdown;

/// `key=` read as a dimension (the error names `key`).
pub fn dimension(text: &str) -> Result<Dimension, FilterError> {
    Breakdown::parse(text).map_err(|e| FilterError::new("key", e.rule))
}

/// The prefix `search=` asks for (any case): at most 200 characters.
pub fn check_search(search: &str) -> Result<(), FilterError> {
    crate::support::text::check(search).map_err(|rule| FilterError::new("search", rule))?;
    if search.chars().count() > MAX_SEARCH_CHARS {
        let rule = format!("at most {MAX_SEARCH_CHARS} characters");
        return Err(FilterError::new("search", rule));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCount {
    pub key: String,
    pub events: u64,
}

/// `GET /api/properties`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyKeys {
    pub range: Range,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub keys: Vec<KeyCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: String,
    pub events: u64,
}

/// `GET /api/values`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Values {
    pub key: String,
    pub range: Range,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub values: Vec<ValueCount>,
}

/// The suggestions of an instance, over its store.
pub struct Properties {
    store: Arc<Store>,
    status: Arc<Status>,
    clock: Clock,
    keys: SnapshotCache<Scope, PropertyKeys>,
    values: SnapshotCache<(Scope, Dimension, String), Values>,
}

impl Properties {
    pub fn new(store: Arc<Store>, status: Arc<Status>, clock: Clock) -> Self {
        Self {
            store,
            status,
            clock,
            keys: SnapshotCache::default(),
            values: SnapshotCache::default(),
        }
    }

    /// The property keys of `scope`'s events, most events first (at most 200).
    pub async fn keys(&self, scope: &Scope) -> Result<Arc<PropertyKeys>, StoreError> {
        let compute = |snapshot: Snapshot| async move {
            let (sql, params) = query(KEYS_SQL, scope, &snapshot, None);
            Ok(PropertyKeys {
                range: scope.range,
                as_of_flush: snapshot.flushes,
                filters: scope.filters.clone(),
                keys: self.store.query(&sql, params).await?,
            })
        };
        self.keys
            .get(scope, scope.at, &self.status, &self.clock, compute)
            .await
    }

    /// The values `dimension` takes on `scope`'s events, starting with `search` in any case,
    /// most events first (at most 50).
    pub async fn values(
        &self,
        scope: &Scope,
        dimension: Dimension,
        search: String,
    ) -> Result<Arc<Values>, StoreError> {
        let question = (scope.clone(), dimension, search);
        let (_, dimension, search) = &question;
        let compute = |snapshot: Snapshot| async move {
            let (sql, params) = query(VALUES_SQL, scope, &snapshot, Some((dimension, search)));
            Ok(Values {
                key: dimension.as_text(),
                range: scope.range,
                as_of_flush: snapshot.flushes,
                filters: scope.filters.clone(),
                values: self.store.query(&sql, params).await?,
            })
        };
        self.values
            .get(&question, scope.at, &self.status, &self.clock, compute)
            .await
    }
}

/// `sql` filled in for `scope` at `snapshot` (and, for values, the dimension and search).
fn query(
    sql: &str,
    scope: &Scope,
    snapshot: &Snapshot,
    values: Option<(&Dimension, &String)>,
) -> (String, Params) {
    let window = Window::new(scope.range, snapshot.end);
    let (filter, mut params) = scope.filters.condition("f_");
    params.extend([
        ("start_ms".to_owned(), window.start_ms.to_string()),
        ("end_ms".to_owned(), window.end_ms.to_string()),
    ]);
    let mut sql = sql.replace("{filter}", &filter);
    if let Some((dimension, search)) = values {
        sql = sql.replace("{value}", &dimension.sql(&mut params));
        params.push(("search".to_owned(), search.clone()));
    }
    (sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_and_searches_name_the_parameter_they_break() {
        assert_eq!(dimension("event_name"), Ok(Dimension::EventName));
        assert_eq!(
            dimension("prop.email_domain").map(|d| d.as_text()),
            Ok("prop.email_domain".to_owned())
        );
        for bad in ["", "colour", "prop.", "prop.a b"] {
            assert_eq!(dimension(bad).unwrap_err().param, "key", "{bad}");
        }
        assert!(check_search("Gm").is_ok());
        assert_eq!(check_search("a\0").unwrap_err().param, "search");
        assert_eq!(check_search(&"x".repeat(201)).unwrap_err().param, "search");
    }
}
