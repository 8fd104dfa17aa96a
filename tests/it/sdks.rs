//! The real Segment and PostHog SDKs (DESIGN "Standard SDK formats") against the real
//! `pulseboard serve`: segment-analytics-python, posthog (Python), @segment/analytics-node and
//! posthog-node, each run as a product runs it (`tests/it/sdk/*_sdk.{py,mjs}` follow a plan of
//! calls), and what they sent is read back through the panels: mapped names, aliases, re-sent
//! ids counted once, gzip bodies, partial rejection, keys, and an oversize body's 413 as
//! Python `requests` and Node `fetch` see it.
//!
//! `scripts/setup.sh --tests` installs the SDKs (pinned) into `~/.cache/pulseboard/sdk-py` and
//! `sdk-node`; `PULSEBOARD_SDK_PY` / `PULSEBOARD_SDK_NODE` point elsewhere. Without them these
//! tests fail, never skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

use crate::common::Server;

/// The aliases each test sets before its SDK sends "Signed Up" (normalised `signed_up`).
fn aliases() -> Value {
    json!({"signed_up": "signup_completed"})
}

/// A directory of SDKs: `var` when set, else `name` in Pulseboard's cache; it must hold each of
/// `files`, or the test fails saying how to install them.
fn sdk_dir(var: &str, name: &str, files: &[&str]) -> PathBuf {
    let dir = match std::env::var_os(var) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"))
            .join("pulseboard")
            .join(name),
    };
    for file in files {
        assert!(
            dir.join(file).exists(),
            "the real SDKs these tests drive are not installed: no {file} in {} ({var} or the \
             cache); run scripts/setup.sh --tests",
            dir.display()
        );
    }
    dir
}

fn sdk_py() -> PathBuf {
    sdk_dir(
        "PULSEBOARD_SDK_PY",
        "sdk-py",
        &["segment/analytics/client.py", "posthog/client.py"],
    )
}

fn sdk_node() -> PathBuf {
    sdk_dir(
        "PULSEBOARD_SDK_NODE",
        "sdk-node",
        &[
            "node_modules/@segment/analytics-node/package.json",
            "node_modules/posthog-node/package.json",
        ],
    )
}

/// Runs `tests/it/sdk/{script}` (`python3` for `.py`, `node` for `.mjs`) with `input` as JSON on
/// its stdin and the SDKs on its path; fails unless it succeeds; its JSON output.
pub fn run(script: &str, input: &Value) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/sdk")
        .join(script);
    let mut command = if script.ends_with(".py") {
        let mut command = Command::new("python3");
        command.env("PYTHONPATH", sdk_py());
        command
    } else {
        let mut command = Command::new("node");
        command.env("PULSEBOARD_SDK_NODE", sdk_node());
        command
    };
    // PostHog's SDKs switch to another wire protocol when this says so.
    let mut child = command
        .arg(&path)
        .env_remove("POSTHOG_CAPTURE_MODE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {script} (python3 and node are needed): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(input).unwrap())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script}: {}\n{stdout}\n{stderr}",
        output.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}\n{stderr}"))
}

/// Runs an SDK script's `calls` with `key` (and its client `options`) against `server`; the
/// errors the SDK reported.
fn sdk(script: &str, server: &Server, key: &str, options: Value, calls: Value) -> Vec<String> {
    let answer = run(
        script,
        &json!({"url": server.url, "key": key, "options": options, "calls": calls}),
    );
    serde_json::from_value(answer["errors"].clone()).unwrap()
}

/// Runs an SDK script that must report no error.
fn sdk_ok(script: &str, server: &Server, key: &str, options: Value, calls: Value) {
    let errors = sdk(script, server, key, options, calls);
    assert!(errors.is_empty(), "{script}: {errors:?}");
}

/// Sets the aliases and checks that they read back as set.
async fn set_aliases(server: &Server, aliases: &Value) {
    let url = format!("{}/api/settings/aliases", server.url);
    let response = server.http.put(&url).json(aliases).send().await.unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "PUT aliases: {status} {}",
        response.text().await.unwrap()
    );
    let (status, stored) = server.get("/api/settings/aliases").await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(&stored, aliases);
}

