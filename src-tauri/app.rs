//! The desktop window (Tauri v2). The engine runs in this process exactly as in `serve`; the
//! commands below are thin wrappers over [`view`](crate::view), [`demo`](crate::demo) and
//! [`charts`](crate::charts), and the engine pushes a fresh [`View`] after flushes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tauri::{Emitter, Manager, RunEvent, State, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_dialog::DialogExt;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::engine::{Engine, EngineError};
use crate::ingest::Access;
use crate::panels::Range;
use crate::secret::Sensitive;
use crate::view::{self, View};

/// Pushes at most this often, however fast flushes come.
const MIN_PUSH_GAP: Duration = Duration::from_millis(500);
/// Pushes at least this often, so relative times and the status stay fresh with no traffic.
const MAX_PUSH_GAP: Duration = Duration::from_secs(5);
/// The in-process demo's rate (events/s) and longest run.
const DEMO_RATE: u32 = 500;
const DEMO_LONGEST: Duration = Duration::from_secs(4 * 3600);

/// What the commands share: the engine, where it listens, the chosen range, the demo.
struct Shared {
    engine: Arc<Engine>,
    url: String,
    /// The ingest token, which the in-process demo must send like any client.
    token: Option<Sensitive<String>>,
    settings: Settings,
    range: Mutex<Range>,
    demo: Mutex<Option<watch::Sender<bool>>>,
    /// The last view built, shown while the store is down.
    last: Mutex<Option<View>>,
}

impl Shared {
    fn range(&self) -> Range {
        *self.range.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn demo_running(&self) -> bool {
        self.demo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|stop| !stop.is_closed())
    }

    /// The view now; while the store cannot answer, the last panels with the current status
    /// (so the window turns red instead of freezing).
    async fn view(&self) -> Result<View, String> {
        let built = view::build(&self.engine, self.range(), &self.url, self.demo_running()).await;
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match built {
            Ok(view) => {
                *last = Some(view.clone());
                Ok(view)
            }
            Err(error) => match last.clone() {
                Some(view) => Ok(view::with_fresh_status(view, &self.engine)),
                None => Err(error.to_string()),
            },
        }
    }
}

/// Opens the dashboard: the engine on `args`' address, then the window; returns when the window
/// closes (after a last flush). A second launch hands over to the first window and exits before
/// touching the port or the data directory.
pub fn run(args: ServeArgs, runtime: tokio::runtime::Runtime) -> Result<(), String> {
    tauri::async_runtime::set(runtime.handle().clone());
    let access = Access {
        token: args.ingest_token.clone().map(Sensitive::from),
        cors_origins: args.cors_origins.clone(),
    };
    access.check(args.bind).map_err(|e| e.to_string())?;
    let config = args.engine.config()?;
    let addr = SocketAddr::new(args.bind, args.port);
    let token = access.token.clone();
    let started: Arc<Mutex<Option<Arc<Engine>>>> = Arc::default();
    let engine_slot = started.clone();
    let app = tauri::Builder::default()
        // First: in a second launch this exits the process, before the setup below runs.
        .plugin(tauri_plugin_single_instance::init(|app, _, _| focus(app)))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            snapshot, set_range, start_demo, stop_demo, save_png
        ])
        .setup(move |app| {
            let runtime = tauri::async_runtime::handle();
            let engine = runtime.block_on(Engine::start(config))?;
            *engine_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(engine.clone());
            let bound = runtime.block_on(listen(&engine, addr, access))?;
            let settings = Settings::load();
            let shared = Arc::new(Shared {
                engine,
                url: format!("http://{bound}"),
                token,
                range: Mutex::new(settings.range()),
                settings,
                demo: Mutex::new(None),
                last: Mutex::new(None),
            });
            app.manage(shared.clone());
            // The window opens only now, so its first request finds the engine running.
            WebviewWindowBuilder::new(app, "main", WebviewUrl::default())
                .title("Pulseboard")
                .inner_size(1280.0, 800.0)
                .min_inner_size(420.0, 360.0)
                .build()?;
            tauri::async_runtime::spawn(push(app.handle().clone(), shared));
            Ok(())
        })
        .build(tauri::generate_context!())
        .map_err(|e| format!("cannot open the window: {e}"))?;
    app.run(move |_, event| {
        if let RunEvent::Exit = event {
            let engine = started.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(engine) = engine {
                runtime.block_on(engine.shutdown());
            }
        }
    });
    Ok(())
}

