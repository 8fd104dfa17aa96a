//! Alerts against the real `serve`: rules over HTTP, judged after flushes, webhooks POSTed to a
//! receiver on the loopback that this test runs (and counts), states kept across a restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::common::Server;

/// A webhook receiver on 127.0.0.1 answering every POST with one status (0: never answering,
/// a receiver that hangs), keeping what came.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<(Instant, Value)>>>,
    status: Arc<std::sync::atomic::AtomicU16>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received: Arc<Mutex<Vec<(Instant, Value)>>> = Arc::default();
        let status = Arc::new(std::sync::atomic::AtomicU16::new(status));
        let (kept, answer) = (received.clone(), status.clone());
        let app = Router::new().route(
            "/hook",
            post(move |Json(body): Json<Value>| async move {
                kept.lock().unwrap().push((Instant::now(), body));
                let status = answer.load(std::sync::atomic::Ordering::SeqCst);
                if status == 0 {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                StatusCode::from_u16(status).unwrap()
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url,
            received,
            status,
        }
    }

    /// Answers `status` from now on (0: hangs).
    fn answer(&self, status: u16) {
        self.status
            .store(status, std::sync::atomic::Ordering::SeqCst);
    }

    fn bodies(&self) -> Vec<Value> {
        let received = self.received.lock().unwrap();
        received.iter().map(|(_, body)| body.clone()).collect()
    }

    /// Waits until `n` POSTs came; returns their bodies.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        crate::support::wait_until(
            &format!("{n} webhook POSTs"),
            Duration::from_secs(30),
            || async {
                let bodies = self.bodies();
                (bodies.len() >= n)
                    .then_some(bodies.clone())
                    .ok_or(json!(bodies))
            },
        )
        .await
    }
}

/// `n` events named `name`, five seconds old: well inside a 1-minute window for the test's life.
fn events(name: &str, n: usize, tag: &str) -> Value {
    let ts = Utc::now().timestamp_millis() - 5_000;
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"event_name": name, "session_id": format!("{tag}-{i}"), "timestamp": ts}))
        .collect();
    json!(events)
}

fn state_is(state: &'static str) -> impl Fn(&Value) -> bool {
    move |alert| alert["state"] == state
}

/// The webhook body, less `at` (checked apart: a time within the last minute).
fn without_at(mut body: Value) -> Value {
    let at = body["at"].as_str().expect("at").to_owned();
    let at = DateTime::parse_from_rfc3339(&at).expect("at is RFC 3339");
    let age = Utc::now().signed_duration_since(at);
    assert!((0..60).contains(&age.num_seconds()), "at {at} is now");
    body.as_object_mut().unwrap().remove("at");
    body
}

