//! `GET /api/properties` and `GET /api/values` (DESIGN.md "The story over time"): the keys and
//! values of posted events, counted by hand here, in their exact case; bad parameters named.

use chrono::Duration;
use serde_json::{json, Value};

use crate::common::Server;
use crate::funnels::{at_param, past_instant, post_all, Ev};

/// Ten events a minute apart before `t`: e-mail domains in two cases, plans, two countries.
fn events(t: i64) -> Vec<Ev> {
    let rows = [
        ("signup_started", "DE", Some("gmail.com"), Some("pro")),
        ("signup_started", "DE", Some("gmail.com"), None),
        ("signup_started", "US", Some("gmail.com"), Some("free")),
        ("signup_started", "US", Some("Gmail.com"), None),
        ("signup_started", "US", Some("outlook.com"), None),
        ("email_verified", "DE", Some("outlook.com"), Some("pro")),
        ("email_verified", "US", None, Some("pro")),
        ("page_view", "US", None, None),
        ("page_view", "US", None, None),
        ("page_view", "DE", Some(""), None),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (name, country, domain, plan))| {
            let mut props = Vec::new();
            if let Some(d) = domain {
                props.push(("email_domain".to_owned(), json!(d)));
            }
            if let Some(p) = plan {
                props.push(("plan".to_owned(), json!(p)));
            }
            Ev {
                name: name.to_string(),
                ms: t - (i as i64 + 1) * 60_000,
                session: format!("s{i}"),
                user: None,
                country: country.to_string(),
                device: "desktop".into(),
                props,
            }
        })
        .collect()
}

async fn ok(server: &Server, path: &str) -> Value {
    let (status, body) = server.get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn keys_and_values_are_counted_in_their_exact_case() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    post_all(&server, &events(at.timestamp_millis())).await;
    let at = at_param(at);

    let keys = ok(&server, &format!("/api/properties?range=1h&at={at}")).await;
    assert_eq!(
        keys["keys"],
        json!([{"key": "email_domain", "events": 7}, {"key": "plan", "events": 4}])
    );
    assert_eq!(keys["range"], "1h");
    assert!(keys["as_of_flush"].as_u64().unwrap() >= 1);
    let in_de = ok(
        &server,
        &format!("/api/properties?range=1h&at={at}&country=DE"),
    )
    .await;
    assert_eq!(
        in_de["keys"],
        json!([{"key": "email_domain", "events": 4}, {"key": "plan", "events": 2}])
    );

    // Empty values are no suggestion; ties by value.
    let values = |query: &str| format!("/api/values?range=1h&at={at}&{query}");
    let domains = ok(&server, &values("key=prop.email_domain")).await;
    assert_eq!(
        (&domains["key"], &domains["values"]),
        (
            &json!("prop.email_domain"),
            &json!([{"value": "gmail.com", "events": 3}, {"value": "outlook.com", "events": 2},
                    {"value": "Gmail.com", "events": 1}])
        )
    );
    // A search matches the start in any case; each value keeps its own.
    let gm = ok(&server, &values("key=prop.email_domain&search=GM")).await;
    assert_eq!(
        gm["values"],
        json!([{"value": "gmail.com", "events": 3}, {"value": "Gmail.com", "events": 1}])
    );
    let names = ok(&server, &values("key=event_name&country=US")).await;
    assert_eq!(
        names["values"],
        json!([{"value": "signup_started", "events": 3}, {"value": "page_view", "events": 2},
               {"value": "email_verified", "events": 1}])
    );
    let countries = ok(&server, &values("key=country")).await;
    assert_eq!(
        countries["values"],
        json!([{"value": "US", "events": 6}, {"value": "DE", "events": 4}])
    );
    for (query, field) in [
        ("range=1h", "key"),
        ("key=colour", "key"),
        ("key=prop.a%20b", "key"),
        ("key=country&search=a%00", "search"),
        ("key=country&range=2h", "range"),
        ("key=country&bucket=1", "bucket"),
    ] {
        let path = format!("/api/values?{query}");
        let (status, body) = server.get(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(field),
            "{path}: {body}"
        );
    }
    server.stop();
}

/// `from`/`to` in place of `range` (DESIGN.md "The story over time"): the window
/// `(from, to]`, the same answer as `range` and `at` for the same span, and each way of
/// getting them wrong named.
#[tokio::test]
async fn from_and_to_pick_the_window_wherever_range_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    post_all(&server, &events(at.timestamp_millis())).await;
    let param = at_param;
    let span =
        |from: Duration, to: Duration| format!("from={}&to={}", param(at - from), param(at - to));

    // (at - 5m30s, at - 1m30s] holds the events 2 to 5 minutes before `at`: four sign-ups,
    // three from the US.
    let four = span(Duration::seconds(330), Duration::seconds(90));
    let countries = ok(&server, &format!("/api/values?key=country&{four}")).await;
    assert_eq!(
        (&countries["range"], &countries["values"]),
        (
            &json!("4m"),
            &json!([{"value": "US", "events": 3}, {"value": "DE", "events": 1}])
        )
    );
    let keys = ok(&server, &format!("/api/properties?{four}")).await;
    assert_eq!(
        keys["keys"],
        json!([{"key": "email_domain", "events": 4}, {"key": "plan", "events": 1}])
    );

    // An hour up to `at` is `range=1h&at=`, to the byte.
    let hour = span(Duration::hours(1), Duration::zero());
    let by_span = ok(&server, &format!("/api/panels?{hour}")).await;
    let by_range = ok(&server, &format!("/api/panels?range=1h&at={}", param(at))).await;
    assert_eq!(by_span, by_range);
    assert_eq!(by_span["range"], "1h");
    let day_and_a_half = span(Duration::hours(36), Duration::zero());
    let long = ok(&server, &format!("/api/panels?{day_and_a_half}")).await;
    assert_eq!(long["range"], "36h");

    let (from, to) = (param(at - Duration::hours(2)), param(at));
    for (query, says) in [
        (format!("from={from}"), "from and to go together"),
        (format!("to={to}"), "from and to go together"),
        (
            format!("range=1h&from={from}&to={to}"),
            "from and to replace range",
        ),
        (
            format!("at={to}&from={from}&to={to}"),
            "from and to replace range",
        ),
        (
            format!("from={to}&to={from}"),
            "from: must be at least 1 minute",
        ),
        (
            span(Duration::days(31), Duration::zero()),
            "from: must be at most 30 days",
        ),
        (
            format!("from=yesterday&to={to}"),
            "from: must be an RFC 3339 time",
        ),
        (
            format!("from={from}&to=2026-13-01T00:00:00Z"),
            "to: must be an RFC 3339 time",
        ),
    ] {
        for route in ["/api/panels", "/api/values?key=country&", "/api/properties"] {
            let path = match route.ends_with('&') {
                true => format!("{route}{query}"),
                false => format!("{route}?{query}"),
            };
            let (status, body) = server.get(&path).await;
            assert_eq!(status, 400, "{path}: {body}");
            let error = body["error"].as_str().unwrap();
            assert!(error.contains(says), "{path}: {error}");
        }
    }
    server.stop();
}
