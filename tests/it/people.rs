//! People and who dropped off (DESIGN part 3): the actors list (search by prefix, newest last
//! event first, latest country and device), one actor's timeline paged by `before` (ties in a
//! millisecond never split or lost; an anonymous actor is its session, never a user's), and a
//! funnel's actors whose totals agree with the funnel's own counts for every step, outcome and
//! group. Expected values are computed here from the events sent.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::Server;

/// A fixed end for every question ("at"), an hour ago, and event times before it.
fn at() -> chrono::DateTime<Utc> {
    let now = Utc::now() - Duration::hours(1);
    now - Duration::milliseconds(now.timestamp_subsec_millis() as i64)
}

fn param(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

struct Sent {
    actor: String,
    session: String,
    name: String,
    ms: i64,
    country: String,
    device: String,
}

/// 30 actors: `u00`..`u19` users (`u07` over two sessions, `u03` sharing its session id with
/// an anonymous visitor), `anon-0`..`anon-9` sessions without a user; names from a 3-step
/// funnel `visit → signup → verify`, each actor going as far as its number says.
fn sent(end_ms: i64) -> Vec<Sent> {
    let mut out = Vec::new();
    let countries = ["DE", "FR", "US"];
    let devices = ["desktop", "mobile"];
    for i in 0..30i64 {
        let (actor, session) = match i {
            0..=19 => (format!("u{i:02}"), format!("s-u{i:02}")),
            _ => (format!("anon-{}", i - 20), format!("anon-{}", i - 20)),
        };
        let steps = ["visit", "signup", "verify"];
        let reached = (i % 4) as usize; // 0: visits twice but never a funnel step after
        for (k, name) in steps.iter().enumerate().take(reached.max(1)) {
            let ms = end_ms - 2_400_000 * (i + 1) + 60_000 * k as i64;
            let session = match (i, k) {
                (7, 2) => "s-u07-b".to_owned(),
                _ => session.clone(),
            };
            out.push(Sent {
                actor: actor.clone(),
                session,
                name: name.to_string(),
                ms,
                country: countries[(i as usize + k) % 3].to_owned(),
                device: devices[(i as usize + k) % 2].to_owned(),
            });
        }
    }
    // u03's session id, used by someone who never signed in: a separate actor.
    out.push(Sent {
        actor: "s-u03".into(),
        session: "s-u03".into(),
        name: "page_view".into(),
        ms: end_ms - 1_000,
        country: "US".into(),
        device: "tablet".into(),
    });
    // u07: two events in one millisecond, and more, to page through.
    for (n, ms) in [5_000, 4_000, 4_000, 3_000, 2_000].iter().enumerate() {
        out.push(Sent {
            actor: "u07".into(),
            session: "s-u07-b".into(),
            name: format!("click_{n}"),
            ms: end_ms - ms,
            country: "DE".into(),
            device: "mobile".into(),
        });
    }
    out
}

fn as_json(events: &[Sent]) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut v = json!({"event_name": e.name, "session_id": e.session,
                               "timestamp": e.ms, "country_code": e.country,
                               "device_type": e.device});
            if e.actor != e.session {
                v["user_id"] = json!(e.actor);
            }
            v
        })
        .collect();
    json!(events)
}

fn time(ms: i64) -> String {
    param(chrono::DateTime::from_timestamp_millis(ms).unwrap())
}

/// What `/api/people` must answer for `search`, worked out from the events.
fn expected_people(events: &[Sent], search: &str) -> Vec<Value> {
    let mut by: BTreeMap<&str, Vec<&Sent>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.actor.starts_with(search)) {
        by.entry(&e.actor).or_default().push(e);
    }
    let mut people: Vec<(i64, Value)> = by
        .into_iter()
        .map(|(actor, events)| {
            let last = events.iter().max_by_key(|e| e.ms).unwrap();
            let first = events.iter().map(|e| e.ms).min().unwrap();
            let sessions: BTreeSet<&str> = events.iter().map(|e| e.session.as_str()).collect();
            let person = json!({"actor": actor, "first_seen": time(first),
                                "last_seen": time(last.ms), "events": events.len(),
                                "sessions": sessions.len(), "country": last.country,
                                "device": last.device});
            (last.ms, person)
        })
        .collect();
    people.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1["actor"].as_str().cmp(&b.1["actor"].as_str()))
    });
    people.into_iter().map(|(_, p)| p).collect()
}