#[tokio::test]
async fn a_rule_fires_and_resolves_with_exact_values_in_the_webhook_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let receiver = Receiver::start(200).await;

    // The built-in rule is there from the start, waiting for the product's first event.
    let built_in = server.alert("error_rate").await;
    assert_eq!(
        rule_part(&built_in),
        json!({
            "id": "error_rate", "name": "Error rate above 1 %", "metric": "error_rate_pct",
            "op": "above", "threshold": 1.0, "for": "5m", "hold": "2m", "min_events": 20, "filters": {},
            "webhook": null, "muted": false, "state": "ok", "since": null, "judged": false,
            "transitions": [], "last_webhook_error": null, "waiting_for_product": true,
        })
    );

    let rule = json!({"name": "Errors spike", "metric": "error_rate_pct", "op": "above",
                      "threshold": 10, "for": "1m", "hold": "0s", "min_events": 20, "webhook": receiver.url});
    let (status, stored) = server.put_alert("spike", &rule).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        (
            &stored["id"],
            &stored["threshold"],
            &stored["for"],
            &stored["state"]
        ),
        (&json!("spike"), &json!(10.0), &json!("1m"), &json!("ok"))
    );

    // 5 errors in 20 events: 25 %, above 10 % — sent as the demo sends them.
    let posted = Instant::now();
    for (name, n, prefix) in [("error_occurred", 5, "e"), ("page_view", 15, "p")] {
        let response = (server.http)
            .post(format!("{}/v1/events", server.url))
            .header("x-pulseboard-demo", "1")
            .json(&events(name, n, prefix))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    let firing = server
        .alert_until("spike", "spike to fire", state_is("firing"))
        .await;
    let fired_in = posted.elapsed();
    println!(
        "alert fired {} ms after the events were posted",
        fired_in.as_millis()
    );
    assert!(
        fired_in < Duration::from_secs(5),
        "fired after {fired_in:?}"
    );
    assert_eq!(
        (&firing["value"], &firing["events"]),
        (&json!(25.0), &json!(20))
    );
    // A user's rule judges the demo's events; the built-in one waits for the product's.
    let built_in = server.alert("error_rate").await;
    assert_eq!(
        (
            &built_in["waiting_for_product"],
            &built_in["judged"],
            &built_in["events"]
        ),
        (&json!(true), &json!(false), &Value::Null)
    );
    let bodies = receiver.wait_for(1).await;
    assert_eq!(
        without_at(bodies[0].clone()),
        json!({
            "text": "Errors spike is firing: error_rate_pct is 25 (above 10) over the last 1m",
            "rule": "spike", "state": "firing", "metric": "error_rate_pct", "value": 25.0,
            "threshold": 10.0,
        })
    );

    // 30 more page views, from the product: 5 in 50 is 10 %, not above 10 %: resolved.
    server.post_ok(&events("page_view", 30, "q")).await;
    let ok = server
        .alert_until("spike", "spike to resolve", state_is("ok"))
        .await;
    let bodies = receiver.wait_for(2).await;
    assert_eq!(
        without_at(bodies[1].clone()),
        json!({
            "text": "Errors spike resolved: error_rate_pct is 10 (above 10) over the last 1m",
            "rule": "spike", "state": "ok", "metric": "error_rate_pct", "value": 10.0,
            "threshold": 10.0,
        })
    );
    let transitions = ok["transitions"].as_array().unwrap();
    let seen: Vec<(&Value, &Value)> = transitions
        .iter()
        .map(|t| (&t["state"], &t["value"]))
        .collect();
    assert_eq!(
        seen,
        [
            (&json!("firing"), &json!(25.0)),
            (&json!("ok"), &json!(10.0))
        ]
    );
    assert_eq!(ok["since"], transitions[1]["at"]);
    assert_eq!(ok["last_webhook_error"], Value::Null);
    assert_eq!(receiver.bodies().len(), 2, "one POST per transition");
    // The built-in rule judged the same events over its 5 minutes: 10 % is above 1 %, but
    // it fires only once that has held for its 2 minutes.
    let built_in = server.alert("error_rate").await;
    assert_eq!(
        (
            &built_in["state"],
            &built_in["value"],
            &built_in["holding"]["state"]
        ),
        (&json!("ok"), &json!(10.0), &json!("firing"))
    );
    assert_eq!(built_in.get("waiting_for_product"), None);

    // Deleted, the built-in rule stays deleted; the rest (states too) survives a restart.
    assert_eq!(server.delete_alert("error_rate").await, 204);
    assert_eq!(server.delete_alert("error_rate").await, 404);
    server.stop();
    let server = Server::start(dir.path(), &[]);
    let (_, all) = server.get("/api/alerts").await;
    let ids: Vec<&Value> = all["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [&json!("spike")]);
    let again = server.alert("spike").await;
    assert_eq!(
        (&again["state"], &again["transitions"]),
        (&ok["state"], &ok["transitions"])
    );
}

/// A GET entry less what each evaluation refreshes (value, events, evaluated_at, as_of_flush).
fn rule_part(alert: &Value) -> Value {
    let mut alert = alert.clone();
    let fields = alert.as_object_mut().expect("an alert object");
    for refreshed in ["value", "events", "evaluated_at", "as_of_flush"] {
        fields.remove(refreshed);
    }
    alert
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_its_failure_shown_on_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let receiver = Receiver::start(500).await;
    let rule = json!({"metric": "events", "op": "above", "threshold": 5, "for": "1m", "hold": "0s",
                      "min_events": 0, "webhook": receiver.url});
    assert_eq!(server.put_alert("busy", &rule).await.0, 200);
    server.post_ok(&events("page_view", 6, "b")).await;
    server
        .alert_until("busy", "busy to fire", state_is("firing"))
        .await;

    // Ingest does not wait for the webhook: events are acknowledged while it is retried.
    let started = Instant::now();
    server.post_ok(&events("page_view", 1, "during")).await;
    assert!(started.elapsed() < Duration::from_secs(1));

    // One attempt and three retries, 0.5 s, 1 s and 2 s apart; then the failure on the rule.
    let failed = server
        .alert_until("busy", "the webhook failure", |a| {
            !a["last_webhook_error"].is_null()
        })
        .await;
    assert_eq!(
        failed["last_webhook_error"]["error"],
        "the receiver answered HTTP 500 (after 4 attempts); check that the receiver is up"
    );
    let times: Vec<Instant> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times.len(), 4, "attempts");
    for (gap, at_least_ms) in times.windows(2).zip([500, 1000, 2000]) {
        let gap = gap[1] - gap[0];
        assert!(
            gap >= Duration::from_millis(at_least_ms),
            "{gap:?} < {at_least_ms} ms"
        );
    }
    let bodies = receiver.bodies();
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "the same body each time"
    );
    assert_eq!(
        (&bodies[0]["rule"], &bodies[0]["value"]),
        (&json!("busy"), &json!(6.0))
    );
    // And no fifth.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.bodies().len(), 4);
}

