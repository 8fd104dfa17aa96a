//! Funnels against a reference this test computes itself from the events (the definition in
//! DESIGN.md "Funnels", written as plain Rust below), their definitions' rules field by field,
//! and their persistence across a restart.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

use crate::common::Server;

pub const MIN: i64 = 60_000;

/// A test event.
#[derive(Debug, Clone)]
pub struct Ev {
    pub name: String,
    pub ms: i64,
    pub session: String,
    pub user: Option<String>,
    pub country: String,
    pub device: String,
    pub props: Vec<(String, Value)>,
}

impl Ev {
    pub fn json(&self) -> Value {
        let props: serde_json::Map<String, Value> = self.props.iter().cloned().collect();
        json!({"event_name": self.name, "timestamp": self.ms, "session_id": self.session,
               "user_id": self.user, "country_code": self.country, "device_type": self.device,
               "properties": props})
    }
}

/// The reference: the funnel definition of DESIGN.md in plain Rust.
pub mod reference {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::Ev;

    #[derive(Debug, Clone)]
    pub enum Dim {
        Country,
        Device,
        Prop(String),
    }

    impl Dim {
        /// The value an event has (a property as text: a string as is, else as JSON writes
        /// it; empty when absent).
        pub fn of(&self, e: &Ev) -> String {
            match self {
                Dim::Country => e.country.clone(),
                Dim::Device => e.device.clone(),
                Dim::Prop(key) => match e.props.iter().find(|(k, _)| k == key) {
                    Some((_, Value::String(s))) => s.clone(),
                    Some((_, other)) => other.to_string(),
                    None => String::new(),
                },
            }
        }
    }

    /// `n` of `base` in percent, 1 decimal; null on an empty base.
    fn pct(base: u64, n: u64) -> Option<f64> {
        (base > 0).then(|| (n as f64 / base as f64 * 1000.0).round() / 10.0)
    }

