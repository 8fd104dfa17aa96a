//! The SQL view's commands: one-line calls into the engine's console (`questions::sql`), the
//! same rule and limits as `/api/sql`.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use tauri::State;

use super::{board, CommandError, Shared};
use crate::questions::sql::{chart, Answer, Column, SavedQuery};

/// A statement's answer, and its chart when it is a time and numbers.
#[derive(Debug, Serialize)]
pub struct Run {
    answer: Answer,
    chart: Option<String>,
}

/// A table of the store and its columns, for the list beside the editor.
#[derive(Debug, Serialize)]
pub struct Table {
    name: String,
    columns: Vec<Column>,
}

/// What the view opens on: the last statement run, the store's tables, the saved queries.
#[derive(Debug, Serialize)]
pub struct Console {
    last: Option<String>,
    /// `--sql-timeout` (seconds) and `--sql-max-rows`, which the view states.
    timeout_s: f64,
    max_rows: usize,
    tables: Vec<Table>,
    saved: Vec<Arc<SavedQuery>>,
}

#[tauri::command]
pub async fn sql_console(shared: State<'_, Arc<Shared>>) -> Result<Console, CommandError> {
    let engine = shared.instance.engine();
    let catalog = engine
        .sql
        .answer(
            "SELECT table, name, type FROM system.columns \
             WHERE database = currentDatabase() AND table NOT LIKE '%\\_mv' \
             ORDER BY table, position",
        )
        .await?;
    let mut tables: Vec<Table> = Vec::new();
    for row in catalog.rows {
        let text = |i: usize| row[i].as_str().unwrap_or_default().to_string();
        let column = Column {
            name: text(1),
            kind: text(2),
        };
        match tables.last_mut() {
            Some(table) if table.name == text(0) => table.columns.push(column),
            _ => tables.push(Table {
                name: text(0),
                columns: vec![column],
            }),
        }
    }
    let limits = engine.sql.limits();
    Ok(Console {
        last: shared.choice().sql,
        timeout_s: limits.timeout.as_secs_f64(),
        max_rows: limits.max_rows,
        tables,
        saved: engine.sql.saved.list(),
    })
}

/// Runs `query` (remembered as the last one, even when it fails: it is what the user wrote).
#[tauri::command]
pub async fn run_sql(query: String, shared: State<'_, Arc<Shared>>) -> Result<Run, CommandError> {
    shared.choose(|choice| choice.sql = Some(query.clone()));
    let answer = shared.instance.engine().sql.answer(&query).await?;
    let chart = chart::svg(&answer);
    Ok(Run { answer, chart })
}

/// Saves `query` as `id` (named `name`); answers the saved queries.
#[tauri::command]
pub async fn save_sql(
    id: String,
    name: String,
    query: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<Vec<Arc<SavedQuery>>, CommandError> {
    let saved = &shared.instance.engine().sql.saved;
    saved.put(&id, &json!({ "name": name, "query": query }))?;
    Ok(saved.list())
}

#[tauri::command]
pub async fn delete_sql(
    id: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<Vec<Arc<SavedQuery>>, CommandError> {
    let saved = &shared.instance.engine().sql.saved;
    saved.delete(&id)?;
    Ok(saved.list())
}

/// "Download CSV": `query`'s answer into the Downloads folder; answers the file's path.
#[tauri::command]
pub async fn save_sql_csv(
    query: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<String, CommandError> {
    let answer = shared.instance.engine().sql.answer(&query).await?;
    board::download("pulseboard-query", &answer.csv())
}
