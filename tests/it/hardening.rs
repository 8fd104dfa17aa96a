//! What a local server owes the laptop it runs on (DESIGN "Hardening"): one engine per data dir,
//! private files, time limits, a connection cap, browsers and rebinding pages kept out, answers
//! that ordinary clients can read, and errors in JSON that say what to fix.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{event, Server};
use crate::support::add_profile;

/// Sends `request` as raw bytes and reads the answer until the server closes or `wait` passes.
fn raw(server: &Server, request: &str, wait: Duration) -> String {
    let host = server.url.trim_start_matches("http://");
    let mut socket = TcpStream::connect(host).unwrap();
    socket.set_read_timeout(Some(wait)).unwrap();
    socket.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::write::GzEncoder;
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn status_of(answer: &str) -> u16 {
    answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn body_of(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_second_engine_on_the_same_data_dir_exits_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let config_env = [("PULSEBOARD_CONFIG_DIR", config.path())];
    // A team server nobody answers for (port 9: discard, closed here).
    add_profile("team", "http://127.0.0.1:9", config_env);
    let server = Server::start(dir.path(), &[]);
    for profile in ["embedded", "team"] {
        let output = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
            .args(["serve", "--port", "0", "--profile", profile, "--data-dir"])
            .arg(dir.path())
            .envs(config_env)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{profile}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("another Pulseboard is running"), "{stderr}");
        assert!(
            stderr.contains(&server.url),
            "names the running one: {stderr}"
        );
    }
    // The first one is untouched.
    assert_eq!(server.post_ok(&json!([event("page_view", "s1")])).await, 1);
    server.stop();
}

#[tokio::test]
async fn files_are_private_and_health_without_the_token_says_only_the_status() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let token = "tok-9d2e";
    let server = Server::start_with_env(&dir, &[], &[("PULSEBOARD_INGEST_TOKEN", token)]);
    server.post_ok(&json!([event("page_view", "s1")])).await;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode(&dir) & 0o777, 0o700);
    assert_eq!(mode(&dir.join("journal.sqlite3")) & 0o777, 0o600);

    let stranger = reqwest::get(format!("{}/health", server.url))
        .await
        .unwrap();
    assert_eq!(stranger.status().as_u16(), 200);
    assert_eq!(
        stranger.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    assert_eq!(
        server.health().await["store"],
        "embedded",
        "the token sees it all"
    );
    server.stop();

    let output = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(&dir)
        .env("PULSEBOARD_INGEST_TOKEN", "")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PULSEBOARD_INGEST_TOKEN is set but empty"),
        "{stderr}"
    );
}

