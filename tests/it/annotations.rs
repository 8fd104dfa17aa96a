//! Annotations (DESIGN.md "The dashboard you arrange, and annotations"): added, listed by
//! range, marked on the time charts' SVGs, kept across a restart, deleted; bad bodies named.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::common::Server;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[tokio::test]
async fn notes_are_added_listed_marked_kept_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let two_hours_ago = Utc::now() - Duration::hours(2);
    let (status, old) = server
        .post_to(
            "/api/annotations",
            &json!({"text": "launch email sent", "at": rfc3339(two_hours_ago)}).to_string(),
        )
        .await;
    assert_eq!(status, 201, "{old}");
    assert_eq!(
        (&old["text"], &old["at"]),
        (&json!("launch email sent"), &json!(rfc3339(two_hours_ago)))
    );
    let before = Utc::now();
    let (status, fix) = server
        .post_to(
            "/api/annotations",
            r#"{"text": "  fixed the sender domain "}"#,
        )
        .await;
    assert_eq!(status, 201, "{fix}");
    assert_eq!(fix["text"], "fixed the sender domain");
    let at: DateTime<Utc> = fix["at"].as_str().unwrap().parse().unwrap();
    assert!(
        at >= before - Duration::milliseconds(1) && at <= Utc::now(),
        "now: {at}"
    );

    let listed = |range: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server.get(&format!("/api/annotations?range={range}")).await;
            assert_eq!(status, 200, "{body}");
            let texts: Vec<String> = body["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["text"].as_str().unwrap().to_owned())
                .collect();
            texts
        }
    };
    assert_eq!(listed("1h").await, ["fixed the sender domain"]);
    assert_eq!(
        listed("6h").await,
        ["launch email sent", "fixed the sender domain"]
    );

    // Marked on the time charts the API draws: a hover title with the note.
    server
        .post_ok(&json!([{"event_name": "page_view", "session_id": "s1"}]))
        .await;
    server.drained().await;
    let svg = server.text("/api/panels/active_users.svg?range=1h").await;
    assert!(svg.contains(" · fixed the sender domain</title>"), "{svg}");
    assert!(!svg.contains("launch email sent"), "outside the hour");

    // Bad bodies name the field; nothing is stored.
    let too_long = "x".repeat(201);
    for (body, field) in [
        (r#"{"at": "2026-01-01T00:00:00Z"}"#.to_owned(), "text"),
        (r#"{"text": ""}"#.to_owned(), "text"),
        (json!({ "text": too_long }).to_string(), "text"),
        (r#"{"text": "a", "colour": "red"}"#.to_owned(), "colour"),
        (r#"{"text": "a", "at": "yesterday"}"#.to_owned(), "at"),
        (
            r#"{"text": "a", "at": "1999-01-01T00:00:00Z"}"#.to_owned(),
            "at",
        ),
        ("[1, 2]".to_owned(), "body"),
        ("{".to_owned(), "body"),
    ] {
        let (status, answer) = server.post_to("/api/annotations", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.starts_with(&format!("{field}: ")), "{body}: {error}");
    }
    assert_eq!(listed("24h").await.len(), 2);

    // Kept across a restart; deleted once.
    server.stop();
    let server = Server::start(dir.path(), &[]);
    let (_, body) = server.get("/api/annotations?range=6h").await;
    assert_eq!(body["annotations"], json!([old, fix]));
    let id = fix["id"].as_str().unwrap();
    let (status, _) = server.delete(&format!("/api/annotations/{id}")).await;
    assert_eq!(status, 204);
    let (status, answer) = server.delete(&format!("/api/annotations/{id}")).await;
    assert_eq!(status, 404, "{answer}");
    let (_, body) = server.get("/api/annotations?range=6h").await;
    let left: Vec<&Value> = body["annotations"].as_array().unwrap().iter().collect();
    assert_eq!(left, [&old]);
    server.stop();
}
