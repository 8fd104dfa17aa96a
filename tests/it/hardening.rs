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

/// Every refusal on every route answers JSON with an `error` that names what is wrong: bodies
/// over `--body-limit` (413), malformed definitions (400), a wrong method (404), text with
/// control characters (400, naming the parameter or field; nothing stored).
#[tokio::test]
async fn every_refusal_on_every_route_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--body-limit", "64KiB"]);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    let send = |method: reqwest::Method, path: &str, body: String| {
        server
            .http
            .request(method, format!("{}{path}", server.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    use reqwest::Method;
    let nul_step = r#"{"steps": [{"event_name": "a", "where": {"device": "m\u0000"}},
                                  {"event_name": "b"}]}"#;
    let cases: Vec<(Method, &str, String, u16, &str)> = vec![
        (Method::PUT, "/api/funnels/big", huge.clone(), 413, "over the limit"),
        (Method::PUT, "/api/alerts/big", huge.clone(), 413, "over the limit"),
        (Method::PUT, "/api/settings/aliases", huge.clone(), 413, "over the limit"),
        (Method::POST, "/v1/events", huge.clone(), 413, "over the limit"),
        (Method::POST, "/batch", huge.clone(), 413, "over the limit"),
        (Method::POST, "/capture", huge, 413, "over the limit"),
        (Method::PUT, "/api/funnels/x", "{".into(), 400, "body: a JSON object"),
        (Method::PUT, "/api/alerts/x", "[1".into(), 400, "rule: a JSON object"),
        (Method::PUT, "/api/settings/aliases", "1".into(), 400, "aliases: a JSON object"),
        (Method::POST, "/api/funnels/x", "{}".into(), 404, "no route POST /api/funnels/x"),
        (Method::DELETE, "/api/panels", String::new(), 404, "no route DELETE /api/panels"),
        (Method::GET, "/api/panels?device=%00", String::new(), 400, "device: must not contain control characters"),
        (Method::GET, "/api/panels/error_rate?prop.plan=a%0Ab", String::new(), 400, "prop.plan: must not contain control characters"),
        (Method::GET, "/api/funnels/signup?country=D%00", String::new(), 400, "country:"),
        (Method::PUT, "/api/funnels/nul", nul_step.into(), 400, "steps[0].where.device: must not contain control characters"),
        (Method::PUT, "/api/funnels/nul", r#"{"name": "a\u0000b", "steps": [{"event_name": "a"}, {"event_name": "b"}]}"#.into(), 400, "name: must not contain control characters"),
        (Method::PUT, "/api/alerts/nul", r#"{"metric": "events", "op": "above", "threshold": 1, "filters": {"device": "\u0000"}}"#.into(), 400, "filters.device: must not contain control characters"),
        (Method::PUT, "/api/alerts/nul", r#"{"name": "a\u0007", "metric": "events", "op": "above", "threshold": 1}"#.into(), 400, "name: must not contain control characters"),
    ];
    for (method, path, body, status, text) in cases {
        let response = send(method.clone(), path, body).await.unwrap();
        let got = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: {content_type}"
        );
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(text), "{method} {path}: {answer}");
    }
    // Nothing refused was stored.
    let (_, funnels) = server.get("/api/funnels").await;
    let ids: Vec<&str> = funnels["funnels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["signup"]);
    let (_, alerts) = server.get("/api/alerts").await;
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "{alerts}");
    let (_, aliases) = server.get("/api/settings/aliases").await;
    assert_eq!(aliases, json!({}));
}