/// Once everything acknowledged is stored: what the panels of the last hour show, summed —
/// funnel `started`/`completed`, `errors`/`total` events, distinct `sessions` of the last 5
/// minutes, and each feature's `[users, events]`.
async fn seen(server: &Server) -> Value {
    server.drained().await;
    let (status, panels) = server.get("/api/panels?range=1h").await;
    assert_eq!(status, 200, "{panels}");
    let sum = |rows: &Value, field: &str| -> u64 {
        rows.as_array()
            .unwrap_or_else(|| panic!("{panels}"))
            .iter()
            .map(|row| row[field].as_u64().unwrap())
            .sum()
    };
    let features: Map<String, Value> = panels["top_features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let feature = row["feature"].as_str().unwrap().to_string();
            (feature, json!([row["users"], row["events"]]))
        })
        .collect();
    json!({
        "started": sum(&panels["signup_funnel"], "started"),
        "completed": sum(&panels["signup_funnel"], "completed"),
        "errors": sum(&panels["error_rate"]["series"], "errors"),
        "total": sum(&panels["error_rate"]["series"], "total"),
        "sessions": panels["active_users"]["value"],
        "features": features,
    })
}

#[tokio::test]
async fn segment_python_events_are_stored_under_their_mapped_names() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    set_aliases(&server, &aliases()).await;
    let resent = json!({"user_id": "u3", "event": "Feature Used",
        "properties": {"feature": "export"}, "message_id": "5d3c0c5e-8b7a-4f0e-9a4c-3b2f1e0d9c8b"});
    sdk_ok(
        "segment_sdk.py",
        &server,
        "any-key",
        json!({}),
        json!([
            // u1, anonymous id anon-1 (her session): started, signed up (the alias: completed),
            // a page (page_view), a feature.
            ["track", {"anonymous_id": "anon-1", "user_id": "u1", "event": "Signup Started"}],
            ["track", {"anonymous_id": "anon-1", "user_id": "u1", "event": "Signed Up"}],
            ["page", {"anonymous_id": "anon-1", "user_id": "u1", "name": "Pricing",
                "properties": {"url": "https://example.com/pricing"}}],
            ["track", {"anonymous_id": "anon-1", "user_id": "u1", "event": "Feature Used",
                "properties": {"feature": "export"}}],
            // u2 in session 42 (a number): started, two features.
            ["track", {"user_id": "u2", "event": "Signup Started", "context": {"sessionId": 42}}],
            ["track", {"user_id": "u2", "event": "Feature Used", "context": {"sessionId": 42},
                "properties": {"feature": "export"}}],
            ["track", {"user_id": "u2", "event": "feature used", "context": {"sessionId": 42},
                "properties": {"feature": "search"}}],
            // u3, no anonymous id (the user id is the session): an error, a screen
            // (screen_view), identify, group and alias (their own names), and a feature whose
            // message is sent twice.
            ["track", {"user_id": "u3", "event": "Error Occurred", "properties": {"message": "boom"}}],
            ["screen", {"user_id": "u3", "name": "Home"}],
            ["identify", {"user_id": "u3", "traits": {"email": "u3@example.com"}}],
            ["group", {"user_id": "u3", "group_id": "acme", "traits": {"plan": "pro"}}],
            ["alias", {"previous_id": "anon-3", "user_id": "u3"}],
            ["track", resent],
            ["flush", {}],
            ["track", resent],
        ]),
    );
    // Another client, gzip on: the same message a third time, and u4 starting a signup.
    sdk_ok(
        "segment_sdk.py",
        &server,
        "any-key",
        json!({"gzip": true}),
        json!([
            ["track", resent],
            ["track", {"user_id": "u4", "event": "Signup Started"}],
        ]),
    );
    assert_eq!(
        seen(&server).await,
        json!({
            "started": 3, "completed": 1, "errors": 1,
            // u1: 4, u2: 3, u3: 6 (the re-sent message once), u4: 1.
            "total": 14,
            "sessions": 4, // anon-1, 42, u3, u4
            "features": {"export": [3, 3], "search": [1, 1]},
        })
    );
    server.stop();
}

