//! The Funnels view's commands: one-line calls into [`crate::questions::funnels`], the same library
//! the `/api/funnels` routes use, over the dashboard's range and filters.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tauri::State;

use super::{CommandError, Shared};
use crate::delivery::view::View;
use crate::questions::funnels::{Breakdown, EventName, Funnel, FunnelError, FunnelReport};
use crate::questions::panels::Scope;

/// What the view lists: the funnels, and the event names seen in the range to build steps from.
#[derive(Debug, Serialize)]
pub struct FunnelsView {
    funnels: Vec<Arc<Funnel>>,
    event_names: Vec<EventName>,
    /// The funnel the dashboard's signup panel shows, if any.
    shown: Option<String>,
}

/// One funnel computed: the counts (and groups of a breakdown) and its steps chart.
#[derive(Debug, Serialize)]
pub struct FunnelAnswer {
    report: Arc<FunnelReport>,
    chart: String,
}

fn scope(shared: &Shared) -> Scope {
    shared.choice().scope()
}

async fn listing(shared: &Shared) -> Result<FunnelsView, CommandError> {
    let engine = shared.instance.engine();
    let names = engine.funnels.event_names(&scope(shared)).await?;
    Ok(FunnelsView {
        funnels: engine.funnels.list(),
        event_names: names.event_names.clone(),
        shown: shared.choice().funnel,
    })
}

#[tauri::command]
pub async fn funnels(shared: State<'_, Arc<Shared>>) -> Result<FunnelsView, CommandError> {
    listing(&shared).await
}

/// Funnel `id` over the dashboard's range and filters; `breakdown` as the API takes it
/// (`country`, `device`, `prop.KEY`), empty for none.
#[tauri::command]
pub async fn funnel_report(
    id: String,
    breakdown: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<FunnelAnswer, CommandError> {
    let breakdown = match breakdown.as_str() {
        "" => None,
        text => Some(Breakdown::parse(text).map_err(FunnelError::from)?),
    };
    let engine = shared.instance.engine();
    let funnel = engine.funnels.get(&id)?;
    let report = engine
        .funnels
        .report(&id, &scope(&shared), breakdown)
        .await?;
    let chart = crate::questions::funnels::chart::svg(&funnel.name, &report);
    Ok(FunnelAnswer { report, chart })
}

/// Defines or replaces funnel `id` from `definition` (the `PUT /api/funnels/{id}` body).
#[tauri::command]
pub async fn save_funnel(
    id: String,
    definition: Value,
    shared: State<'_, Arc<Shared>>,
) -> Result<FunnelsView, CommandError> {
    shared.instance.engine().funnels.put(&id, &definition)?;
    listing(&shared).await
}

#[tauri::command]
pub async fn delete_funnel(
    id: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<FunnelsView, CommandError> {
    shared.instance.engine().funnels.delete(&id)?;
    if shared.choice().funnel.as_deref() == Some(id.as_str()) {
        shared.choose(|choice| choice.funnel = None);
    }
    listing(&shared).await
}

/// Shows funnel `id` in the signup panel's place (`None`: the hourly signups again).
#[tauri::command]
pub async fn show_funnel(
    id: Option<String>,
    shared: State<'_, Arc<Shared>>,
) -> Result<View, CommandError> {
    if let Some(id) = &id {
        shared.instance.engine().funnels.get(id)?;
    }
    shared.choose(|choice| choice.funnel = id);
    Ok(shared.view().await)
}
