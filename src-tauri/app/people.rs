//! The People view's commands: the live events (a stream from [`crate::delivery::live`] whose
//! items are pushed to the page as `live`), people found by prefix and a person's timeline
//! (one-line calls into [`crate::questions::people`], as `/api/people` answers), over the
//! filter bar's filters.

use std::sync::Arc;

use tauri::{AppHandle, State};

use super::push::{self, Push};
use super::{CommandError, Shared};
use crate::delivery::live::Interest;
use crate::questions::panels::{Range, Scope};
use crate::questions::people::{check_actor, PeopleList, Timeline};

/// A person's history reaches back a week, as `/api/people/{actor}/events` does by default.
const WEEK: Range = Range::Span(7 * 86_400);
const PEOPLE_SHOWN: u32 = 50;
const EVENTS_SHOWN: u32 = 100;

fn week(shared: &Shared) -> Scope {
    Scope {
        range: WEEK,
        ..shared.choice().scope()
    }
}

/// Starts watching what lands (narrowed by the filter bar), replacing the stream watched
/// before; `false` stops it. Each item is pushed as `live` until the stream ends (a profile
/// switch ends it with its engine; the view watches again when shown).
#[tauri::command]
pub async fn watch_live(
    on: bool,
    app: AppHandle,
    shared: State<'_, Arc<Shared>>,
) -> Result<(), CommandError> {
    let mut watching = shared.live.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(task) = watching.take() {
        task.abort();
    }
    if !on {
        return Ok(());
    }
    let interest = Interest {
        filters: shared.choice().scope().filters,
        event: None,
    };
    let mut stream = shared.instance.engine().live.subscribe(interest)?;
    let task = tauri::async_runtime::spawn(async move {
        while let Some(item) = stream.next().await {
            push::send(&app, Push::Live(item));
        }
    });
    *watching = Some(task);
    Ok(())
}

#[tauri::command]
pub async fn people(
    search: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<PeopleList, CommandError> {
    crate::questions::properties::check_search(&search)?;
    let engine = shared.instance.engine();
    Ok(engine
        .people
        .list(&week(&shared), &search, PEOPLE_SHOWN)
        .await?)
}

/// `actor`'s events of the last week, newest first (the filter bar does not narrow a person).
#[tauri::command]
pub async fn person(
    actor: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<Timeline, CommandError> {
    check_actor("actor", &actor)?;
    let engine = shared.instance.engine();
    Ok(engine
        .people
        .timeline(&actor, &Scope::new(WEEK), None, EVENTS_SHOWN)
        .await?)
}
