//! CSV as a spreadsheet opens it: the panels', an insight's and a funnel's CSV read back with
//! Python's `csv` module, values that a spreadsheet would run as formulas made text, a value
//! with a comma, quotes and a line break kept whole.

use chrono::Utc;
use serde_json::{json, Value};

use crate::common::Server;

const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";
const TRICKY: &str = "a,\"b\"\nc";

#[tokio::test]
async fn csv_answers_open_as_text_in_a_spreadsheet() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = Utc::now().timestamp_millis() - 5 * 60_000;
    // Users u0..: each feature value used by a different number of users, so rows sort.
    let features = [(HYPERLINK, 4), ("+cmd", 3), (TRICKY, 2), ("-3", 1)];
    let mut events: Vec<Value> = Vec::new();
    let mut user = 0;
    for (feature, users) in features {
        for _ in 0..users {
            events.push(
                json!({"event_name": "feature_used", "session_id": format!("s{user}"),
                "user_id": format!("u{user}"), "timestamp": at,
                "properties": {"feature": feature}}),
            );
            user += 1;
        }
    }
    // Two sign up with a method that starts with @, one completes.
    for u in 0..2 {
        let method = json!({"method": "@SUM(1)"});
        events.push(
            json!({"event_name": "signup_started", "session_id": format!("f{u}"),
            "user_id": format!("f{u}"), "timestamp": at, "properties": method}),
        );
    }
    events.push(
        json!({"event_name": "signup_completed", "session_id": "f0", "user_id": "f0",
        "timestamp": at + 1000}),
    );
    server.post_ok(&json!(events)).await;
    server.drained().await;
    let insight = json!({"events": ["feature_used"], "breakdown": "prop.feature",
                         "interval": "hour"});
    let put = server
        .put("/api/insights/features", &insight.to_string())
        .await;
    assert_eq!(put.0, 200, "{put:?}");

    let paths = [
        "/api/panels/top_features.csv?range=1h",
        "/api/insights/features.csv?range=6h",
        "/api/funnels/signup.csv?range=1h&breakdown=prop.method",
    ];
    let read = crate::sdks::run("read_csv.py", &json!({"url": server.url, "paths": paths}));
    for path in paths {
        assert_eq!(read[path]["status"], 200, "{path}: {}", read[path]);
        assert_eq!(read[path]["content_type"], "text/csv; charset=utf-8");
    }
    let rows = |path: &str| -> Vec<Vec<String>> {
        serde_json::from_value(read[path]["rows"].clone()).unwrap()
    };
    let safe = |text: &str| format!("'{text}");
    // Text that starts like a formula gets a quote; the rest, numbers included, as it was.
    assert_eq!(
        rows(paths[0]),
        [
            vec!["feature".to_owned(), "users".into(), "events".into()],
            vec![safe(HYPERLINK), "4".into(), "4".into()],
            vec![safe("+cmd"), "3".into(), "3".into()],
            vec![TRICKY.to_owned(), "2".into(), "2".into()],
            vec![safe("-3"), "1".into(), "1".into()],
        ]
    );
    // The insight: every hour bucket of 6h for each group; the counts in the hour of the events.
    let insight_rows = rows(paths[1]);
    assert_eq!(insight_rows[0], ["t", "group", "value"]);
    let counted: Vec<(String, String)> = insight_rows[1..]
        .iter()
        .filter(|row| row[2] != "0")
        .map(|row| (row[1].clone(), row[2].clone()))
        .collect();
    assert_eq!(
        counted,
        [
            (safe(HYPERLINK), "4".to_owned()),
            (safe("+cmd"), "3".to_owned()),
            (TRICKY.to_owned(), "2".to_owned()),
            (safe("-3"), "1".to_owned()),
        ]
    );
    // The funnel: the total's steps (group empty), then the group's.
    let funnel_rows = rows(paths[2]);
    let groups: Vec<&str> = funnel_rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(groups, ["", "", "'@SUM(1)", "'@SUM(1)"]);
    let counts: Vec<&str> = funnel_rows[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(counts, ["2", "1", "2", "1"]);
    server.stop();
}