#[tokio::test]
async fn browsers_on_other_origins_and_rebinding_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--cors-origins", "https://app.example.com"]);
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let events = r#"[{"event_name":"page_view","session_id":"from-a-page"}]"#;
    // A form or text/plain needs no preflight: the answer is 403 whatever the content type.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json",
    ] {
        let request = format!(
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://evil.example\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{events}",
            events.len()
        );
        let answer = raw(&server, &request, Duration::from_secs(10));
        assert_eq!(status_of(&answer), 403, "{content_type}: {answer}");
        assert!(body_of(&answer)["error"]
            .as_str()
            .unwrap()
            .contains("--cors-origins"));
    }
    // DNS rebinding: a page's own name pointing at 127.0.0.1.
    for host in [
        "evil.example",
        format!("evil.example:{port}").as_str(),
        "127.0.0.1.evil.example",
    ] {
        let request =
            format!("GET /api/panels HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let answer = raw(&server, &request, Duration::from_secs(10));
        assert_eq!(status_of(&answer), 421, "{host}: {answer}");
    }
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let request =
            format!("GET /health HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
        assert_eq!(
            status_of(&raw(&server, &request, Duration::from_secs(10))),
            200,
            "{host}"
        );
    }
    server.drained().await;
    assert_eq!(
        server.stored_events().await,
        0,
        "nothing from the page was stored"
    );
    server.stop();
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_connections_past_the_cap_wait() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--max-connections", "4"]);
    let host = server.url.trim_start_matches("http://").to_string();
    // Half a request, then silence: closed after the 10 s header limit.
    let started = Instant::now();
    let answer = raw(
        &server,
        "GET /health HTTP/1.1\r\nHost: loc",
        Duration::from_secs(30),
    );
    assert_eq!(answer, "", "closed without an answer");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(20),
        "{took:?}"
    );

    // Four idle connections hold every slot: a fifth waits, and is served once one closes.
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&host).unwrap()).collect();
    let waiting = tokio::spawn({
        let url = server.url.clone();
        async move {
            reqwest::get(format!("{url}/health"))
                .await
                .map(|r| r.status().as_u16())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "served past the connection cap");
    drop(held);
    assert_eq!(waiting.await.unwrap().unwrap(), 200);
    server.stop();
}

/// Python's `requests` posting `body_mib` MiB with `token`, five times: every answer must be
/// `expected` with a JSON error (and `Retry-After` on a 503), never a broken pipe.
fn python_sees(server: &Server, token: &str, body_mib: u32, expected: u16) {
    let script = r#"
import sys, requests
url, token, mib, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
body = b"[" + b" " * (mib << 20) + b"]"
headers = {"Content-Type": "application/json"}
if token:
    headers["Authorization"] = "Bearer " + token
for _ in range(5):
    r = requests.post(url + "/v1/events", data=body, headers=headers, timeout=60)
    assert r.status_code == expected, (r.status_code, r.text)
    assert "error" in r.json(), r.text
    if expected == 503:
        assert r.headers["Retry-After"] == "5", r.headers
"#;
    let output = Command::new("python3")
        .args(["-c", script, &server.url, token])
        .args([body_mib.to_string(), expected.to_string()])
        .output()
        .expect("python3 with requests (scripts/setup.sh installs it)");
    assert!(
        output.status.success(),
        "expected {expected}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The answers decided before the body is read (401, 413, 503) reach a client that is still
/// sending its body.
#[tokio::test]
async fn early_answers_reach_python_clients_that_are_still_sending() {
    let dir = tempfile::tempdir().unwrap();
    let token = "tok-5c1";
    let server = Server::start_with_env(
        dir.path(),
        &["--journal-cap", "20KiB"],
        &[("PULSEBOARD_INGEST_TOKEN", token)],
    );
    python_sees(&server, "", 4, 401);
    python_sees(&server, token, 4, 413);
    // Fill the journal past its cap while the store is down.
    server.set_fault("down").await;
    let filler: Vec<Value> = (0..500)
        .map(|i| event("page_view", &format!("f{i}")))
        .collect();
    server.post_ok(&json!(filler)).await;
    python_sees(&server, token, 4, 503);
    server.stop();
}

#[tokio::test]
async fn every_error_is_json_that_says_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let cases: [(&str, u16, &str); 4] = [
        ("/api/panels?range=1h&range=6h", 400, "bad query"),
        (
            "/api/panels?at=0001-01-01T00:00:00Z",
            400,
            "at: must be an RFC 3339 time within",
        ),
        ("/nowhere", 404, "no route GET /nowhere"),
        ("/api/panels/%FF", 400, "bad query"),
    ];
    for (path, status, text) in cases {
        let (got, body) = server.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(text), "{path}: {body}");
    }
    let post = |body: Vec<u8>, encoding: Option<&'static str>| {
        let mut request = server
            .http
            .post(format!("{}/v1/events", server.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        request.send()
    };
    let json = br#"[{"event_name":"page_view","session_id":"s"}]"#.to_vec();
    // An encoding we do not decode is refused; gzip is decoded (by header or magic bytes),
    // and a broken gzip body says so.
    let response = post(json.clone(), Some("br")).await.unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let answer: Value = response.json().await.unwrap();
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains("gzip-compressed or uncompressed"),
        "{answer}"
    );
    let gzipped = gzip(&json);
    for encoding in [Some("gzip"), None] {
        let response = post(gzipped.clone(), encoding).await.unwrap();
        assert_eq!(response.status().as_u16(), 202, "{encoding:?}");
    }
    let broken = [&gzipped[..10], b"not deflate"].concat();
    let response = post(broken, Some("gzip")).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("does not decompress"),
        "{answer}"
    );
    let (status, answer) = server
        .post_raw(b"\xff\xfe\n".to_vec(), "application/x-ndjson")
        .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("not UTF-8"),
        "{answer}"
    );
    // An empty user id is nobody: two anonymous sessions are two users, not one.
    let anonymous: Vec<Value> = ["a", "b"]
        .iter()
        .map(|s| {
            json!({"event_name": "feature_used", "session_id": s, "user_id": "",
                        "properties": {"feature": "export"}})
        })
        .collect();
    server.post_ok(&json!(anonymous)).await;
    server.drained().await;
    assert_eq!(
        server.stored_events().await,
        2 + 2,
        "the two gzip posts and these two"
    );
    let (_, panel) = server.get("/api/panels/top_features?range=1h").await;
    assert_eq!(panel["top_features"][0]["users"], 2, "{panel}");
    server.stop();
}