#[tokio::test]
async fn posthog_python_events_are_stored_under_their_mapped_names() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    set_aliases(&server, &aliases()).await;
    let resent = json!({"event": "feature_used", "distinct_id": "d1",
        "properties": {"feature": "export", "$session_id": "ph-s1"},
        "uuid": "0190f5d2-6c1e-7a3b-9f4d-2e8c7b6a5d4c"});
    sdk_ok(
        "posthog_sdk.py",
        &server,
        "phc_any",
        json!({}),
        json!([
            // d1 in session ph-s1: a page view, started, a click, an exception, a feature whose
            // event is sent twice.
            ["capture", {"event": "$pageview", "distinct_id": "d1",
                "properties": {"$session_id": "ph-s1", "$current_url": "https://example.com/"}}],
            ["capture", {"event": "Signup Started", "distinct_id": "d1",
                "properties": {"$session_id": "ph-s1"}}],
            ["capture", {"event": "$autocapture", "distinct_id": "d1",
                "properties": {"$session_id": "ph-s1", "$event_type": "click"}}],
            ["capture", {"event": "$exception", "distinct_id": "d1",
                "properties": {"$session_id": "ph-s1", "$exception_message": "boom"}}],
            ["capture", resent],
            ["flush", {}],
            ["capture", resent],
            // d2, no session id (the distinct id is the session): started, signed up (the
            // alias: completed), a feature, person properties ($set).
            ["capture", {"event": "signup_started", "distinct_id": "d2"}],
            ["capture", {"event": "signed up", "distinct_id": "d2"}],
            ["capture", {"event": "feature_used", "distinct_id": "d2",
                "properties": {"feature": "export"}}],
            ["set", {"distinct_id": "d2", "properties": {"plan": "pro"}}],
        ]),
    );
    // Another client, gzip on: the same event a third time, and d3's page view and $other.
    sdk_ok(
        "posthog_sdk.py",
        &server,
        "phc_any",
        json!({"gzip": true}),
        json!([
            ["capture", resent],
            ["capture", {"event": "$pageview", "distinct_id": "d3"}],
            ["capture", {"event": "$other", "distinct_id": "d3"}],
        ]),
    );
    assert_eq!(
        seen(&server).await,
        json!({
            "started": 2, "completed": 1, "errors": 1,
            "total": 11, // d1: 5 (the re-sent event once), d2: 4, d3: 2
            "sessions": 3, // ph-s1, d2, d3
            "features": {"export": [2, 2]},
        })
    );
    server.stop();
}

#[tokio::test]
async fn segment_node_events_are_stored_under_their_mapped_names() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    set_aliases(&server, &aliases()).await;
    // Not a UUID, like the SDK's own "node-next-<ms>-<uuid>" ids: the same one is the same event.
    let resent = json!({"userId": "n2", "event": "Feature Used", "messageId": "retry-7",
        "properties": {"feature": "export"}, "context": {"sessionId": "n-s2"}});
    let answer = run(
        "segment_sdk.mjs",
        &json!({"url": server.url, "key": "any-key", "options": {}, "calls": [
            // n1, anonymous id n-anon: started, signed up (the alias: completed), a page.
            ["track", {"anonymousId": "n-anon", "userId": "n1", "event": "Signup Started"}],
            ["track", {"anonymousId": "n-anon", "userId": "n1", "event": "Signed Up"}],
            ["page", {"anonymousId": "n-anon", "userId": "n1", "name": "Docs"}],
            // n2 in session n-s2: a feature, an error, a feature sent twice.
            ["track", {"userId": "n2", "event": "Feature Used", "context": {"sessionId": "n-s2"},
                "properties": {"feature": "export"}}],
            ["track", {"userId": "n2", "event": "Error Occurred", "context": {"sessionId": "n-s2"}}],
            ["track", resent],
            ["flush", {}],
            ["track", resent],
        ]}),
    );
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let statuses = answer["statuses"].as_array().unwrap();
    // The SDK counts any 2xx or 3xx as delivered: each answer must be a real 200.
    assert!(
        !statuses.is_empty() && statuses.iter().all(|s| s == 200),
        "{answer}"
    );
    assert_eq!(
        seen(&server).await,
        json!({
            "started": 1, "completed": 1, "errors": 1,
            "total": 6, // n1: 3, n2: 3 (the re-sent event once)
            "sessions": 2, // n-anon, n-s2
            "features": {"export": [1, 2]},
        })
    );
    server.stop();
}