#[tokio::test]
async fn min_events_holds_a_rule_back_on_a_quiet_stream() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let rule = json!({"metric": "error_rate_pct", "op": "above", "threshold": 1, "for": "1m", "hold": "0s",
                      "min_events": 20});
    assert_eq!(server.put_alert("quiet", &rule).await.0, 200);

    // Five errors: 100 %, but five events are too few to judge.
    server.post_ok(&events("error_occurred", 5, "e")).await;
    let held = server
        .alert_until("quiet", "an evaluation of the 5 events", |a| {
            a["events"] == 5
        })
        .await;
    assert_eq!(
        (
            &held["state"],
            &held["judged"],
            &held["value"],
            &held["since"]
        ),
        (&json!("ok"), &json!(false), &json!(100.0), &Value::Null)
    );
    assert_eq!(held["transitions"], json!([]));

    // Fifteen page views make twenty: judged, 5 in 20 is 25 %.
    server.post_ok(&events("page_view", 15, "p")).await;
    let firing = server
        .alert_until("quiet", "quiet to fire", state_is("firing"))
        .await;
    assert_eq!(
        (&firing["judged"], &firing["value"], &firing["events"]),
        (&json!(true), &json!(25.0), &json!(20))
    );
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let good = json!({"metric": "events", "op": "above", "threshold": 1});
    let with = |field: &str, value: Value| {
        let mut rule = good.clone();
        rule[field] = value;
        rule
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("Spike", good.clone(), "id: "),
        ("spike", json!("above 1"), "rule: "),
        (
            "spike",
            json!({"op": "above", "threshold": 1}),
            "metric: required",
        ),
        ("spike", with("metric", json!("errors")), "metric: one of"),
        (
            "spike",
            with("metric", json!("funnel_conversion_pct:nope")),
            "metric: no funnel \"nope\"",
        ),
        (
            "spike",
            with("metric", json!("funnel_step_pct:signup:3")),
            "metric: funnel \"signup\" has 2 steps",
        ),
        (
            "spike",
            with("op", json!(">")),
            "op: above, below, drops_by_pct or rises_by_pct",
        ),
        (
            "spike",
            with("metric", json!("insight:nope")),
            "metric: no insight \"nope\"",
        ),
        (
            "spike",
            with("compare_to", json!("day_before")),
            "compare_to: only with op drops_by_pct or rises_by_pct",
        ),
        (
            "spike",
            with("threshold", json!(null)),
            "threshold: required",
        ),
        ("spike", with("for", json!("2d")), "for: "),
        (
            "spike",
            with("hold", json!("2h")),
            "hold: a duration from 0s to 1h",
        ),
        ("spike", with("min_events", json!(-5)), "min_events: "),
        (
            "spike",
            with("filters", json!({"country": "Germany"})),
            "filters.country: ",
        ),
        (
            "spike",
            with("webhook", json!("slack.com/hook")),
            "webhook: must start with http",
        ),
        ("spike", with("muted", json!(1)), "muted: "),
        (
            "spike",
            with("threshhold", json!(1)),
            "threshhold: unknown field",
        ),
    ];
    for (id, rule, error) in cases {
        let (status, answer) = server.put_alert(id, &rule).await;
        assert_eq!(status, 400, "{rule}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.starts_with(error), "{rule}: {message}");
    }
    let response = server
        .http
        .put(format!("{}/api/alerts/spike", server.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("rule: a JSON object"),
        "{answer}"
    );
    // Nothing was stored; deleting an unknown rule is a 404.
    let (_, all) = server.get("/api/alerts").await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(server.delete_alert("spike").await, 404);
}

#[tokio::test]
async fn funnel_conversion_and_active_users_are_judged_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    // The built-in signup funnel: signup_started → signup_completed within 1h, per user.
    let conversion = json!({"metric": "funnel_conversion_pct:signup", "op": "below",
                            "threshold": 50, "for": "1m", "hold": "0s", "min_events": 0});
    assert_eq!(server.put_alert("conversion", &conversion).await.0, 200);
    let sessions = json!({"metric": "active_users", "op": "above", "threshold": 3, "for": "1m", "hold": "0s",
                          "min_events": 0, "filters": {"country": "DE"}});
    assert_eq!(server.put_alert("sessions", &sessions).await.0, 200);
    // Where people leave: step 2 of a three-step funnel over step 1.
    let verify = json!({"name": "Verify", "window": "1h", "steps": [
        {"event_name": "signup_started"}, {"event_name": "email_verified"},
        {"event_name": "signup_completed"}]});
    assert_eq!(
        server
            .put("/api/funnels/verify", &verify.to_string())
            .await
            .0,
        200
    );
    let step = json!({"metric": "funnel_step_pct:verify:2", "op": "below", "threshold": 60,
                      "for": "1m", "hold": "0s", "min_events": 0});
    assert_eq!(server.put_alert("verification", &step).await.0, 200);

    let now = Utc::now().timestamp_millis();
    let event = |name: &str, i: usize, country: &str, age_ms: i64| {
        json!({"event_name": name, "session_id": format!("s{i}"), "user_id": format!("u{i}"),
               "country_code": country, "timestamp": now - age_ms})
    };
    // Four users start, one completes: 25 %. Four German sessions: above 3.
    let mut batch: Vec<Value> = (0..4)
        .map(|i| event("signup_started", i, "DE", 10_000))
        .collect();
    batch.push(event("signup_completed", 0, "FR", 5_000));
    // Two of the four verify their e-mail: 50 % at step 2.
    batch.extend((0..2).map(|i| event("email_verified", i, "FR", 8_000)));
    server.post_ok(&json!(batch)).await;
    let leaving = server
        .alert_until("verification", "step 2 to fire", state_is("firing"))
        .await;
    assert_eq!(leaving["value"], 50.0);
    let firing = server
        .alert_until("conversion", "conversion to fire", state_is("firing"))
        .await;
    assert_eq!(firing["value"], 25.0);
    let busy = server
        .alert_until("sessions", "sessions to fire", state_is("firing"))
        .await;
    assert_eq!((&busy["value"], &busy["events"]), (&json!(4.0), &json!(4)));

    // A second user completes: 2 of 4 is 50 %, not below 50: resolved.
    server
        .post_ok(&json!([event("signup_completed", 1, "FR", 4_000)]))
        .await;
    let ok = server
        .alert_until("conversion", "conversion to resolve", state_is("ok"))
        .await;
    assert_eq!(ok["value"], 50.0);
}