    /// Filters: each dimension's value must be one of its list.
    #[derive(Debug, Clone, Default)]
    pub struct Filter(pub Vec<(Dim, Vec<&'static str>)>);

    impl Filter {
        pub fn matches(&self, e: &Ev) -> bool {
            self.0
                .iter()
                .all(|(dim, values)| values.contains(&dim.of(e).as_str()))
        }
    }

    pub struct Funnel {
        pub steps: Vec<(&'static str, Filter)>,
        pub window_ms: i64,
        pub by_session: bool,
    }

    impl Funnel {
        fn actor<'a>(&self, e: &'a Ev) -> &'a str {
            match (&e.user, self.by_session) {
                (Some(user), false) => user,
                _ => &e.session,
            }
        }

        /// The furthest step an actor's events reach: windowFunnel's default mode. Every
        /// (event, step it matches) in time order, ties by step; a step-1 event starts a
        /// chain; step k extends the chain that reached k-1 when within the window of its
        /// start.
        pub fn level(&self, events: &[&Ev]) -> usize {
            let mut marks: Vec<(i64, usize)> = events
                .iter()
                .flat_map(|e| {
                    self.steps
                        .iter()
                        .enumerate()
                        .filter(|(_, (name, f))| e.name == *name && f.matches(e))
                        .map(|(k, _)| (e.ms, k))
                })
                .collect();
            marks.sort();
            let mut start: Vec<Option<i64>> = vec![None; self.steps.len()];
            for (ms, k) in marks {
                if k == 0 {
                    start[0] = Some(ms);
                } else if let Some(s) = start[k - 1].filter(|s| ms <= s + self.window_ms) {
                    start[k] = Some(s);
                }
            }
            start.iter().rposition(Option::is_some).map_or(0, |i| i + 1)
        }

        /// Each actor entering in `(start_ms, end_ms]` under `filter`: its level, the
        /// breakdown value on its earliest step-1 event (ties by value) and that event's time.
        pub fn actors(
            &self,
            events: &[Ev],
            (start_ms, end_ms): (i64, i64),
            filter: &Filter,
            breakdown: Option<&Dim>,
        ) -> BTreeMap<String, (usize, String, i64)> {
            let mut by_actor: BTreeMap<&str, Vec<&Ev>> = BTreeMap::new();
            for e in events {
                if e.ms > start_ms && e.ms <= end_ms && filter.matches(e) {
                    by_actor.entry(self.actor(e)).or_default().push(e);
                }
            }
            let (first, first_filter) = &self.steps[0];
            by_actor
                .into_iter()
                .filter_map(|(actor, evs)| {
                    let level = self.level(&evs);
                    let (entered, value) = evs
                        .iter()
                        .filter(|e| e.name == *first && first_filter.matches(e))
                        .map(|e| (e.ms, breakdown.map_or_else(String::new, |d| d.of(e))))
                        .min()?;
                    (level > 0).then(|| (actor.to_owned(), (level, value, entered)))
                })
                .collect()
        }

        /// `{"steps": [...], "groups": [...]}` as the API must answer.
        pub fn expected(
            &self,
            events: &[Ev],
            range: (i64, i64),
            filter: &Filter,
            breakdown: Option<&Dim>,
        ) -> Value {
            let actors = self.actors(events, range, filter, breakdown);
            let counts = |levels: &mut dyn Iterator<Item = usize>| self.counts(levels);
            let total = counts(&mut actors.values().map(|(l, ..)| *l));
            let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (level, value, _) in actors.values() {
                groups.entry(value).or_default().push(*level);
            }
            let mut groups: Vec<(&str, Vec<u64>)> = groups
                .into_iter()
                .map(|(v, levels)| (v, counts(&mut levels.into_iter())))
                .collect();
            groups.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(a.0.cmp(b.0)));
            groups.truncate(10);
            let groups: Vec<Value> = match breakdown {
                None => Vec::new(),
                Some(_) => groups
                    .iter()
                    .map(|(v, c)| json!({"value": v, "steps": self.steps_json(c)}))
                    .collect(),
            };
            json!({"steps": self.steps_json(&total), "groups": groups})
        }

        /// Actors reaching at least each step, of `levels`.
        fn counts(&self, levels: &mut dyn Iterator<Item = usize>) -> Vec<u64> {
            let mut counts = vec![0u64; self.steps.len()];
            for level in levels {
                counts.iter_mut().take(level).for_each(|c| *c += 1);
            }
            counts
        }

        /// `series` of `GET /api/funnels/{id}/trend` as the API must answer: each actor in the
        /// bucket of its entry, every bucket of the range, the total and then `groups`.
        pub fn expected_trend(
            &self,
            events: &[Ev],
            (start_ms, end_ms): (i64, i64),
            filter: &Filter,
            breakdown: Option<&Dim>,
            interval_ms: i64,
        ) -> Value {
            let actors = self.actors(events, (start_ms, end_ms), filter, breakdown);
            let groups = self.expected(events, (start_ms, end_ms), filter, breakdown)["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| Some(g["value"].as_str().unwrap().to_owned()))
                .collect::<Vec<_>>();
            let buckets = (start_ms + 1).div_euclid(interval_ms)..=end_ms.div_euclid(interval_ms);
            let series: Vec<Value> = std::iter::once(None)
                .chain(groups)
                .map(|group| {
                    let points: Vec<Value> = buckets
                        .clone()
                        .map(|b| {
                            let counts = self.counts(&mut actors.values().filter_map(
                                |(level, value, entered)| {
                                    let in_group = group.as_ref().is_none_or(|g| g == value);
                                    (in_group && entered.div_euclid(interval_ms) == b)
                                        .then_some(*level)
                                },
                            ));
                            let t = chrono::DateTime::from_timestamp_millis(b * interval_ms)
                                .unwrap()
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                            let last = *counts.last().unwrap();
                            json!({"t": t, "steps": counts,
                                   "conversion_pct": pct(counts[0], last)})
                        })
                        .collect();
                    json!({"group": group, "points": points})
                })
                .collect();
            json!(series)
        }

        fn steps_json(&self, counts: &[u64]) -> Value {
            let steps: Vec<Value> = self
                .steps
                .iter()
                .enumerate()
                .map(|(i, (name, _))| {
                    json!({"event_name": name, "count": counts[i],
                       "pct_of_first": pct(counts[0], counts[i]),
                       "pct_of_previous": i.checked_sub(1).and_then(|p| pct(counts[p], counts[i]))})
                })
                .collect();
            json!(steps)
        }
    }
}

use reference::{Dim, Filter};

/// An instant a couple of minutes back, off the minute: every event lies before now.
pub fn past_instant() -> DateTime<Utc> {
    Utc.timestamp_millis_opt((Utc::now().timestamp() / 60 - 2) * 60_000 + 17_250)
        .unwrap()
}

pub fn at_param(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
        .replace('+', "%2B")
}

pub async fn post_all(server: &Server, events: &[Ev]) {
    for chunk in events.chunks(500) {
        let body: Vec<Value> = chunk.iter().map(Ev::json).collect();
        assert_eq!(server.post_ok(&json!(body)).await, chunk.len() as u64);
    }
    server.drained().await;
}

/// `GET path`, which must answer 200; its steps and groups.
/// The CSV a funnel's steps and groups make, written here from the JSON the reference wrote:
/// the total's steps, then each group's, the conversion's 95 % interval on each last step.
fn csv_of(want: &Value) -> String {
    let number = |v: &Value| v.as_f64().map_or_else(String::new, |n| n.to_string());
    let mut lines = vec![
        "group,step,event_name,count,pct_of_first,pct_of_previous,conversion_low_95,conversion_high_95"
            .to_owned(),
    ];
    let total = std::iter::once(("", &want["steps"]));
    let groups = want["groups"].as_array().unwrap().iter();
    for (group, steps) in total.chain(groups.map(|g| (g["value"].as_str().unwrap(), &g["steps"]))) {
        let steps = steps.as_array().unwrap();
        let count = |s: &Value| s["count"].as_u64().unwrap();
        for (n, step) in (1..).zip(steps) {
            let interval = match n == steps.len() {
                true => pulseboard::questions::funnels::wilson_95(count(step), count(&steps[0])),
                false => None,
            };
            let round = |x: f64| ((x * 10.0).round() / 10.0).to_string();
            let (low, high) = interval.map_or((String::new(), String::new()), |(l, h)| {
                (round(l), round(h))
            });
            lines.push(format!(
                "{group},{n},{},{},{},{},{low},{high}",
                step["event_name"].as_str().unwrap(),
                count(step),
                number(&step["pct_of_first"]),
                number(&step["pct_of_previous"]),
            ));
        }
    }
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

pub async fn steps_and_groups(server: &Server, path: &str) -> Value {
    let (status, got) = server.get(path).await;
    assert_eq!(status, 200, "{path}: {got}");
    json!({"steps": got["steps"], "groups": got["groups"]})
}

fn ev(name: &str, ms: i64, session: &str, user: Option<&str>) -> Ev {
    Ev {
        name: name.to_owned(),
        ms,
        session: session.to_owned(),
        user: user.map(str::to_owned),
        country: "US".to_owned(),
        device: "desktop".to_owned(),
        props: Vec::new(),
    }
}

fn with(mut e: Ev, country: &str, domain: &str) -> Ev {
    e.country = country.to_owned();
    e.props.push(("email_domain".into(), json!(domain)));
    e
}

fn plan(mut e: Ev, plan: &str) -> Ev {
    e.props.push(("plan".into(), json!(plan)));
    e
}

const CHECKOUT: &str = r#"{"name": "Checkout", "steps": [
    {"event_name": "signup_started"}, {"event_name": "email_verified"},
    {"event_name": "signup_completed", "where": {"prop.plan": "pro,team"}}],
    "window": "10m", "count_by": "user"}"#;

