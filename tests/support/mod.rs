//! What the test crates share: the real `pulseboard` binary's test environment, its HTTP API as
//! the tests call it, waiting for a condition with a deadline, and child processes.
//!
//! Included by each test crate that needs it, with `#[path = "../support/mod.rs"] mod support;`
//! (`tests/it`, `tests/window`) or `#[path = "support/mod.rs"]` (`tests/keychain.rs`); each
//! uses a part of it.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fmt::Display;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long [`Api::health_until`] waits: long enough for a backlog to replay on a slow machine.
pub const API_WAIT: Duration = Duration::from_secs(60);

/// The environment every instance under test runs with: the embedded store whatever profile
/// this machine's user has active, flushes every `flush_interval`, and only warnings logged.
pub fn test_env(flush_interval: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PULSEBOARD_PROFILE", "embedded".into()),
        ("PULSEBOARD_FLUSH_INTERVAL", flush_interval.into()),
        ("RUST_LOG", "pulseboard=warn".into()),
    ]
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` every 50 ms until it returns `Ok`, and returns that value. Once `timeout` has
/// passed it panics, naming `what` it waited for and what the last check saw instead (its `Err`).
pub async fn wait_until<T, E, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) if start.elapsed() >= timeout => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The HTTP API of a running Pulseboard, as the tests call it.
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(url: String, http: reqwest::Client) -> Self {
        Self { url, http }
    }

    /// `POST /v1/events` with a JSON body; the status and the answer (`Null` if not JSON).
    pub async fn post(&self, body: &Value) -> (u16, Value) {
        self.post_raw(serde_json::to_vec(body).unwrap(), "application/json")
            .await
    }

    pub async fn post_raw(&self, body: Vec<u8>, content_type: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/events", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST /v1/events");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Posts `events`, which must be acknowledged (202); returns how many were accepted.
    pub async fn post_ok(&self, events: &Value) -> u64 {
        let (status, answer) = self.post(events).await;
        assert_eq!(status, 202, "{answer}");
        answer["accepted"].as_u64().unwrap()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `PUT path` with a raw body; the status and the answer (`Null` if not JSON).
    pub async fn put(&self, path: &str, body: &str) -> (u16, Value) {
        let request = self
            .http
            .put(format!("{}{path}", self.url))
            .body(body.to_owned());
        Self::answer(request).await
    }

    /// `POST path` with a raw JSON body; the status and the answer (`Null` if not JSON).
    pub async fn post_to(&self, path: &str, body: &str) -> (u16, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        Self::answer(request).await
    }

    /// `GET path` as text (an SVG).
    pub async fn text(&self, path: &str) -> String {
        let response = self.http.get(format!("{}{path}", self.url)).send().await;
        response.expect("GET").text().await.expect("a text body")
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        Self::answer(self.http.delete(format!("{}{path}", self.url))).await
    }

    async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn health(&self) -> Value {
        self.get("/health").await.1
    }

    /// Polls `/health` until `check` holds, for up to [`API_WAIT`], and returns that health; on
    /// timeout fails with `what` and the last health seen.
    pub async fn health_until(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let check = &check;
        wait_until(what, API_WAIT, move || async move {
            let health = self.health().await;
            if check(&health) {
                Ok(health)
            } else {
                Err(health)
            }
        })
        .await
    }

    /// `PUT /api/alerts/{id}` with `rule`: the status and the answer.
    pub async fn put_alert(&self, id: &str, rule: &Value) -> (u16, Value) {
        let response = self
            .http
            .put(format!("{}/api/alerts/{id}", self.url))
            .json(rule)
            .send()
            .await
            .expect("PUT /api/alerts");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `DELETE /api/alerts/{id}`: the status.
    pub async fn delete_alert(&self, id: &str) -> u16 {
        let response = self
            .http
            .delete(format!("{}/api/alerts/{id}", self.url))
            .send()
            .await
            .expect("DELETE /api/alerts");
        response.status().as_u16()
    }

    /// Rule `id` as `GET /api/alerts` shows it (`Null` when there is none).
    pub async fn alert(&self, id: &str) -> Value {
        let (status, body) = self.get("/api/alerts").await;
        assert_eq!(status, 200, "{body}");
        let alerts = body["alerts"].as_array().expect("an alerts array");
        let found = alerts.iter().find(|a| a["id"] == id);
        found.cloned().unwrap_or(Value::Null)
    }

    /// Polls rule `id` until `check` holds, for up to [`API_WAIT`]; returns it.
    pub async fn alert_until(&self, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let check = &check;
        wait_until(what, API_WAIT, move || async move {
            let alert = self.alert(id).await;
            if check(&alert) {
                Ok(alert)
            } else {
                Err(alert)
            }
        })
        .await
    }

    /// The store's fault switch (`fault-injection` builds): `down`, `lose_ack` or `up`.
    pub async fn set_fault(&self, mode: &str) {
        let response = self
            .http
            .post(format!("{}/debug/store", self.url))
            .json(&json!({ "mode": mode }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 204);
    }
}

/// Runs `pulseboard ARGS` to the end with `env` added, and fails with its stderr unless it
/// succeeds.
pub fn run_ok<I, K, V>(args: &[&str], env: I) -> Output
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(args)
        .envs(env)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pulseboard {}: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Adds the server profile `name` for `url`, without a password (`profile add --no-password`).
pub fn add_profile<I, K, V>(name: &str, url: &str, env: I)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    run_ok(
        &["profile", "add", name, "--url", url, "--no-password"],
        env,
    );
}

/// Sends `sig` (`TERM`, `KILL`) to `child`.
pub fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status();
}

/// Waits up to a minute for `child` to exit.
pub fn wait_exit(mut child: Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "pulseboard did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `dir` (recursively) whose bytes contain `needle`. A file that vanished
/// since it was listed (a running app's temporary files) holds nothing.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        };
        if bytes.windows(needle.len()).any(|window| window == needle) {
            found.push(path);
        }
    }
    found
}
