//! The first start of an installed app: the embedded engine's library is missing, so the
//! window opens on `ui/engine.html`, which says what is missing and offers to fetch it (progress
//! pushed as `engine-progress`, a cancel). Glue over [`libchdb`](crate::storage::libchdb): once the
//! library is installed the dashboard starts as on any other launch and the page moves to it.

use std::sync::Mutex;

use tauri::{AppHandle, State};
use tokio::sync::watch;

use super::push::{self, Push};
use super::{CommandError, Start};
use crate::engine::EngineConfig;
use crate::storage::libchdb::{Installer, Status, DOWNLOAD_MB, INSTALLED_MB};
use crate::storage::store::chdb;

/// The page the window opens on while the library is missing.
pub(super) const PAGE: &str = "engine.html";

/// Whether this start must fetch the library first: the embedded store, and no libchdb where
/// the store looks.
pub(super) fn missing(config: &EngineConfig) -> bool {
    config.server.is_none() && chdb::find_library().is_err()
}

/// The dashboard's start, held until the library is there, and the running download's cancel.
pub(super) struct Pending {
    start: Mutex<Option<Start>>,
    cancel: Mutex<Option<watch::Sender<bool>>>,
}

impl Pending {
    pub(super) fn new(start: Start) -> Self {
        Self {
            start: Mutex::new(Some(start)),
            cancel: Mutex::new(None),
        }
    }
}

/// What the page shows before anything is fetched.
#[derive(Debug, serde::Serialize)]
pub(super) struct Missing {
    status: Status,
    /// Where the app looked for the library.
    searched: Vec<String>,
    download_mb: u64,
    installed_mb: u64,
}

#[tauri::command]
pub(super) fn engine_missing() -> Result<Missing, CommandError> {
    Ok(Missing {
        status: Installer::from_env()?.status(),
        searched: chdb::library_candidates()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        download_mb: DOWNLOAD_MB,
        installed_mb: INSTALLED_MB,
    })
}

/// Fetches and installs the library, pushing its progress, then starts the dashboard.
#[tauri::command]
pub(super) async fn engine_install(
    app: AppHandle,
    pending: State<'_, Pending>,
) -> Result<(), CommandError> {
    let installer = Installer::from_env()?;
    let cancel = {
        let mut slot = pending.cancel.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(CommandError("the engine is already being fetched".into()));
        }
        let (sender, cancel) = watch::channel(false);
        *slot = Some(sender);
        cancel
    };
    let page = app.clone();
    let progress = move |p| {
        // A page that went away misses a report; the install goes on.
        push::send(&page, Push::EngineProgress(p));
    };
    let installed = installer.install(progress, cancel).await;
    pending
        .cancel
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    installed?;
    let start = pending
        .start
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    // A second call after a success finds the dashboard already started.
    let Some(start) = start else {
        return Ok(());
    };
    if let Err(error) = super::start_dashboard(&app, &start).await {
        // Kept for "Try again" once the cause (a port in use, say) is gone.
        *pending.start.lock().unwrap_or_else(|p| p.into_inner()) = Some(start);
        return Err(error.into());
    }
    Ok(())
}

/// Stops a running download; what arrived is kept, and the next install resumes it.
#[tauri::command]
pub(super) fn engine_cancel(pending: State<'_, Pending>) {
    if let Some(cancel) = pending
        .cancel
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        cancel.send_replace(true);
    }
}
