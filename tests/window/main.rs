//! End to end through the real window: the `pulseboard` binary (WebKitGTK) driven over WebDriver
//! by `tauri-driver` + `WebKitWebDriver`, on a temp data dir and a free port.
//!
//! Needs a display (CI: `xvfb-run`), `tauri-driver` (scripts/setup.sh installs it), Debian's
//! `webkit2gtk-driver`, a D-Bus session (the single-instance plugin, desktop notifications; CI:
//! `dbus-run-session`) and Debian's `dunst` (the notification service the alerts step starts on
//! that session) with `dbus-monitor`.
//! When any of them is missing these tests FAIL with what to do: a skipped window test would pass
//! without testing anything.
//!
//! The screenshots of the dashboard with demo traffic and of the Funnels view with a breakdown go
//! to `target/tmp/screenshot.png` and `target/tmp/screenshot-funnels.png`; with
//! `PULSEBOARD_UPDATE_SCREENSHOT=1` they replace the README's `docs/screenshot*.png` instead, so
//! that an ordinary run leaves the tracked files alone. Each view at 1280 and 900 px wide goes to
//! `target/tmp/views/`.

#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use support::{
    add_profile, files_containing, free_port, run_ok, signal, test_env, wait_until, Api,
};

const WAIT: Duration = Duration::from_secs(20);

/// One window at a time: the windows of a test run share one D-Bus session, where the
/// single-instance plugin hands a second launch over to the first window, and one
/// notification service. Each test holds this for its whole run.
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One launch of the app under tauri-driver, with its own port and WebDriver session.
struct App {
    driver: Child,
    client: Client,
    /// The engine's port: what tells this launch's process from any other.
    port: u16,
    /// The engine inside the app, over HTTP.
    api: Api,
}

/// Where the app keeps its data and settings; shared by launches that must see each other.
struct Home {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    /// 200ms in the tests (quick); the default 2s in the benchmark.
    flush_interval: &'static str,
    /// The computer's time zone (`TZ`) when not the machine's own.
    time_zone: Option<&'static str>,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self::with_data(dir, data)
    }

    /// Settings in `dir`, data in `data` (which may already hold events).
    fn with_data(dir: tempfile::TempDir, data: PathBuf) -> Self {
        let config = dir.path().join("config");
        Self {
            _dir: dir,
            data,
            config,
            flush_interval: "200ms",
            time_zone: None,
        }
    }

    /// The environment the app runs with: settings and window state under this home.
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PULSEBOARD_CONFIG_DIR", self.config.display().to_string()),
            ("XDG_CONFIG_HOME", self.config.display().to_string()),
            ("XDG_DATA_HOME", self.data.join("xdg").display().to_string()),
        ];
        env.extend(test_env(self.flush_interval));
        env.extend(self.time_zone.map(|tz| ("TZ", tz.to_owned())));
        env
    }

    fn args(&self, port: u16) -> Vec<String> {
        vec![
            "--port".into(),
            port.to_string(),
            "--data-dir".into(),
            self.data.display().to_string(),
        ]
    }
}

fn prerequisites() -> PathBuf {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no display: run the window tests under xvfb-run (scripts/test.sh does)"
    );
    assert!(
        which("WebKitWebDriver").is_some(),
        "WebKitWebDriver is missing: apt-get install webkit2gtk-driver (scripts/setup.sh does)"
    );
    which("tauri-driver").unwrap_or_else(|| {
        panic!("tauri-driver is missing: cargo install tauri-driver --version 2.1.0 --locked (scripts/setup.sh does)")
    })
}

fn which(program: &str) -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin"));
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(cargo_bin)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The app under test: this build's binary, or `PULSEBOARD_APP_BIN` (the benchmark passes the
/// release build).
fn app_binary() -> String {
    std::env::var("PULSEBOARD_APP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pulseboard").into())
}

impl App {
    async fn launch(home: &Home) -> App {
        Self::launch_with(home, &[]).await
    }

    /// Launches with `extra` flags after the home's.
    async fn launch_with(home: &Home, extra: &[&str]) -> App {
        let tauri_driver = prerequisites();
        let (port, driver_port, native_port) = (free_port(), free_port(), free_port());
        let driver = Command::new(tauri_driver)
            .args(["--port", &driver_port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .envs(home.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tauri-driver");
        let mut args = home.args(port);
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({ "application": app_binary(), "args": args }),
        );
        let webdriver = format!("http://127.0.0.1:{driver_port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session through tauri-driver: {e}"),
            }
        };
        let app = App {
            driver,
            client,
            port,
            api: Api::new(format!("http://127.0.0.1:{port}"), reqwest::Client::new()),
        };
        app.wait_for("the first push", |app| async move {
            app.text("status-label")
                .await
                .is_some_and(|t| !t.is_empty())
        })
        .await;
        app
    }

    /// Ends the session (the app quits); dropping then stops tauri-driver.
    /// Closes the window, which quits the app; the next test's launch must not find it still
    /// running (the single-instance plugin would hand that launch over to it).
    async fn close(self) {
        let _ = self.client.clone().close().await;
        let port = self.port;
        let quit = wait_until("the app to quit with its window", WAIT, || async move {
            app_process(port).map_or(Ok(()), |_| Err("still running"))
        });
        quit.await;
    }

    async fn text(&self, id: &str) -> Option<String> {
        let element = self.client.find(Locator::Id(id)).await.ok()?;
        element.text().await.ok()
    }

    async fn attr(&self, id: &str, name: &str) -> Option<String> {
        let element = self.client.find(Locator::Id(id)).await.ok()?;
        element.attr(name).await.ok().flatten()
    }