fn checkout(by_session: bool) -> reference::Funnel {
    let pro = Filter(vec![(Dim::Prop("plan".into()), vec!["pro", "team"])]);
    reference::Funnel {
        steps: vec![
            ("signup_started", Filter::default()),
            ("email_verified", Filter::default()),
            ("signup_completed", pro),
        ],
        window_ms: 10 * MIN,
        by_session,
    }
}

/// Hand-made actors, each with the level the definition gives it over the hour before `t`
/// (and over 24h where it differs), written beside it.
fn hand_made(t: i64) -> Vec<Ev> {
    let t0 = t - 50 * MIN;
    let (a, b, c) = ("signup_started", "email_verified", "signup_completed");
    let u = |id: &'static str| Some(id);
    vec![
        // 3: every step in order, in the window.
        with(ev(a, t0, "s-full", u("u-full")), "DE", "gmail.com"),
        ev(b, t0 + MIN, "s-full", u("u-full")),
        plan(ev(c, t0 + 2 * MIN, "s-full", u("u-full")), "pro"),
        // 1: verified before starting (out of order), so the completion does not count.
        with(ev(b, t0, "s-ooo", u("u-ooo")), "US", "outlook.com"),
        with(ev(a, t0 + MIN, "s-ooo", u("u-ooo")), "US", "outlook.com"),
        plan(ev(c, t0 + 2 * MIN, "s-ooo", u("u-ooo")), "pro"),
        // 3: all three at the same millisecond (posted last step first).
        plan(ev(c, t0 + 5 * MIN, "s-same", u("u-same")), "team"),
        ev(b, t0 + 5 * MIN, "s-same", u("u-same")),
        with(
            ev(a, t0 + 5 * MIN, "s-same", u("u-same")),
            "DE",
            "gmail.com",
        ),
        // 2: the first attempt's verification is late; the second attempt reaches it, but
        // its completion is on the free plan (the step's `where` refuses it). Grouped by the
        // first attempt's domain.
        with(ev(a, t0, "s-retry", u("u-retry")), "FR", "gmail.com"),
        ev(b, t0 + 15 * MIN, "s-retry", u("u-retry")),
        with(
            ev(a, t0 + 20 * MIN, "s-retry", u("u-retry")),
            "FR",
            "company.io",
        ),
        ev(b, t0 + 22 * MIN, "s-retry", u("u-retry")),
        plan(ev(c, t0 + 23 * MIN, "s-retry", u("u-retry")), "free"),
        // 2: completed 11 minutes after starting, outside the 10-minute window.
        with(ev(a, t0, "s-late", u("u-late")), "DE", "company.io"),
        ev(b, t0 + 5 * MIN, "s-late", u("u-late")),
        plan(ev(c, t0 + 11 * MIN, "s-late", u("u-late")), "pro"),
        // 3: the last two steps exactly at the window's end (it is inclusive).
        with(ev(a, t0, "s-edge", u("u-edge")), "US", "gmail.com"),
        ev(b, t0 + 10 * MIN, "s-edge", u("u-edge")),
        plan(ev(c, t0 + 10 * MIN, "s-edge", u("u-edge")), "team"),
        // 0 over 1h (started before the range; not entering through a later step), 3 over 24h.
        with(
            ev(a, t - 70 * MIN, "s-before", u("u-before")),
            "US",
            "outlook.com",
        ),
        ev(b, t - 65 * MIN, "s-before", u("u-before")),
        plan(ev(c, t - 62 * MIN, "s-before", u("u-before")), "pro"),
        ev(b, t - 40 * MIN, "s-before", u("u-before")),
        // 2: anonymous, counted by session.
        with(ev(a, t0, "anon-1", None), "DE", "gmail.com"),
        ev(b, t0 + MIN, "anon-1", None),
        // 3 per user over three sessions; per session 1, 0 and 0.
        with(ev(a, t0, "s-m1", u("u-multi")), "BR", "yahoo.com"),
        ev(b, t0 + MIN, "s-m2", u("u-multi")),
        plan(ev(c, t0 + 2 * MIN, "s-m3", u("u-multi")), "pro"),
        // 0: a completion alone.
        plan(ev(c, t0, "s-only-c", u("u-only-c")), "pro"),
        // 0 over 1h: started exactly at the range's open start; 2 over 24h.
        with(
            ev(a, t - 60 * MIN, "s-boundary", u("u-boundary")),
            "US",
            "gmail.com",
        ),
        ev(b, t - 59 * MIN, "s-boundary", u("u-boundary")),
        // 1: started exactly at the range's (closed) end.
        with(ev(a, t, "s-end", u("u-end")), "JP", "gmail.com"),
        // 1: verified after the instant asked about, which the answer does not see.
        with(
            ev(a, t - 5 * MIN, "s-after", u("u-after")),
            "JP",
            "outlook.com",
        ),
        ev(b, t + 30_000, "s-after", u("u-after")),
    ]
}

