//! The filter bar's suggestions: one-line calls into [`crate::questions::properties`], the
//! library behind `/api/properties` and `/api/values`, over the header's time, unfiltered (a
//! value the filters leave out is still one to pick).

use std::sync::Arc;

use serde::Serialize;
use tauri::State;

use super::{CommandError, Shared};
use crate::questions::filters::Filters;
use crate::questions::properties::{check_search, dimension};

/// A suggestion: a key or a value as the events spell it, and how many events carry it.
#[derive(Debug, Serialize)]
pub struct Suggestion {
    text: String,
    events: u64,
}

/// The property keys seen (`key` none), or the values `key` (`country`, `device`,
/// `prop.KEY`) takes starting with `search` in any case; most events first.
#[tauri::command]
pub async fn suggest(
    key: Option<String>,
    search: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<Vec<Suggestion>, CommandError> {
    let engine = shared.instance.engine();
    let scope = crate::questions::panels::Scope {
        filters: Filters::default(),
        ..shared.choice().scope()
    };
    let Some(key) = key else {
        let keys = engine.properties.keys(&scope).await?;
        let suggestions = keys.keys.iter().map(|k| Suggestion {
            text: k.key.clone(),
            events: k.events,
        });
        return Ok(suggestions.collect());
    };
    check_search(&search)?;
    let dimension = dimension(&key)?;
    let values = engine.properties.values(&scope, dimension, search).await?;
    let suggestions = values.values.iter().map(|v| Suggestion {
        text: v.value.clone(),
        events: v.events,
    });
    Ok(suggestions.collect())
}
