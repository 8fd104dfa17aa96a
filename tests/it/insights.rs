//! Insights (DESIGN.md "Insights"): every measure, breakdown and interval answered exactly as a
//! reference written here in plain Rust computes it from the posted events — empty buckets,
//! numeric strings, absent and non-numeric properties, the largest groups, the previous range;
//! stored definitions survive a restart; bad ones are refused naming the field.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::common::Server;
use crate::funnels::reference::Dim;
use crate::funnels::{at_param, past_instant, post_all, Ev};

const HOUR_MS: i64 = 3_600_000;

/// A series as compared: its group, total, and `(t, value)` points.
type Group = (Option<String>, Option<f64>, Vec<(i64, Option<f64>)>);
type Shape = Vec<Group>;

/// 480 events over the two hours before `t`, and 60 in the six hours before those: three
/// names, four countries, two devices, users and anonymous sessions, an `amount` that is a
/// number, a numeric string, a word or absent, a `plan`, and a `button` that is a formula.
fn events(t: i64) -> Vec<Ev> {
    let names = ["page_view", "button_click", "checkout"];
    let countries = ["DE", "US", "FR", "GB"];
    let plans = ["pro", "free", "team"];
    let mut out = Vec::new();
    for i in 0..540_i64 {
        // Spread unevenly: gaps leave some buckets empty.
        let ms = match i < 480 {
            true => t - 1 - (i * 7_919 * 13) % (2 * HOUR_MS - 1),
            false => t - 2 * HOUR_MS - 1 - (i * 104_729 * 7) % (6 * HOUR_MS - 2),
        };
        if (ms / 60_000) % 17 == 3 {
            continue;
        }
        let mut props = vec![("plan".to_owned(), json!(plans[(i % 7 % 3) as usize]))];
        match i % 5 {
            0 => props.push(("amount".to_owned(), json!(i % 23 * 2 + 1))),
            1 => props.push(("amount".to_owned(), json!(format!("{}.5", i % 11)))),
            2 => props.push(("amount".to_owned(), json!("abc"))),
            3 => props.push(("amount".to_owned(), json!(0.25 * (i % 9) as f64 + 0.125))),
            _ => {}
        }
        if i % 13 == 0 {
            props.push(("button".to_owned(), json!("=HYPERLINK(\"http://x\")")));
        }
        out.push(Ev {
            name: names[(i % 3) as usize].to_owned(),
            ms,
            session: format!("s{}", i % 37),
            user: (i % 4 != 0).then(|| format!("u{}", i % 29)),
            country: countries[(i % 11 % 4) as usize].to_owned(),
            device: ["desktop", "mobile"][(i % 2) as usize].to_owned(),
            props,
        });
    }
    out
}

/// An insight as the tests ask it, and the reference's reading of it.
struct Def {
    events: &'static [&'static str],
    filter: Option<(&'static str, &'static str)>,
    measure: &'static str,
    breakdown: Option<&'static str>,
    interval: &'static str,
}

impl Def {
    fn body(&self) -> Value {
        let mut body = json!({"events": self.events, "measure": self.measure,
                              "interval": self.interval, "breakdown": self.breakdown});
        if let Some((k, v)) = self.filter {
            body["where"] = json!({ k: v });
        }
        body
    }

    fn dim(&self) -> Option<Dim> {
        self.breakdown.map(|b| match b {
            "country" => Dim::Country,
            "device" => Dim::Device,
            "event_name" => Dim::Prop("\0name".into()),
            prop => Dim::Prop(prop.strip_prefix("prop.").unwrap().into()),
        })
    }

    fn keeps(&self, e: &Ev) -> bool {
        let named = self.events.is_empty() || self.events.contains(&e.name.as_str());
        let filtered = match self.filter {
            None => true,
            Some(("country", v)) => e.country == v,
            Some((prop, v)) => Dim::Prop(prop[5..].into()).of(e) == v,
        };
        named && filtered
    }
}

