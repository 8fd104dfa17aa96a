//! The Retention view's commands: one-line calls into [`crate::questions::retention`], the
//! same the `/api/retention` route uses, over the view's own range (a week or a month) and the
//! filter bar's filters.

use std::sync::Arc;

use serde::Deserialize;
use tauri::State;

use super::{board, CommandError, Shared};
use crate::questions::panels::{Range, Scope};
use crate::questions::retention::{Answer, Question, RetentionError};

/// What the view asks, as the route's parameters (`range`: `7d` or `30d`).
#[derive(Debug, Deserialize)]
pub struct Asked {
    range: String,
    start_event: String,
    return_event: String,
    period: String,
    periods: String,
    breakdown: Option<String>,
}

impl Asked {
    /// The route's parameter `name`, as the view sends it (an empty breakdown: none).
    fn param(&self, name: &str) -> Option<&str> {
        match name {
            "start_event" => Some(&self.start_event),
            "return_event" => Some(&self.return_event),
            "period" => Some(&self.period),
            "periods" => Some(&self.periods),
            "breakdown" => self.breakdown.as_deref().filter(|b| !b.is_empty()),
            _ => None,
        }
    }

    fn question(&self, shared: &Shared) -> Result<(Question, Scope), CommandError> {
        let question = Question::parse(|name| self.param(name)).map_err(RetentionError::from)?;
        Ok((question, scope(&self.range, shared)?))
    }
}

/// The filter bar's scope over the view's own `range`.
fn scope(range: &str, shared: &Shared) -> Result<Scope, CommandError> {
    let range = Range::parse_in(range, &Range::LONG)
        .ok_or_else(|| CommandError(format!("unknown range {range:?}")))?;
    Ok(Scope {
        range,
        ..shared.choice().scope()
    })
}

/// The event names seen over `range` (a week or a month), to start and return with.
#[tauri::command]
pub async fn retention_events(
    range: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<Vec<String>, CommandError> {
    let scope = scope(&range, &shared)?;
    let names = shared.instance.engine().funnels.event_names(&scope).await?;
    Ok(names
        .event_names
        .iter()
        .map(|e| e.event_name.clone())
        .collect())
}

#[tauri::command]
pub async fn retention(
    asked: Asked,
    shared: State<'_, Arc<Shared>>,
) -> Result<Arc<Answer>, CommandError> {
    let (question, scope) = asked.question(&shared)?;
    Ok(shared
        .instance
        .engine()
        .retention
        .answer(&question, &scope)
        .await?)
}

/// "Download CSV": the table shown, into the Downloads folder; answers the file's path.
#[tauri::command]
pub async fn save_retention_csv(
    asked: Asked,
    shared: State<'_, Arc<Shared>>,
) -> Result<String, CommandError> {
    let (question, scope) = asked.question(&shared)?;
    let answer = shared
        .instance
        .engine()
        .retention
        .answer(&question, &scope)
        .await?;
    board::download(
        &format!("pulseboard-retention-{}", asked.range),
        &answer.csv(),
    )
}