/// Rules cost a query each per evaluation: past 200 an instance refuses more with a 409 that
/// says what to do; replacing a rule still works at the cap.
#[tokio::test]
async fn rules_are_capped_at_two_hundred() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let rule = json!({"metric": "events", "op": "above", "threshold": 1e12, "for": "1m", "hold": "0s",
                      "min_events": 0});
    // The built-in rule is the first of the 200.
    for i in 1..200 {
        let (status, answer) = server.put_alert(&format!("r{i}"), &rule).await;
        assert_eq!(status, 200, "r{i}: {answer}");
    }
    let (status, answer) = server.put_alert("one-more", &rule).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["error"],
        "at most 200 alert rules: delete one (DELETE /api/alerts/ID) before adding \"one-more\""
    );
    let (status, _) = server
        .put_alert(
            "r7",
            &json!({"metric": "events", "op": "below",
        "threshold": 0, "for": "5m"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(server.delete_alert("r1").await, 204);
    let (status, _) = server.put_alert("one-more", &rule).await;
    assert_eq!(status, 200);
    let (_, listed) = server.get("/api/alerts").await;
    assert_eq!(listed["alerts"].as_array().unwrap().len(), 200);
}

/// One receiver that hangs delays only its own rule's webhook; another rule's goes out while
/// the first is still waiting on its first attempt.
#[tokio::test]
async fn a_dead_receiver_delays_only_its_own_rule() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (dead, alive) = (Receiver::start(0).await, Receiver::start(200).await);
    assert_eq!(server.delete_alert("error_rate").await, 204);
    for (id, receiver) in [("a-dead", &dead), ("b-alive", &alive)] {
        let rule = json!({"metric": "events", "op": "above", "threshold": 5, "for": "1m", "hold": "0s",
                          "min_events": 0, "webhook": receiver.url});
        let (status, stored) = server.put_alert(id, &rule).await;
        assert_eq!(status, 200, "{stored}");
    }
    server.post_ok(&events("page_view", 10, "burst")).await;
    let bodies = alive.wait_for(1).await;
    assert_eq!(bodies[0]["rule"], "b-alive");
    // The dead receiver got its first attempt and is still holding it (10 s per attempt).
    let held = dead.bodies();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["rule"], "a-dead");
}