    async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Polls `check` until it holds; fails with `what` after [`WAIT`].
    async fn wait_for<'a, F, Fut>(&'a self, what: &str, check: F)
    where
        F: Fn(&'a App) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let check = &check;
        wait_until(what, WAIT, move || async move {
            check(self).await.then_some(()).ok_or("not yet")
        })
        .await
    }

    async fn wait_text(&self, id: &str, expected: &str) {
        let what = format!("#{id} to read {expected:?}");
        wait_until(&what, WAIT, || async move {
            let text = self.text(id).await;
            match text.as_deref() == Some(expected) {
                true => Ok(()),
                false => Err(format!("{text:?}")),
            }
        })
        .await
    }

    /// Whether `#id` exists and is shown.
    async fn displayed(&self, id: &str) -> bool {
        match self.client.find(Locator::Id(id)).await {
            Ok(element) => element.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Opens the header's demo menu, waits for its start/stop item to read `expected`, closes it.
    async fn wait_demo_item(&self, expected: &str) {
        self.click("demo-menu").await;
        self.wait_text("demo", expected).await;
        self.click("demo-menu").await;
        assert!(!self.displayed("demo-items").await, "the menu closes");
    }

    async fn click_css(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// The text of the first element matching a CSS selector.
    async fn css_text(&self, selector: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(selector)).await.ok()?;
        element.text().await.ok()
    }

    /// The cells of table row `#id`, once it has `cells` of them.
    async fn row(&self, id: &str, cells: usize) -> Vec<String> {
        let mut texts = Vec::new();
        for i in 1..=cells {
            let cell = self.css_text(&format!("#{id} td:nth-child({i})")).await;
            texts.push(cell.unwrap_or_default());
        }
        texts
    }

    async fn wait_row(&self, id: &str, expected: &[&str]) {
        let what = format!("#{id} to read {expected:?}");
        self.wait_for(&what, |app| async move {
            app.row(id, expected.len()).await == expected
        })
        .await
    }

    /// The markup inside `#id` (a chart's SVG).
    async fn html(&self, id: &str) -> String {
        let element = self.client.find(Locator::Id(id)).await.unwrap();
        element.html(true).await.unwrap()
    }

    /// Replaces what `#id` holds with `text`, as typing would.
    async fn type_into(&self, id: &str, text: &str) {
        let input = self.client.find(Locator::Id(id)).await.unwrap();
        // Inside a tall dialog the field may be below the fold.
        let script = format!("document.getElementById({id:?}).scrollIntoView({{block: 'center'}})");
        self.client.execute(&script, vec![]).await.unwrap();
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("cannot clear #{id}: {e}"));
        // Then Tab, as a person moves on: it also closes a field's list of suggestions, which
        // would otherwise take the next click.
        input.send_keys(&format!("{text}\u{E004}")).await.unwrap();
    }

    /// The profile button's words in full (its "profile:" is hidden on a narrow window).
    async fn profile(&self) -> String {
        let script = "return document.getElementById('profile').textContent";
        let text = self.client.execute(script, vec![]).await.unwrap();
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Posts `events`, which the engine must acknowledge.
    async fn post(&self, events: &[Value]) {
        self.api.post_ok(&json!(events)).await;
    }
}

/// The profiles dialog: add a server profile (its password goes to the keychain and nowhere
/// else), test it, fail to switch to it (nobody answers), delete it.
async fn profiles_dialog(app: &App, home: &Home) {
    use pulseboard::storage::profiles::{Keychain, SecretStore};
    let name = format!("e2e-team-{}", std::process::id());
    let password = format!("s3cret-{}-pw", std::process::id());
    app.click("profile").await;
    app.wait_for("the embedded row", |app| async move {
        app.text("profile-row-embedded").await.is_some()
    })
    .await;
    for (id, value) in [
        ("pf-name", name.as_str()),
        ("pf-url", "http://127.0.0.1:9"),
        ("pf-user", "analytics"),
        ("pf-database", "pulseboard"),
        ("pf-password", password.as_str()),
    ] {
        let input = app.client.find(Locator::Id(id)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    app.click("pf-save").await;
    app.wait_text("profiles-message", &format!("saved {name}"))
        .await;
    let row = app.text(&format!("profile-row-{name}")).await.unwrap();
    assert!(
        row.contains("http://127.0.0.1:9") && row.contains("analytics"),
        "{row}"
    );

    // The password is in the keychain, and in no file Pulseboard wrote.
    let stored = Keychain
        .get(&name)
        .unwrap()
        .expect("password in the keychain");
    assert_eq!(stored.expose(), &password);
    for dir in [&home.config, &home.data] {
        let leaked = files_containing(dir, password.as_bytes());
        assert!(leaked.is_empty(), "the password leaked into {leaked:?}");
    }

    // Nobody answers on port 9: the test says so, and "Use" leaves the engine where it was.
    app.click(&format!("profile-test-{name}")).await;
    app.wait_for("the failed test", |app| async move {
        let message = app.text("profiles-message").await.unwrap_or_default();
        message.contains("127.0.0.1:9") && message.contains("unreachable")
    })
    .await;
    app.click(&format!("profile-use-{name}")).await;
    app.wait_for("the refused switch", |app| async move {
        app.text("profiles-message")
            .await
            .unwrap_or_default()
            .contains("unreachable")
    })
    .await;
    assert_eq!(app.profile().await, "profile: embedded");

    app.click(&format!("profile-delete-{name}")).await;
    app.wait_text("profiles-message", &format!("deleted {name}"))
        .await;
    assert!(app.text(&format!("profile-row-{name}")).await.is_none());
    assert!(
        Keychain.get(&name).unwrap().is_none(),
        "deleted from the keychain too"
    );
    app.click("profiles-close").await;
}

/// "Connect your product": the SDK snippets name this instance; an alias added in the window is
/// the engine's.
async fn connect_view(app: &App) {
    app.click("nav-connect").await;
    app.wait_for("the snippets", |app| async move {
        app.text("snippet-posthog-node").await.is_some()
    })
    .await;
    let python = app.text("snippet-segment-python").await.unwrap();
    let host = format!("analytics.host = \"{}\"", app.api.url);
    assert!(python.contains(&host), "{python}");
    app.click("alias-add").await;
    let inputs = app
        .client
        .find_all(Locator::Css("#aliases-table input"))
        .await
        .unwrap();
    assert_eq!(inputs.len(), 2, "one new row: from and to");
    inputs[0].send_keys("signed_up").await.unwrap();
    inputs[1].send_keys("signup_completed").await.unwrap();
    app.click("aliases-save").await;
    app.wait_text("connect-message", "saved 1 aliases").await;
    let (_, aliases) = app.api.get("/api/settings/aliases").await;
    assert_eq!(aliases, json!({"signed_up": "signup_completed"}));
    app.click("nav-dashboard").await;
}

/// A real notification service (`dunst`) on this D-Bus session, and `dbus-monitor` recording
/// every `Notify` call made to it.
struct Notifications {
    daemon: Child,
    dunstctl: PathBuf,
    monitor: Child,
    recorded: Arc<Mutex<String>>,
}

impl Notifications {
    async fn start() -> Notifications {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "no D-Bus session: run the window tests under dbus-run-session (scripts/test.sh does)"
        );
        let program = |name: &str| {
            which(name).unwrap_or_else(|| {
                panic!("{name} is missing: apt-get install dunst dbus-bin (scripts/setup.sh does)")
            })
        };
        let mut monitor = Command::new(program("dbus-monitor"))
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-monitor");
        let recorded = Arc::new(Mutex::new(String::new()));
        let lines = BufReader::new(monitor.stdout.take().unwrap()).lines();
        let sink = recorded.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut recorded = sink.lock().unwrap();
                recorded.push_str(&line);
                recorded.push('\n');
            }
        });
        let daemon = Command::new(program("dunst"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dunst");
        let dunstctl = program("dunstctl");
        // Asked of the bus itself: a dunstctl call before dunst holds the name would have the
        // bus start a second dunst.
        let dbus_send = program("dbus-send");
        wait_until("dunst to serve notifications", WAIT, || async {
            let owned = Command::new(&dbus_send)
                .args([
                    "--session",
                    "--print-reply=literal",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.Notifications",
                ])
                .output()
                .expect("dbus-send");
            let answer = String::from_utf8_lossy(&owned.stdout).trim().to_owned();
            (answer == "boolean true").then_some(()).ok_or(answer)
        })
        .await;
        Notifications {
            daemon,
            dunstctl,
            monitor,
            recorded,
        }
    }

    /// Waits until a notification with `summary` and `body` was sent to the service, and checks
    /// the service took it (shown or in its history).
    async fn expect(&self, summary: &str, body: &str) {
        let wanted = format!("   string \"{summary}\"\n   string \"{body}\"\n");
        let what = format!("a desktop notification {summary:?}: {body:?}");
        wait_until(&what, WAIT, || async {
            let recorded = self.recorded.lock().unwrap().clone();
            recorded.contains(&wanted).then_some(()).ok_or(recorded)
        })
        .await;
        let count = |which: &str| {
            let out = Command::new(&self.dunstctl)
                .args(["count", which])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u32>()
                .unwrap_or(0)
        };
        assert!(
            count("displayed") + count("history") + count("waiting") >= 1,
            "dunst holds no notification"
        );
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        for child in [&mut self.daemon, &mut self.monitor] {
            signal(child, "TERM");
            let _ = child.wait();
        }
    }
}

/// The Alerts view: delete the built-in rule, add one, see it fire — a real desktop notification
/// through the D-Bus notification service, the header's badge, the chart's mark — then mute it.
async fn alerts_view(app: &App) {
    let notifications = Notifications::start().await;
    app.click("nav-alerts").await;
    app.wait_for("the built-in rule", |app| async move {
        app.text("alert-row-error_rate").await.is_some()
    })
    .await;
    app.click("alert-delete-error_rate").await;
    app.wait_text("alerts-message", "deleted error_rate").await;
    for (id, value) in [
        ("af-id", "e2e-spike"),
        ("af-metric", "events"),
        ("af-name", "E2E spike"),
        ("af-threshold", "2"),
        ("af-for", "1m"),
        ("af-hold", "0s"),
        ("af-min-events", "0"),
        ("af-filters", "e2e=alert"),
    ] {
        let input = app.client.find(Locator::Id(id)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    app.click("af-save").await;
    app.wait_text("alerts-message", "saved e2e-spike").await;

    // Three matching events: 3 above 2.
    let events: Vec<Value> = (0..3)
        .map(|i| {
            json!({"event_name": "page_view", "session_id": format!("e2e-{i}"),
                        "properties": {"e2e": "alert"}})
        })
        .collect();
    app.post(&events).await;
    app.wait_text("alert-state-e2e-spike", "firing").await;
    let status = app.css_text("#alert-row-e2e-spike .detail").await.unwrap();
    assert!(
        status.ends_with(" · events 3 — fires above 2 over the last 1m · where prop.e2e=alert"),
        "{status}"
    );
    notifications
        .expect(
            "E2E spike is firing",
            "events is 3 (above 2) over the last 1m",
        )
        .await;
    app.wait_text("alerts-badge", "1 alert firing").await;
    // Replayed over the stored events, the saved rule would have fired once, at 3.
    app.click("af-preview").await;
    app.wait_for("the preview to list the firing", |app| async move {
        let first = app.text("alert-preview-0").await.unwrap_or_default();
        first.ends_with(" would have fired at 3") && app.text("alert-preview-1").await.is_none()
    })
    .await;
    // The rule judges the events with e2e=alert: its mark is on the chart filtered so, only.
    let marked = |app: &App| {
        let client = app.client.clone();
        async move {
            let script = "return document.getElementById('chart-error_rate').innerHTML";
            let chart = client.execute(script, vec![]).await.unwrap();
            chart
                .as_str()
                .unwrap_or_default()
                .contains("E2E spike fired (events 3)")
        }
    };
    app.click("nav-dashboard").await;
    app.type_into("filter-props", "e2e=alert").await;
    app.click("filters-apply").await;
    app.wait_for("the mark on the filtered error-rate chart", |app| {
        marked(app)
    })
    .await;
    app.click("filters-clear").await;
    app.wait_for("no mark on the unfiltered chart", |app| {
        let marked = marked(app);
        async move { !marked.await }
    })
    .await;
    app.click("nav-alerts").await;

    app.click("alert-mute-e2e-spike").await;
    app.wait_text("alerts-message", "muted e2e-spike").await;
    let rules = app.api.get("/api/alerts").await.1;
    let ids: Vec<(&Value, &Value)> = rules["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (&a["id"], &a["muted"]))
        .collect();
    assert_eq!(ids, [(&json!("e2e-spike"), &json!(true))]);

    // A change against an earlier window: the form asks what to compare with only then.
    assert!(!app.displayed("af-compare-label").await);
    for (id, value) in [
        ("af-id", "e2e-drop"),
        ("af-name", "E2E drop"),
        ("af-threshold", "50"),
    ] {
        let input = app.client.find(Locator::Id(id)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    app.click_css("#af-op option[value=drops_by_pct]").await;
    assert!(app.displayed("af-compare-label").await);
    app.click_css("#af-compare option[value=day_before]").await;
    app.click("af-save").await;
    app.wait_text("alerts-message", "saved e2e-drop").await;
    let rule = app.alert_rule("e2e-drop").await;
    assert_eq!(
        (&rule["op"], &rule["compare_to"], &rule["threshold"]),
        (&json!("drops_by_pct"), &json!("day_before"), &json!(50.0))
    );
    // Edited, the form starts from it, compare included.
    app.click_css("#af-op option[value=above]").await;
    assert!(!app.displayed("af-compare-label").await);
    app.click("alert-edit-e2e-drop").await;
    assert!(app.displayed("af-compare-label").await);
    let compare = app.client.find(Locator::Id("af-compare")).await.unwrap();
    assert_eq!(
        compare.prop("value").await.unwrap().as_deref(),
        Some("day_before")
    );
    app.click("alert-delete-e2e-drop").await;
    app.wait_text("alerts-message", "deleted e2e-drop").await;
    app.click("nav-dashboard").await;
}

impl App {
    /// Rule `id` as `GET /api/alerts` lists it.
    async fn alert_rule(&self, id: &str) -> Value {
        let (_, body) = self.api.get("/api/alerts").await;
        let rules = body["alerts"].as_array().cloned().unwrap_or_default();
        rules
            .into_iter()
            .find(|a| a["id"] == id)
            .unwrap_or(Value::Null)
    }
}

impl Drop for App {
    /// Also when a test fails: SIGTERM lets tauri-driver stop WebKitWebDriver and the app, where
    /// SIGKILL would leave them running.
    fn drop(&mut self) {
        signal(&self.driver, "TERM");
        let _ = self.driver.wait();
        // A failed test may leave the app itself behind: stop it too, so the next test starts a
        // window of its own.
        if let Some(pid) = app_process(self.port) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
}

fn at(minutes_ago: i64) -> i64 {
    Utc::now().timestamp_millis() - minutes_ago * 60_000
}

/// 7 sessions in the last 5 minutes; per range a different top feature by unique users:
/// 1h "search" (4 users), 6h "alerts" (6), 24h "billing" (9).
fn fixture() -> Vec<Value> {
    let mut events: Vec<Value> = (0..7)
        .map(|i| json!({"event_name": "page_view", "session_id": format!("live-{i}"), "timestamp": at(1)}))
        .collect();
    let mut feature = |name: &str, users: usize, minutes_ago: i64| {
        for u in 0..users {
            events.push(json!({
                "event_name": "feature_used", "session_id": format!("{name}-s{u}"),
                "user_id": format!("{name}-u{u}"), "timestamp": at(minutes_ago),
                "properties": {"feature": name},
            }));
        }
    };
    feature("search", 4, 20);
    feature("export", 2, 30);
    feature("alerts", 6, 3 * 60);
    feature("billing", 9, 12 * 60);
    events
}

async fn expect_top(app: &App, range: &str, name: &str, users: &str) {
    app.click(&format!("range-{range}")).await;
    app.wait_text("top-feature-name", name).await;
    app.wait_text("top-feature-users", users).await;
    assert_eq!(
        app.attr(&format!("range-{range}"), "class")
            .await
            .as_deref(),
        Some("selected")
    );
}

#[tokio::test]
async fn the_dashboard_shows_live_data_switches_ranges_and_survives_an_outage() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let app = App::launch(&home).await;

    // Empty state: the exact curl line for this instance, and the demo button.
    assert_eq!(
        app.attr("empty", "hidden").await,
        None,
        "the empty state shows"
    );
    let curl = app.text("curl").await.unwrap();
    assert!(
        curl.starts_with(&format!("curl -X POST {}/v1/events", app.api.url)),
        "{curl}"
    );
    assert_eq!(
        app.text("demo-empty").await.as_deref(),
        Some("Start demo traffic")
    );

    // Live data: exact values from the fixture, per range.
    let posted = Instant::now();
    app.post(&fixture()).await;
    app.wait_text("active-users-value", "7").await;
    println!(
        "event-to-screen: {} ms (first batch)",
        posted.elapsed().as_millis()
    );
    expect_top(&app, "1h", "search", "4").await;
    expect_top(&app, "6h", "alerts", "6").await;
    expect_top(&app, "24h", "billing", "9").await;
    expect_top(&app, "6h", "alerts", "6").await;

    // Event-to-screen latency, through the window: post one new session, wait for the number.
    let mut samples = Vec::new();
    for i in 0..5 {
        let posted = Instant::now();
        app.post(&[json!({"event_name": "page_view", "session_id": format!("probe-{i}")})])
            .await;
        app.wait_text("active-users-value", &(8 + i).to_string())
            .await;
        samples.push(posted.elapsed().as_millis());
    }
    println!("event-to-screen ms (5 samples): {samples:?}");

    // The store fails: red dot, the badge counts the events waiting; then back to green.
    app.api.set_fault("down").await;
    let spilled: Vec<Value> = (0..25)
        .map(|i| json!({"event_name": "page_view", "session_id": format!("spill-{i}")}))
        .collect();
    app.post(&spilled).await;
    app.wait_for("the red status", |app| async move {
        app.attr("status-dot", "class").await.as_deref() == Some("dot red")
    })
    .await;
    app.wait_text("spilled", "25 spilled").await;
    let tooltip = app.attr("status", "title").await.unwrap();
    assert!(tooltip.contains("25 events waiting locally"), "{tooltip}");
    app.api.set_fault("up").await;
    app.wait_for("the green status", |app| async move {
        app.attr("status-dot", "class").await.as_deref() == Some("dot green")
    })
    .await;
    app.wait_text("active-users-value", &(12 + 25).to_string())
        .await;
    assert_eq!(app.attr("spilled", "hidden").await.as_deref(), Some("true"));

    // Demo traffic from the header's menu: the numbers rise; the item turns into "Stop demo".
    app.click("demo-menu").await;
    app.click("demo").await;
    app.wait_demo_item("Stop demo").await;
    app.wait_for("demo sessions to show", |app| async move {
        let value = app.text("active-users-value").await.unwrap_or_default();
        value.replace(',', "").parse::<u64>().unwrap_or(0) > 37 + 20
    })
    .await;
    save_screenshot("screenshot.png", &app.client.screenshot().await.unwrap());
    app.click("demo-menu").await;
    app.click("demo").await;
    app.wait_demo_item("Start demo traffic").await;

    // The headless export reads this instance and writes a real PNG.
    let out = home.data.join("dashboard.png");
    let status = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(["export", "--range", "24h", "--url", &app.api.url, "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!(
        (info.width, info.height),
        pulseboard::questions::panels::DASHBOARD_PNG_SIZE
    );

    profiles_dialog(&app, &home).await;
    connect_view(&app).await;
    alerts_view(&app).await;

    // A second launch hands over to this window and exits; this engine keeps serving.
    let second = home.args(free_port());
    run_ok(
        &second.iter().map(String::as_str).collect::<Vec<_>>(),
        home.env(),
    );
    let (status, _) = app.api.get("/health").await;
    assert_eq!(status, 200);
    app.close().await;

    // The range chosen last (6h) is remembered across launches.
    let app = App::launch(&home).await;
    app.wait_for("the remembered range", |app| async move {
        app.attr("range-6h", "class").await.as_deref() == Some("selected")
    })
    .await;
    app.close().await;

    switching_from_a_server_that_is_down(&home).await;
}

/// The filter bar narrows every panel, says what is wrong with a bad filter, and is remembered;
/// chart times are in the computer's time zone (here India's, UTC+05:30 all year).
#[tokio::test]
async fn the_filter_bar_narrows_every_panel_and_times_are_local() {
    let _one_window = ONE_WINDOW.lock().await;
    let mut home = Home::new();
    home.time_zone = Some("Asia/Kolkata");
    let app = App::launch(&home).await;
    // 90 s ago: 3 German sessions using "export", 2 French ones using "search" (1 user each).
    let ts = Utc::now().timestamp_millis() - 90_000;
    let session = |country: &str, feature: &str, i: usize| {
        json!({"event_name": "feature_used", "session_id": format!("{country}-{i}"),
               "country_code": country, "device_type": "mobile", "timestamp": ts,
               "properties": {"feature": feature}})
    };
    let mut events: Vec<Value> = (0..3).map(|i| session("DE", "export", i)).collect();
    events.extend((0..2).map(|i| session("FR", "search", i)));
    events.extend((2..4).map(|i| session("FR", "search", i)));
    app.post(&events).await;
    app.wait_text("active-users-value", "7").await;
    app.wait_text("top-feature-name", "search").await;

    app.type_into("filter-country", "de").await;
    app.click("filters-apply").await;
    app.wait_text("active-users-value", "3").await;
    app.wait_text("top-feature-name", "export").await;
    // The minute of the events on India's clock, in the sparkline's hover titles.
    let minute = ts.div_euclid(60_000) * 60 + 5 * 3600 + 1800;
    let hh_mm = format!(
        "{:02}:{:02}",
        minute.rem_euclid(86_400) / 3600,
        minute.rem_euclid(3600) / 60
    );
    let chart = app.html("chart-active_users").await;
    assert!(
        chart.contains(&format!("<title>{hh_mm} · 3 sessions</title>")),
        "{hh_mm}: {chart}"
    );

    app.wait_for("a chip for the applied country", |app| async move {
        app.css_text("#filter-chips .chip").await.as_deref() == Some("country = DE ✕")
    })
    .await;

    // Suggestions as typed: the keys the events carry, then a key's values in their exact
    // case with their events (unfiltered: a value the filters leave out is one to pick).
    app.type_into("filter-props", "fea").await;
    app.wait_for("the property keys suggested", |app| async move {
        options(app, "suggest-props").await == ["feature= (7 events)"]
    })
    .await;
    app.type_into("filter-props", "feature=").await;
    app.wait_for("the values of feature suggested", |app| async move {
        options(app, "suggest-props").await
            == ["feature=search (4 events)", "feature=export (3 events)"]
    })
    .await;
    // A value in the wrong case matches nothing, and the charts say so (not "No data yet").
    app.type_into("filter-props", "feature=Export").await;
    app.click("filters-apply").await;
    app.wait_text("active-users-value", "0").await;
    let empty_chart = app.html("chart-top_features").await;
    assert!(
        empty_chart.contains("No events match these filters"),
        "{empty_chart}"
    );
    assert!(!empty_chart.contains("No data yet"));
    app.click_css("#filter-chips .chip[data-filter='prop.feature']")
        .await;
    app.wait_text("active-users-value", "3").await;

    // A span of the user's own, two hours ending an hour ago: the events are not in it.
    app.click("range-custom").await;
    let pick = "$('time-from').value = localField(Date.now() - 3 * 3600e3); \
                $('time-to').value = localField(Date.now() - 3600e3);";
    app.client.execute(pick, vec![]).await.unwrap();
    app.click("time-span").await;
    app.wait_text("active-users-value", "0").await;
    assert_eq!(
        app.attr("range-custom", "class").await.as_deref(),
        Some("selected")
    );
    let chip = app.text("time-live").await.unwrap();
    assert!(chip.contains(" – ") && chip.ends_with("✕"), "{chip}");
    app.close().await;
    // Remembered; the chip goes back to live.
    let app = App::launch(&home).await;
    app.wait_for("the remembered span", |app| async move {
        app.attr("range-custom", "class").await.as_deref() == Some("selected")
    })
    .await;
    app.click("time-live").await;
    app.wait_text("active-users-value", "3").await;
    assert!(!app.displayed("time-live").await);

    // A bad filter says what is wrong and changes nothing.
    app.type_into("filter-country", "DEU").await;
    app.click("filters-apply").await;
    let message = "country: two letters (a country code such as DE), got \"DEU\"";
    app.wait_text("filters-message", message).await;
    assert_eq!(app.text("active-users-value").await.as_deref(), Some("3"));
    app.close().await;

    // Remembered across launches.
    let app = App::launch(&home).await;
    app.wait_text("active-users-value", "3").await;
    assert_eq!(
        app.attr("filter-country", "value").await.as_deref(),
        Some("DE")
    );
    app.click("filters-clear").await;
    app.wait_text("active-users-value", "7").await;
    app.close().await;
}

/// The story Pulseboard exists for, played in the window as a product manager would: start
/// the campaign demo, open its funnel, break it down by e-mail domain and see Gmail lagging with
/// its interval, on the steps and over time, mark the fix, then ask whether an alert on Gmail's
/// conversion would have fired.
#[tokio::test]
async fn the_campaign_story_plays_in_the_window() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let app = App::launch(&home).await;
    app.click("demo-menu").await;
    app.click("demo-campaign").await;
    // The campaign's signups of the last two hours go first; the product's traffic follows.
    wait_until("the campaign's history stored", WAIT, || async {
        let (_, funnel) = app.api.get("/api/funnels/campaign?range=1h").await;
        let started = funnel["steps"][0]["count"].as_u64().unwrap_or(0);
        (started >= 1_700).then_some(()).ok_or("not yet")
    })
    .await;
    app.click("nav-funnels").await;
    app.wait_for("the campaign's funnel opened first", |app| async move {
        app.attr("funnel-pick", "value").await.as_deref() == Some("campaign")
    })
    .await;
    app.click_css("#funnel-breakdown option[value=prop]").await;
    app.type_into("funnel-breakdown-key", "email_domain").await;
    // Gmail lost ~40 % at verification for 45 of the last 60 minutes: furthest below the total.
    app.wait_for("Gmail highlighted as lagging", |app| async move {
        let row = app
            .css_text("#funnel-groups tr.lagging")
            .await
            .unwrap_or_default();
        row.starts_with("gmail.com")
    })
    .await;
    let row = app.css_text("#funnel-groups tr.lagging").await.unwrap();
    let interval = row
        .rsplit_once('(')
        .map(|(_, i)| i.to_owned())
        .unwrap_or_default();
    assert!(interval.contains('–') && interval.ends_with(')'), "{row}");
    let trend = app.html("funnel-trend").await;
    assert!(
        trend.contains("gmail.com"),
        "the lagging group drawn over time"
    );
    let steps = app.html("funnel-chart").await;
    assert!(steps.contains("gmail.com ▼"), "and named on the steps");
    // What the trend shows: Gmail's conversion back up once the fix is in (the last quarter
    // hour, less the minutes whose sign-ups may still complete) from the broken stretch before.
    let (_, trend) = app
        .api
        .get("/api/funnels/campaign/trend?range=1h&interval=minute&breakdown=prop.email_domain")
        .await;
    let gmail = trend["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["group"] == "gmail.com")
        .unwrap();
    let now = Utc::now().timestamp();
    let conversion = |from_min: i64, to_min: i64| {
        let (mut entered, mut converted) = (0, 0);
        for point in gmail["points"].as_array().unwrap() {
            let t = DateTime::parse_from_rfc3339(point["t"].as_str().unwrap()).unwrap();
            let ago = (now - t.timestamp()) / 60;
            if (to_min..from_min).contains(&ago) {
                let steps = point["steps"].as_array().unwrap();
                entered += steps[0].as_u64().unwrap();
                converted += steps[steps.len() - 1].as_u64().unwrap();
            }
        }
        converted as f64 * 100.0 / entered.max(1) as f64
    };
    let (broken, recovered) = (conversion(55, 20), conversion(14, 9));
    assert!(
        recovered > broken + 12.0,
        "Gmail {broken:.1} % then {recovered:.1} %"
    );
    // The fix goes out: marked now, on the conversion over time (and every time chart).
    app.click("mark-menu").await;
    app.type_into("mark-text", "fixed the sender domain").await;
    app.click("mark-save").await;
    app.wait_for("the fix marked on the trend", |app| async move {
        app.html("funnel-trend")
            .await
            .contains(" · fixed the sender domain</title>")
    })
    .await;
    let below = "document.getElementById('funnel-trend').scrollIntoView({block: 'end'})";
    app.client.execute(below, vec![]).await.unwrap();
    save_screenshot(
        "screenshot-campaign.png",
        &app.client.screenshot().await.unwrap(),
    );

    // Would a rule on Gmail's conversion have fired? Replayed over the stored hours: yes.
    app.click("nav-alerts").await;
    // Only demo events so far: the built-in rule waits for the product's (and never fired).
    app.wait_for("the built-in rule waiting", |app| async move {
        app.text("alert-row-error_rate").await.is_some_and(|t| {
            t.contains("waiting for your product's first event (the demo's do not count)")
        })
    })
    .await;
    // The metrics offered: each funnel's conversion and each of its steps over the one before.
    app.wait_for("the campaign's step metrics offered", |app| async move {
        let offered = options(app, "af-metrics").await;
        offered.iter().any(|o| {
            o.starts_with("funnel_step_pct:campaign:2 (email_verified of signup_started %")
        })
    })
    .await;
    for (id, value) in [
        ("af-id", "gmail"),
        ("af-metric", "funnel_conversion_pct:campaign"),
        ("af-threshold", "55"),
        ("af-for", "30m"),
        ("af-hold", "0s"),
        ("af-min-events", "0"),
        ("af-filters", "email_domain=gmail.com"),
    ] {
        app.type_into(id, value).await;
    }
    app.click_css("#af-op option[value=below]").await;
    app.click("af-save").await;
    app.wait_text("alerts-message", "saved gmail").await;
    app.click("af-preview").await;
    // Six hours judged minute by minute while the history still streams in: give it time.
    let preview = wait_until("the preview", 4 * WAIT, || async {
        app.text("alert-preview-0").await.ok_or("not yet")
    })
    .await;
    assert!(preview.contains(" would have fired at "), "{preview}");
    app.close().await;
}

/// The options of datalist `#id` as `value (label)`.
async fn options(app: &App, id: &str) -> Vec<String> {
    let script = format!(
        "return [...document.getElementById({id:?}).options].map(o => `${{o.value}} (${{o.label}})`)"
    );
    let found = app.client.execute(&script, vec![]).await.unwrap();
    serde_json::from_value(found).unwrap_or_default()
}

/// Where `home`'s desktop says downloads go (as a browser's do): a folder of that home.
fn downloads_of(home: &Home) -> PathBuf {
    let downloads = home.config.parent().unwrap().join("downloads");
    std::fs::create_dir_all(&home.config).unwrap();
    let dirs = format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display());
    std::fs::write(home.config.join("user-dirs.dirs"), dirs).unwrap();
    downloads
}

/// The Funnels view: define a funnel step by step from the event names seen, see each step's
/// count and drop-off, break it down by country, and show it in the signup panel.
#[tokio::test]
async fn a_funnel_is_defined_step_by_step_broken_down_and_shown() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let app = App::launch(&home).await;
    // Five users start; three verify (two German, one French); two complete (one of each).
    let step = |name: &str, user: usize, minutes_ago: i64| {
        let country = if user < 3 { "DE" } else { "FR" };
        json!({"event_name": name, "session_id": format!("s{user}"), "user_id": format!("u{user}"),
               "country_code": country, "timestamp": at(minutes_ago)})
    };
    let mut events: Vec<Value> = (0..5).map(|u| step("signup_started", u, 10)).collect();
    events.extend([0, 1, 3].map(|u| step("email_verified", u, 9)));
    events.extend([0, 3].map(|u| step("signup_completed", u, 8)));
    app.post(&events).await;
    app.wait_text("funnel-summary", "2 of 5 completed (40.0 %) · events")
        .await;

    app.click("nav-funnels").await;
    app.wait_row("funnel-step-0", &["signup_started", "5", "100.0 %", "–"])
        .await;
    app.wait_row(
        "funnel-step-1",
        &["signup_completed", "2", "40.0 %", "40.0 %"],
    )
    .await;
    // The editor starts from the funnel shown; the event names seen are offered for steps.
    let offered = app
        .client
        .find_all(Locator::Css("#event-names option"))
        .await
        .unwrap()
        .len();
    assert_eq!(
        offered, 3,
        "signup_started, email_verified, signup_completed"
    );
    app.type_into("ff-id", "verify").await;
    app.type_into("ff-name", "Verify").await;
    app.type_into("ff-step-1-event", "email_verified").await;
    app.click("ff-add-step").await;
    app.type_into("ff-step-2-event", "signup_completed").await;
    app.click("ff-save").await;
    app.wait_text("funnels-message", "saved verify").await;
    app.wait_row(
        "funnel-step-1",
        &["email_verified", "3", "60.0 %", "60.0 %"],
    )
    .await;
    app.wait_row(
        "funnel-step-2",
        &["signup_completed", "2", "40.0 %", "66.7 %"],
    )
    .await;

    app.click_css("#funnel-breakdown option[value=country]")
        .await;
    // Each step with its share of the one before; the conversion with its 95 % interval.
    let interval = |converted, entered| {
        let (lo, hi) = pulseboard::questions::funnels::wilson_95(converted, entered).unwrap();
        format!("({lo:.1}–{hi:.1})")
    };
    let de = format!("33.3 % {}", interval(1, 3));
    let fr = format!("50.0 % {}", interval(1, 2));
    app.wait_row(
        "funnel-group-0",
        &["DE", "3", "2 (66.7 %)", "1 (50.0 %)", &de],
    )
    .await;
    app.wait_row(
        "funnel-group-1",
        &["FR", "2", "1 (50.0 %)", "1 (100.0 %)", &fr],
    )
    .await;
    // Germany converts furthest below the total (33.3 against 40 %): highlighted.
    assert_eq!(
        app.attr("funnel-group-0", "class").await.as_deref(),
        Some("lagging")
    );
    let others = app.attr("funnel-group-1", "class").await;
    assert_eq!(others.unwrap_or_default(), "");
    // Conversion over time: everyone entered in one minute; its bucket says so.
    let titles = app
        .client
        .execute(
            "return [...document.querySelectorAll('#funnel-trend svg title')].map(t => t.textContent)",
            vec![],
        )
        .await
        .unwrap();
    let titles: Vec<String> = serde_json::from_value(titles).unwrap();
    let entered: Vec<&String> = titles.iter().filter(|t| !t.contains(" 0 of 0 ")).collect();
    assert_eq!(entered.len(), 1, "{titles:?}");
    assert!(
        entered[0].contains(" · 2 of 5 entered converted · 40 %"),
        "{entered:?}"
    );
    save_screenshot(
        "screenshot-funnels.png",
        &app.client.screenshot().await.unwrap(),
    );
    let below = "document.getElementById('funnel-trend').scrollIntoView({block: 'end'})";
    app.client.execute(below, vec![]).await.unwrap();
    save_screenshot(
        "screenshot-funnels-trend.png",
        &app.client.screenshot().await.unwrap(),
    );

    app.click("funnel-on-dashboard").await;
    app.click("nav-dashboard").await;
    app.wait_text("funnel-title", "Funnel: Verify").await;
    app.wait_text(
        "funnel-summary",
        "2 of 5 users converted (40.0 %), steps in order",
    )
    .await;
    // Its conversion over time is a tile of the dashboard too.
    assert!(app.displayed("panel-funnel_trend").await);
    let trend = app.html("chart-funnel_trend").await;
    assert!(
        trend.contains("Verify — conversion over time, 1h"),
        "{trend}"
    );
    app.close().await;

    // The panel's funnel is remembered across launches, and the Funnels view opens on the
    // funnel and breakdown it showed last.
    let app = App::launch(&home).await;
    app.wait_text("funnel-title", "Funnel: Verify").await;
    app.click("nav-funnels").await;
    app.wait_row(
        "funnel-group-0",
        &["DE", "3", "2 (66.7 %)", "1 (50.0 %)", &de],
    )
    .await;
    app.close().await;
}

/// The dashboard the team arranges: an insight defined step by step with its live preview,
/// pinned, updated as events arrive, moved and a panel removed (the order survives a restart),
/// marked and the mark deleted from the Mark menu, and its data downloaded as CSV and read back.
#[tokio::test]
async fn an_insight_is_defined_pinned_arranged_and_downloaded() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let downloads = downloads_of(&home);
    let app = App::launch(&home).await;
    let click = |user: &str, country: &str, button: &str| {
        json!({"event_name": "button_click", "session_id": format!("s-{user}"),
               "user_id": user, "country_code": country, "timestamp": at(3),
               "properties": {"button": button}})
    };
    let mut events: Vec<Value> = ["a", "b", "c"].map(|u| click(u, "DE", "checkout")).to_vec();
    events.extend(["d", "e"].map(|u| click(u, "FR", "checkout")));
    events.push(click("f", "FR", "help"));
    events.push(json!({"event_name": "page_view", "session_id": "s-a", "timestamp": at(3)}));
    app.post(&events).await;
    app.wait_text("active-users-value", "6").await;

    // Defined step by step: the preview follows each change.
    app.click("insight-new").await;
    app.wait_for("the event names seen offered", |app| async move {
        options(app, "if-events").await
            == [
                "button_click (button_click (6))",
                "page_view (page_view (1))",
            ]
    })
    .await;
    app.wait_text("if-preview-summary", "7 count over 1h").await;
    app.click_css("#if-events option[value=button_click]").await;
    app.wait_text("if-preview-summary", "6 count over 1h").await;
    app.type_into("if-where", "button=checkout").await;
    app.wait_text("if-preview-summary", "5 count over 1h").await;
    app.click_css("#if-breakdown option[value=country]").await;
    app.wait_text("if-preview-summary", "count over 1h · DE 3, FR 2")
        .await;
    app.type_into("if-id", "checkout").await;
    app.type_into("if-name", "Checkout clicks").await;
    app.save_view("insight-form-1280").await;
    app.click("if-save").await;
    app.wait_text("board-message", "saved and pinned insight checkout")
        .await;
    app.wait_text("summary-insight-checkout", "count over 1h · DE 3, FR 2")
        .await;
    let stored = app.api.get("/api/insights/checkout?range=1h").await.1;
    assert_eq!(stored["breakdown"], "country", "{stored}");

    // Updated by the next push.
    app.post(&["g", "h"].map(|u| click(u, "DE", "checkout")))
        .await;
    app.wait_text("summary-insight-checkout", "count over 1h · DE 5, FR 2")
        .await;

    // Moved up one place, a panel removed: the grid and the API agree.
    app.click("tile-up-insight-checkout").await;
    let moved = [
        "active_users",
        "signup_funnel",
        "top_features",
        "checkout",
        "error_rate",
    ];
    app.wait_for("the insight moved up", |app| async move {
        tile_ids(app).await == moved
    })
    .await;
    app.click("tile-remove-panel-top_features").await;
    let arranged = ["active_users", "signup_funnel", "checkout", "error_rate"];
    app.wait_for("the panel removed", |app| async move {
        tile_ids(app).await == arranged
    })
    .await;
    let shown = [
        "panel-active_users",
        "panel-signup_funnel",
        "insight-checkout",
        "panel-error_rate",
    ];
    app.wait_for("the grid in the arranged order", |app| async move {
        grid_order(app).await == shown
    })
    .await;

    // Marked now: the mark is on the insight's chart.
    app.click("mark-menu").await;
    app.type_into("mark-text", "new checkout button").await;
    app.click("mark-save").await;
    app.wait_for("the mark on the insight", |app| async move {
        app.html("chart-insight-checkout")
            .await
            .contains(" · new checkout button</title>")
    })
    .await;
    // Listed in the Mark menu, and deleted from there: gone from the chart.
    app.click("mark-menu").await;
    app.wait_for("the mark listed", |app| async move {
        app.text("mark-list")
            .await
            .is_some_and(|t| t.contains(" · new checkout button"))
    })
    .await;
    app.click_css("#mark-list li button").await;
    app.wait_for("the mark deleted", |app| async move {
        !app.html("chart-insight-checkout")
            .await
            .contains("new checkout button")
    })
    .await;
    assert_eq!(
        app.api.get("/api/annotations?range=1h").await.1["annotations"],
        json!([])
    );
    app.click("mark-menu").await;

    // Its CSV, downloaded and read back: every minute of the hour per group, summing to the
    // totals.
    app.click("tile-csv-insight-checkout").await;
    let saved = downloads.join("pulseboard-checkout-1h.csv");
    app.wait_text("board-message", &format!("saved {}", saved.display()))
        .await;
    let csv = std::fs::read_to_string(&saved).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("t,group,value"));
    let mut sums = std::collections::BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        *sums.entry(cells[1].to_owned()).or_insert(0) += cells[2].parse::<u64>().unwrap();
    }
    assert_eq!(sums, [("DE".to_owned(), 5), ("FR".to_owned(), 2)].into());
    // Two groups, each with every minute bucket the hour touches (61 unless it ends on a
    // minute).
    let rows = csv.lines().count() - 1;
    assert!(rows == 2 * 61 || rows == 2 * 60, "{rows} rows");
    for width in [1280, 900] {
        app.client.set_window_size(width, 800).await.unwrap();
        app.save_view(&format!("dashboard-arranged-{width}")).await;
    }
    app.close().await;

    // Remembered: the next launch lays the same tiles out in the same order.
    let app = App::launch(&home).await;
    app.wait_text("summary-insight-checkout", "count over 1h · DE 5, FR 2")
        .await;
    app.wait_for("the grid in the arranged order", |app| async move {
        grid_order(app).await == shown
    })
    .await;
    app.close().await;
}

/// The SQL view: a statement typed and run with Ctrl+Enter, its table and its chart (a time and
/// numbers), a refusal in its words, saved and opened again from the list; the last statement
/// kept across a restart, the store's tables listed beside the editor.
#[tokio::test]
async fn a_sql_query_is_run_charted_and_saved() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let app = App::launch(&home).await;
    // Two events in one minute, three in the next: exact rows without ClickHouse.
    let minute = (Utc::now().timestamp() / 60 - 3) * 60;
    let event = |i: i64, second: i64| {
        json!({"event_name": "page_view", "session_id": format!("sql-{i}"),
               "timestamp": (minute + second) * 1000})
    };
    app.post(&[
        event(0, 1),
        event(1, 2),
        event(2, 61),
        event(3, 62),
        event(4, 63),
    ])
    .await;
    app.wait_text("active-users-value", "5").await;
    let stamp = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };

    app.click("nav-sql").await;
    app.wait_for("the examples and the tables listed", |app| async move {
        let saved = app.text("sql-saved").await.unwrap_or_default();
        let tables = app.text("sql-tables").await.unwrap_or_default();
        saved.contains("Active users in the last 5 minutes")
            && tables.contains("events")
            && tables.contains("event_name LowCardinality(String)")
    })
    .await;
    let query = "SELECT toStartOfMinute(timestamp) AS minute, count() AS events FROM events GROUP BY minute ORDER BY minute";
    let editor = app.client.find(Locator::Id("sql-editor")).await.unwrap();
    editor.clear().await.unwrap();
    // Ctrl+Enter runs it (Control stays down until the NULL key).
    editor
        .send_keys(&format!("{query}\u{E009}\u{E007}\u{E000}"))
        .await
        .unwrap();
    app.wait_for("the answer", |app| async move {
        app.text("sql-status")
            .await
            .is_some_and(|t| t.starts_with("2 rows · "))
    })
    .await;
    let rows = json!([[stamp(minute), "2"], [stamp(minute + 60), "3"]]);
    let rows = &rows;
    app.wait_for("the answer's rows", |app| async move {
        sql_rows(app).await == *rows
    })
    .await;
    let chart = app.html("sql-chart").await;
    assert!(
        chart.contains("<svg") && chart.contains("events"),
        "{chart}"
    );
    assert!(app.displayed("sql-chart").await);

    // Saved under a name; listed; opened from the list it runs again.
    app.type_into("sql-name", "Events per minute").await;
    app.click("sql-save").await;
    app.wait_text("sql-status", "Saved as \"Events per minute\"")
        .await;
    for width in [1280, 900] {
        app.client.set_window_size(width, 800).await.unwrap();
        app.save_view(&format!("sql-result-{width}")).await;
    }
    app.client.set_window_size(1280, 800).await.unwrap();

    // A refusal in the rule's words; no chart for it.
    app.type_into("sql-editor", "DROP TABLE events").await;
    app.click("sql-run").await;
    app.wait_for("the refusal", |app| async move {
        app.text("sql-status")
            .await
            .is_some_and(|t| t.starts_with("only SELECT, WITH"))
    })
    .await;
    assert_eq!(
        app.api.get("/api/panels/active_users?range=1h").await.1["active_users"]["value"],
        5,
        "the events are still there"
    );
    app.close().await;

    // The next launch: the last statement in the editor, the saved query in the list.
    let app = App::launch(&home).await;
    app.click("nav-sql").await;
    app.wait_for("the last statement kept", |app| async move {
        let value = app
            .client
            .execute("return document.getElementById('sql-editor').value", vec![])
            .await;
        value
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .as_deref()
            == Some("DROP TABLE events")
    })
    .await;
    app.click("sql-open-events-per-minute").await;
    app.wait_for("the saved query's rows", |app| async move {
        sql_rows(app).await == *rows
    })
    .await;
    app.close().await;
}

