//! The one mapping of what the backend pushes to the event names `ui/` listens for.

use serde_json::json;
use tauri::Emitter;

use crate::delivery::live::Item;

use crate::delivery::view::View;
use crate::storage::libchdb::Progress;

/// Everything the window is sent without asking.
pub enum Push {
    /// A fresh dashboard: after flushes, alert transitions, a profile switch (`"dashboard"`).
    Dashboard(Box<View>),
    /// How far the engine's download has come (`"engine-progress"`, on `ui/engine.html`).
    EngineProgress(Progress),
    /// What just landed, for the People view's live list (`"live"`: `{"kind", "data"}`).
    Live(Item),
}

impl Push {
    fn event(&self) -> &'static str {
        match self {
            Push::Dashboard(_) => "dashboard",
            Push::EngineProgress(_) => "engine-progress",
            Push::Live(_) => "live",
        }
    }
}

/// Sends `push` to every page; a page that went away misses it, and the next push catches up.
pub fn send<R: tauri::Runtime>(app: &impl Emitter<R>, push: Push) {
    let event = push.event();
    let sent = match push {
        Push::Dashboard(view) => app.emit(event, *view),
        Push::EngineProgress(progress) => app.emit(event, progress),
        Push::Live(item) => app.emit(event, json!({"kind": item.kind(), "data": item.data()})),
    };
    if let Err(error) = sent {
        tracing::debug!(%error, event, "push not delivered");
    }
}
