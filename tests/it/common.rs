//! A real `pulseboard serve` process on a temp data dir; its HTTP API (`Api`, which it derefs
//! to) and the rest that the test crates share are in `tests/support`.

use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::support::{signal, test_env, wait_exit, Api};

/// A running `pulseboard serve` child process.
pub struct Server {
    child: Option<Child>,
    api: Api,
}

/// `server.url`, `server.http`, `server.post(…)`, `server.health()`, `server.set_fault(…)`, …
impl Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Server {
    /// Starts `pulseboard serve --port 0` on `data_dir`; `extra` adds flags.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(data_dir, extra, &[])
    }

    /// Like [`Server::start`], with extra environment variables (how secrets are passed).
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
            .arg("serve")
            // Through the environment so a test can still pass --port, --flush-interval or
            // --profile.
            .env("PULSEBOARD_PORT", "0")
            .envs(test_env("200ms"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("PULSEBOARD_INGEST_TOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn pulseboard serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .expect("serve exited before listening (is libchdb installed? run scripts/setup.sh)")
            .unwrap();
        let url = first
            .strip_prefix("Pulseboard listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_string();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        // The helpers speak as an authorised client when the instance has an ingest token.
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some((_, token)) = env.iter().find(|(k, _)| *k == "PULSEBOARD_INGEST_TOKEN") {
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        Server {
            child: Some(child),
            api: Api::new(url, http),
        }
    }

    /// Stops with SIGTERM (a clean shutdown) and waits.
    pub fn stop(mut self) {
        let child = self.child.take().unwrap();
        signal(&child, "TERM");
        wait_exit(child);
    }

    /// Kills with SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        let child = self.child.take().unwrap();
        signal(&child, "KILL");
        wait_exit(child);
    }

    /// Waits until the journal is empty, i.e. everything acknowledged is in ClickHouse.
    pub async fn drained(&self) -> Value {
        self.health_until("the journal to drain into a reachable store", |health| {
            health["buffer_size"] == 0 && health["store_reachable"] == true
        })
        .await
    }

    /// Waits until a flush has failed, i.e. the store is seen as unreachable; returns that health.
    pub async fn unreachable(&self) -> Value {
        self.health_until("the store to be seen as unreachable", |health| {
            health["store_reachable"] == false
        })
        .await
    }

    /// Events stored in ClickHouse over the last 24 hours, counted in the per-minute view and
    /// in the raw table (through the error-rate panel), which must agree.
    pub async fn stored_events(&self) -> u64 {
        let mut counts = Vec::new();
        for source in ["views", "raw"] {
            let (status, body) = self
                .get(&format!("/api/panels/error_rate?range=24h&source={source}"))
                .await;
            assert_eq!(status, 200, "{body}");
            let series = body["error_rate"]["series"].as_array().unwrap();
            counts.push(
                series
                    .iter()
                    .map(|m| m["total"].as_u64().unwrap())
                    .sum::<u64>(),
            );
        }
        assert_eq!(counts[0], counts[1], "views and raw events disagree");
        counts[0]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            signal(&child, "KILL");
            wait_exit(child);
        }
    }
}

/// A minimal valid event.
pub fn event(name: &str, session: &str) -> Value {
    json!({ "event_name": name, "session_id": session })
}
