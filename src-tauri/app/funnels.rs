//! The Funnels view's commands: one-line calls into [`crate::questions::funnels`], the same library
//! the `/api/funnels` routes use, over the dashboard's range and filters.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tauri::State;

use super::{CommandError, Shared};
use crate::delivery::settings::FunnelView;
use crate::delivery::view::View;
use crate::questions::funnels::{
    trend_chart, wilson_95, Breakdown, EventName, Funnel, FunnelActors, FunnelError, FunnelReport,
    FunnelTrend, Interval, Outcome, Who,
};
use crate::questions::panels::Scope;

/// What the view lists: the funnels, and the event names seen in the range to build steps from.
#[derive(Debug, Serialize)]
pub struct FunnelsView {
    funnels: Vec<Arc<Funnel>>,
    event_names: Vec<EventName>,
    /// The funnel the dashboard's signup panel shows, if any.
    shown: Option<String>,
    /// What the view showed last (remembered across launches).
    last: Option<FunnelView>,
}

/// One funnel computed: the counts (and groups of a breakdown), its steps chart, and its
/// conversion over time (per group too) with the group lagging furthest behind.
#[derive(Debug, Serialize)]
pub struct FunnelAnswer {
    report: Arc<FunnelReport>,
    chart: String,
    /// The 95 % interval of each group's conversion, in the report's order.
    intervals: Vec<Option<(f64, f64)>>,
    trend: Arc<FunnelTrend>,
    trend_chart: String,
    lagging: Option<String>,
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
        last: shared.choice().funnel_view,
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
    let asked = match breakdown.as_str() {
        "" => None,
        text => Some(Breakdown::of_funnel(text).map_err(FunnelError::from)?),
    };
    shared.choose(|choice| {
        choice.funnel_view = Some(FunnelView {
            id: id.clone(),
            breakdown,
        })
    });
    let breakdown = asked;
    let engine = shared.instance.engine();
    let funnel = engine.funnels.get(&id)?;
    let scope = scope(&shared);
    let report = engine
        .funnels
        .report(&id, &scope, breakdown.clone())
        .await?;
    let trend = engine
        .funnels
        .trend(&id, &scope, breakdown, Interval::Auto)
        .await?;
    let intervals = report
        .groups
        .iter()
        .map(|g| wilson_95(g.steps[g.steps.len() - 1].count, g.steps[0].count))
        .collect();
    Ok(FunnelAnswer {
        chart: crate::questions::funnels::chart::svg(&funnel.name, &report),
        intervals,
        trend_chart: trend_chart::svg(&funnel.name, &trend, &engine.annotations.marks()),
        lagging: report.lagging().map(str::to_owned),
        report,
        trend,
    })
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

/// Who reached step `step` of funnel `id` (from 1), or dropped after it (`dropped`), over the
/// dashboard's range and filters; with `breakdown` and `value`, in that group only.
#[tauri::command]
pub async fn funnel_actors(
    id: String,
    step: usize,
    dropped: bool,
    breakdown: String,
    value: Option<String>,
    shared: State<'_, Arc<Shared>>,
) -> Result<Arc<FunnelActors>, CommandError> {
    let breakdown = match breakdown.as_str() {
        "" => None,
        text => Some(Breakdown::of_funnel(text).map_err(FunnelError::from)?),
    };
    let who = Who {
        step,
        outcome: if dropped {
            Outcome::Dropped
        } else {
            Outcome::Reached
        },
        value,
        limit: 100,
    };
    let engine = shared.instance.engine();
    Ok(engine
        .funnels
        .actors(&id, &scope(&shared), breakdown, who)
        .await?)
}