#[tokio::test]
async fn funnels_count_each_edge_case_as_defined() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    let t = at.timestamp_millis();
    let events = hand_made(t);
    post_all(&server, &events).await;
    let (status, stored) = server.put("/api/funnels/checkout", CHECKOUT).await;
    assert_eq!(status, 200, "{stored}");
    let at = at_param(at);

    // The levels written beside the actors, counted by hand.
    let counts = |v: &Value| -> Vec<u64> {
        let steps = v["steps"].as_array().unwrap();
        steps.iter().map(|s| s["count"].as_u64().unwrap()).collect()
    };
    let path = |q: &str| format!("/api/funnels/checkout?at={at}{q}");
    let hour = steps_and_groups(&server, &path("&range=1h")).await;
    assert_eq!(counts(&hour), [10, 7, 4]);
    let day = steps_and_groups(&server, &path("&range=24h")).await;
    assert_eq!(counts(&day), [12, 9, 5]);

    // And everything against the reference: filters, breakdowns, per session.
    let cases: Vec<(&str, &str, Filter, Option<Dim>)> = vec![
        ("1h", "", Filter::default(), None),
        ("24h", "", Filter::default(), None),
        (
            "1h",
            "&country=DE",
            Filter(vec![(Dim::Country, vec!["DE"])]),
            None,
        ),
        (
            "1h",
            "&prop.email_domain=gmail.com,company.io",
            Filter(vec![(
                Dim::Prop("email_domain".into()),
                vec!["gmail.com", "company.io"],
            )]),
            None,
        ),
        (
            "1h",
            "&breakdown=prop.email_domain",
            Filter::default(),
            Some(Dim::Prop("email_domain".into())),
        ),
        (
            "24h",
            "&breakdown=country",
            Filter::default(),
            Some(Dim::Country),
        ),
        (
            "1h",
            "&breakdown=device&device=desktop",
            Filter(vec![(Dim::Device, vec!["desktop"])]),
            Some(Dim::Device),
        ),
    ];
    for by_session in [false, true] {
        if by_session {
            let body = CHECKOUT.replace(r#""count_by": "user""#, r#""count_by": "session""#);
            assert_eq!(server.put("/api/funnels/checkout", &body).await.0, 200);
        }
        let funnel = checkout(by_session);
        for (range, query, filter, breakdown) in &cases {
            let range_ms = if *range == "1h" { 60 } else { 1440 } * MIN;
            let want = funnel.expected(&events, (t - range_ms, t), filter, breakdown.as_ref());
            let got = steps_and_groups(&server, &path(&format!("&range={range}{query}"))).await;
            assert_eq!(got, want, "range={range}{query} by_session={by_session}");
            let csv = server
                .text(&format!(
                    "/api/funnels/checkout.csv?at={at}&range={range}{query}"
                ))
                .await;
            assert_eq!(
                csv,
                csv_of(&want),
                "range={range}{query} by_session={by_session}"
            );
        }
    }

    // The answer's own fields.
    let (_, full) = server
        .get(&path("&range=1h&breakdown=country&country=DE,FR"))
        .await;
    assert_eq!(full["id"], "checkout");
    assert_eq!(full["range"], "1h");
    assert_eq!(full["window_s"], 600);
    assert_eq!(full["count_by"], "session");
    assert_eq!(full["breakdown"], "country");
    assert_eq!(full["filters"], json!({"country": "DE,FR"}));
    assert_eq!(full["as_of_flush"], server.health().await["flushes"]);
    server.stop();
}

