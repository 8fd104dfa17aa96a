//! The desktop window (Tauri v2). The engine runs in this process exactly as in `serve`; the
//! commands are thin wrappers over [`view`](crate::delivery::view), [`demo`](crate::cli::demo),
//! [`charts`](crate::delivery::charts), [`profiles`](crate::storage::profiles) and [`alerts`](crate::delivery::alerts), and the
//! engine pushes a fresh [`View`] after flushes (and alert transitions, with a desktop
//! notification). When the embedded engine's library is missing (an installed app's first
//! start), the window first offers to fetch it (`engine`).

mod alerts;
mod board;
mod engine;
mod funnels;
mod people;
mod profiles;
mod push;
mod retention;
mod sql;
mod suggest;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tauri::{Manager, RunEvent, State, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_dialog::DialogExt;
use tokio::sync::watch;

use crate::cli::demo::{campaign, Scenario};
use crate::cli::{CliError, ServeArgs};
use crate::delivery::settings::{Choice, Settings, TimePick};
use crate::delivery::view::{self, View, Viewer};
use crate::engine::instance::{Endpoint, Instance, InstanceError};
use crate::engine::EngineConfig;
use crate::questions::filters::Filters;
use crate::support::secret::Sensitive;
use push::Push;

/// Pushes at most this often (5 a second), however fast flushes come.
const MIN_PUSH_GAP: Duration = Duration::from_millis(200);
/// Pushes at least this often, so relative times and the status stay fresh with no traffic.
const MAX_PUSH_GAP: Duration = Duration::from_secs(5);
/// The in-process demo's rate (events/s) and longest run.
const DEMO_RATE: u32 = 500;
/// The campaign's history is sent at up to 100 events/s (`pulseboard demo`): its live
/// traffic goes at that rate too, so history and the present read alike.
const CAMPAIGN_RATE: u32 = 100;
const DEMO_LONGEST: Duration = Duration::from_secs(4 * 3600);

/// A command's failure as the page sees it: the error's message.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct CommandError(String);

impl<E: std::error::Error> From<E> for CommandError {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

/// What the commands share: the running instance, the chosen range, the demo.
struct Shared {
    instance: Instance,
    viewer: Viewer,
    /// The ingest token, which the in-process demo must send like any client.
    token: Option<Sensitive<String>>,
    settings: Settings,
    choice: Mutex<Choice>,
    demo: Mutex<Option<watch::Sender<bool>>>,
    /// The People view's live stream, forwarding to the page.
    live: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl Shared {
    fn choice(&self) -> Choice {
        self.choice
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Changes what the window shows and remembers it.
    fn choose(&self, change: impl FnOnce(&mut Choice)) {
        let mut choice = self.choice.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut choice);
        self.settings.save(&choice);
    }

    fn demo_running(&self) -> bool {
        self.demo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|stop| !stop.is_closed())
    }

