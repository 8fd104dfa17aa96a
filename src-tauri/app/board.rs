//! The arranged dashboard's commands: one-line calls into the engine's layout and insights,
//! the same the `/api/dashboard` and `/api/insights` routes use, over the header's range and
//! filters.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use tauri::State;

use super::{CommandError, Shared};
use crate::delivery::view::{insight_tile, BoardTile, View};
use crate::questions::funnels::EventName;
use crate::questions::insights::Insight;
use crate::questions::layout::{Tile, TileKind};
use crate::questions::panels::PanelName;
use crate::support::csv::Csv;

/// What "Add a tile" offers: the saved insights and funnels, the panels, and the event names
/// seen in the range to define an insight from.
#[derive(Debug, Serialize)]
pub struct Shelves {
    insights: Vec<Arc<Insight>>,
    funnels: Vec<(String, String)>,
    panels: Vec<(&'static str, &'static str)>,
    event_names: Vec<EventName>,
}

#[tauri::command]
pub async fn shelves(shared: State<'_, Arc<Shared>>) -> Result<Shelves, CommandError> {
    let engine = shared.instance.engine();
    let names = engine.funnels.event_names(&shared.choice().scope()).await?;
    Ok(Shelves {
        insights: engine.insights.list(),
        funnels: (engine.funnels.list().iter())
            .map(|f| (f.id.clone(), f.name.clone()))
            .collect(),
        panels: PanelName::ALL.map(|p| (p.as_str(), p.title())).to_vec(),
        event_names: names.event_names.clone(),
    })
}

/// Arranges the dashboard (`PUT /api/dashboard`'s tiles).
#[tauri::command]
pub async fn arrange(
    tiles: Vec<Tile>,
    shared: State<'_, Arc<Shared>>,
) -> Result<View, CommandError> {
    shared
        .instance
        .engine()
        .arrange(&json!({ "tiles": tiles }))?;
    Ok(shared.view().await)
}

/// An insight being defined, answered over the header's range without storing it.
#[tauri::command]
pub async fn preview_insight(
    definition: Value,
    shared: State<'_, Arc<Shared>>,
) -> Result<BoardTile, CommandError> {
    let engine = shared.instance.engine();
    let insight = Insight::parse("preview", &definition)?;
    let answer = (engine.insights)
        .ask(None, &insight, &shared.choice().scope(), false)
        .await;
    Ok(insight_tile(
        "preview",
        &insight,
        answer,
        &engine.annotations.marks(),
    ))
}

/// Saves insight `id` and pins it to the dashboard (last) when it is not there yet.
#[tauri::command]
pub async fn save_insight(
    id: String,
    definition: Value,
    shared: State<'_, Arc<Shared>>,
) -> Result<View, CommandError> {
    let engine = shared.instance.engine();
    engine.insights.put(&id, &definition)?;
    engine.pin(Tile {
        kind: TileKind::Insight,
        id,
    })?;
    Ok(shared.view().await)
}

/// "Download CSV": tile `id`'s data over the header's range and filters, written to the
/// Downloads folder as a browser would; answers the file's path.
#[tauri::command]
pub async fn save_csv(
    kind: TileKind,
    id: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<String, CommandError> {
    let engine = shared.instance.engine();
    let choice = shared.choice();
    let scope = choice.scope();
    let csv: Csv = match kind {
        TileKind::Panel => {
            let name =
                PanelName::parse(&id).ok_or_else(|| CommandError(format!("no panel {id:?}")))?;
            engine.panels.dashboard(&scope).await?.panel(name).csv()
        }
        TileKind::Insight => engine.insights.answer(&id, &scope, false).await?.csv(),
        TileKind::Funnel => engine.funnels.report(&id, &scope, None).await?.csv(),
    };
    download(&format!("pulseboard-{id}-{}", choice.range), &csv)
}

/// Writes `csv` into the Downloads folder as `<stem>.csv` (or the next free name); answers
/// the file's path.
pub(super) fn download(stem: &str, csv: &Csv) -> Result<String, CommandError> {
    let path = free_path(stem, "csv")?;
    crate::support::files::write_private(&path, csv.render().as_bytes())
        .map_err(|e| CommandError(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// `<Downloads>/<stem>.csv`, or `<stem> (2).csv`… when taken, as browsers name downloads.
fn free_path(stem: &str, extension: &str) -> Result<PathBuf, CommandError> {
    let dirs = directories::UserDirs::new()
        .ok_or_else(|| CommandError("no home directory to save the file in".into()))?;
    let dir = match dirs.download_dir() {
        Some(dir) => dir.to_path_buf(),
        None => dirs.home_dir().join("Downloads"),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| CommandError(format!("cannot create {}: {e}", dir.display())))?;
    let candidates = std::iter::once(format!("{stem}.{extension}"))
        .chain((2..).map(|n| format!("{stem} ({n}).{extension}")));
    Ok(candidates
        .map(|name| dir.join(name))
        .find(|path| !path.exists())
        .expect("an unused name"))
}