/// Many actors with random steps, times on a 30 s grid (so many share a millisecond), more
/// than ten countries, anonymous sessions, users over several sessions.
fn random_events(t: i64) -> Vec<Ev> {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let names = ["b.start", "b.verify", "b.done", "page_view"];
    let countries = [
        "US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "AU", "NL", "ES", "IT", "SE",
    ];
    let domains = ["gmail.com", "outlook.com", "acme.io", "yahoo.com"];
    let devices = ["desktop", "mobile", "tablet"];
    let mut events = Vec::new();
    for actor in 0..400 {
        let user = (next(3) > 0).then(|| format!("ru-{}", actor / 2));
        // Each actor's events within half an hour of its start, some past the range's ends.
        let start = t - next(80) as i64 * MIN;
        let domain = domains[next(4) as usize];
        for _ in 0..1 + next(7) {
            let session = format!("rs-{actor}-{}", next(2));
            let mut e = ev(
                names[next(4) as usize],
                start + next(60) as i64 * 30_000,
                &session,
                user.as_deref(),
            );
            e.country = countries[next(countries.len() as u64) as usize].to_owned();
            e.device = devices[next(3) as usize].to_owned();
            e.props.push(("email_domain".into(), json!(domain)));
            e.props.push(("seats".into(), json!(next(3))));
            events.push(e);
        }
    }
    events
}

/// Funnel `b` of the random traffic, defined on `server`; its reference.
async fn define_b(server: &Server) -> reference::Funnel {
    let body = json!({"steps": [{"event_name": "b.start"},
        {"event_name": "b.verify", "where": {"prop.seats": "1,2"}}, {"event_name": "b.done"}],
        "window": "20m"});
    assert_eq!(server.put("/api/funnels/b", &body.to_string()).await.0, 200);
    reference::Funnel {
        steps: vec![
            ("b.start", Filter::default()),
            (
                "b.verify",
                Filter(vec![(Dim::Prop("seats".into()), vec!["1", "2"])]),
            ),
            ("b.done", Filter::default()),
        ],
        window_ms: 20 * MIN,
        by_session: false,
    }
}

#[tokio::test]
async fn random_traffic_matches_the_reference_in_counts_and_over_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    let t = at.timestamp_millis();
    let events = random_events(t);
    post_all(&server, &events).await;
    let funnel = define_b(&server).await;
    let at = at_param(at);
    for (query, filter, breakdown) in [
        ("", Filter::default(), None),
        ("&breakdown=country", Filter::default(), Some(Dim::Country)),
        (
            "&breakdown=prop.email_domain&device=mobile,tablet",
            Filter(vec![(Dim::Device, vec!["mobile", "tablet"])]),
            Some(Dim::Prop("email_domain".into())),
        ),
        (
            "&breakdown=prop.seats&prop.email_domain=gmail.com",
            Filter(vec![(Dim::Prop("email_domain".into()), vec!["gmail.com"])]),
            Some(Dim::Prop("seats".into())),
        ),
    ] {
        let want = funnel.expected(&events, (t - 60 * MIN, t), &filter, breakdown.as_ref());
        let got =
            steps_and_groups(&server, &format!("/api/funnels/b?range=1h&at={at}{query}")).await;
        assert_eq!(got, want, "{query}");
        assert!(want["steps"][2]["count"].as_u64().unwrap() > 0, "{query}");
    }
    // More than ten countries: the ten largest.
    let (_, got) = server
        .get(&format!(
            "/api/funnels/b?range=1h&at={at}&breakdown=country"
        ))
        .await;
    assert_eq!(got["groups"].as_array().unwrap().len(), 10);
    trends_match_the_reference(&server, &events, &funnel, (t, &at)).await;
    server.stop();
}

