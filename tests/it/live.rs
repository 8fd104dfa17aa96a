//! Live events (DESIGN part 3, "Live events"): each accepted event once durable and each
//! refused item with its error and the text sent, for Pulseboard's own format, Segment's and
//! PostHog's; filters and `event=`; at most 200 a second with the rest counted exactly in
//! `skipped`; keep-alive comments; 16 streams and the 17th refused with 503 + Retry-After;
//! streams that end cleanly when the server stops. Read as an outside client would: reqwest's
//! byte stream and curl.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::Server;

/// An open `text/event-stream`, parsed as it arrives.
struct Sse {
    response: reqwest::Response,
    buffer: String,
    /// Keep-alive comments seen.
    comments: usize,
    /// The server ended it cleanly.
    ended: bool,
}

impl Sse {
    async fn open(server: &Server, query: &str) -> Sse {
        let response = server
            .http
            .get(format!("{}/api/events/live{query}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert_eq!(kind, "text/event-stream");
        Sse {
            response,
            buffer: String::new(),
            comments: 0,
            ended: false,
        }
    }

    /// The next `(event, data)`; `None` when the stream ended cleanly or `wait` passed
    /// (keep-alive comments do not count as anything arriving).
    async fn next(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event: ") {
                        event = e.to_owned();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    } else if line.starts_with(':') {
                        self.comments += 1;
                    }
                }
                if event.is_empty() {
                    continue;
                }
                return Some((event, serde_json::from_str(&data).unwrap()));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(Ok(None)) => {
                    self.ended = true;
                    return None;
                }
                Ok(Err(error)) => panic!("the stream broke instead of ending: {error}"),
                Err(_) => return None,
            }
        }
    }

    /// Everything until nothing comes for `quiet`.
    async fn until_quiet(&mut self, quiet: Duration) -> Vec<(String, Value)> {
        let mut items = Vec::new();
        while let Some(item) = self.next(quiet).await {
            items.push(item);
        }
        items
    }
}

fn names(items: &[(String, Value)]) -> Vec<String> {
    items
        .iter()
        .map(|(kind, data)| match kind.as_str() {
            "accepted" => format!("accepted {}", data["event_name"].as_str().unwrap()),
            other => other.to_owned(),
        })
        .collect()
}