/// A delivery still pending when the process dies (SIGKILL) or stops (SIGTERM) goes out after
/// the restart, with the transition's own body.
#[tokio::test]
async fn a_pending_webhook_survives_sigkill_and_sigterm() {
    for stop in ["KILL", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let receiver = Receiver::start(0).await;
        let server = Server::start(dir.path(), &[]);
        assert_eq!(server.delete_alert("error_rate").await, 204);
        let rule = json!({"metric": "events", "op": "above", "threshold": 5, "for": "1m", "hold": "0s",
                          "min_events": 0, "webhook": receiver.url});
        assert_eq!(server.put_alert("spike", &rule).await.0, 200);
        server.post_ok(&events("page_view", 10, stop)).await;
        let first = receiver.wait_for(1).await;
        assert_eq!(
            (&first[0]["rule"], &first[0]["state"]),
            (&json!("spike"), &json!("firing"))
        );
        let outbox = std::fs::read_to_string(dir.path().join("outbox.json")).unwrap();
        assert!(outbox.contains("\"spike\""), "{outbox}");
        match stop {
            "KILL" => server.kill(),
            _ => server.stop(),
        }
        receiver.answer(200);
        let server = Server::start(dir.path(), &[]);
        let bodies = receiver.wait_for(2).await;
        assert_eq!(
            bodies[1], first[0],
            "{stop}: the same transition, delivered after the restart"
        );
        server
            .alert_until("spike", "the delivery to be done", |a| {
                a["delivery_errors"].is_null()
            })
            .await;
        crate::support::wait_until("the outbox to empty", Duration::from_secs(10), || async {
            let outbox = std::fs::read_to_string(dir.path().join("outbox.json")).unwrap();
            (outbox == "[]").then_some(()).ok_or(outbox)
        })
        .await;
        server.stop();
    }
}