/// Definitions stored before the rules for text existed (a NUL in a funnel's `where`, in an
/// alert's filters) do not stop the start nor answer 500 for ever: each bad one is reported on
/// its own, kept as it was until replaced or deleted, and the good ones work.
#[tokio::test]
async fn a_stored_definition_that_breaks_a_rule_is_reported_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let funnels = json!([
        {"id": "good", "name": "Good", "steps": [{"event_name": "a"}, {"event_name": "b"}],
         "window": "1h", "count_by": "user"},
        {"id": "nul", "name": "Nul", "steps": [{"event_name": "a", "where": {"device": "m\u{0}"}},
         {"event_name": "b"}], "window": "1h", "count_by": "user"},
    ]);
    std::fs::write(dir.path().join("funnels.json"), funnels.to_string()).unwrap();
    let rule = |filters: Value| {
        json!({"name": "r", "metric": "events", "op": "above", "threshold": 1.0, "for": "5m",
               "min_events": 0, "filters": filters, "webhook": null, "muted": false})
    };
    let alerts = json!({"rules": {"fine": rule(json!({})), "nul": rule(json!({"device": "\u{0}"}))},
                        "states": {}});
    std::fs::write(dir.path().join("alerts.json"), alerts.to_string()).unwrap();
    let server = Server::start(dir.path(), &[]);

    let (status, listed) = server.get("/api/funnels").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["funnels"][0]["id"], "good");
    assert_eq!(listed["funnels"].as_array().unwrap().len(), 1);
    assert_eq!(listed["invalid"][0]["id"], "nul");
    let error = listed["invalid"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("steps[0].where.device: must not contain control characters"),
        "{listed}"
    );
    let (status, answer) = server.get("/api/funnels/nul?range=1h").await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("PUT a corrected definition or DELETE it"),
        "{answer}"
    );
    let (status, answer) = server.get("/api/funnels/good?range=1h").await;
    assert_eq!(
        (status, &answer["steps"][0]["count"]),
        (200, &json!(0)),
        "{answer}"
    );

    let (status, listed) = server.get("/api/alerts").await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&str> = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fine"]);
    assert_eq!(listed["invalid"][0]["id"], "nul");
    assert!(
        listed["invalid"][0]["error"]
            .as_str()
            .unwrap()
            .contains("device: must not contain control characters"),
        "{listed}"
    );

    // Kept as stored until replaced: a restart still reports them, then a PUT repairs one and
    // a DELETE removes the other.
    server.stop();
    let server = Server::start(dir.path(), &[]);
    let (_, listed) = server.get("/api/funnels").await;
    assert_eq!(listed["invalid"][0]["id"], "nul");
    let (status, stored) = server
        .put(
            "/api/funnels/nul",
            r#"{"steps": [{"event_name": "a"}, {"event_name": "b"}]}"#,
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    let (status, _) = server.delete("/api/alerts/nul").await;
    assert_eq!(status, 204);
    let (_, funnels) = server.get("/api/funnels").await;
    assert!(funnels.get("invalid").is_none(), "{funnels}");
    assert_eq!(funnels["funnels"].as_array().unwrap().len(), 2);
    let (_, alerts) = server.get("/api/alerts").await;
    assert!(alerts.get("invalid").is_none(), "{alerts}");
    let file = std::fs::read_to_string(dir.path().join("alerts.json")).unwrap();
    assert!(!file.contains("\\u0000"), "{file}");
}

/// Settings written by many clients at once: every PUT answers 200, the aliases in force equal
/// the file after the burst (and after a restart), and no temp file is left; temp files a crash
/// left behind are removed at the next start.
#[tokio::test]
async fn concurrent_setting_writes_all_land_and_memory_equals_disk() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("aliases.json.4242.3.tmp");
    let older = dir.path().join("funnels.4242.tmp");
    for path in [&stale, &older] {
        std::fs::write(path, b"{half").unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }
    let server = Server::start(dir.path(), &[]);
    assert!(
        !stale.exists() && !older.exists(),
        "stale temp files were not removed"
    );

    let mut clients = Vec::new();
    for client in 0..20 {
        let http = server.http.clone();
        let url = format!("{}/api/settings/aliases", server.url);
        clients.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for round in 0..15 {
                let body = json!({ format!("c{client}_r{round}"): "signup_completed" });
                let response = http.put(&url).json(&body).send().await.unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        }));
    }
    for client in clients {
        let statuses = client.await.unwrap();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    let (_, in_force) = server.get("/api/settings/aliases").await;
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("aliases.json")).unwrap()).unwrap();
    assert_eq!(in_force, file);
    assert_eq!(in_force.as_object().unwrap().len(), 1, "{in_force}");
    let temps: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    server.stop();
    let server = Server::start(dir.path(), &[]);
    let (_, after) = server.get("/api/settings/aliases").await;
    assert_eq!(after, in_force);
}
