//! The Segment and PostHog wire formats over raw HTTP (the real SDKs are in `sdks.rs`): every
//! route and body variant, keys, partial rejection, re-sent ids and aliases, checked through
//! the panels.

use serde_json::{json, Value};

use crate::common::Server;
use crate::hardening::gzip;

const TOKEN: &str = "tok-sdk-71";

async fn post(
    server: &Server,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    // A client without the bearer token: SDKs send their key their own way.
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn json_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// (signups started, completed, errors, all events) in the last hour.
async fn counts(server: &Server) -> (u64, u64, u64, u64) {
    server.drained().await;
    let (_, p) = server.get("/api/panels?range=1h").await;
    let sum = |rows: &Value, field: &str| -> u64 {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].as_u64().unwrap())
            .sum()
    };
    (
        sum(&p["signup_funnel"], "started"),
        sum(&p["signup_funnel"], "completed"),
        sum(&p["error_rate"]["series"], "errors"),
        sum(&p["error_rate"]["series"], "total"),
    )
}

#[tokio::test]
async fn segment_messages_are_stored_with_the_write_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(dir.path(), &[], &[("PULSEBOARD_INGEST_TOKEN", TOKEN)]);
    let basic = format!("Basic {}", base64_of(&format!("{TOKEN}:")));
    let batch = json!({"batch": [
        {"type": "track", "event": "Signup Started", "anonymousId": "a1",
         "messageId": "m-1"},
        {"type": "track", "event": "Signup Started", "anonymousId": "a2"},
        {"type": "page", "name": "Home", "anonymousId": "a1"},
        {"type": "track", "event": "???", "anonymousId": "a3"},
    ]});
    let (status, body) = post(
        &server,
        "/v1/batch",
        json_of(&batch),
        &[("authorization", &basic)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["rejected"][0]["index"], 3, "{body}");
    // The same message again (a client retry), by writeKey and a single-message route.
    let again = json!({"writeKey": TOKEN, "type": "track", "event": "Signup Started",
                       "anonymousId": "a1", "messageId": "m-1"});
    let (status, _) = post(&server, "/v1/track", json_of(&again), &[]).await;
    assert_eq!(status, 200);
    // analytics.js in a browser: one-letter routes, JSON sent as text/plain.
    let page = json!({"writeKey": TOKEN, "name": "Pricing", "anonymousId": "a9"});
    let (status, _) = post(
        &server,
        "/v1/p",
        json_of(&page),
        &[("content-type", "text/plain")],
    )
    .await;
    assert_eq!(status, 200);
    // A wrong key, in either place: 401 and nothing stored.
    let wrong = format!("Basic {}", base64_of("nope:"));
    let (status, _) = post(
        &server,
        "/v1/batch",
        json_of(&batch),
        &[("authorization", &wrong)],
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = post(
        &server,
        "/v1/identify",
        json_of(&json!({"writeKey": "nope", "userId": "u"})),
        &[],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    // Every message invalid: 400.
    let (status, body) = post(
        &server,
        "/v1/batch",
        json_of(&json!({"writeKey": TOKEN, "batch": [{"type": "launch"}]})),
        &[],
    )
    .await;
    assert_eq!(
        (status, body["success"].clone()),
        (400, json!(false)),
        "{body}"
    );
    assert_eq!(counts(&server).await, (2, 0, 0, 4));
    server.stop();
}

#[tokio::test]
async fn posthog_events_arrive_on_every_route_and_body_variant() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let event = |name: &str, n: usize| json!({"event": name, "distinct_id": format!("d{n}"), "uuid": uuid::Uuid::new_v4()});
    let routes = ["/batch", "/e", "/capture", "/i/v0/e", "/track"];
    let mut sent = 0;
    for (i, route) in routes.iter().enumerate() {
        for path in [route.to_string(), format!("{route}/")] {
            let body = json!({"api_key": "k", "batch": [event("$pageview", i)]});
            let (status, answer) = post(&server, &path, json_of(&body), &[]).await;
            assert_eq!((status, answer), (200, json!({"status": "Ok"})), "{path}");
            sent += 1;
        }
    }
    // One event; an array; gzip by header, by query flag, by magic bytes; a base64 form.
    let one = json_of(&event("$exception", 1));
    let array = json_of(&json!([event("$exception", 2), event("Signup Started", 2)]));
    let form = format!(
        "data={}",
        base64_of(&String::from_utf8(array.clone()).unwrap())
    );
    type Variant<'a> = (String, Vec<u8>, Vec<(&'a str, &'a str)>);
    let variants: Vec<Variant> = vec![
        ("/e/".into(), one.clone(), vec![]),
        ("/batch/".into(), array.clone(), vec![]),
        (
            "/batch/".into(),
            gzip(&array),
            vec![("content-encoding", "gzip")],
        ),
        ("/e/?compression=gzip-js".into(), gzip(&one), vec![]),
        ("/e/".into(), gzip(&one), vec![]),
        (
            "/e/".into(),
            form.into_bytes(),
            vec![("content-type", "application/x-www-form-urlencoded")],
        ),
    ];
    for (path, body, headers) in variants {
        let (status, answer) = post(&server, &path, body, &headers).await;
        assert_eq!(status, 200, "{path}: {answer}");
    }
    // The same body in another encoding carries the same events (same uuids): stored once.
    let (started, completed, errors, total) = counts(&server).await;
    assert_eq!((started, completed, errors), (1, 0, 2));
    assert_eq!(total, sent + 3);
    server.stop();
}

#[tokio::test]
async fn aliases_map_names_for_every_format_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let put = |body: Value| {
        server
            .http
            .put(format!("{}/api/settings/aliases", server.url))
            .json(&body)
            .send()
    };
    let response = put(json!({"Signed Up": "signup_completed"})).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("\"Signed Up\""),
        "{error}"
    );
    let aliases = json!({"signed_up": "signup_completed", "began": "signup_started"});
    let response = put(aliases.clone()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(server.get("/api/settings/aliases").await.1, aliases);

    let segment = json!({"batch": [{"type": "track", "event": "Signed Up", "userId": "u1"}]});
    post(&server, "/v1/batch", json_of(&segment), &[]).await;
    let posthog = json!({"event": "began", "distinct_id": "u2"});
    post(&server, "/e/", json_of(&posthog), &[]).await;
    server
        .post_ok(&json!([{"event_name": "signed_up", "session_id": "s3"}]))
        .await;
    assert_eq!(counts(&server).await, (1, 2, 0, 3));
    server.stop();
    // Kept in the data directory.
    let server = Server::start(dir.path(), &[]);
    assert_eq!(server.get("/api/settings/aliases").await.1, aliases);
    server.stop();
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A PostHog `timestamp` is an RFC 3339 time or integer epoch milliseconds; anything else is
/// that event's error (reported by index), not the server's time in disguise.
#[tokio::test]
async fn posthog_timestamps_are_times_or_the_events_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = chrono::Utc::now().timestamp_millis();
    let batch = json!({"api_key": "k", "batch": [
        {"event": "signup_started", "distinct_id": "d2", "timestamp": now - 60_000},
        {"event": "signup_started", "distinct_id": "d3", "timestamp": "soon"},
        {"event": "signup_completed", "distinct_id": "d2", "timestamp": "2020-01-01T00:00:00Z"},
    ]});
    let (status, answer) = post(&server, "/batch", json_of(&batch), &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "Ok");
    let rejected = answer["rejected"].as_array().unwrap();
    let indexes: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    // "soon" is not a time; 2020 is a time outside the retention (the event rules judge it).
    assert_eq!(indexes, [1, 2], "{answer}");
    assert_eq!(
        rejected[0]["error"],
        "timestamp: an RFC 3339 time or integer epoch milliseconds (got \"soon\")"
    );
    server.drained().await;
    assert_eq!(counts(&server).await, (1, 0, 0, 1));
}