/// The Retention view: cohorts of the week by the day of their first signup, each later day's
/// share of them shaded; broken down by country (a table per group); downloaded as CSV.
#[tokio::test]
async fn retention_cohorts_are_shown_broken_down_and_downloaded() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let downloads = downloads_of(&home);
    let app = App::launch(&home).await;
    let today = Utc::now().timestamp() / 86_400 * 86_400;
    // `name` by `user` on the day `days_ago` before today (UTC), at `hour`.
    let event = |user: &str, name: &str, days_ago: i64, hour: i64, country: &str| {
        json!({"event_name": name, "session_id": format!("s-{user}"), "user_id": user,
               "country_code": country,
               "timestamp": (today - days_ago * 86_400 + hour * 3600) * 1000})
    };
    app.post(&[
        event("u1", "signup", 4, 1, "DE"),
        event("u1", "page_view", 3, 1, "DE"),
        event("u2", "signup", 4, 2, "FR"),
        event("u3", "signup", 3, 3, "DE"),
        event("u3", "page_view", 1, 3, "DE"),
    ])
    .await;
    app.wait_for("the events stored", |app| async move {
        app.api.health().await["buffer_size"] == 0
    })
    .await;

    app.click("nav-retention").await;
    app.wait_for("the event names offered", |app| async move {
        options(app, "rt-start").await.len() == 2
    })
    .await;
    app.click_css("#rt-start option[value=signup]").await;
    app.click_css("#rt-return option[value=page_view]").await;
    app.type_into("rt-periods", "3").await;
    // Eight cohorts (the days the week touches); four days ago: u1 and u2, u1 back the next
    // day; three days ago: u3, back two days later.
    app.wait_for("the cohort of four days ago", |app| async move {
        cohort_row(app, "rt-all", 3).await == ["2", "50.0 %", "0.0 %", "0.0 %"]
    })
    .await;
    assert_eq!(
        cohort_row(&app, "rt-all", 4).await,
        ["1", "0.0 %", "100.0 %", "0.0 %"]
    );
    assert_eq!(cohort_row(&app, "rt-all", 0).await, ["0", "–", "–", "–"]);
    assert_eq!(
        cohort_row(&app, "rt-all", 7).await,
        ["0"],
        "today's later days have not begun"
    );

    // By country: the total, then a table per group, the largest first.
    app.click_css("#rt-breakdown option[value=country]").await;
    app.wait_for("a table per country", |app| async move {
        cohort_row(app, "rt-group-0", 3).await == ["1", "100.0 %", "0.0 %", "0.0 %"]
            && cohort_row(app, "rt-group-1", 3).await == ["1", "0.0 %", "0.0 %", "0.0 %"]
    })
    .await;
    for width in [1280, 900] {
        app.client.set_window_size(width, 800).await.unwrap();
        app.save_view(&format!("retention-{width}")).await;
    }
    app.client.set_window_size(1280, 800).await.unwrap();

    // Downloaded: the same cohorts, a row per cohort and group.
    app.click("rt-csv").await;
    let saved = downloads.join("pulseboard-retention-7d.csv");
    app.wait_text("rt-status", &format!("Saved {}", saved.display()))
        .await;
    let csv = std::fs::read_to_string(&saved).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "group,start,size,period_1,period_2,period_3");
    let four_days_ago = DateTime::from_timestamp(today - 4 * 86_400, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert!(
        lines.contains(&format!("(all),{four_days_ago},2,1,0,0").as_str()),
        "{csv}"
    );
    assert!(
        lines.contains(&format!("DE,{four_days_ago},1,1,0,0").as_str()),
        "{csv}"
    );
    assert!(
        lines.contains(&format!("FR,{four_days_ago},1,0,0,0").as_str()),
        "{csv}"
    );
    app.close().await;
}

