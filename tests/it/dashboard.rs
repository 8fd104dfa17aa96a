//! The dashboard the team arranges: `GET/PUT /api/dashboard` over HTTP, its tiles checked by
//! index, kept across a restart; a deleted insight leaves it.

use serde_json::json;

use crate::common::Server;

#[tokio::test]
async fn tiles_are_arranged_checked_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let panels = json!({"tiles": [{"kind": "panel", "id": "active_users"},
                                  {"kind": "panel", "id": "signup_funnel"},
                                  {"kind": "panel", "id": "top_features"},
                                  {"kind": "panel", "id": "error_rate"}]});
    assert_eq!(server.get("/api/dashboard").await, (200, panels.clone()));

    let insight = json!({"name": "Checkout clicks", "events": ["button_click"]});
    let put = server
        .put("/api/insights/checkout", &insight.to_string())
        .await;
    assert_eq!(put.0, 200, "{put:?}");
    let arranged = json!({"tiles": [{"kind": "insight", "id": "checkout"},
                                    {"kind": "funnel", "id": "signup"},
                                    {"kind": "panel", "id": "error_rate"}]});
    assert_eq!(
        server.put("/api/dashboard", &arranged.to_string()).await,
        (200, arranged.clone())
    );
    for (body, error) in [
        (
            json!({"tiles": [{"kind": "panel", "id": "error_rate"},
                             {"kind": "insight", "id": "nope"}]}),
            "tiles[1].id: no insight \"nope\": GET /api/insights lists them",
        ),
        (
            json!({"tiles": [{"kind": "table", "id": "x"}]}),
            "tiles[0].kind: panel, insight or funnel",
        ),
        (json!([]), "tiles: a list of {\"kind\", \"id\"}"),
    ] {
        let (status, answer) = server.put("/api/dashboard", &body.to_string()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(error)),
            "{body}"
        );
    }
    let (status, answer) = server.put("/api/dashboard", "{not json").await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().starts_with("body: "),
        "{answer}"
    );
    assert_eq!(server.get("/api/dashboard").await, (200, arranged.clone()));

    server.stop();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(server.get("/api/dashboard").await, (200, arranged));
    // A deleted insight leaves the dashboard; what GET answers can be PUT back.
    assert_eq!(server.delete("/api/insights/checkout").await.0, 204);
    let left = json!({"tiles": [{"kind": "funnel", "id": "signup"},
                                {"kind": "panel", "id": "error_rate"}]});
    assert_eq!(server.get("/api/dashboard").await, (200, left.clone()));
    assert_eq!(
        server.put("/api/dashboard", &left.to_string()).await,
        (200, left)
    );
    server.stop();
}