fn group_of(dim: &Option<Dim>, e: &Ev) -> String {
    match dim {
        None => String::new(),
        Some(Dim::Prop(k)) if k == "\0name" => e.name.clone(),
        Some(d) => d.of(e),
    }
}

/// A property as a number: a JSON number, or a string that parses as one.
fn number(e: &Ev, key: &str) -> Option<f64> {
    match e.props.iter().find(|(k, _)| k == key)?.1 {
        Value::Number(ref n) => n.as_f64(),
        Value::String(ref s) => s.parse().ok(),
        _ => None,
    }
}

/// The measure over `events` (all of one group and bucket); `None` where it has no value.
fn measure(measure: &str, events: &[&Ev]) -> Option<f64> {
    let distinct = |f: &dyn Fn(&Ev) -> String| {
        events.iter().map(|e| f(e)).collect::<BTreeSet<_>>().len() as f64
    };
    match measure {
        "count" => return Some(events.len() as f64),
        "users" => return Some(distinct(&|e| e.user.clone().unwrap_or(e.session.clone()))),
        "sessions" => return Some(distinct(&|e| e.session.clone())),
        _ => {}
    }
    let (aggregate, prop) = measure.split_once(':').unwrap();
    let mut xs: Vec<f64> = events
        .iter()
        .filter_map(|e| number(e, &prop[5..]))
        .collect();
    xs.sort_by(f64::total_cmp);
    if xs.is_empty() {
        return (aggregate == "sum").then_some(0.0);
    }
    // Linear between the nearest two (numpy's default, Excel's PERCENTILE.INC).
    let quantile = |p: f64| {
        let h = (xs.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(xs.len() - 1);
        xs[lo] + (h - lo as f64) * (xs[hi] - xs[lo])
    };
    Some(match aggregate {
        "sum" => xs.iter().sum(),
        "avg" => xs.iter().sum::<f64>() / xs.len() as f64,
        "min" => xs[0],
        "max" => xs[xs.len() - 1],
        "p50" => quantile(0.5),
        "p95" => quantile(0.95),
        other => panic!("{other}"),
    })
}

/// The series of `def` over `(end - range, end]`, as the contract shapes them: the ten groups
/// with the largest total (ties by value), each with every bucket.
fn reference(all: &[Ev], def: &Def, end_ms: i64, range_ms: i64, interval_s: i64) -> Shape {
    let start_ms = end_ms - range_ms;
    let kept: Vec<&Ev> = all
        .iter()
        .filter(|e| e.ms > start_ms && e.ms <= end_ms && def.keeps(e))
        .filter(|e| {
            !def.measure.contains(':')
                || number(e, &def.measure.split_once(':').unwrap().1[5..]).is_some()
        })
        .collect();
    let dim = def.dim();
    let mut by_group: BTreeMap<String, Vec<&Ev>> = BTreeMap::new();
    for e in &kept {
        by_group.entry(group_of(&dim, e)).or_default().push(e);
    }
    let mut groups: Vec<(String, Option<f64>)> = by_group
        .iter()
        .map(|(g, es)| (g.clone(), measure(def.measure, es)))
        .collect();
    groups.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    groups.truncate(10);
    if dim.is_none() && groups.is_empty() {
        groups.push((String::new(), measure(def.measure, &[])));
    }
    let interval_ms = interval_s * 1000;
    let buckets = (start_ms + 1).div_euclid(interval_ms)..=end_ms.div_euclid(interval_ms);
    groups
        .into_iter()
        .map(|(group, total)| {
            let events = by_group.get(&group).cloned().unwrap_or_default();
            let points = buckets
                .clone()
                .map(|b| {
                    let inside: Vec<&Ev> = events
                        .iter()
                        .copied()
                        .filter(|e| e.ms.div_euclid(interval_ms) == b)
                        .collect();
                    (b * interval_s, measure(def.measure, &inside))
                })
                .collect();
            (dim.as_ref().map(|_| group), total, points)
        })
        .collect()
}

/// The answer's series in the reference's shape (times as Unix seconds).
fn shape(series: &Value) -> Shape {
    series
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let points = s["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let t = chrono::DateTime::parse_from_rfc3339(p["t"].as_str().unwrap()).unwrap();
                    (t.timestamp(), p["value"].as_f64())
                })
                .collect();
            (
                s["group"].as_str().map(str::to_owned),
                s["total"].as_f64(),
                points,
            )
        })
        .collect()
}