/// Row `row` of cohort table `#table`: its cells past the cohort's name, empty ones (periods
/// not begun) left out.
async fn cohort_row(app: &App, table: &str, row: usize) -> Vec<String> {
    let script = format!(
        "const r = document.querySelectorAll('#{table} tbody tr')[{row}]; return r ? r.innerText : ''"
    );
    let text = app.client.execute(&script, vec![]).await.unwrap();
    (text.as_str().unwrap_or_default().split('\t').skip(1))
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The SQL view's result table, cell by cell (scrolled out of sight or not).
async fn sql_rows(app: &App) -> Value {
    let script = "return [...document.querySelectorAll('#sql-result tbody tr')].map(tr => [...tr.cells].map(td => td.textContent))";
    app.client.execute(script, vec![]).await.unwrap()
}

/// The arranged dashboard's tile ids, as the API answers them.
async fn tile_ids(app: &App) -> Vec<String> {
    let (_, body) = app.api.get("/api/dashboard").await;
    let tiles = body["tiles"].as_array().cloned().unwrap_or_default();
    tiles
        .iter()
        .map(|t| t["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The dashboard's tiles shown, in the grid's order.
async fn grid_order(app: &App) -> Vec<String> {
    let script = "return [...document.querySelectorAll('#grid > article')].filter(e => !e.hidden).map(e => e.id)";
    let order = app.client.execute(script, vec![]).await.unwrap();
    serde_json::from_value(order).unwrap()
}

/// The window's views, each with an element only it shows and a text that element holds once
/// its data is loaded (here: `fixture()` posted, the built-in alert rule, this instance).
/// The Live list and a person: an event and a refusal appear as they land (the refusal in red
/// with its error and the text sent), a click shows an event's JSON, a double-click opens the
/// person, whose timeline has every event of theirs, by session; the search finds them.
#[tokio::test]
async fn live_events_show_a_refusal_in_red_and_open_a_person() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let app = App::launch(&home).await;
    let now = Utc::now().timestamp_millis();
    app.post(&[
        json!({"event_name": "signup", "session_id": "s-ada-1", "user_id": "ada",
               "timestamp": now - 3_600_000, "country_code": "GB"}),
        json!({"event_name": "page_view", "session_id": "s-ada-1", "user_id": "ada",
               "timestamp": now - 3_500_000, "country_code": "GB"}),
    ])
    .await;
    app.click("nav-people").await;
    app.wait_for("the people view listening", |app| async move {
        app.text("people-list")
            .await
            .is_some_and(|t| t.contains("ada"))
    })
    .await;

    let (status, _) = app
        .api
        .post(&json!([
            {"event_name": "email_verified", "session_id": "s-ada-2", "user_id": "ada",
             "country_code": "GB", "properties": {"domain": "gmail.com"}},
            {"event_name": "Email Verified!", "session_id": "s-bob"}
        ]))
        .await;
    assert_eq!(status, 202);
    app.wait_for("both in the live list", |app| async move {
        app.client
            .find_all(Locator::Css("#live-list li"))
            .await
            .map_or(0, |rows| rows.len())
            == 2
    })
    .await;
    // Newest first: the refusal came after the event, in the same request.
    let refused = app.css_text("#live-list li:nth-child(1)").await.unwrap();
    assert!(refused.contains("refused (events, item 1)"), "{refused}");
    assert!(refused.contains("event_name:"), "{refused}");
    let class = app
        .client
        .find(Locator::Css("#live-list li:nth-child(1)"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap();
    assert_eq!(class.as_deref(), Some("rejected"));
    let script = "return getComputedStyle(document.querySelector('#live-list li.rejected')).color";
    let color = app.client.execute(script, vec![]).await.unwrap();
    assert_eq!(color, json!("rgb(239, 68, 68)"), "red");
    app.click_css("#live-list li:nth-child(1)").await;
    let raw = app.text("live-json").await.unwrap();
    assert!(
        raw.contains(r#"\"event_name\":\"Email Verified!\""#),
        "{raw}"
    );
    app.click_css("#live-list li:nth-child(2)").await;
    let shown: Value = serde_json::from_str(&app.text("live-json").await.unwrap()).unwrap();
    assert_eq!(shown["event_name"], "email_verified");
    assert_eq!(shown["properties"], json!({"domain": "gmail.com"}));
    assert_eq!(shown["source"], "events");
    for width in [1280, 900] {
        app.client.set_window_size(width, 800).await.unwrap();
        app.save_view(&format!("people-{width}")).await;
    }
    app.client.set_window_size(1280, 800).await.unwrap();

    // Double-click: ada's week, newest first, by session.
    app.client
        .execute(
            "document.querySelector('#live-list li:nth-child(2)').dispatchEvent(new MouseEvent('dblclick'))",
            vec![],
        )
        .await
        .unwrap();
    app.wait_text("person-title", "ada: 3 events in the last 7 days")
        .await;
    let script =
        "return [...document.querySelectorAll('#person-sessions h4, #person-sessions li')]\
                  .map((e) => e.textContent)";
    let sessions = app.client.execute(script, vec![]).await.unwrap();
    let lines: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{sessions}");
    assert_eq!(lines[0], "Session s-ada-2", "{sessions}");
    assert!(lines[1].contains("email_verified"), "{sessions}");
    assert_eq!(lines[2], "Session s-ada-1", "{sessions}");
    assert!(
        lines[3].contains("page_view") && lines[4].contains("signup"),
        "{sessions}"
    );
    app.click_css("#person-sessions li:nth-child(1)").await;
    let event: Value = serde_json::from_str(&app.text("person-json").await.unwrap()).unwrap();
    assert_eq!(event["user_id"], "ada");
    assert_eq!(event["country_code"], "GB");

    // The search: by the beginning of an id; nobody else starts with "ad".
    app.type_into("people-search", "ad").await;
    app.wait_for("ada alone, with her three events", |app| async move {
        let rows = app
            .client
            .find_all(Locator::Css("#people-list tbody tr"))
            .await;
        let cells = app.row("people-list tbody tr", 3).await;
        rows.map_or(0, |rows| rows.len()) == 1 && cells[0] == "ada" && cells[2] == "3"
    })
    .await;
    app.type_into("people-search", "zz").await;
    app.wait_text("people-status", "Nobody seen in the last 7 days matches.")
        .await;

    // From a funnel's step to a person: cy started signing up and went no further.
    app.post(&[
        json!({"event_name": "signup_started", "session_id": "s-cy", "user_id": "cy"}),
        json!({"event_name": "signup_started", "session_id": "s-dee", "user_id": "dee"}),
        json!({"event_name": "signup_completed", "session_id": "s-dee", "user_id": "dee"}),
    ])
    .await;
    app.wait_for("the events stored", |app| async move {
        app.api.health().await["buffer_size"] == 0
    })
    .await;
    app.click("nav-funnels").await;
    app.wait_for("the signup funnel's steps", |app| async move {
        app.displayed("funnel-dropped-0").await
            && app.row("funnel-step-0", 2).await == ["signup_started", "2"]
    })
    .await;
    app.click("funnel-dropped-0").await;
    app.wait_text("funnel-actors-title", "1 dropped after signup_started")
        .await;
    assert_eq!(app.text("funnel-actors-list").await.as_deref(), Some("cy"));
    app.click("funnel-reached-1").await;
    app.wait_text("funnel-actors-title", "1 reached signup_completed")
        .await;
    app.save_view("funnel-actors-1280").await;
    app.click_css("#funnel-actors-list button").await;
    app.wait_text("person-title", "dee: 2 events in the last 7 days")
        .await;
    assert!(app.displayed("view-people").await);
    app.close().await;
}

const VIEWS: [(&str, &str, &str); 7] = [
    ("dashboard", "active-users-value", "7"),
    ("funnels", "funnel-step-0", "signup_started"),
    ("alerts", "alert-row-error_rate", "Error rate above 1 %"),
    ("retention", "rt-status", "people started with"),
    ("people", "people-list", "Last seen"),
    ("sql", "sql-saved", "Signup funnel by hour (24 h)"),
    ("connect", "snippet-segment-python", "analytics.host"),
];

impl App {
    /// Only view `open` shows (its content loaded, its navigation entry marked); the filter bar
    /// only with the views it narrows.
    async fn expect_view(&self, open: &str) {
        let (_, content, text) = VIEWS.into_iter().find(|v| v.0 == open).unwrap();
        let what = format!("the {open} view's #{content} with {text:?}");
        self.wait_for(&what, |app| async move {
            app.displayed(content).await
                && app.text(content).await.is_some_and(|t| t.contains(text))
        })
        .await;
        for (view, content, _) in VIEWS {
            let current = self.attr(&format!("nav-{view}"), "aria-current").await;
            if view == open {
                assert_eq!(current.as_deref(), Some("page"), "nav-{view} marked");
            } else {
                assert!(
                    !self.displayed(&format!("view-{view}")).await,
                    "{view} hidden"
                );
                assert!(!self.displayed(content).await, "#{content} hidden");
                assert_eq!(current, None, "nav-{view} not marked");
            }
        }
        let filtered = ["dashboard", "funnels", "retention", "people"].contains(&open);
        assert_eq!(self.displayed("filters").await, filtered, "the filter bar");
    }

    /// The window as it looks now, to `target/tmp/views/{name}.png`.
    async fn save_view(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("views/{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, png).unwrap();
    }

    /// The header's controls as laid out: how many rows they take, and which of them overlap
    /// one another or stick out of the window.
    async fn header_layout(&self) -> Value {
        let script = r#"
            const boxes = [...document.querySelectorAll(
                "header h1, #views > button, #ranges > button, #status, #spilled, #alerts-badge, #profile, #demo-menu")]
              .filter((e) => e.getClientRects().length > 0)
              .map((e) => [e.id || e.textContent, e.getBoundingClientRect()]);
            const centers = boxes.map(([, r]) => (r.top + r.bottom) / 2).sort((x, y) => x - y);
            const rows = centers.filter((c, i) => i === 0 || c - centers[i - 1] > 10).length;
            const overlaps = [];
            boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, s]) => {
              if (r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom) overlaps.push(`${a} / ${b}`);
            }));
            const outside = boxes.filter(([, r]) => r.left < 0 || r.right > window.innerWidth).map(([a]) => a);
            return { width: window.innerWidth, controls: boxes.length, rows, overlaps, outside,
                     scrolls: document.documentElement.scrollWidth > window.innerWidth };
        "#;
        self.client.execute(script, vec![]).await.unwrap()
    }
}

/// The header's navigation: each view shows its own content and hides the others'; the header
/// takes one row at 1280 px and nothing in it overlaps or is cut at 900 px; the view open last
/// is the one the next launch opens.
#[tokio::test]
async fn every_view_opens_from_the_navigation_and_the_last_one_is_remembered() {
    let _one_window = ONE_WINDOW.lock().await;
    let home = Home::new();
    let app = App::launch(&home).await;
    // The widest header: the store down, its label longer, the spilled badge shown. (The event
    // is older than the active-users window, so the dashboard's count stays the fixture's.)
    app.api.set_fault("down").await;
    app.post(&[json!({"event_name": "page_view", "session_id": "spill", "timestamp": at(30)})])
        .await;
    app.wait_text("spilled", "1 spilled").await;
    let layout = app.header_layout().await;
    app.save_view("header-down-1280").await;
    assert_eq!(
        layout["rows"],
        json!(1),
        "one header row, store down: {layout}"
    );
    app.api.set_fault("up").await;
    app.wait_for("the spilled event stored", |app| async move {
        !app.displayed("spilled").await
    })
    .await;

    app.post(&fixture()).await;
    app.expect_view("dashboard").await;
    for width in [1920, 1280, 900] {
        app.client.set_window_size(width, 800).await.unwrap();
        app.wait_for("the window's new width", |app| async move {
            let inner = app.client.execute("return window.innerWidth", vec![]).await;
            inner.ok().and_then(|w| w.as_u64()) == Some(u64::from(width))
        })
        .await;
        for (view, _, _) in VIEWS {
            app.click(&format!("nav-{view}")).await;
            app.expect_view(view).await;
            let layout = app.header_layout().await;
            println!("{view} at {width} px: {layout}");
            assert_eq!(layout["overlaps"], json!([]), "{view} at {width} px");
            assert_eq!(layout["outside"], json!([]), "{view} at {width} px");
            assert_eq!(layout["scrolls"], json!(false), "{view} at {width} px");
            assert_eq!(layout["rows"], json!(1), "one header row: {layout}");
            app.save_view(&format!("{view}-{width}")).await;
        }
        // The demo menu opens under its button, inside the window, and closes again.
        app.click("demo-menu").await;
        assert!(app.displayed("demo").await && app.displayed("demo-campaign").await);
        let inside = |menu: &str| {
            format!(
                "const r = document.getElementById('{menu}').getBoundingClientRect();
                 return r.left >= 0 && r.right <= window.innerWidth"
            )
        };
        let demo = app
            .client
            .execute(&inside("demo-items"), vec![])
            .await
            .unwrap();
        assert_eq!(demo, json!(true), "the demo menu at {width} px");
        app.save_view(&format!("demo-menu-{width}")).await;
        app.click("demo-menu").await;
        assert!(!app.displayed("demo-items").await, "the menu closes");
        // So does the time menu; "as of" leaves a chip in the header, still one row at 1280.
        app.click("range-custom").await;
        let time = app
            .client
            .execute(&inside("time-items"), vec![])
            .await
            .unwrap();
        assert_eq!(time, json!(true), "the time menu at {width} px");
        app.save_view(&format!("time-menu-{width}")).await;
        let earlier = "$('time-at').value = localField(Date.now() - 1800e3)";
        app.client.execute(earlier, vec![]).await.unwrap();
        app.click("time-as-of").await;
        app.wait_for("the as-of chip", |app| async move {
            app.displayed("time-live").await
        })
        .await;
        let layout = app.header_layout().await;
        assert_eq!(layout["overlaps"], json!([]), "as of, at {width} px");
        if width >= 1280 {
            assert_eq!(layout["rows"], json!(1), "one header row, as of: {layout}");
        }
        app.save_view(&format!("header-as-of-{width}")).await;
        app.click("time-live").await;
        app.wait_for("live again", |app| async move {
            !app.displayed("time-live").await
        })
        .await;
    }
    // The walk ended on Connect: the next launch opens it.
    app.close().await;
    let app = App::launch(&home).await;
    app.expect_view("connect").await;
    app.click("nav-funnels").await;
    app.expect_view("funnels").await;
    app.close().await;
    let app = App::launch(&home).await;
    app.expect_view("funnels").await;
    app.close().await;
}

/// A picture the README shows (`name`: `screenshot.png`, …): written under the target dir, or
/// over `docs/{name}` with `PULSEBOARD_UPDATE_SCREENSHOT=1`.
fn save_screenshot(name: &str, png: &[u8]) {
    let path = if std::env::var("PULSEBOARD_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name)
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
}

/// Started on a server profile whose server is down: the window still opens (red, empty
/// frames); "Use" on the embedded profile moves the running engine there and the data shows.
async fn switching_from_a_server_that_is_down(home: &Home) {
    add_profile("down", "http://127.0.0.1:9", home.env());
    let app = App::launch_with(home, &["--profile", "down"]).await;
    assert_eq!(app.profile().await, "profile: down");
    app.wait_for("the red status", |app| async move {
        app.attr("status-dot", "class").await.as_deref() == Some("dot red")
    })
    .await;
    assert_eq!(
        app.text("top-feature-name").await,
        None,
        "nothing to show yet"
    );

    app.click("profile").await;
    app.wait_for("the embedded row", |app| async move {
        app.text("profile-row-embedded").await.is_some()
    })
    .await;
    app.click("profile-use-embedded").await;
    app.wait_text("profiles-message", "now storing in embedded")
        .await;
    app.click("profiles-close").await;
    app.wait_for("the embedded profile", |app| async move {
        app.profile().await == "profile: embedded"
    })
    .await;
    app.wait_for("the green status", |app| async move {
        app.attr("status-dot", "class").await.as_deref() == Some("dot green")
    })
    .await;
    // The events stored earlier in this data dir are on screen again.
    app.wait_for("the stored events", |app| async move {
        app.text("top-feature-name")
            .await
            .is_some_and(|name| !name.is_empty())
    })
    .await;
    app.close().await;
}

/// The window's targets, measured (not asserted): time to data at launch on a data dir that
/// already holds events, event-to-screen latency through the DOM, idle CPU and RSS of the app's
/// processes. `scripts/bench-window.sh` prepares the data and runs it.
#[tokio::test]
#[ignore = "benchmark: scripts/bench-window.sh runs it"]
async fn bench_window() {
    let _one_window = ONE_WINDOW.lock().await;
    let data = std::env::var("PULSEBOARD_BENCH_DATA_DIR")
        .expect("PULSEBOARD_BENCH_DATA_DIR: a data dir with events (scripts/bench-window.sh)");
    let home = Home {
        flush_interval: "2s",
        ..Home::with_data(tempfile::tempdir().unwrap(), PathBuf::from(data))
    };
    let launched = Instant::now();
    let app = App::launch(&home).await;
    app.wait_for("the panels", |app| async move {
        app.text("summary-error_rate")
            .await
            .is_some_and(|t| t.contains("errors in"))
    })
    .await;
    println!(
        "launch to data on screen: {} ms",
        launched.elapsed().as_millis()
    );
    // The dashboard of the issue's target: the four panels and four insights, every one
    // recomputed for each push.
    let insights = [
        (
            "views",
            json!({"events": ["page_view"], "breakdown": "country"}),
        ),
        (
            "clicks",
            json!({"events": ["button_click"], "breakdown": "event_name"}),
        ),
        (
            "path-users",
            json!({"events": ["page_view"], "measure": "users", "breakdown": "prop.path"}),
        ),
        ("sessions", json!({"measure": "sessions", "chart": "bar"})),
    ];
    let mut tiles: Vec<Value> = [
        "active_users",
        "signup_funnel",
        "top_features",
        "error_rate",
    ]
    .map(|id| json!({"kind": "panel", "id": id}))
    .to_vec();
    for (id, definition) in &insights {
        let path = format!("/api/insights/{id}");
        assert_eq!(app.api.put(&path, &definition.to_string()).await.0, 200);
        tiles.push(json!({"kind": "insight", "id": id}));
    }
    let board = json!({ "tiles": tiles }).to_string();
    assert_eq!(app.api.put("/api/dashboard", &board).await.0, 200);
    app.wait_for("the insights on the dashboard", |app| async move {
        app.displayed("chart-insight-sessions").await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "idle RSS of the app's processes before any load: {} MiB",
        rss_kib(&app_processes(&home)) / 1024
    );

    // The probe is one event from a country no other event comes from, with the dashboard
    // filtered by that country: its 1h total counts the probe once it is on screen, however
    // many other events arrive meanwhile.
    app.type_into("filter-country", PROBE_COUNTRY).await;
    app.click("filters-apply").await;
    app.wait_for("the filtered panels", |app| async move {
        app.text("summary-error_rate").await.as_deref() == Some("no events")
    })
    .await;
    for load in [0, 10_000] {
        let background = (load > 0).then(|| steady_load(&app.api.url, load));
        let mut samples = Vec::new();
        for i in 0..20 {
            let before = events_in_range(&app).await;
            let probe = json!({"event_name": "page_view", "country_code": PROBE_COUNTRY,
                "session_id": format!("probe-{load}-{i}")});
            let posted = Instant::now();
            app.post(&[probe]).await;
            app.wait_for("the probe", |app| async move {
                events_in_range(app).await > before
            })
            .await;
            samples.push(posted.elapsed().as_millis());
            tokio::time::sleep(Duration::from_millis(fastrand::u64(100..1500))).await;
        }
        if let Some(task) = background {
            task.abort();
        }
        samples.sort_unstable();
        println!(
            "event-to-screen through the window, {load} events/s in the background (20 samples): \
             p50 {} ms, p95 {} ms, max {} ms",
            samples[9], samples[18], samples[19]
        );
    }
    app.click("filters-clear").await;

    tokio::time::sleep(Duration::from_secs(5)).await;
    let pids = app_processes(&home);
    let cpu_before = cpu_ticks(&pids);
    tokio::time::sleep(Duration::from_secs(20)).await;
    let cpu = (cpu_ticks(&pids) - cpu_before) as f64 / 100.0 / 20.0 * 100.0;
    println!(
        "idle CPU over 20 s: {cpu:.2} % of one core ({} processes)",
        pids.len()
    );
    println!(
        "idle RSS of the app's processes after the probes and the load: {} MiB",
        rss_kib(&pids) / 1024
    );
    app.close().await;
}

/// The benchmark's probes come from here; the background load never does.
const PROBE_COUNTRY: &str = "AQ";

/// Posts 500-event batches of page views to `url` so that `rate` events a second arrive, until
/// the task is aborted.
fn steady_load(url: &str, rate: u64) -> tokio::task::JoinHandle<()> {
    let api = Api::new(url.to_owned(), reqwest::Client::new());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(500.0 / rate as f64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for batch in 0u64.. {
            tick.tick().await;
            let events: Vec<Value> = (0..500)
                .map(|j| {
                    json!({"event_name": "page_view", "country_code": "US",
                    "session_id": format!("load-{batch}-{}", j % 50)})
                })
                .collect();
            api.post_ok(&json!(events)).await;
        }
    })
}

/// Events in the selected range, from the error panel's summary ("N errors in M events (…)").
async fn events_in_range(app: &App) -> u64 {
    let summary = app.text("summary-error_rate").await.unwrap_or_default();
    summary
        .split(" in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or(0)
}

/// The app (found by its data dir argument) and every process below it (WebKit's).
/// The app process serving on `port`, if one runs.
fn app_process(port: u16) -> Option<u32> {
    let flag = format!("--port\0{port}\0");
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| cmd.contains(&flag) && !cmd.contains("tauri-driver"))
        })
}

fn app_processes(home: &Home) -> Vec<u32> {
    let data = home.data.display().to_string();
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).ok()?;
            Some((pid, ppid, cmdline.replace('\0', " ")))
        })
        .collect();
    let root = procs
        .iter()
        .find(|(_, _, cmd)| cmd.contains(&data) && cmd.contains("--port"))
        .expect("the app's process")
        .0;
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    tree
}

fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
            Some(fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?)
        })
        .sum()
}

fn rss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}