#[tokio::test]
async fn people_are_listed_by_last_event_and_each_timeline_pages_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let end = at();
    let events = sent(end.timestamp_millis());
    server.post_ok(&as_json(&events)).await;
    server.drained().await;
    let at = param(end);

    for (search, limit) in [
        ("", 50),
        ("u0", 50),
        ("anon-", 3),
        ("s-u03", 50),
        ("nobody", 50),
    ] {
        let (status, answer) = server
            .get(&format!(
                "/api/people?range=7d&at={at}&search={search}&limit={limit}"
            ))
            .await;
        assert_eq!(status, 200, "{answer}");
        let all = expected_people(&events, search);
        let shown: Vec<Value> = all.iter().take(limit).cloned().collect();
        assert_eq!(answer["people"], json!(shown), "search {search:?}");
        assert_eq!(
            answer["more"],
            json!(all.len() > limit),
            "search {search:?}"
        );
    }
    // A filter counts the matching events only.
    let (_, de) = server
        .get(&format!(
            "/api/people?range=7d&at={at}&search=u07&country=DE"
        ))
        .await;
    let de_events = events
        .iter()
        .filter(|e| e.actor == "u07" && e.country == "DE")
        .count();
    assert_eq!(de["people"][0]["events"], json!(de_events));

    // u07's timeline, three at a time: the two events of one millisecond stay together.
    let mut pages = Vec::new();
    let mut before = String::new();
    loop {
        let (status, page) = server
            .get(&format!(
                "/api/people/u07/events?range=7d&at={at}&limit=3{before}"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        let names: Vec<String> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_name"].as_str().unwrap().to_owned())
            .collect();
        pages.push(names);
        match page["next_before"].as_str() {
            Some(next) => before = format!("&before={}", next.replace('+', "%2B")),
            None => break,
        }
    }
    let mut u07: Vec<&Sent> = events.iter().filter(|e| e.actor == "u07").collect();
    u07.sort_by(|a, b| b.ms.cmp(&a.ms).then(a.name.cmp(&b.name)));
    let mut flat: Vec<String> = Vec::new();
    for page in &mut pages {
        assert!(page.len() <= 3, "{pages:?}");
        flat.extend(page.iter().cloned());
    }
    // Within a millisecond the order is the store's: compare each millisecond's names as a set.
    let expected: Vec<String> = u07.iter().map(|e| e.name.clone()).collect();
    assert_eq!(flat.len(), expected.len(), "{pages:?}");
    assert_eq!(
        pages[0],
        ["click_4", "click_3"],
        "the 4 s-ago pair moves to the next page whole: {pages:?}"
    );
    let sorted = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
    assert_eq!(sorted(&flat), sorted(&expected));

    // An event as stored: every field, properties an object.
    let (_, page) = server
        .get(&format!("/api/people/s-u03/events?range=7d&at={at}"))
        .await;
    let only = &page["events"];
    assert_eq!(only.as_array().unwrap().len(), 1, "{page}");
    assert_eq!(only[0]["event_name"], "page_view");
    assert_eq!(only[0]["user_id"], Value::Null);
    assert_eq!(only[0]["session_id"], "s-u03");
    assert_eq!(only[0]["device_type"], "tablet");
    assert_eq!(only[0]["properties"], json!({}));
    assert_eq!(
        only[0]["timestamp"],
        json!(time(end.timestamp_millis() - 1_000))
    );

    // Bad input: a 400 naming the parameter.
    let long = "a".repeat(257);
    for (path, field) in [
        (format!("/api/people/{long}/events"), "actor"),
        ("/api/people?limit=0".to_owned(), "limit"),
        ("/api/people?limit=501".to_owned(), "limit"),
        (
            "/api/people/u07/events?before=yesterday".to_owned(),
            "before",
        ),
        ("/api/people/u07/events?limit=1001".to_owned(), "limit"),
        ("/api/people?sort=name".to_owned(), "sort"),
    ] {
        let (status, body) = server.get(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(field), "{path}: {error}");
    }
}

const FUNNEL: &str = r#"{"name": "Signup", "steps": [{"event_name": "visit"}, {"event_name": "signup"}, {"event_name": "verify"}], "window": "1h"}"#;

#[tokio::test]
async fn a_funnels_actors_agree_with_its_counts_for_every_step_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let end = at();
    let events = sent(end.timestamp_millis());
    assert_eq!(server.put("/api/funnels/signup3", FUNNEL).await.0, 200);
    server.post_ok(&as_json(&events)).await;
    server.drained().await;
    let at = param(end);
    let base = |q: &str| format!("/api/funnels/signup3{q}range=24h&at={at}");

    // The actors by how far they went, worked out from the events: i % 4 steps (0 → 1 step).
    let mut furthest: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        let k = ["visit", "signup", "verify"]
            .iter()
            .position(|s| *s == e.name);
        if let Some(k) = k {
            let level = furthest.entry(e.actor.clone()).or_default();
            *level = (*level).max(k + 1);
        }
    }

    let (_, report) = server.get(&base("?")).await;
    let counts: Vec<u64> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .collect();
    for k in 1..=3usize {
        let reached: BTreeSet<&str> = furthest
            .iter()
            .filter(|(_, l)| **l >= k)
            .map(|(a, _)| a.as_str())
            .collect();
        assert_eq!(counts[k - 1], reached.len() as u64, "step {k}");
        let (status, answer) = server
            .get(&base(&format!(
                "/actors?step={k}&outcome=reached&limit=500&"
            )))
            .await;
        assert_eq!(status, 200, "{answer}");
        let listed: BTreeSet<&str> = answer["actors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["actor"].as_str().unwrap())
            .collect();
        assert_eq!(listed, reached, "reached {k}");
        assert_eq!(answer["total"], json!(counts[k - 1]));
        if k < 3 {
            let (_, dropped) = server
                .get(&base(&format!("/actors?step={k}&outcome=dropped&limit=2&")))
                .await;
            assert_eq!(
                dropped["total"],
                json!(counts[k - 1] - counts[k]),
                "{dropped}"
            );
            let shown = dropped["actors"].as_array().unwrap();
            assert_eq!(shown.len() as u64, (counts[k - 1] - counts[k]).min(2));
            for actor in shown {
                assert_eq!(furthest[actor["actor"].as_str().unwrap()], k, "{actor}");
                assert_eq!(actor["reached_step"], json!(k));
            }
        }
    }

    // By country: every group's totals are its own counts' differences.
    let (_, by) = server.get(&base("?breakdown=country&")).await;
    let groups = by["groups"].as_array().unwrap();
    assert!(groups.len() >= 2, "{by}");
    for group in groups {
        let value = group["value"].as_str().unwrap();
        let counts: Vec<u64> = group["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["count"].as_u64().unwrap())
            .collect();
        for k in 1..=2usize {
            let (_, answer) = server
                .get(&base(&format!(
                    "/actors?step={k}&outcome=dropped&breakdown=country&value={value}&"
                )))
                .await;
            assert_eq!(
                answer["total"],
                json!(counts[k - 1] - counts[k]),
                "{value} step {k}: {answer}"
            );
        }
    }

    for (query, field) in [
        ("/actors?step=0&", "step"),
        ("/actors?step=4&", "step"),
        ("/actors?step=3&outcome=dropped&", "step"),
        ("/actors?", "step"),
        ("/actors?step=1&outcome=left&", "outcome"),
        ("/actors?step=1&value=DE&", "value"),
        ("/actors?step=1&breakdown=country&", "value"),
        ("/actors?step=1&limit=0&", "limit"),
    ] {
        let (status, body) = server.get(&base(query)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
    let (status, _) = server.get(&base("x/actors?step=1&")).await;
    assert_eq!(status, 404);
}