#[tokio::test]
async fn posthog_node_events_are_stored_under_their_mapped_names_from_gzip_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    set_aliases(&server, &aliases()).await;
    let resent = json!({"distinctId": "p2", "event": "feature_used",
        "properties": {"feature": "export"}, "uuid": "0190f5d2-7d2f-7b4c-8a5e-3f9d8c7b6e5f"});
    // posthog-node gzips its bodies by default.
    sdk_ok(
        "posthog_sdk.mjs",
        &server,
        "phc_any",
        json!({}),
        json!([
            // p1 in session p-s1: a page view, started, signed up (the alias: completed).
            ["capture", {"distinctId": "p1", "event": "$pageview",
                "properties": {"$session_id": "p-s1"}}],
            ["capture", {"distinctId": "p1", "event": "Signup Started",
                "properties": {"$session_id": "p-s1"}}],
            ["capture", {"distinctId": "p1", "event": "Signed Up",
                "properties": {"$session_id": "p-s1"}}],
            // p2 (the distinct id is the session): an exception the product caught ($exception),
            // a feature sent twice, person properties ($identify).
            ["captureException", {"message": "boom", "distinctId": "p2"}],
            ["capture", resent],
            ["flush", {}],
            ["capture", resent],
            ["identify", {"distinctId": "p2", "properties": {"plan": "pro"}}],
        ]),
    );
    assert_eq!(
        seen(&server).await,
        json!({
            "started": 1, "completed": 1, "errors": 1,
            "total": 6, // p1: 3, p2: 3 (the re-sent event once)
            "sessions": 2, // p-s1, p2
            "features": {"export": [1, 1]},
        })
    );
    server.stop();
}

/// posthog-js, the browser SDK (which needs a browser to run), as it sends: a gzip body labelled
/// text/plain to `/e/` with its query flags, the distinct id and the key among the properties,
/// from a page whose origin is allowed.
#[tokio::test]
async fn posthog_js_batches_from_an_allowed_page_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let page = "http://localhost:3000";
    let server = Server::start(dir.path(), &["--cors-origins", page]);
    let event = |name: &str, session: &str, uuid: &str, extra: Value| {
        let mut properties = json!({"token": "pulseboard", "distinct_id": "b1",
            "$session_id": session, "$current_url": format!("{page}/")});
        properties
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"event": name, "uuid": uuid, "properties": properties, "offset": 20})
    };
    // One visitor (b1) in two sessions: a page view, then a feature in each session.
    let batch = json!([
        event(
            "$pageview",
            "bs1",
            "0190f5d3-0000-7000-8000-000000000001",
            json!({})
        ),
        event(
            "feature_used",
            "bs1",
            "0190f5d3-0000-7000-8000-000000000002",
            json!({"feature": "export"})
        ),
        event(
            "feature_used",
            "bs2",
            "0190f5d3-0000-7000-8000-000000000003",
            json!({"feature": "export"})
        ),
    ]);
    let response = reqwest::Client::new()
        .post(format!(
            "{}/e/?ip=0&_=1795988700000&ver=1.300.0&compression=gzip-js",
            server.url
        ))
        .header("origin", page)
        .header("content-type", "text/plain")
        .body(crate::hardening::gzip(&serde_json::to_vec(&batch).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        page,
        "the page may read the answer"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "Ok"})
    );
    assert_eq!(
        seen(&server).await,
        json!({
            "started": 0, "completed": 0, "errors": 0, "total": 3,
            "sessions": 2,
            "features": {"export": [1, 2]}, // one user: the distinct id in the properties
        })
    );
    server.stop();
}