/// Equal, numbers to 1e-9 of each other (an average summed in another order).
fn assert_same(got: &[Group], want: &[Group], what: &str) {
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (a, b) => a == b,
    };
    let groups = |s: &[Group]| s.iter().map(|g| g.0.clone()).collect::<Vec<_>>();
    assert_eq!(groups(got), groups(want), "{what}: groups");
    for (g, w) in got.iter().zip(want) {
        assert!(
            close(g.1, w.1),
            "{what} {:?}: total {:?} want {:?}",
            g.0,
            g.1,
            w.1
        );
        let times = |s: &[(i64, Option<f64>)]| s.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(times(&g.2), times(&w.2), "{what} {:?}: buckets", g.0);
        for (p, q) in g.2.iter().zip(&w.2) {
            assert!(
                close(p.1, q.1),
                "{what} {:?} at {}: {:?} want {:?}",
                g.0,
                p.0,
                p.1,
                q.1
            );
        }
    }
}

async fn ask(server: &Server, query: &str, body: &Value) -> (u16, Value) {
    let response = (server.http)
        .post(format!("{}/api/insights/query?{query}", server.url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_measure_breakdown_and_interval_equals_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    let end_ms = at.timestamp_millis();
    let all = events(end_ms);
    post_all(&server, &all).await;
    let at = at_param(at);

    let cases = [
        Def {
            events: &[],
            filter: None,
            measure: "count",
            breakdown: None,
            interval: "auto",
        },
        Def {
            events: &["page_view", "checkout"],
            filter: None,
            measure: "count",
            breakdown: Some("country"),
            interval: "auto",
        },
        Def {
            events: &[],
            filter: Some(("country", "DE")),
            measure: "count",
            breakdown: Some("event_name"),
            interval: "minute",
        },
        Def {
            events: &[],
            filter: None,
            measure: "count",
            breakdown: Some("device"),
            interval: "hour",
        },
        Def {
            events: &["button_click"],
            filter: None,
            measure: "users",
            breakdown: Some("prop.plan"),
            interval: "auto",
        },
        Def {
            events: &[],
            filter: Some(("prop.plan", "pro")),
            measure: "sessions",
            breakdown: None,
            interval: "hour",
        },
        Def {
            events: &[],
            filter: None,
            measure: "sum:prop.amount",
            breakdown: None,
            interval: "auto",
        },
        Def {
            events: &[],
            filter: None,
            measure: "avg:prop.amount",
            breakdown: Some("country"),
            interval: "auto",
        },
        Def {
            events: &["checkout"],
            filter: None,
            measure: "min:prop.amount",
            breakdown: None,
            interval: "auto",
        },
        Def {
            events: &[],
            filter: None,
            measure: "max:prop.amount",
            breakdown: Some("event_name"),
            interval: "hour",
        },
        Def {
            events: &[],
            filter: None,
            measure: "p50:prop.amount",
            breakdown: None,
            interval: "hour",
        },
        Def {
            events: &[],
            filter: Some(("country", "US")),
            measure: "p95:prop.amount",
            breakdown: Some("device"),
            interval: "auto",
        },
        // Users by a property with many values: the ten largest groups, ties by value.
        Def {
            events: &[],
            filter: None,
            measure: "count",
            breakdown: Some("prop.amount"),
            interval: "day",
        },
        // Nothing matches: one series of zeros, or no groups.
        Def {
            events: &["never_sent"],
            filter: None,
            measure: "count",
            breakdown: None,
            interval: "auto",
        },
        Def {
            events: &["never_sent"],
            filter: None,
            measure: "avg:prop.amount",
            breakdown: Some("country"),
            interval: "auto",
        },
        Def {
            events: &[],
            filter: None,
            measure: "sum:prop.absent",
            breakdown: None,
            interval: "auto",
        },
    ];
    for (range, range_ms) in [("1h", HOUR_MS), ("6h", 6 * HOUR_MS), ("24h", 24 * HOUR_MS)] {
        for def in &cases {
            let what = format!("{range} {}", def.body());
            let (status, answer) =
                ask(&server, &format!("range={range}&at={at}"), &def.body()).await;
            assert_eq!(status, 200, "{what}: {answer}");
            let interval_s = answer["interval_s"].as_i64().unwrap();
            let expected = match (def.interval, range) {
                ("minute", _) => 60,
                ("hour", _) => 3600,
                ("day", _) => 86_400,
                (_, "1h") => 60,
                (_, "6h") => 300,
                _ => 900,
            };
            assert_eq!(interval_s, expected, "{what}");
            assert_eq!(
                (&answer["range"], &answer["id"]),
                (&json!(range), &Value::Null)
            );
            assert_same(
                &shape(&answer["series"]),
                &reference(&all, def, end_ms, range_ms, interval_s),
                &what,
            );
        }
    }

    // Counts from the rollups equal counts from raw events.
    for def in &cases[..4] {
        let query = |source: &str| format!("range=24h&at={at}&source={source}");
        let views = ask(&server, &query("views"), &def.body()).await.1;
        let raw = ask(&server, &query("raw"), &def.body()).await.1;
        assert_eq!(views["series"], raw["series"], "{}", def.body());
    }

    // The scope's filters narrow as `where` does; a week and a month are ranges here.
    let by_country = &cases[1];
    let (_, answer) = ask(
        &server,
        &format!("range=7d&at={at}&device=mobile"),
        &by_country.body(),
    )
    .await;
    let mobile: Vec<Ev> = all
        .iter()
        .filter(|e| e.device == "mobile")
        .cloned()
        .collect();
    assert_same(
        &shape(&answer["series"]),
        &reference(&mobile, by_country, end_ms, 7 * 24 * HOUR_MS, 3600),
        "7d mobile",
    );
    assert_eq!(answer["filters"], json!({"device": "mobile"}));

    // compare=previous: the hour before, in this hour's buckets.
    let def = &cases[0];
    let (_, answer) = ask(
        &server,
        &format!("range=1h&at={at}&compare=previous"),
        &def.body(),
    )
    .await;
    let mut before = reference(&all, def, end_ms - HOUR_MS, HOUR_MS, 60);
    for point in before.iter_mut().flat_map(|s| s.2.iter_mut()) {
        point.0 += 3600;
    }
    assert_same(&shape(&answer["previous"]), &before, "previous hour");
    assert!(before[0].1.unwrap() > 0.0, "the hour before has events");
    server.stop();
}

#[tokio::test]
async fn insights_are_stored_answered_drawn_and_listed_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    let end_ms = at.timestamp_millis();
    let all = events(end_ms);
    post_all(&server, &all).await;
    let at = at_param(at);

    let body = json!({"name": "Clicks by button", "events": ["button_click", "page_view"],
                      "measure": "count", "breakdown": "prop.button", "chart": "bar"});
    let (status, stored) = server.put("/api/insights/clicks", &body.to_string()).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        stored,
        json!({"id": "clicks", "name": "Clicks by button", "events": ["button_click", "page_view"],
               "where": {}, "measure": "count", "interval": "auto", "breakdown": "prop.button",
               "chart": "bar"})
    );
    let (_, list) = server.get("/api/insights").await;
    assert_eq!(list, json!({"insights": [stored.clone()]}));

    let (status, answer) = server
        .get(&format!("/api/insights/clicks?range=6h&at={at}"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["id"], &answer["name"]),
        (&json!("clicks"), &json!("Clicks by button"))
    );
    let def = Def {
        events: &["button_click", "page_view"],
        filter: None,
        measure: "count",
        breakdown: Some("prop.button"),
        interval: "auto",
    };
    let want = reference(&all, &def, end_ms, 6 * HOUR_MS, 300);
    assert_same(&shape(&answer["series"]), &want, "stored");
    assert_eq!(want.len(), 2, "the formula and the events without it");

    // CSV: t,group,value, every point; the formula made safe; read back as a table.
    let csv = (server.http)
        .get(format!(
            "{}/api/insights/clicks.csv?range=6h&at={at}",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "t,group,value");
    assert_eq!(lines.len(), 1 + 2 * want[0].2.len());
    let formula = lines.iter().filter(|l| l.contains("HYPERLINK")).count();
    assert_eq!(formula, want[0].2.len());
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("HYPERLINK"))
            .all(|l| l.contains(",\"'=HYPERLINK(\"\"http://x\"\")\",")),
        "{text}"
    );
    let csv_total: f64 = lines[1..]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    let want_total: f64 = want.iter().map(|g| g.1.unwrap()).sum();
    assert_eq!(csv_total, want_total);

    // SVG: drawn, with the groups' legend.
    let svg = (server.http)
        .get(format!(
            "{}/api/insights/clicks.svg?range=6h&at={at}",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("Clicks by button — count · 6h"),
        "{svg}"
    );

    // Survives a restart; deleted, it is gone.
    server.stop();
    let server = Server::start(dir.path(), &[]);
    let (_, list) = server.get("/api/insights").await;
    assert_eq!(list["insights"][0], stored);
    assert_eq!(server.delete("/api/insights/clicks").await.0, 204);
    let (status, missing) = server.get("/api/insights/clicks").await;
    assert_eq!(status, 404);
    assert_eq!(
        missing["error"],
        "no insight \"clicks\": GET /api/insights lists them, PUT /api/insights/clicks defines it"
    );
    server.stop();
}

