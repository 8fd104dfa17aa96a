//! The Alerts view's commands (one-line calls into [`crate::alerts`], as `/api/alerts`) and
//! the desktop notification of each transition.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tauri::{Emitter, State};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use super::{CommandError, Shared};
use crate::alerts::Notice;
use crate::view::AlertsView;

/// How often the notifier checks whether a profile switch replaced the engine it listens to.
const ENGINE_CHECK: Duration = Duration::from_secs(5);

async fn listing(shared: &Shared) -> AlertsView {
    AlertsView::of(&shared.instance.engine().alerts.list())
}

#[tauri::command]
pub async fn alerts(shared: State<'_, Arc<Shared>>) -> Result<AlertsView, CommandError> {
    Ok(listing(&shared).await)
}

/// Adds or replaces rule `id` (muting is a save with `muted` set).
#[tauri::command]
pub async fn save_alert(
    id: String,
    rule: Value,
    shared: State<'_, Arc<Shared>>,
) -> Result<AlertsView, CommandError> {
    shared.instance.engine().alerts.put(&id, &rule)?;
    Ok(listing(&shared).await)
}

#[tauri::command]
pub async fn delete_alert(
    id: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<AlertsView, CommandError> {
    shared.instance.engine().alerts.delete(&id)?;
    Ok(listing(&shared).await)
}

/// Shows a desktop notification for each transition of a rule that is not muted, and pushes a
/// fresh view at once (the badge and the chart's mark), following the engine across profile
/// switches.
pub async fn notify(app: tauri::AppHandle, shared: Arc<Shared>) {
    let mut engine = shared.instance.engine();
    let mut notices = engine.alerts.subscribe();
    loop {
        let notice = match tokio::time::timeout(ENGINE_CHECK, notices.recv()).await {
            Ok(Ok(notice)) => Some(notice),
            // Missed some under a burst: the next view still shows every state. (Never closed:
            // `engine` holds the sender.)
            Ok(Err(RecvError::Lagged(_) | RecvError::Closed)) | Err(_) => None,
        };
        if !Arc::ptr_eq(&engine, &shared.instance.engine()) {
            engine = shared.instance.engine();
            notices = engine.alerts.subscribe();
        }
        let Some(notice) = notice else { continue };
        if !notice.rule.muted {
            show(&app, &notice);
        }
        let _ = app.emit("dashboard", shared.view().await);
    }
}

fn show(app: &tauri::AppHandle, notice: &Notice) {
    let shown = app
        .notification()
        .builder()
        .title(notice.summary())
        .body(notice.body())
        .show();
    if let Err(error) = shown {
        tracing::warn!(%error, rule = %notice.id, "desktop notification failed");
    }
}