const QUIET: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn every_format_shows_its_accepted_events_and_refused_items_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut all = Sse::open(&server, "").await;
    let mut germany = Sse::open(&server, "?country=DE&prop.plan=pro").await;
    let mut signups = Sse::open(&server, "?event=signup").await;

    let now_ms = chrono::Utc::now().timestamp_millis();
    let good = json!({"event_name": "signup", "session_id": "s1", "user_id": "u1",
                      "country_code": "DE", "device_type": "mobile", "timestamp": now_ms,
                      "properties": {"plan": "pro", "n": 2}});
    let other = json!({"event_name": "page_view", "session_id": "s2", "country_code": "FR"});
    let bad = json!({"event_name": "Sign Up!", "session_id": "s3"});
    let (status, answer) = server.post(&json!([good, other, bad])).await;
    assert_eq!(status, 202, "{answer}");

    let seen = all.until_quiet(QUIET).await;
    assert_eq!(
        names(&seen),
        ["accepted signup", "accepted page_view", "rejected"]
    );
    let (_, event) = &seen[0];
    let expected_time = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for (field, value) in [
        ("event_name", json!("signup")),
        ("timestamp", json!(expected_time)),
        ("session_id", json!("s1")),
        ("user_id", json!("u1")),
        ("device_type", json!("mobile")),
        ("country_code", json!("DE")),
        ("properties", json!({"plan": "pro", "n": 2})),
        ("source", json!("events")),
    ] {
        assert_eq!(event[field], value, "{field}: {event}");
    }
    assert_eq!(event["event_id"].as_str().unwrap().len(), 36);
    assert!(event["received_at"].as_str().unwrap().ends_with('Z'));
    let (_, refused) = &seen[2];
    assert_eq!(refused["index"], 2);
    assert!(
        refused["error"].as_str().unwrap().starts_with("event_name"),
        "{refused}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(refused["raw"].as_str().unwrap()).unwrap(),
        bad
    );
    assert_eq!(refused["source"], "events");

    assert_eq!(
        names(&germany.until_quiet(QUIET).await),
        ["accepted signup", "rejected"]
    );
    assert_eq!(
        names(&signups.until_quiet(QUIET).await),
        ["accepted signup", "rejected"]
    );

    // Segment: a message of an unknown type refused, shown as the client sent it.
    let odd = json!({"type": "bogus", "userId": "u9", "messageId": "m-2"});
    let batch = json!({"batch": [{"type": "track", "event": "Signup", "userId": "u9",
                                  "messageId": "m-1"}, odd]});
    let response = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = all.until_quiet(QUIET).await;
    assert_eq!(names(&seen), ["accepted signup", "rejected"]);
    assert_eq!(seen[0].1["source"], "segment");
    assert_eq!(seen[1].1["source"], "segment");
    assert_eq!(seen[1].1["index"], 1);
    assert!(seen[1].1["error"].as_str().unwrap().starts_with("type"));
    assert_eq!(
        serde_json::from_str::<Value>(seen[1].1["raw"].as_str().unwrap()).unwrap(),
        odd
    );

    // PostHog, through curl: an event without a name refused.
    let nameless = json!({"distinct_id": "u7", "properties": {"x": "y".repeat(3000)}});
    let body =
        json!({"api_key": "k", "batch": [{"event": "$pageview", "distinct_id": "u7"}, nameless]});
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Content-Type: application/json",
        ])
        .args([
            "--data-binary",
            &body.to_string(),
            &format!("{}/batch/", server.url),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    let seen = all.until_quiet(QUIET).await;
    assert_eq!(names(&seen), ["accepted page_view", "rejected"]);
    assert_eq!(seen[1].1["source"], "posthog");
    let raw = seen[1].1["raw"].as_str().unwrap();
    assert_eq!(raw.len(), 2048, "cut to 2 KiB");
    assert!(nameless.to_string().starts_with(raw));

    // Bad parameters: a 400 naming them, no stream.
    for (query, field) in [
        ("?event=Sign%20Up", "event"),
        ("?range=1h", "range"),
        ("?country=Germany", "country"),
    ] {
        let (status, body) = server.get(&format!("/api/events/live{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["error"].as_str().unwrap().contains(field), "{body}");
    }
}

#[tokio::test]
async fn a_stream_sends_200_a_second_counts_the_rest_and_ends_when_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut stream = Sse::open(&server, "").await;
    // 1,500 events in three requests, as fast as they go.
    for request in 0..3 {
        let events: Vec<Value> = (0..500)
            .map(|i| json!({"event_name": "tick", "session_id": format!("s{request}-{i}")}))
            .collect();
        server.post_ok(&json!(events)).await;
    }
    let seen = stream.until_quiet(Duration::from_millis(2500)).await;
    let sent = seen.iter().filter(|(kind, _)| kind == "accepted").count() as u64;
    let skipped: u64 = seen
        .iter()
        .filter(|(kind, _)| kind == "skipped")
        .map(|(_, data)| data["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sent + skipped, 1500, "every event sent or counted");
    assert!(skipped > 0 && sent >= 200, "sent {sent}, skipped {skipped}");
    // At most 200 between two `skipped` reports (each closes a second that ran over).
    let mut run = 0;
    for (kind, _) in &seen {
        run = if kind == "skipped" { 0 } else { run + 1 };
        assert!(run <= 200, "more than 200 in a second");
    }

    // A quiet stream hears a keep-alive comment.
    assert!(stream.next(Duration::from_secs(7)).await.is_none());
    assert!(stream.comments >= 1, "no keep-alive comment in 7 s");

    // 16 streams at most: the 17th is told to come back later.
    let mut open = vec![stream];
    for _ in 1..16 {
        open.push(Sse::open(&server, "?device=mobile").await);
    }
    let refused = server
        .http
        .get(format!("{}/api/events/live", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("16"), "{body}");
    // Closing one makes room.
    drop(open.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    open.push(Sse::open(&server, "").await);

    // Stopping the server ends every stream cleanly (not cut after the drain timeout).
    let stopping = std::thread::spawn(move || server.stop());
    for stream in &mut open {
        assert_eq!(stream.next(Duration::from_secs(20)).await, None);
        assert!(stream.ended, "the stream was not ended by the server");
    }
    stopping.join().unwrap();
}