/// "Would it have fired?": the rule replayed over stored events at every whole minute, with
/// and without its hold. Ten events in each of three minutes, half an hour back.
#[tokio::test]
async fn a_preview_replays_the_rule_minute_by_minute_with_its_hold() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let first_minute = (Utc::now().timestamp() / 60 - 30) * 60;
    let events: Vec<Value> = (0..3)
        .flat_map(|minute| {
            (0..10).map(move |i| {
                json!({"event_name": "page_view", "session_id": format!("p{minute}-{i}"),
                       "timestamp": (first_minute + minute * 60 + 10) * 1000})
            })
        })
        .collect();
    server.post_ok(&json!(events)).await;
    server.drained().await;
    let minute = |n: i64| {
        DateTime::from_timestamp(first_minute + n * 60, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    // The minute judged at m counts the events of (m - 1m, m].
    for (hold, want) in [
        (
            "0s",
            json!([{"at": minute(1), "state": "firing", "value": 10.0},
                   {"at": minute(4), "state": "ok", "value": 0.0}]),
        ),
        (
            "2m",
            json!([{"at": minute(3), "state": "firing", "value": 10.0},
                   {"at": minute(6), "state": "ok", "value": 0.0}]),
        ),
        ("5m", json!([])),
    ] {
        let rule = json!({"metric": "events", "op": "above", "threshold": 5, "for": "1m",
                          "hold": hold, "min_events": 0});
        assert_eq!(server.put_alert("busy", &rule).await.0, 200);
        let (status, preview) = server.get("/api/alerts/busy/preview?range=1h").await;
        assert_eq!(status, 200, "{preview}");
        assert_eq!(preview["transitions"], want, "hold {hold}");
        assert_eq!(preview["range"], "1h");
        // Each whole minute of the hour, and the present unless it is one.
        let judgements = preview["judgements"].as_u64().unwrap();
        assert!((60..=61).contains(&judgements), "{preview}");
    }
    // `from`/`to` replay ten minutes ending at the fifth: the same transitions, ten judgements.
    let rule = json!({"metric": "events", "op": "above", "threshold": 5, "for": "1m",
                      "hold": "0s", "min_events": 0});
    assert_eq!(server.put_alert("busy", &rule).await.0, 200);
    let span = format!("from={}&to={}", minute(-5), minute(5));
    let (status, preview) = server
        .get(&format!("/api/alerts/busy/preview?{span}"))
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (
            &preview["transitions"],
            &preview["range"],
            &preview["judgements"]
        ),
        (
            &json!([{"at": minute(1), "state": "firing", "value": 10.0},
                    {"at": minute(4), "state": "ok", "value": 0.0}]),
            &json!("10m"),
            &json!(10)
        )
    );
    let (status, body) = server.get("/api/alerts/nope/preview").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.get("/api/alerts/busy/preview?range=2d").await;
    assert_eq!(status, 400, "{body}");
    // Judged every minute, a preview covers at most a day.
    let long = format!("from={}&to={}", minute(-36 * 60), minute(0));
    let (status, body) = server
        .get(&format!("/api/alerts/busy/preview?{long}"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("range: "),
        "{body}"
    );
    server.stop();
}

/// The campaign story on a fixed clock: a rule on the campaign funnel's conversion for Gmail
/// users, `drops_by_pct` against the window before, replayed minute by minute over the hour
/// around the break. It fires at the first minute the change crosses the threshold — computed
/// here from the events — and not before Gmail breaks.
#[tokio::test]
async fn a_drop_in_the_campaign_funnels_conversion_fires_within_a_minute() {
    use crate::funnels::reference::{Dim, Filter, Funnel};
    use crate::funnels::{at_param, campaign_posted, past_instant, MIN};
    use pulseboard::cli::demo::BROKEN_FROM_MS;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (campaign, events) = campaign_posted(&server, past_instant().timestamp_millis()).await;
    let rule = json!({"name": "Gmail conversion drops", "metric": "funnel_conversion_pct:campaign",
                      "op": "drops_by_pct", "threshold": 25, "for": "30m", "hold": "0s",
                      "min_events": 20, "filters": {"prop.email_domain": "gmail.com"}});
    assert_eq!(server.put_alert("gmail-drop", &rule).await.0, 200);

    // The reference: the rule judged at every whole minute of the hour ending 40 minutes after
    // the break, from the events alone.
    let reference = Funnel {
        steps: ["signup_started", "email_verified", "signup_completed"]
            .map(|name| (name, Filter::default()))
            .to_vec(),
        window_ms: 60 * MIN,
        by_session: false,
    };
    let gmail = Filter(vec![(Dim::Prop("email_domain".into()), vec!["gmail.com"])]);
    let window = 30 * MIN;
    let measure = |end: i64| {
        let answer = reference.expected(&events, (end - window, end), &gmail, None);
        let conversion = answer["steps"][2]["pct_of_first"].as_f64();
        let events_in = events
            .iter()
            .filter(|e| e.ms > end - window && e.ms <= end && gmail.matches(e))
            .count();
        (conversion, events_in)
    };
    let broken_at = campaign.origin_ms + BROKEN_FROM_MS;
    let to = (broken_at + 40 * MIN).div_euclid(MIN) * MIN;
    let (mut firing, mut want) = (false, Vec::new());
    for end in (to - 59 * MIN..=to).step_by(MIN as usize) {
        let ((now, n_now), (before, n_before)) = (measure(end), measure(end - window));
        let change = match (before, now) {
            (Some(b), Some(n)) if b != 0.0 => Some(((n - b) / b * 10_000.0).round() / 100.0),
            _ => None,
        };
        let Some(change) = change.filter(|_| n_now.min(n_before) >= 20) else {
            continue;
        };
        if (change < -25.0) != firing {
            firing = !firing;
            let state = if firing { "firing" } else { "ok" };
            let t = DateTime::from_timestamp_millis(end).unwrap();
            let t = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            want.push(json!({"at": t, "state": state, "value": change}));
        }
    }
    let first = &want[0];
    assert_eq!(first["state"], "firing", "{want:?}");
    let fired_at = DateTime::parse_from_rfc3339(first["at"].as_str().unwrap()).unwrap();
    let fired_ms = fired_at.timestamp_millis();
    assert!(
        fired_ms > broken_at && fired_ms <= broken_at + 30 * MIN,
        "fired {} min after the break: {want:?}",
        (fired_ms - broken_at) as f64 / MIN as f64
    );

    let span = format!(
        "from={}&to={}",
        at_param(DateTime::from_timestamp_millis(to - 60 * MIN).unwrap()),
        at_param(DateTime::from_timestamp_millis(to).unwrap())
    );
    let (status, preview) = server
        .get(&format!("/api/alerts/gmail-drop/preview?{span}"))
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["transitions"], json!(want), "{preview}");
    server.stop();
}