/// POSTs `body` to `path` as an SDK would (no Pulseboard token); the status and the JSON answer.
async fn post_json(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `answer` lists exactly `indexes` as rejected, each with a reason.
fn rejected(answer: &Value, indexes: &[u64]) {
    let rejected = answer["rejected"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let got: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(got, indexes, "{answer}");
    for r in rejected {
        assert!(
            !r["error"].as_str().unwrap_or_default().is_empty(),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn invalid_messages_are_rejected_by_index_and_the_rest_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    // Segment: a name with nothing left once normalised, between two valid messages.
    let batch = json!({"batch": [
        {"type": "track", "event": "Signup Started", "userId": "r1",
         "messageId": "0f0e0d0c-0b0a-4908-8706-050403020100"},
        {"type": "track", "event": "!!!", "userId": "r1"},
        {"type": "page", "name": "Home", "userId": "r1",
         "messageId": "1f1e1d1c-1b1a-4918-8716-151413121110"},
    ]});
    let (status, answer) = post_json(&server, "/v1/batch", &batch).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
    rejected(&answer, &[1]);
    // A client retrying the whole batch: acknowledged again, nothing stored twice.
    let (status, answer) = post_json(&server, "/v1/batch", &batch).await;
    assert_eq!(
        (status, &answer["success"]),
        (200, &json!(true)),
        "{answer}"
    );
    // Everything invalid: 400, each listed.
    let (status, answer) = post_json(
        &server,
        "/v1/batch",
        &json!({"batch": [{"type": "track", "event": "???", "userId": "r1"},
                          {"type": "track", "event": "Signup Started"}]}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    rejected(&answer, &[0, 1]);

    // PostHog: an event without a distinct id (so no session), between two valid ones.
    let (status, answer) = post_json(
        &server,
        "/batch/",
        &json!({"api_key": "phc_any", "batch": [
            {"event": "$pageview", "distinct_id": "r2"},
            {"event": "$pageview"},
            {"event": "feature_used", "distinct_id": "r2", "properties": {"feature": "export"}},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "Ok", "{answer}");
    rejected(&answer, &[1]);
    let (status, answer) = post_json(
        &server,
        "/batch/",
        &json!({"api_key": "phc_any", "batch": [{"event": "$pageview"}]}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    rejected(&answer, &[0]);

    assert_eq!(
        seen(&server).await,
        json!({
            "started": 1, "completed": 0, "errors": 0,
            "total": 4, // r1: started and the page (once), r2: page view and feature
            "sessions": 2,
            "features": {"export": [1, 1]},
        })
    );
    server.stop();
}

#[tokio::test]
async fn with_an_ingest_token_each_sdk_needs_it_as_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let token = "tok-8e1f";
    let server = Server::start_with_env(dir.path(), &[], &[("PULSEBOARD_INGEST_TOKEN", token)]);
    let one = |sdk: &str| -> Value {
        match sdk {
            "segment_sdk.py" => json!([["track", {"user_id": "k1", "event": "Signup Started"}]]),
            "posthog_sdk.py" => {
                json!([["capture", {"event": "signup_started", "distinct_id": "k2"}]])
            }
            "segment_sdk.mjs" => json!([["track", {"userId": "k3", "event": "Signup Started"}]]),
            _ => json!([["capture", {"distinctId": "k4", "event": "signup_started"}]]),
        }
    };
    // One attempt, where the SDK would retry (posthog-node retries a 401 after 3 s).
    let once = |sdk: &str| {
        if sdk == "posthog_sdk.mjs" {
            json!({"fetchRetryCount": 0})
        } else {
            json!({})
        }
    };
    let sdks = [
        "segment_sdk.py",
        "posthog_sdk.py",
        "segment_sdk.mjs",
        "posthog_sdk.mjs",
    ];
    for script in sdks {
        let errors = sdk(script, &server, "wrong-key", once(script), one(script));
        assert!(
            !errors.is_empty() && errors.iter().all(|e| e.contains("401")),
            "{script}: {errors:?}"
        );
    }
    // Segment's key in the body instead of Basic auth, and no key at all; PostHog's `token`.
    let refused = [
        (
            "/v1/track",
            json!({"writeKey": "wrong-key", "userId": "k5", "event": "Signup Started"}),
        ),
        (
            "/v1/track",
            json!({"userId": "k5", "event": "Signup Started"}),
        ),
        (
            "/e/",
            json!({"token": "wrong-key", "distinct_id": "k5", "event": "signup_started"}),
        ),
        (
            "/batch/",
            json!({"batch": [{"distinct_id": "k5", "event": "signup_started"}]}),
        ),
    ];
    for (path, body) in &refused {
        let (status, answer) = post_json(&server, path, body).await;
        assert_eq!(status, 401, "{path} {body}: {answer}");
    }
    // The right key: each SDK's event is stored, the one in a body too.
    for script in sdks {
        sdk_ok(script, &server, token, json!({}), one(script));
    }
    let (status, answer) = post_json(
        &server,
        "/v1/track",
        &json!({"writeKey": token, "userId": "k5", "event": "Signup Started"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let seen = seen(&server).await;
    assert_eq!(seen["started"], 5, "only the right key's events: {seen}");
    assert_eq!(seen["total"], 5, "{seen}");
    server.stop();
}

#[tokio::test]
async fn an_oversize_batch_gets_a_readable_413_in_python_and_node() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--body-limit", "256KiB"]);
    for client in ["post_requests.py", "post_fetch.mjs"] {
        for path in ["/v1/batch", "/batch/"] {
            // 2 MiB, eight times the limit, five times over: never a broken pipe.
            let answers = run(
                client,
                &json!({"url": server.url, "path": path, "mib": 2, "times": 5,
                        "headers": {"Content-Type": "application/json"}}),
            );
            for answer in answers.as_array().unwrap() {
                assert_eq!(answer["status"], 413, "{client} {path}: {answers}");
                assert!(
                    answer["body"]["error"].is_string(),
                    "{client} {path}: {answers}"
                );
            }
        }
    }
    server.drained().await;
    assert_eq!(server.stored_events().await, 0);
    server.stop();
}