    async fn view(&self) -> View {
        let url = self.instance.url();
        let request = view::Request {
            choice: self.choice(),
            url: &url,
            demo_running: self.demo_running(),
        };
        self.viewer.view(&self.instance.engine(), &request).await
    }
}

/// Opens the dashboard: the engine on `args`' address, then the window; returns when the window
/// closes (after a last flush). A second launch hands over to the first window and exits before
/// touching the port or the data directory.
pub fn run(args: ServeArgs, runtime: tokio::runtime::Runtime) -> Result<(), CliError> {
    check_display()?;
    tauri::async_runtime::set(runtime.handle().clone());
    let endpoint = args.endpoint();
    endpoint
        .access
        .check(args.bind)
        .map_err(|e| InstanceError::Serve(e.into()))?;
    let config = args.engine.config()?;
    let shared_slot: Arc<Mutex<Option<Arc<Shared>>>> = Arc::default();
    let exit_slot = shared_slot.clone();
    let app = tauri::Builder::default()
        // First: in a second launch this exits the process, before the setup below runs.
        .plugin(tauri_plugin_single_instance::init(|app, _, _| focus(app)))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            snapshot,
            set_time,
            set_filters,
            mark_now,
            delete_annotation,
            suggest::suggest,
            page,
            set_page,
            start_demo,
            stop_demo,
            save_png,
            profiles::profiles,
            profiles::save_profile,
            profiles::delete_profile,
            profiles::test_profile,
            profiles::use_profile,
            connect,
            aliases,
            set_aliases,
            funnels::funnels,
            funnels::funnel_report,
            funnels::save_funnel,
            funnels::delete_funnel,
            funnels::show_funnel,
            funnels::funnel_actors,
            alerts::alerts,
            alerts::save_alert,
            alerts::delete_alert,
            alerts::preview_alert,
            board::shelves,
            board::arrange,
            board::preview_insight,
            board::save_insight,
            board::save_csv,
            retention::retention,
            retention::retention_events,
            retention::save_retention_csv,
            people::watch_live,
            people::people,
            people::person,
            sql::sql_console,
            sql::run_sql,
            sql::save_sql,
            sql::delete_sql,
            sql::save_sql_csv,
            engine::engine_missing,
            engine::engine_install,
            engine::engine_cancel,
        ])
        .setup(move |app| {
            let mut config = config;
            let desktop = Arc::new(alerts::Desktop(app.handle().clone()));
            config.alert_channels = config.alert_channels.with(desktop);
            let start = Start {
                token: endpoint.access.token.clone(),
                config,
                endpoint,
                slot: shared_slot,
            };
            if engine::missing(&start.config) {
                app.manage(engine::Pending::new(start));
                return Ok(open_window(app, WebviewUrl::App(engine::PAGE.into()))?);
            }
            let runtime = tauri::async_runtime::handle();
            runtime.block_on(start_dashboard(app.handle(), &start))?;
            // The window opens only now, so its first request finds the engine running.
            open_window(app, WebviewUrl::default())?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .map_err(|e| CliError::Window(format!("cannot open the window: {e}")))?;
    app.run(move |_, event| {
        if let RunEvent::Exit = event {
            let shared = exit_slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(shared) = shared {
                runtime.block_on(shared.instance.stop());
            }
        }
    });
    Ok(())
}

/// What starting the dashboard takes; held while the engine's library is being fetched.
struct Start {
    config: EngineConfig,
    endpoint: Endpoint,
    /// The ingest token, which the in-process demo must send like any client.
    token: Option<Sensitive<String>>,
    /// Where the exit handler finds the running instance to stop it.
    slot: Arc<Mutex<Option<Arc<Shared>>>>,
}

/// Starts the engine and its API, hands it to the commands and starts pushing views.
async fn start_dashboard(app: &tauri::AppHandle, start: &Start) -> Result<(), InstanceError> {
    let instance = Instance::start(start.config.clone(), start.endpoint.clone()).await?;
    let settings = Settings::load();
    let shared = Arc::new(Shared {
        instance,
        viewer: Viewer::default(),
        token: start.token.clone(),
        choice: Mutex::new(settings.choice()),
        settings,
        demo: Mutex::new(None),
        live: Mutex::new(None),
    });
    *start.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(shared.clone());
    app.manage(shared.clone());
    tauri::async_runtime::spawn(alerts::refresh_on_transitions(app.clone(), shared.clone()));
    tauri::async_runtime::spawn(push(app.clone(), shared));
    Ok(())
}

fn open_window<M: Manager<tauri::Wry>>(app: &M, page: WebviewUrl) -> tauri::Result<()> {
    WebviewWindowBuilder::new(app, "main", page)
        .title("Pulseboard")
        .inner_size(1280.0, 800.0)
        .min_inner_size(420.0, 360.0)
        .build()?;
    Ok(())
}

/// Settings for the web view, made while the process has one thread (before the async
/// runtime starts), since changing the environment later is not thread-safe.
pub fn prepare_environment() {
    // WebKitGTK's compositing mode raises the web process's memory for a page that is a few
    // SVGs and needs no GPU layers; the window's RSS target counts every process. A user's own
    // setting wins.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

/// GTK panics without a display; say what to do instead.
fn check_display() -> Result<(), CliError> {
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    if cfg!(target_os = "linux") && !has_display {
        return Err(CliError::Window(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): \
             run `pulseboard serve` for the engine without a window"
                .into(),
        ));
    }
    Ok(())
}

fn focus(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Emits `dashboard` after flushes (at most every [`MIN_PUSH_GAP`]) and at least every
/// [`MAX_PUSH_GAP`].
async fn push(app: tauri::AppHandle, shared: Arc<Shared>) {
    let mut engine = shared.instance.engine();
    let mut flushes = engine.status.subscribe();
    let mut last = Instant::now() - MIN_PUSH_GAP;
    loop {
        let _ = tokio::time::timeout(MAX_PUSH_GAP, flushes.changed()).await;
        // After a profile switch, follow the new engine's flushes.
        if !Arc::ptr_eq(&engine, &shared.instance.engine()) {
            engine = shared.instance.engine();
            flushes = engine.status.subscribe();
        }
        tokio::time::sleep(MIN_PUSH_GAP.saturating_sub(last.elapsed())).await;
        last = Instant::now();
        push::send(&app, Push::Dashboard(Box::new(shared.view().await)));
    }
}

#[tauri::command]
async fn snapshot(shared: State<'_, Arc<Shared>>) -> Result<View, CommandError> {
    Ok(shared.view().await)
}

/// The header's time: a preset (live, or as of an instant) or a span from–to.
#[tauri::command]
async fn set_time(pick: TimePick, shared: State<'_, Arc<Shared>>) -> Result<View, CommandError> {
    let now = shared.instance.engine().config.clock.now();
    let (range, at) = pick.resolve(now).map_err(CommandError)?;
    shared.choose(|choice| (choice.range, choice.at) = (range, at));
    Ok(shared.view().await)
}

/// The view the window opened last (none: its first, the dashboard).
#[tauri::command]
async fn page(shared: State<'_, Arc<Shared>>) -> Result<Option<String>, CommandError> {
    Ok(shared.choice().page)
}

/// Opens view `page` of the window's navigation, remembered for the next launch. The page
/// names its views (`ui/app.js`); a name is a short lower-case word.
#[tauri::command]
async fn set_page(page: String, shared: State<'_, Arc<Shared>>) -> Result<(), CommandError> {
    let page = crate::delivery::settings::page(page).map_err(CommandError)?;
    shared.choose(|choice| choice.page = Some(page));
    Ok(())
}

/// "Mark now": an annotation with `text` at this instant, on every time chart from the next
/// view on (this one included).
#[tauri::command]
async fn mark_now(text: String, shared: State<'_, Arc<Shared>>) -> Result<View, CommandError> {
    let engine = shared.instance.engine();
    let now = engine.config.clock.now();
    engine
        .annotations
        .add(&serde_json::json!({ "text": text }), now, |_| Ok(()))?;
    Ok(shared.view().await)
}

/// Deletes annotation `id` (the mark list's ✕).
#[tauri::command]
async fn delete_annotation(
    id: String,
    shared: State<'_, Arc<Shared>>,
) -> Result<View, CommandError> {
    shared.instance.engine().annotations.delete(&id)?;
    Ok(shared.view().await)
}

/// The filter bar: `param → value` as the HTTP API takes them (an empty map clears them).
#[tauri::command]
async fn set_filters(
    filters: BTreeMap<String, String>,
    shared: State<'_, Arc<Shared>>,
) -> Result<View, CommandError> {
    let filters = Filters::from_map(&filters).map_err(|e| CommandError(e.to_string()))?;
    shared.choose(|choice| choice.filters = filters);
    Ok(shared.view().await)
}

#[tauri::command]
async fn start_demo(
    scenario: Option<Scenario>,
    shared: State<'_, Arc<Shared>>,
) -> Result<View, CommandError> {
    let scenario = scenario.unwrap_or_default();
    let funnels = &shared.instance.engine().funnels;
    if scenario == Scenario::Campaign {
        if funnels.get(campaign::FUNNEL_ID).is_err() {
            funnels.put(campaign::FUNNEL_ID, &campaign::funnel_definition())?;
        }
        // The story's funnel is the one to open next.
        let opened = crate::delivery::settings::FunnelView {
            id: campaign::FUNNEL_ID.to_owned(),
            breakdown: String::new(),
        };
        shared.choose(|choice| choice.funnel_view = Some(opened));
    }
    let (stop_tx, stop) = watch::channel(false);
    let options = crate::cli::demo::DemoOptions {
        url: shared.instance.url(),
        rate: match scenario {
            Scenario::Campaign => CAMPAIGN_RATE,
            Scenario::Steady => DEMO_RATE,
        },
        duration: DEMO_LONGEST,
        token: shared.token.clone(),
        scenario,
    };
    tokio::spawn(async move {
        // The receiver drops when the run ends, which `demo_running` sees as a closed channel.
        if let Err(error) = crate::cli::demo::run(options, stop, |_| {}).await {
            tracing::warn!(%error, "demo traffic stopped");
        }
    });
    *shared.demo.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop_tx);
    Ok(shared.view().await)
}

#[tauri::command]
async fn stop_demo(shared: State<'_, Arc<Shared>>) -> Result<View, CommandError> {
    if let Some(stop) = shared.demo.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = stop.send(true);
    }
    Ok(shared.view().await)
}

/// "Connect your product": SDK snippets pointed at this instance, with its key.
#[tauri::command]
async fn connect(
    shared: State<'_, Arc<Shared>>,
) -> Result<crate::delivery::connect::Connect, CommandError> {
    let token = shared.token.as_ref().map(|t| t.expose().as_str());
    Ok(crate::delivery::connect::connect(
        &shared.instance.url(),
        token,
    ))
}

#[tauri::command]
async fn aliases(shared: State<'_, Arc<Shared>>) -> Result<BTreeMap<String, String>, CommandError> {
    Ok(shared.instance.engine().aliases.get().as_ref().clone())
}

#[tauri::command]
async fn set_aliases(
    aliases: BTreeMap<String, String>,
    shared: State<'_, Arc<Shared>>,
) -> Result<BTreeMap<String, String>, CommandError> {
    let engine = shared.instance.engine();
    engine.aliases.set(aliases)?;
    Ok(engine.aliases.get().as_ref().clone())
}

/// Asks where to save, then writes the whole dashboard as a PNG. `None` when cancelled.
#[tauri::command]
async fn save_png(
    app: tauri::AppHandle,
    shared: State<'_, Arc<Shared>>,
) -> Result<Option<String>, CommandError> {
    let range = shared.choice().range;
    let picked = app
        .dialog()
        .file()
        .add_filter("PNG image", &["png"])
        .set_file_name(format!("pulseboard-{}.png", range))
        .blocking_save_file();
    let Some(path) = picked.and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    let view = shared.view().await;
    let engine = shared.instance.engine();
    let png = crate::delivery::view::png(&engine, &shared.choice(), &view.panels).await?;
    std::fs::write(&path, png)
        .map_err(|e| CommandError(format!("cannot write {}: {e}", path.display())))?;
    Ok(Some(path.display().to_string()))
}
