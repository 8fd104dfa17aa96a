//! Shared helpers: a real `pulseboard serve` process on a temp data dir, and an HTTP client.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A running `pulseboard serve` child process.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub http: reqwest::Client,
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
            // Through the environment so a test can still pass --port or --flush-interval.
            .env("PULSEBOARD_PORT", "0")
            .env("PULSEBOARD_FLUSH_INTERVAL", "200ms")
            // Whatever profile this machine's user has active, the tests use the embedded store.
            .env("PULSEBOARD_PROFILE", "embedded")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("PULSEBOARD_INGEST_TOKEN")
            .envs(env.iter().copied())
            .env("RUST_LOG", "pulseboard=warn")
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
        Server {
            child: Some(child),
            url,
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
        }
    }

    /// Stops with SIGTERM (a clean shutdown) and waits.
    pub fn stop(mut self) {
        let child = self.child.take().unwrap();
        signal(&child, "TERM");
        wait(child);
    }

    /// Kills with SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        let child = self.child.take().unwrap();
        signal(&child, "KILL");
        wait(child);
    }

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

    /// Sends only the headers of a POST declaring a `length`-byte body, and reads the answer:
    /// an over-limit body must be refused before it is read.
    pub fn post_declaring(&self, length: usize) -> (u16, Value) {
        use std::io::{Read, Write};
        let host = self.url.trim_start_matches("http://");
        let mut socket = std::net::TcpStream::connect(host).unwrap();
        write!(socket, "POST /v1/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = socket.read_to_string(&mut answer);
        let status = answer[9..12].parse().unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
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

    pub async fn health(&self) -> Value {
        self.get("/health").await.1
    }

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

    /// Waits until the journal is empty, i.e. everything acknowledged is in ClickHouse.
    pub async fn drained(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = self.health().await;
            if health["buffer_size"] == 0 && health["store_reachable"] == true {
                return health;
            }
            assert!(Instant::now() < deadline, "journal never drained: {health}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
            wait(child);
        }
    }
}

fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status();
}

fn wait(mut child: Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "pulseboard did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A minimal valid event.
pub fn event(name: &str, session: &str) -> Value {
    json!({ "event_name": name, "session_id": session })
}
