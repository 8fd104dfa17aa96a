//! Who may call the API: the ingest token off loopback, and the CORS allow-list.

use std::process::Command;

use serde_json::json;

use crate::common::{event, Server};

const TOKEN: &str = "tok-3f9a1c0e7b2d";

#[test]
fn a_network_bind_without_a_token_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(["serve", "--port", "0", "--bind", "0.0.0.0", "--data-dir"])
        .arg(dir.path())
        .env_remove("PULSEBOARD_INGEST_TOKEN")
        .env("PULSEBOARD_PROFILE", "embedded")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("0.0.0.0"), "{stderr}");
    assert!(stderr.contains("PULSEBOARD_INGEST_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn a_network_bind_needs_the_bearer_token_and_never_echoes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        dir.path(),
        &["--bind", "0.0.0.0"],
        &[("PULSEBOARD_INGEST_TOKEN", TOKEN)],
    );
    let events = json!([event("page_viewed", "s1"), event("page_viewed", "s2")]);
    let url = format!("{}/v1/events", server.url);
    // `server.http` sends the token; these requests must come from a client that does not.
    let stranger = reqwest::Client::new();
    // No header, a wrong token, the right token without the scheme.
    for auth in [
        None,
        Some("Bearer wrong-token".to_string()),
        Some(TOKEN.to_string()),
    ] {
        let mut request = stranger.post(&url).json(&events);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body = response.text().await.unwrap();
        assert!(body.contains("Authorization: Bearer"), "{body}");
        assert!(!body.contains(TOKEN), "{body}");
    }
    let panels = stranger
        .get(format!("{}/api/panels", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(panels.status().as_u16(), 401, "panels need the token too");
    // Health stays open for load balancers.
    assert_eq!(server.health().await["store_reachable"], true);
    let response = stranger
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["accepted"],
        2
    );
    server.drained().await;
    assert_eq!(
        server.stored_events().await,
        2,
        "only the authorised batch is stored"
    );
    server.stop();
}

#[tokio::test]
async fn cors_preflight_is_allowed_only_for_listed_origins() {
    let dir = tempfile::tempdir().unwrap();
    let listed = "https://app.example.com";
    let server = Server::start(
        dir.path(),
        &["--cors-origins", &format!("{listed},http://localhost:3000")],
    );
    let preflight = |origin: &'static str| {
        server
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/events", server.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(allowed.status().as_u16(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], listed);
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");

    let denied = preflight("https://evil.example.net").await.unwrap();
    assert!(
        !denied.headers().contains_key("access-control-allow-origin"),
        "{:?}",
        denied.headers()
    );
    // A simple POST from a listed origin carries the header the browser needs to read the answer.
    let response = server
        .http
        .post(format!("{}/v1/events", server.url))
        .header("origin", listed)
        .json(&json!([event("page_viewed", "s1")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(response.headers()["access-control-allow-origin"], listed);
    server.stop();
}