#[tokio::test]
async fn bad_insights_and_parameters_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    for (body, error) in [
        (json!({"measure": "median:prop.x"}), "measure: count, users, sessions, or sum|avg|min|max|p50|p95:prop.KEY (got \"median:prop.x\")"),
        (json!({"events": ["a", "b", "c", "d", "e", "f"]}), "events: a list of 0 to 5 event names (none: every event)"),
        (json!({"breakdown": "colour"}), "breakdown: country, device, event_name or prop.KEY (got \"colour\")"),
        (json!({"chart": "pie"}), "chart: line, bar, number or table (got \"pie\")"),
        (json!({"where": {"colour": "red"}}), "where.colour: unknown parameter; filters are country, device and prop.KEY"),
    ] {
        let (status, answer) = server.put("/api/insights/x", &body.to_string()).await;
        assert_eq!((status, &answer["error"]), (400, &json!(error)), "{body}");
        let (status, answer) = ask(&server, "range=1h", &body).await;
        assert_eq!((status, &answer["error"]), (400, &json!(error)), "{body}");
    }
    let (_, list) = server.get("/api/insights").await;
    assert_eq!(list, json!({"insights": []}), "nothing stored");
    for (query, error) in [
        ("range=2d", "range must be 1h, 6h, 24h, 7d or 30d, or give from and to (RFC 3339, up to 30 days apart) (got \"2d\")"),
        ("range=1h&compare=last", "compare: previous, or leave it out (got \"last\")"),
    ] {
        let (status, answer) = ask(&server, query, &json!({})).await;
        assert_eq!((status, &answer["error"]), (400, &json!(error)), "{query}");
    }
    let (status, answer) = ask(&server, "range=30d", &json!({"interval": "minute"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        "interval: 43201 points over this range; at most 2000: pick a longer interval"
    );
    let (status, _) = server.get("/api/panels?range=7d").await;
    assert_eq!(status, 400, "the panels keep to a day");
    server.stop();
}