/// Serves the HTTP API in the background; returns the bound address once listening.
async fn listen(
    engine: &Arc<Engine>,
    addr: SocketAddr,
    access: Access,
) -> Result<SocketAddr, EngineError> {
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let engine = engine.clone();
    let server = tokio::spawn(async move {
        let ready = |bound| {
            let _ = bound_tx.send(bound);
        };
        engine
            .serve(addr, &access, ready, std::future::pending())
            .await
    });
    match bound_rx.await {
        Ok(bound) => Ok(bound),
        // The server ended before listening: its error says why (a taken port, a refused bind).
        Err(_) => match server.await {
            Ok(Err(error)) => Err(error),
            _ => Err(EngineError::Bind {
                addr,
                source: std::io::Error::other("the HTTP server stopped before listening"),
            }),
        },
    }
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
    let mut flushes = shared.engine.status.subscribe();
    let mut last = Instant::now() - MIN_PUSH_GAP;
    loop {
        let _ = tokio::time::timeout(MAX_PUSH_GAP, flushes.changed()).await;
        tokio::time::sleep(MIN_PUSH_GAP.saturating_sub(last.elapsed())).await;
        last = Instant::now();
        match shared.view().await {
            Ok(view) => drop(app.emit("dashboard", view)),
            Err(error) => tracing::warn!(%error, "cannot refresh the dashboard"),
        }
    }
}

#[tauri::command]
async fn snapshot(shared: State<'_, Arc<Shared>>) -> Result<View, String> {
    shared.view().await
}

#[tauri::command]
async fn set_range(range: String, shared: State<'_, Arc<Shared>>) -> Result<View, String> {
    let range = Range::parse(&range).ok_or_else(|| format!("unknown range {range:?}"))?;
    *shared.range.lock().unwrap_or_else(|p| p.into_inner()) = range;
    shared.settings.save_range(range);
    shared.view().await
}

#[tauri::command]
async fn start_demo(shared: State<'_, Arc<Shared>>) -> Result<View, String> {
    let (stop_tx, stop) = watch::channel(false);
    let options = crate::demo::DemoOptions {
        url: shared.url.clone(),
        rate: DEMO_RATE,
        duration: DEMO_LONGEST,
        token: shared.token.clone(),
    };
    tokio::spawn(async move {
        // The receiver drops when the run ends, which `demo_running` sees as a closed channel.
        if let Err(error) = crate::demo::run(options, stop, |_| {}).await {
            tracing::warn!(%error, "demo traffic stopped");
        }
    });
    *shared.demo.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop_tx);
    shared.view().await
}

#[tauri::command]
async fn stop_demo(shared: State<'_, Arc<Shared>>) -> Result<View, String> {
    if let Some(stop) = shared.demo.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = stop.send(true);
    }
    shared.view().await
}

/// Asks where to save, then writes the whole dashboard as a PNG. `None` when cancelled.
#[tauri::command]
async fn save_png(
    app: tauri::AppHandle,
    shared: State<'_, Arc<Shared>>,
) -> Result<Option<String>, String> {
    let range = shared.range();
    let picked = app
        .dialog()
        .file()
        .add_filter("PNG image", &["png"])
        .set_file_name(format!("pulseboard-{}.png", range.as_str()))
        .blocking_save_file();
    let Some(path) = picked.and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    let view = shared.view().await?;
    let png = crate::charts::dashboard_png(&view.panels, range).map_err(|e| e.to_string())?;
    std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some(path.display().to_string()))
}

/// The window's remembered choices (`window.json` in the config directory). Window size and
/// position are the window-state plugin's.
struct Settings {
    path: Option<PathBuf>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SettingsFile {
    range: String,
}

impl Settings {
    fn load() -> Self {
        let path = crate::profiles::config_dir(None)
            .ok()
            .map(|dir| dir.join("window.json"));
        Self { path }
    }

    fn range(&self) -> Range {
        self.path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice::<SettingsFile>(&bytes).ok())
            .and_then(|f| Range::parse(&f.range))
            .unwrap_or(Range::H1)
    }

    fn save_range(&self, range: Range) {
        let Some(path) = &self.path else { return };
        let file = SettingsFile {
            range: range.as_str().into(),
        };
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, serde_json::to_vec(&file).unwrap_or_default()));
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "cannot remember the time range");
        }
    }
}
