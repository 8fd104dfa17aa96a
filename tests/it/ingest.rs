//! `POST /v1/events` and `GET /health`: the contract's status codes and bodies, bad input
//! table-driven, and proof that nothing invalid is stored.

use serde_json::{json, Value};

use crate::common::{event, Server};

fn long(n: usize) -> Value {
    json!("x".repeat(n))
}

fn with(field: &str, value: Value) -> Value {
    let mut e = event("page_view", "s-bad");
    e[field] = value;
    e
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);

    // Whole-body failures: (body, content type, status, text the error must contain).
    let bodies: Vec<(Vec<u8>, &str, u16, &str)> = vec![
        (
            b"[{\"event_name\": ".to_vec(),
            "application/json",
            400,
            "malformed JSON",
        ),
        (
            b"{\"event_name\": \"page_view\"}".to_vec(),
            "application/json",
            400,
            "JSON array",
        ),
        (b"[]".to_vec(), "application/json", 400, "empty batch"),
        (
            b"[\"\xff\xfe\"]".to_vec(),
            "application/json",
            400,
            "malformed JSON",
        ),
        (b"\xff\n".to_vec(), "application/x-ndjson", 400, "UTF-8"),
        (
            serde_json::to_vec(&vec![event("page_view", "s"); 501]).unwrap(),
            "application/json",
            413,
            "limit of 500",
        ),
    ];
    for (body, content_type, status, text) in bodies {
        let (got, answer) = server.post_raw(body, content_type).await;
        assert_eq!(got, status, "{text}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(text), "expected {text:?} in {answer}");
    }

    // Over the body limit: read to the end and refused, so the client sees the answer.
    let (status, answer) = server
        .post_raw(vec![b' '; 2 << 20], "application/json")
        .await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("over the limit of 1048576 bytes"),
        "{answer}"
    );

    // Single-event rule breaks: each alone is a 400 naming its field.
    let cases = [
        (json!({"session_id": "s"}), "event_name"),
        (with("event_name", json!("Page View")), "event_name"),
        (with("event_name", long(65)), "event_name"),
        (with("event_name", json!(42)), "event_name"),
        (json!({"event_name": "page_view"}), "session_id"),
        (with("session_id", json!("")), "session_id"),
        (with("session_id", long(129)), "session_id"),
        (with("session_id", json!(7)), "session_id"),
        (with("user_id", long(129)), "user_id"),
        (with("user_id", json!({"id": 1})), "user_id"),
        (with("device_type", long(33)), "device_type"),
        (with("country_code", json!("USA")), "country_code"),
        (with("country_code", json!("u1")), "country_code"),
        (with("timestamp", json!("last tuesday")), "timestamp"),
        (with("timestamp", json!(12.5)), "timestamp"),
        (with("timestamp", json!(-5)), "timestamp"),
        (with("properties", json!("feature=export")), "properties"),
        (
            with("properties", json!({"blob": "y".repeat(8200)})),
            "properties",
        ),
        (with("event_id", json!("1234")), "event_id"),
        (json!("page_view"), "event"),
    ];
    for (bad, field) in cases {
        let (status, answer) = server.post(&json!([bad])).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert_eq!(answer["accepted"], 0, "{answer}");
        let error = answer["rejected"][0]["error"].as_str().unwrap();
        assert!(error.starts_with(&format!("{field}: ")), "{bad} -> {error}");
        assert_eq!(answer["rejected"][0]["index"], 0);
    }

    // Mixed batch: the valid events are kept, the others reported by index.
    let (status, answer) = server
        .post(&json!([
            event("page_view", "s1"),
            with("country_code", json!("XYZ")),
            event("button_click", "s2")
        ]))
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["rejected"].as_array().unwrap().len(), 1);
    assert_eq!(answer["rejected"][0]["index"], 1);

    server.drained().await;
    assert_eq!(
        server.stored_events().await,
        2,
        "only the two valid events are stored"
    );
    server.stop();
}

#[tokio::test]
async fn sql_looking_strings_are_stored_verbatim_and_ndjson_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let nasty = "x'); DROP TABLE events; --";
    let feature_event = json!({
        "event_name": "feature_used", "session_id": "'; DELETE FROM events; --",
        "user_id": "Robert'); DROP TABLE students;--", "properties": {"feature": nasty}
    });
    let ndjson = format!(
        "{}\n{}\n",
        feature_event,
        event("page_view", "s-\"quoted\"")
    );
    let (status, answer) = server
        .post_raw(ndjson.into_bytes(), "application/x-ndjson")
        .await;
    assert_eq!(
        (status, answer["accepted"].clone()),
        (202, json!(2)),
        "{answer}"
    );

    server.drained().await;
    let (_, body) = server.get("/api/panels/top_features?range=1h").await;
    assert_eq!(
        body["top_features"],
        json!([{"feature": nasty, "users": 1, "events": 1}])
    );
    assert_eq!(server.stored_events().await, 2);
    server.stop();
}

#[tokio::test]
async fn health_reports_the_engine_and_bad_panel_requests_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let health = server.health().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"], "embedded");
    assert_eq!(health["store_reachable"], true);
    assert_eq!(health["buffer_size"], 0);
    assert_eq!(health["spilled"], 0);
    assert_eq!(health["last_flush"], Value::Null);

    server.post(&json!([event("page_view", "s1")])).await;
    let health = server.drained().await;
    assert!(
        health["last_flush"].as_str().unwrap().ends_with('Z'),
        "{health}"
    );

    let (status, body) = server.get("/api/panels?range=7d").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("1h, 6h or 24h"));
    let (status, body) = server.get("/api/panels/bounce_rate").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("active_users"));
    let svg = server
        .http
        .get(format!("{}/api/panels/error_rate.svg?range=6h", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<svg"));
    server.stop();
}
