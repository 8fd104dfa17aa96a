//! The Alerts view's commands (one-line calls into [`crate::delivery::alerts`], as
//! `/api/alerts`), the desktop notification channel, and a fresh view at each transition.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tauri::State;
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use super::push::{self, Push};
use super::{CommandError, Shared};
use crate::delivery::alerts::{Channel, ChannelError, Delivery, Notice, Rule};
use crate::delivery::view::{replayed_text, AlertsView};
use crate::questions::panels::Range;

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

/// What rule `id` would have done over the last 6 hours of stored events, in local time:
/// `14:03 fired at 2.5`, oldest first.
#[tauri::command]
pub async fn preview_alert(
    id: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<Vec<String>, CommandError> {
    let engine = shared.instance.engine();
    let preview = engine.alerts.preview(&id, Range::H6, None).await?;
    Ok(preview.transitions.iter().map(replayed_text).collect())
}

/// Desktop notifications (tauri-plugin-notification: D-Bus on Linux) for rules that are not
/// muted: the window's alert channel.
pub struct Desktop(pub tauri::AppHandle);

impl Channel for Desktop {
    fn name(&self) -> &'static str {
        "desktop"
    }

    fn wants(&self, rule: &Rule) -> bool {
        !rule.muted
    }

    fn deliver<'a>(&'a self, notice: &'a Notice) -> Delivery<'a> {
        let shown = self
            .0
            .notification()
            .builder()
            .title(notice.summary())
            .body(notice.body())
            .show()
            .map_err(|e| ChannelError(e.to_string()));
        Box::pin(std::future::ready(shown))
    }
}

/// Pushes a fresh view at each transition (the badge and the chart's mark), following the
/// engine across profile switches.
pub async fn refresh_on_transitions(app: tauri::AppHandle, shared: Arc<Shared>) {
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
        if notice.is_some() {
            push::send(&app, Push::Dashboard(Box::new(shared.view().await)));
        }
    }
}