/// An insight as a metric, and changes against the window before and the day before, judged
/// live.
#[tokio::test]
async fn insights_and_changes_are_judged_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let checkout = json!({"name": "Checkout clicks", "events": ["button_click"],
                          "where": {"prop.button": "checkout"}, "measure": "users"});
    let put = server
        .put("/api/insights/checkout", &checkout.to_string())
        .await;
    assert_eq!(put.0, 200, "{put:?}");
    let rules = [
        (
            "clicks",
            json!({"metric": "insight:checkout", "op": "above", "threshold": 2,
                          "for": "1m", "hold": "0s", "min_events": 0}),
        ),
        (
            "surge",
            json!({"metric": "events", "op": "rises_by_pct", "threshold": 100,
                         "for": "1m", "hold": "0s", "min_events": 2}),
        ),
        (
            "slump",
            json!({"metric": "events", "op": "drops_by_pct", "threshold": 50,
                         "for": "5m", "hold": "0s", "min_events": 4,
                         "compare_to": "day_before", "filters": {"country": "FR"}}),
        ),
    ];
    for (id, rule) in &rules {
        assert_eq!(server.put_alert(id, rule).await.0, 200, "{id}");
    }
    let now = Utc::now().timestamp_millis();
    let event = |name: &str, user: &str, button: &str, country: &str, age_ms: i64| {
        json!({"event_name": name, "session_id": format!("s-{user}"), "user_id": user,
               "country_code": country, "timestamp": now - age_ms,
               "properties": {"button": button}})
    };
    // Three users click checkout (one twice), one clicks another button: 3 users.
    let mut batch = vec![
        event("button_click", "a", "checkout", "DE", 5_000),
        event("button_click", "a", "checkout", "DE", 4_000),
        event("button_click", "b", "checkout", "DE", 4_000),
        event("button_click", "c", "checkout", "DE", 3_000),
        event("button_click", "d", "other", "DE", 3_000),
    ];
    // The minute before held 2 events; this one 5 of the product's and the 4 of France: +350 %.
    batch.extend((0..2).map(|i| event("page_view", &format!("p{i}"), "", "DE", 80_000)));
    // France: 10 events the day before, 4 now: -60 %.
    batch.extend(
        (0..10).map(|i| event("page_view", &format!("y{i}"), "", "FR", 86_400_000 + 60_000)),
    );
    batch.extend((0..4).map(|i| event("page_view", &format!("f{i}"), "", "FR", 6_000)));
    server.post_ok(&json!(batch)).await;

    let last_fired = |alert: &Value| {
        let transitions = alert["transitions"].as_array().unwrap();
        let t = transitions.last().unwrap();
        (t["state"].clone(), t["value"].clone())
    };
    let clicks = server
        .alert_until("clicks", "the insight rule to fire", state_is("firing"))
        .await;
    assert_eq!(last_fired(&clicks), (json!("firing"), json!(3.0)));
    let surge = server
        .alert_until("surge", "the rise to fire", state_is("firing"))
        .await;
    assert_eq!(last_fired(&surge), (json!("firing"), json!(350.0)));
    let slump = server
        .alert_until("slump", "the drop to fire", state_is("firing"))
        .await;
    assert_eq!(last_fired(&slump), (json!("firing"), json!(-60.0)));
    assert_eq!(slump["compare_to"], "day_before");
    server.stop();
}
