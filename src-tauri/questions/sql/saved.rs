//! Saved queries: the SQL view's shelf (`queries.json` in the data directory), started with
//! the two questions Pulseboard was first asked as examples.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::questions::shelf::{self, Definition, DefinitionError, Shelf, ShelfError};

const FILE: &str = "queries.json";
const MAX_QUERY_BYTES: usize = 100_000;

/// A query kept under an id, with a name to list it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedQuery {
    pub id: String,
    pub name: String,
    pub query: String,
}

impl Definition for SavedQuery {
    const KIND: &'static str = "saved query";
    const ROUTE: &'static str = "the SQL view";

    fn parse(id: &str, body: &Value) -> Result<Self, DefinitionError> {
        shelf::check_id(id)?;
        let name = shelf::name(body.get("name"), id)?;
        let query = match body.get("query") {
            Some(Value::String(q)) if !q.trim().is_empty() && q.len() <= MAX_QUERY_BYTES => q,
            _ => {
                let rule = format!("the statement, 1 to {MAX_QUERY_BYTES} bytes");
                return Err(DefinitionError::new("query", rule));
            }
        };
        Ok(Self {
            id: id.to_owned(),
            name,
            query: query.clone(),
        })
    }
}

/// The two questions the dashboard was built to answer, as SQL to start from.
fn examples() -> Vec<(String, SavedQuery)> {
    let example = |id: &str, name: &str, query: &str| {
        let saved = SavedQuery {
            id: id.into(),
            name: name.into(),
            query: query.into(),
        };
        (id.to_owned(), saved)
    };
    vec![
        example(
            "signup-funnel-hourly",
            "Signup funnel by hour (24 h)",
            "SELECT toStartOfHour(timestamp) AS hour,\n       \
             countIf(event_name = 'signup_started') AS started,\n       \
             countIf(event_name = 'signup_completed') AS completed\n\
             FROM events\n\
             WHERE event_name IN ('signup_started', 'signup_completed')\n  \
             AND timestamp > now() - INTERVAL 24 HOUR\n\
             GROUP BY hour\n\
             ORDER BY hour",
        ),
        example(
            "active-users-5m",
            "Active users in the last 5 minutes",
            "SELECT uniqExact(session_id) AS active_users\n\
             FROM events\n\
             WHERE timestamp > now() - INTERVAL 5 MINUTE",
        ),
    ]
}

/// The saved queries of `data_dir` (the examples when none were ever saved).
pub fn shelf(data_dir: &Path) -> Result<Shelf<SavedQuery>, ShelfError> {
    Shelf::load(data_dir, FILE, examples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_saved_query_needs_its_statement_and_a_fair_id() {
        let saved = SavedQuery::parse("daily", &json!({"query": "SELECT 1"})).unwrap();
        assert_eq!(
            (saved.name.as_str(), saved.query.as_str()),
            ("daily", "SELECT 1")
        );
        let empty = SavedQuery::parse("daily", &json!({"query": "  "})).unwrap_err();
        assert_eq!(empty.field, "query");
        assert_eq!(
            SavedQuery::parse("Daily!", &json!({"query": "SELECT 1"}))
                .unwrap_err()
                .field,
            "id"
        );
    }
}