/// Conversion over time: every actor in the bucket of its entry, the total and the largest
/// groups, every bucket present; summed over the buckets, the funnel's own counts.
async fn trends_match_the_reference(
    server: &Server,
    events: &[Ev],
    funnel: &reference::Funnel,
    (t, at): (i64, &str),
) {
    for (query, filter, breakdown, interval_ms) in [
        ("", Filter::default(), None, MIN),
        (
            "&interval=hour&breakdown=prop.email_domain&device=mobile,tablet",
            Filter(vec![(Dim::Device, vec!["mobile", "tablet"])]),
            Some(Dim::Prop("email_domain".into())),
            60 * MIN,
        ),
        (
            "&interval=minute&breakdown=country",
            Filter::default(),
            Some(Dim::Country),
            MIN,
        ),
    ] {
        let path = format!("/api/funnels/b/trend?range=1h&at={at}{query}");
        let (status, got) = server.get(&path).await;
        assert_eq!(status, 200, "{path}: {got}");
        let range = (t - 60 * MIN, t);
        let want = funnel.expected_trend(events, range, &filter, breakdown.as_ref(), interval_ms);
        assert_eq!(got["series"], want, "{query}");
        assert_eq!(got["interval_s"], interval_ms / 1000, "{query}");
        // The total series adds up to the funnel's steps for the same question.
        let report = funnel.expected(events, range, &filter, breakdown.as_ref());
        let mut sums = vec![0u64; 3];
        for point in got["series"][0]["points"].as_array().unwrap() {
            for (sum, n) in sums.iter_mut().zip(point["steps"].as_array().unwrap()) {
                *sum += n.as_u64().unwrap();
            }
        }
        let counts: Vec<u64> = (0..3)
            .map(|k| report["steps"][k]["count"].as_u64().unwrap())
            .collect();
        assert_eq!(sums, counts, "{query}");
    }
    // Bad parameters name themselves; an unknown funnel is a 404.
    for (path, status, field) in [
        ("/api/funnels/b/trend?interval=week", 400, "interval"),
        ("/api/funnels/b/trend?breakdown=colour", 400, "breakdown"),
        (
            "/api/funnels/b/trend?range=24h&interval=minute&bucket=1",
            400,
            "bucket",
        ),
        ("/api/funnels/nope/trend", 404, ""),
    ] {
        let (got_status, body) = server.get(path).await;
        assert_eq!(got_status, status, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(field),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn bad_definitions_and_queries_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let steps = r#"[{"event_name": "a"}, {"event_name": "b"}]"#;
    let with_steps = |s: &str| format!(r#"{{"steps": {s}}}"#);
    let with_field = |f: &str| format!(r#"{{"steps": {steps}, {f}}}"#);
    let step_where = |w: &str| {
        format!(r#"{{"steps": [{{"event_name": "a"}}, {{"event_name": "b", "where": {w}}}]}}"#)
    };
    let many = |n: usize| {
        with_steps(&format!(
            "[{}]",
            vec![r#"{"event_name": "a"}"#; n].join(",")
        ))
    };
    let long_id = "x".repeat(65);
    // (id, body, the field the error names)
    let cases: Vec<(&str, String, &str)> = vec![
        ("x", "not json".into(), "body"),
        ("x", "[1]".into(), "body"),
        ("x", with_field(r#""colour": "red""#), "colour"),
        ("x", with_field(r#""id": "y""#), "id"),
        ("Bad", with_steps(steps), "id"),
        ("a.b", with_steps(steps), "id"),
        (&long_id, with_steps(steps), "id"),
        ("x", with_field(r#""name": 5"#), "name"),
        ("x", with_field(r#""name": """#), "name"),
        (
            "x",
            with_field(&format!(r#""name": "{}""#, "n".repeat(101))),
            "name",
        ),
        ("x", "{}".into(), "steps"),
        ("x", with_steps(r#""a""#), "steps"),
        ("x", many(1), "steps"),
        ("x", many(9), "steps"),
        ("x", with_steps(r#"[{"event_name": "a"}, "b"]"#), "steps[1]"),
        (
            "x",
            with_steps(r#"[{}, {"event_name": "b"}]"#),
            "steps[0].event_name",
        ),
        (
            "x",
            with_steps(r#"[{"event_name": "Bad Name"}, {"event_name": "b"}]"#),
            "steps[0].event_name",
        ),
        (
            "x",
            with_steps(&format!(
                r#"[{{"event_name": "{}"}}, {{"event_name": "b"}}]"#,
                "a".repeat(65)
            )),
            "steps[0].event_name",
        ),
        (
            "x",
            with_steps(r#"[{"event_name": "a", "colour": 1}, {"event_name": "b"}]"#),
            "steps[0].colour",
        ),
        ("x", step_where(r#""plan""#), "steps[1].where"),
        (
            "x",
            step_where(r#"{"prop.plan": ""}"#),
            "steps[1].where.prop.plan",
        ),
        (
            "x",
            step_where(r#"{"prop.plan": 5}"#),
            "steps[1].where.prop.plan",
        ),
        (
            "x",
            step_where(r#"{"prop.a b": "x"}"#),
            "steps[1].where.prop.a b",
        ),
        (
            "x",
            step_where(r#"{"country": "DEU"}"#),
            "steps[1].where.country",
        ),
        (
            "x",
            step_where(r#"{"colour": "red"}"#),
            "steps[1].where.colour",
        ),
        (
            "x",
            step_where(
                r#"{"prop.a": "1", "prop.b": "1", "prop.c": "1", "prop.d": "1", "prop.e": "1", "prop.f": "1"}"#,
            ),
            "steps[1].where.prop.f",
        ),
        ("x", with_field(r#""window": "59s""#), "window"),
        ("x", with_field(r#""window": "8d""#), "window"),
        ("x", with_field(r#""window": "1w""#), "window"),
        ("x", with_field(r#""window": 60"#), "window"),
        ("x", with_field(r#""count_by": "team""#), "count_by"),
        ("x", with_field(r#""count_by": 1"#), "count_by"),
    ];
    for (id, body, field) in &cases {
        let (status, answer) = server.put(&format!("/api/funnels/{id}"), body).await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert_eq!(status, 400, "{id} {body}: {answer}");
        assert!(error.starts_with(&format!("{field}: ")), "{body}: {error}");
    }
    let (_, list) = server.get("/api/funnels").await;
    assert_eq!(list["funnels"].as_array().unwrap().len(), 1, "{list}");

    // Query parameters: (path, status, a part of the error).
    let queries = [
        ("/api/funnels/signup?range=2h", 400, "range"),
        ("/api/funnels/signup?breakdown=colour", 400, "breakdown: "),
        ("/api/funnels/signup?breakdown=prop.", 400, "breakdown: "),
        (
            "/api/funnels/signup?breakdown=country&breakdown=device",
            400,
            "breakdown",
        ),
        ("/api/funnels/signup?country=DEU", 400, "country"),
        ("/api/funnels/signup?prop.plan=", 400, "prop.plan"),
        ("/api/funnels/signup?window=1h", 400, "\"window\""),
        ("/api/funnels/signup?at=yesterday", 400, "at"),
        (
            "/api/funnels/signup.svg?breakdown=colour",
            400,
            "breakdown: ",
        ),
        ("/api/funnels/nope?range=1h", 404, "nope"),
        ("/api/funnels/nope.svg", 404, "nope"),
        ("/api/event_names?range=7d", 400, "range"),
        ("/api/event_names?breakdown=country", 400, "\"breakdown\""),
    ];
    for (path, status, part) in queries {
        let (got, answer) = server.get(path).await;
        assert_eq!(got, status, "{path}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(part), "{path}: {error}");
    }
    let (status, answer) = server.delete("/api/funnels/nope").await;
    assert_eq!(status, 404, "{answer}");
    server.stop();
}

#[tokio::test]
async fn funnels_survive_a_restart_and_the_builtin_stays_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (_, list) = server.get("/api/funnels").await;
    assert_eq!(
        list,
        json!({"funnels": [{"id": "signup", "name": "Signup", "steps": [
            {"event_name": "signup_started"}, {"event_name": "signup_completed"}],
            "window": "1h", "count_by": "user"}]})
    );
    let (status, stored) = server.put("/api/funnels/checkout", CHECKOUT).await;
    assert_eq!(status, 200);
    let expected = json!({"id": "checkout", "name": "Checkout", "steps": [
        {"event_name": "signup_started"}, {"event_name": "email_verified"},
        {"event_name": "signup_completed", "where": {"prop.plan": "pro,team"}}],
        "window": "10m", "count_by": "user"});
    assert_eq!(stored, expected);
    assert_eq!(server.delete("/api/funnels/signup").await.0, 204);
    assert_eq!(server.get("/api/funnels/signup").await.0, 404);
    server.stop();

    let server = Server::start(dir.path(), &[]);
    let (_, list) = server.get("/api/funnels").await;
    assert_eq!(list, json!({"funnels": [expected]}));
    let (status, report) = server.get("/api/funnels/checkout?range=24h").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["steps"][0]["count"], 0);
    assert_eq!(report["steps"][0]["pct_of_first"], Value::Null);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("funnels.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The chart and the names a funnel editor offers.
    let svg = server
        .http
        .get(format!("{}/api/funnels/checkout.svg?range=1h", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status().as_u16(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("Checkout — 1h"));
    server
        .post_ok(&json!([
            {"event_name": "page_view", "session_id": "s"},
            {"event_name": "page_view", "session_id": "s"},
            {"event_name": "signup_started", "session_id": "s"},
        ]))
        .await;
    server.drained().await;
    let (_, names) = server.get("/api/event_names?range=1h").await;
    assert_eq!(
        names["event_names"],
        json!([{"event_name": "page_view", "count": 2},
               {"event_name": "signup_started", "count": 1}])
    );
    server.stop();
}

/// A demo event as a test event.
fn from_demo(e: &pulseboard::cli::demo::DemoEvent) -> Ev {
    let props = e.properties.as_object().unwrap();
    Ev {
        name: e.event_name.to_owned(),
        ms: e.timestamp.expect("campaign events carry their time"),
        session: e.session_id.clone(),
        user: e.user_id.clone(),
        country: e.country_code.to_owned(),
        device: e.device_type.to_owned(),
        props: props.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// Three hours of the demo's campaign (seed 42) on a fixed clock ending at `end_ms`, posted to
/// `server`, with the campaign funnel defined as the demo defines it.
pub async fn campaign_posted(
    server: &Server,
    end_ms: i64,
) -> (pulseboard::cli::demo::Campaign, Vec<Ev>) {
    let campaign = pulseboard::cli::demo::Campaign {
        seed: 42,
        origin_ms: end_ms - 180 * MIN,
    };
    let events: Vec<Ev> = campaign
        .events(campaign.origin_ms, end_ms + 1)
        .iter()
        .map(from_demo)
        .collect();
    post_all(server, &events).await;
    let funnel = pulseboard::cli::demo::campaign::funnel_definition();
    let put = server
        .put("/api/funnels/campaign", &funnel.to_string())
        .await;
    assert_eq!(put.0, 200, "{put:?}");
    (campaign, events)
}

#[tokio::test]
async fn the_campaign_scenario_breaks_gmail_and_recovers() {
    use pulseboard::cli::demo::BROKEN_TO_MS;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let at = past_instant();
    let t = at.timestamp_millis();
    let (campaign, events) = campaign_posted(&server, t).await;
    let funnel = reference::Funnel {
        steps: ["signup_started", "email_verified", "signup_completed"]
            .map(|name| (name, Filter::default()))
            .to_vec(),
        window_ms: 60 * MIN,
        by_session: false,
    };
    let domain = Dim::Prop("email_domain".into());
    // The hour that ends as Gmail's verification mails arrive again, and the latest hour.
    let broken_end = campaign.origin_ms + BROKEN_TO_MS;
    let mut answers = Vec::new();
    for (end, range, range_ms) in [
        (broken_end, "1h", 60 * MIN),
        (t, "1h", 60 * MIN),
        (t, "6h", 360 * MIN),
    ] {
        let at = at_param(Utc.timestamp_millis_opt(end).unwrap());
        let path =
            format!("/api/funnels/campaign?range={range}&at={at}&breakdown=prop.email_domain");
        let want = funnel.expected(
            &events,
            (end - range_ms, end),
            &Filter::default(),
            Some(&domain),
        );
        let got = steps_and_groups(&server, &path).await;
        assert_eq!(got, want, "{range} to {end}");
        answers.push(got);
    }
    // The story, read off the exact answers: Gmail loses about 40 % at verification, the
    // others do not, and within the hour Gmail is back.
    let verified_pct = |answer: &Value, value: &str| {
        let groups = answer["groups"].as_array().unwrap();
        let group = groups.iter().find(|g| g["value"] == value).unwrap();
        group["steps"][1]["pct_of_previous"].as_f64().unwrap()
    };
    let (broken, recovered) = (&answers[0], &answers[1]);
    assert_eq!(broken["groups"][0]["value"], "gmail.com");
    assert!(verified_pct(broken, "gmail.com") < 65.0, "{broken}");
    assert!(verified_pct(broken, "outlook.com") > 75.0, "{broken}");
    assert!(verified_pct(recovered, "gmail.com") > 75.0, "{recovered}");
    server.stop();
}
