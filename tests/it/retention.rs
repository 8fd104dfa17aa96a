//! Retention (DESIGN part 3, "Retention"): cohorts by the period of each actor's first start
//! event, returns counted per period after it, periods not yet begun absent; by a breakdown and
//! under filters; as CSV read back by Python's `csv` module. Expected values are worked out by
//! hand from the events below.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{json, Value};

use crate::common::Server;

/// The span asked: seven days ending yesterday at noon (UTC), so every event is in the past and
/// the last cohort's later periods have not begun.
fn span() -> (DateTime<Utc>, DateTime<Utc>) {
    let today = Utc::now().duration_trunc(Duration::days(1)).unwrap();
    let to = today - Duration::hours(12);
    (to - Duration::days(7), to)
}

fn param(t: DateTime<Utc>) -> String {
    t.to_rfc3339().replace('+', "%2B")
}

/// Actor `who` (a user, or with `user: None` a session) doing `name` on day `day` (0..=3, day 3
/// the span's last) at `hour`.
fn event(who: &str, user: bool, name: &str, day: i64, hour: i64, country: &str) -> Value {
    let (_, to) = span();
    let d3 = to.duration_trunc(Duration::days(1)).unwrap();
    let at = d3 - Duration::days(3 - day) + Duration::hours(hour);
    let mut event = json!({"event_name": name, "session_id": format!("s-{who}"),
                           "timestamp": at.timestamp_millis(), "country_code": country});
    if user {
        event["user_id"] = json!(who);
    }
    event
}

fn events() -> Vec<Value> {
    vec![
        event("u1", true, "signup", 0, 1, "DE"),
        event("u1", true, "page_view", 1, 1, "DE"),
        event("u1", true, "page_view", 3, 1, "DE"),
        event("u2", true, "signup", 0, 2, "DE"),
        event("u2", true, "signup", 1, 2, "DE"),
        event("u2", true, "page_view", 2, 2, "DE"),
        event("u3", true, "signup", 1, 3, "DE"),
        event("u3", true, "page_view", 1, 4, "DE"), // its own cohort's period: not a return
        event("u3", true, "page_view", 2, 3, "DE"),
        event("u3", true, "page_view", 3, 13, "DE"), // after the span's end (noon)
        event("s4", false, "signup", 2, 5, "DE"),
        event("s4", false, "page_view", 3, 5, "DE"),
        event("u5", true, "page_view", 1, 6, "DE"), // never starts
        event("u6", true, "signup", 0, 7, "FR"),
        event("u6", true, "page_view", 1, 7, "FR"),
    ]
}

fn returned(answer: &Value) -> Vec<Value> {
    answer["cohorts"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|c| c["returned"].clone())
        .collect()
}

#[tokio::test]
async fn cohorts_are_counted_by_their_first_start_and_each_period_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    server.post_ok(&json!(events())).await;
    server.drained().await;
    let (from, to) = span();
    let base = format!(
        "/api/retention?from={}&to={}&start_event=signup&periods=3",
        param(from),
        param(to)
    );
    let zero = json!([0, 0, 0, 0]);

    let (status, views) = server.get(&format!("{base}&return_event=page_view")).await;
    assert_eq!(status, 200, "{views}");
    // Eight days touched by the span: four empty, then d0..d3.
    let expected = [&zero, &zero, &zero, &zero]
        .map(Clone::clone)
        .into_iter()
        .chain([
            json!([3, 2, 1, 1]),
            json!([1, 1, 0]),
            json!([1, 1]),
            json!([0]),
        ])
        .collect::<Vec<_>>();
    assert_eq!(returned(&views), expected);
    let d0 = to.duration_trunc(Duration::days(1)).unwrap() - Duration::days(3);
    assert_eq!(
        views["cohorts"][4]["start"],
        json!(d0.to_rfc3339().replace("+00:00", "Z"))
    );
    assert_eq!(views["cohorts"][4]["size"], 3);
    assert_eq!(
        (&views["period"], &views["return_event"]),
        (&json!("day"), &json!("page_view"))
    );

    // Any event returns: u2's second signup counts on day 1; u3's last view is after the span.
    let (_, any) = server.get(&base).await;
    assert_eq!(
        returned(&any)[4..],
        [
            json!([3, 3, 1, 1]),
            json!([1, 1, 0]),
            json!([1, 1]),
            json!([0])
        ]
    );

    // By country: a table per group, the largest first; the total unchanged.
    let (_, by) = server
        .get(&format!("{base}&return_event=page_view&breakdown=country"))
        .await;
    assert_eq!(returned(&by), expected);
    let groups: Vec<&Value> = by["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["group"])
        .collect();
    assert_eq!(groups, [&json!("DE"), &json!("FR")]);
    assert_eq!(
        returned(&by["groups"][0])[4..],
        [
            json!([2, 1, 1, 1]),
            json!([1, 1, 0]),
            json!([1, 1]),
            json!([0])
        ]
    );
    assert_eq!(returned(&by["groups"][1])[4], json!([1, 1, 0, 0]));

    // Filtered: only what FR actors did.
    let (_, fr) = server
        .get(&format!("{base}&return_event=page_view&country=FR"))
        .await;
    assert_eq!(
        returned(&fr)[4..],
        [
            json!([1, 1, 0, 0]),
            json!([0, 0, 0]),
            json!([0, 0]),
            json!([0])
        ]
    );

    // As a spreadsheet opens it.
    let path = format!(
        "{}&return_event=page_view&breakdown=country",
        base.replace("/api/retention?", "/api/retention.csv?")
    );
    let read = crate::sdks::run("read_csv.py", &json!({"url": server.url, "paths": [path]}));
    let rows = &read[&path]["rows"];
    assert_eq!(read[&path]["status"], 200, "{read}");
    assert_eq!(
        rows[0],
        json!(["group", "start", "size", "period_1", "period_2", "period_3"])
    );
    let d0_text = d0.to_rfc3339().replace("+00:00", "Z");
    let d2_text = (d0 + Duration::days(2)).to_rfc3339().replace("+00:00", "Z");
    let find = |group: &str, start: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == group && r[1] == start)
            .cloned()
            .unwrap_or_else(|| panic!("no row {group} {start} in {rows}"))
    };
    assert_eq!(
        find("(all)", &d0_text),
        json!(["(all)", d0_text, "3", "2", "1", "1"])
    );
    assert_eq!(
        find("DE", &d2_text),
        json!(["DE", d2_text, "1", "1", "", ""])
    );
    assert_eq!(
        find("FR", &d0_text),
        json!(["FR", d0_text, "1", "1", "0", "0"])
    );

    // Refusals name the parameter.
    for (query, error) in [
        (
            "/api/retention?range=7d",
            "start_event: required, 1 to 64 characters of a-z 0-9 _ . : -",
        ),
        (
            "/api/retention?range=7d&start_event=signup&periods=31",
            "periods: a whole number from 1 to 30 (got \"31\")",
        ),
        (
            "/api/retention?range=7d&start_event=signup&period=week",
            "period: day or hour (got \"week\")",
        ),
    ] {
        let (status, body) = server.get(query).await;
        assert_eq!(
            (status, body["error"].as_str().unwrap_or_default()),
            (400, error),
            "{query}: {body}"
        );
    }
}
