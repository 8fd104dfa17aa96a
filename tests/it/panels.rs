//! The four panels against a fixture whose expected values this test computes itself, straight
//! from the definitions in DESIGN.md, for every range.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

use crate::common::Server;

struct Fixture {
    name: &'static str,
    ts_ms: i64,
    session: String,
    user: Option<String>,
    feature: Option<String>,
    country: &'static str,
    device: &'static str,
    /// `properties.plan`: a string, a number or absent (filters compare it as text).
    plan: Value,
}

impl Fixture {
    fn json(&self) -> Value {
        let mut e = json!({
            "event_name": self.name, "timestamp": self.ts_ms, "session_id": self.session,
            "user_id": self.user, "device_type": self.device, "properties": {"plan": self.plan},
        });
        if !self.country.is_empty() {
            e["country_code"] = json!(self.country.to_lowercase());
        }
        if self.plan.is_null() {
            e["properties"] = json!({});
        }
        if let Some(f) = &self.feature {
            e["properties"]["feature"] = json!(f);
        }
        e
    }

    /// The plan as a filter compares it: a string as is, a number as JSON writes it.
    fn plan_text(&self) -> Option<String> {
        match &self.plan {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn unique_user(&self) -> &str {
        self.user.as_deref().unwrap_or(&self.session)
    }
}

/// A deterministic spread of events over the 26 hours before `at` (some outside every range),
/// with events exactly on the range edges.
fn fixtures(at_ms: i64) -> Vec<Fixture> {
    let features = [
        "export",
        "search",
        "alerts",
        "sharing",
        "dashboards",
        "comments",
        "api",
        "sso",
        "themes",
        "billing",
        // Names a spreadsheet would take for formulas: the CSV must defuse them.
        "=webhooks",
        "@audit",
    ];
    let names = [
        "page_view",
        "button_click",
        "signup_started",
        "signup_completed",
        "feature_used",
        "error_occurred",
        "page_view",
        "feature_used",
        "custom.thing",
    ];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut out = Vec::new();
    for i in 0..3000u64 {
        // Denser in the last hour so every 1h bucket has something to count.
        let age_ms = if i % 3 == 0 {
            next(3_600_000)
        } else {
            next(26 * 3_600_000)
        } as i64;
        let name = names[next(names.len() as u64) as usize];
        let session = format!("s{}", next(400));
        let user = (next(10) < 6).then(|| format!("u{}", next(150)));
        // Skewed so the ranking is mostly clear but has ties.
        let feature = (name == "feature_used").then(|| {
            features[(next(features.len() as u64) * next(features.len() as u64) / 11) as usize]
                .to_string()
        });
        // Country and device belong to the session, as they do for real traffic.
        let n: u64 = session[1..].parse().unwrap();
        let country = ["DE", "FR", "US", "GB", ""][(n % 5) as usize];
        let device = ["desktop", "mobile", "tablet"][(n % 3) as usize];
        let plan = [json!("pro"), json!("free"), json!(2), Value::Null][next(4) as usize].clone();
        out.push(Fixture {
            name,
            ts_ms: at_ms - age_ms,
            session,
            user,
            feature,
            country,
            device,
            plan,
        });
    }
    // Edges: exactly at `at` counts; exactly at at - range does not.
    for (age, session) in [
        (0, "edge-now"),
        (300_000, "edge-5m"),
        (3_600_000, "edge-1h"),
        (86_400_000, "edge-24h"),
    ] {
        out.push(Fixture {
            name: "page_view",
            ts_ms: at_ms - age,
            session: session.into(),
            user: None,
            feature: None,
            country: "DE",
            device: "mobile",
            plan: json!("pro"),
        });
    }
    out
}

fn iso(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn floor(ms: i64, step_s: i64) -> i64 {
    ms.div_euclid(1000).div_euclid(step_s) * step_s
}

fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// The dashboard the definitions imply for `range_s` ending at `at_ms`.
fn expected(events: &[&Fixture], at_ms: i64, range_s: i64, bucket_s: i64) -> Value {
    let start_ms = at_ms - range_s * 1000;
    let in_range: Vec<&Fixture> = events
        .iter()
        .copied()
        .filter(|e| e.ts_ms > start_ms && e.ts_ms <= at_ms)
        .collect();

    let active: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.ts_ms > at_ms - 300_000 && e.ts_ms <= at_ms)
        .map(|e| e.session.as_str())
        .collect();
    let buckets =
        |step: i64| (floor(start_ms + 1, step)..=floor(at_ms, step)).step_by(step as usize);
    let series: Vec<Value> = buckets(bucket_s)
        .map(|b| {
            let sessions: BTreeSet<&str> = in_range
                .iter()
                .filter(|e| floor(e.ts_ms, bucket_s) == b)
                .map(|e| e.session.as_str())
                .collect();
            json!({"t": iso(b), "sessions": sessions.len()})
        })
        .collect();

    let funnel: Vec<Value> = buckets(3600)
        .map(|h| {
            let count = |name| in_range.iter().filter(|e| e.name == name && floor(e.ts_ms, 3600) == h).count();
            let (started, completed) = (count("signup_started"), count("signup_completed"));
            let conversion = (started > 0).then(|| round(completed as f64 / started as f64 * 100.0, 1));
            json!({"hour": iso(h), "started": started, "completed": completed, "conversion_pct": conversion})
        })
        .collect();

    let mut features: BTreeMap<&str, (BTreeSet<&str>, u64)> = BTreeMap::new();
    for e in in_range.iter().filter(|e| e.name == "feature_used") {
        let entry = features.entry(e.feature.as_deref().unwrap()).or_default();
        entry.0.insert(e.unique_user());
        entry.1 += 1;
    }
    let mut top: Vec<(&str, usize, u64)> = features
        .iter()
        .map(|(f, (u, n))| (*f, u.len(), *n))
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<Value> = top
        .iter()
        .take(10)
        .map(|(f, u, n)| json!({"feature": f, "users": u, "events": n}))
        .collect();

    let mut minutes: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for e in &in_range {
        let m = minutes.entry(floor(e.ts_ms, 60)).or_default();
        m.0 += u64::from(e.name == "error_occurred");
        m.1 += 1;
    }
    let errors: Vec<Value> = minutes
        .iter()
        .map(|(m, (errors, total))| {
            json!({"minute": iso(*m), "errors": errors, "total": total,
                   "rate_pct": round(*errors as f64 / *total as f64 * 100.0, 2)})
        })
        .collect();

    json!({
        "active_users": {"value": active.len(), "series": series},
        "signup_funnel": funnel,
        "top_features": top,
        "error_rate": {"threshold_pct": 1.0, "series": errors},
    })
}

/// The filters the tests ask for, as a query string, and which fixtures each keeps.
type Keep = fn(&Fixture) -> bool;
const FILTERED: [(&str, Keep); 5] = [
    ("", |_| true),
    ("&country=de", |e| e.country == "DE"),
    ("&device=mobile,tablet", |e| e.device != "desktop"),
    ("&prop.plan=2,pro", |e| {
        matches!(e.plan_text().as_deref(), Some("2" | "pro"))
    }),
    ("&country=US,GB&device=desktop&prop.plan=free", |e| {
        ["US", "GB"].contains(&e.country)
            && e.device == "desktop"
            && e.plan_text().as_deref() == Some("free")
    }),
];

#[tokio::test]
async fn panels_match_the_definitions_for_every_range() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    // A past instant, off the minute, so buckets and edges are exercised.
    let at: DateTime<Utc> = Utc
        .timestamp_millis_opt((Utc::now().timestamp() / 60 - 2) * 60_000 + 17_250)
        .unwrap();
    let at_ms = at.timestamp_millis();
    let events = fixtures(at_ms);
    for chunk in events.chunks(500) {
        let body: Vec<Value> = chunk.iter().map(Fixture::json).collect();
        assert_eq!(server.post_ok(&json!(body)).await, chunk.len() as u64);
    }
    server.drained().await;

    let at_param = at
        .to_rfc3339_opts(SecondsFormat::Millis, true)
        .replace('+', "%2B");
    for ((range, seconds, bucket), (filters, keep)) in [
        ("1h", 3600, 60),
        ("6h", 6 * 3600, 300),
        ("24h", 24 * 3600, 900),
    ]
    .into_iter()
    .flat_map(|r| FILTERED.map(|f| (r, f)))
    {
        let (status, mut got) = server
            .get(&format!("/api/panels?range={range}&at={at_param}{filters}"))
            .await;
        assert_eq!(status, 200, "{got}");
        let kept: Vec<&Fixture> = events.iter().filter(|e| keep(e)).collect();
        assert_eq!(got["range"], range);
        assert_eq!(
            got["generated_at"],
            at.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
        let want = expected(&kept, at_ms, seconds, bucket);
        for panel in [
            "active_users",
            "signup_funnel",
            "top_features",
            "error_rate",
        ] {
            assert_eq!(
                got[panel].take(),
                want[panel],
                "{panel} over {range}{filters}"
            );
        }
        let echo = match filters {
            "" => json!({}),
            "&country=de" => json!({"country": "DE"}),
            _ => got["filters"].clone(),
        };
        assert_eq!(got["filters"], echo, "the filters applied, normalised");
        // One panel alone is that member of the dashboard.
        let (_, one) = server
            .get(&format!(
                "/api/panels/top_features?range={range}&at={at_param}{filters}"
            ))
            .await;
        assert_eq!(one, json!({"top_features": want["top_features"]}));
        // Each panel's CSV holds the same rows (by `.csv`, or by `Accept: text/csv`).
        for panel in [
            "active_users",
            "signup_funnel",
            "top_features",
            "error_rate",
        ] {
            let url = format!(
                "{}/api/panels/{panel}.csv?range={range}&at={at_param}{filters}",
                server.url
            );
            let response = server.http.get(url).send().await.unwrap();
            assert_eq!(
                response.headers()["content-type"],
                "text/csv; charset=utf-8"
            );
            assert_eq!(
                response.text().await.unwrap(),
                csv_of(panel, &want[panel]),
                "{panel} over {range}{filters}"
            );
        }
        let url = format!(
            "{}/api/panels/top_features?range={range}&at={at_param}{filters}",
            server.url
        );
        let response = server
            .http
            .get(url)
            .header("accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.text().await.unwrap(),
            csv_of("top_features", &want["top_features"])
        );
    }
    server.stop();
}

/// A panel's expected JSON as the CSV the contract describes: a header, CRLF rows, nulls empty,
/// text that would start a formula prefixed with `'`.
fn csv_of(panel: &str, want: &Value) -> String {
    let (header, rows, columns): (&str, &Value, &[&str]) = match panel {
        "active_users" => ("t,sessions", &want["series"], &["t", "sessions"]),
        "signup_funnel" => (
            "hour,started,completed,conversion_pct",
            want,
            &["hour", "started", "completed", "conversion_pct"],
        ),
        "top_features" => (
            "feature,users,events",
            want,
            &["feature", "users", "events"],
        ),
        _ => (
            "minute,errors,total,rate_pct",
            &want["series"],
            &["minute", "errors", "total", "rate_pct"],
        ),
    };
    let cell = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        // The shortest text of the number (`190`, `92.2`), as a spreadsheet reads it.
        Value::Number(n) => n
            .as_u64()
            .map_or_else(|| n.as_f64().unwrap().to_string(), |u| u.to_string()),
        other => panic!("not a cell: {other}"),
    };
    let mut out = format!("{header}\r\n");
    for row in rows.as_array().unwrap() {
        let cells: Vec<String> = columns.iter().map(|c| cell(&row[c])).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[tokio::test]
async fn many_viewers_cost_one_computation_per_flush() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    server
        .post(&json!([{"event_name": "page_view", "session_id": "s1"}]))
        .await;
    let health = server.drained().await;
    let before = health["panel_queries"].as_u64().unwrap();
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let (http, url) = (server.http.clone(), server.url.clone());
            tokio::spawn(async move {
                http.get(format!("{url}/api/panels?range=6h"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for r in requests {
        assert_eq!(r.await.unwrap().as_u16(), 200);
    }
    let after = server.health().await["panel_queries"].as_u64().unwrap();
    assert_eq!(
        after - before,
        1,
        "one dashboard computation for 50 viewers"
    );
    server.stop();
}

#[tokio::test]
async fn bad_filters_are_refused_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let five = "prop.a=1&prop.b=1&prop.c=1&prop.d=1&prop.e=1";
    let cases = [
        ("country=DEU", "query parameter country: two letters"),
        ("country=", "query parameter country: must not be empty"),
        (
            "device=mobile,",
            "query parameter device: must not be empty",
        ),
        ("prop.=x", "query parameter prop.: the property key"),
        ("prop.a%20b=x", "query parameter prop.a b: the property key"),
        (
            "prop.plan=pro&prop.plan=free",
            "query parameter prop.plan: given twice",
        ),
        (
            &format!("{five}&country=DE"),
            "query parameter country: at most 5",
        ),
        ("colour=red", "bad query: unknown parameter \"colour\""),
        ("range=1h&range=6h", "bad query: range is given twice"),
    ];
    for (query, error) in cases {
        for path in [
            "/api/panels",
            "/api/panels/error_rate",
            "/api/panels/error_rate.svg",
        ] {
            let (status, body) = server.get(&format!("{path}?{query}")).await;
            assert_eq!(status, 400, "{path}?{query}: {body}");
            let message = body["error"].as_str().unwrap();
            assert!(message.starts_with(error), "{path}?{query}: {message}");
        }
    }
    server.stop();
}

/// Many readers poll while flushes land; every answer reflects one state of the store: its
/// headline, funnel, features and error totals all count the same batches.
#[tokio::test]
async fn every_answer_is_one_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    const BATCHES: u64 = 12;
    const PER_BATCH: u64 = 100;
    // Batch k: 100 events in 10 new sessions: 4 signups started, 3 errors, 5 feature uses.
    let batch = |k: u64| -> Value {
        let events: Vec<Value> = (0..PER_BATCH)
            .map(|i| {
                let name = match i {
                    0..4 => "signup_started",
                    4..7 => "error_occurred",
                    7..12 => "feature_used",
                    _ => "page_view",
                };
                json!({"event_name": name, "session_id": format!("b{k}-s{}", i % 10),
                       "properties": {"feature": "export"}})
            })
            .collect();
        json!(events)
    };
    server.post_ok(&batch(0)).await;
    server.drained().await;
    let readers: Vec<_> = (0..6)
        .map(|_| {
            let (http, url) = (server.http.clone(), server.url.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let got: Value = http
                        .get(format!("{url}/api/panels?range=1h"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let total: u64 = got["error_rate"]["series"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["total"].as_u64().unwrap())
                        .sum();
                    let done = total == BATCHES * PER_BATCH;
                    answers.push(got);
                    if done {
                        return answers;
                    }
                }
            })
        })
        .collect();
    for k in 1..BATCHES {
        server.post_ok(&batch(k)).await;
    }
    let mut seen = 0;
    for reader in readers {
        let mut last_flush = 0;
        for got in reader.await.unwrap() {
            let sum = |panel: &str, member: &str, field: &str| -> u64 {
                let rows = if member.is_empty() {
                    &got[panel]
                } else {
                    &got[panel][member]
                };
                rows.as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r[field].as_u64().unwrap())
                    .sum()
            };
            let total = sum("error_rate", "series", "total");
            assert_eq!(total % PER_BATCH, 0, "whole batches only: {got}");
            let k = total / PER_BATCH;
            assert_eq!(sum("error_rate", "series", "errors"), 3 * k, "{got}");
            assert_eq!(sum("signup_funnel", "", "started"), 4 * k, "{got}");
            assert_eq!(sum("top_features", "", "events"), 5 * k, "{got}");
            assert_eq!(got["active_users"]["value"], 10 * k, "{got}");
            let flush = got["as_of_flush"].as_u64().unwrap();
            assert!(flush >= last_flush, "as_of_flush never goes back: {got}");
            last_flush = flush;
            seen += 1;
        }
    }
    assert!(seen > 6, "the readers polled while flushes landed");
    let health = server.health().await;
    assert!(health["flushes"].as_u64().unwrap() >= 2);
    server.stop();
}
