//! Property-based fuzzing of everything that reads request input: the event parsers
//! (`event::parse_json_array`, `event::parse_ndjson`, `event::validate`) and the URL rules
//! (`urls::check_http_url`, `urls::check_origin`).
//!
//! Inputs: arbitrary bytes; JSON-shaped bodies (arrays of objects whose keys and values are
//! random, the event fields with random types, huge numbers, unicode, control characters);
//! NDJSON with random lines; URLs built from awkward pieces. Invariants: nothing panics; every
//! accepted event keeps the field rules; accepted + rejected = the items sent; every rejection
//! starts with a field name and ": ".
//!
//! Each property runs 256 cases (proptest's default, `PROPTEST_CASES` overrides it), or
//! `PULSEBOARD_FUZZ_CASES` for the long run (`scripts/fuzz.sh`). Each test prints
//! `fuzz <property>: <n> inputs`.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use pulseboard::ingest::event::{
    self, BodyError, Event, Parsed, TimeBounds, MAX_BATCH, MAX_PROPERTIES_BYTES,
};
use pulseboard::support::urls;
use serde_json::{Map, Value};

const DAY_MS: i64 = 86_400_000;
/// The fields whose names start a rejection (`event` is the item as a whole).
const FIELDS: [&str; 9] = [
    "event",
    "event_name",
    "timestamp",
    "session_id",
    "user_id",
    "device_type",
    "country_code",
    "event_id",
    "properties",
];

thread_local! {
    /// Events the current property saw accepted: a property that never gets past the
    /// rejections would test little.
    static ACCEPTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn config() -> Config {
    let mut config = Config {
        // A failing input is saved here and tried first on the next run.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/fuzz.proptest-regressions",
        ))),
        ..Config::default()
    };
    if let Some(cases) = std::env::var("PULSEBOARD_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        config.cases = cases;
    }
    config
}

/// Runs one property, counting the inputs it was given; panics (fails) with the minimal input
/// when the property breaks or the code under test panics.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let inputs = AtomicU64::new(0);
    ACCEPTED.set(0);
    let result = TestRunner::new(config()).run(&strategy, |value| {
        inputs.fetch_add(1, Ordering::Relaxed);
        test(value)
    });
    println!(
        "fuzz {name}: {} inputs, {} events accepted",
        inputs.load(Ordering::Relaxed),
        ACCEPTED.get()
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
}

// ---- Generators ----

/// Server clocks the generated timestamps cluster around (1970, 2024, 2100), so that many of
/// them fall inside the bounds and many just outside.
const CLOCKS: [i64; 3] = [0, 1_709_278_400_000, 4_102_444_800_000];

/// Server clocks near `CLOCKS` or anywhere from 1970 to 2200, and retentions the config allows
/// (1 to 3650 days).
fn time_bounds() -> impl Strategy<Value = TimeBounds> {
    let now = prop_oneof![
        3 => (prop::sample::select(CLOCKS.to_vec()), 0..DAY_MS).prop_map(|(c, d)| c + d),
        1 => 0..7_258_118_400_000i64,
    ];
    let days = prop_oneof![3 => 1..=120u32, 1 => 1..=3650u32];
    (now, days).prop_map(|(now, days)| TimeBounds::new(now, days))
}

/// Milliseconds near one of `CLOCKS`: mostly in the month before it, else from 400 days before
/// to two days after.
fn near_clock_ms() -> impl Strategy<Value = i64> {
    let offset = prop_oneof![3 => -30 * DAY_MS..0, 1 => -400 * DAY_MS..2 * DAY_MS];
    (prop::sample::select(CLOCKS.to_vec()), offset).prop_map(|(c, d)| c + d)
}

/// Characters that have broken parsers before: controls, quotes, escapes, markup, line and
/// byte-order marks, astral planes — and plenty of plain ones.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => any::<char>(),
        1 => prop::char::range('\u{0}', '\u{1f}'),
        1 => prop::char::range('\u{7f}', '\u{9f}'),
        2 => prop::sample::select(vec![
            '"', '\\', '/', '<', '>', '&', '\'', '{', '}', '[', ']', ':', ',', ' ', '_', '.',
            '-', 'A', 'Z', '0', '9', '\u{2028}', '\u{feff}', '\u{fffd}', '\u{200d}', '😀',
            'é', 'Ä', 'ß', '\u{10ffff}',
        ]),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..=max).prop_map(String::from_iter)
}

fn name_text(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(
            "abcdefghijklmnopqrstuvwxyz0123456789_.:-"
                .chars()
                .collect::<Vec<_>>(),
        ),
        min..=max,
    )
    .prop_map(String::from_iter)
}

/// Number tokens as they may appear in a body, beyond what an `f64` or `i64` holds.
fn number_token() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "1e-400",
            "-0",
            "0.0",
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890123456789",
            "1.7976931348623157e309",
            "4294967296000",
            "1e3",
        ])
        .prop_map(String::from),
    ]
}

/// Any JSON value, as text (raw number tokens included), nested a little.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        number_token(),
        text(24).prop_map(|s| Value::String(s).to_string()),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| object_text(&kv)),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS.to_vec()).prop_map(String::from),
        1 => text(12),
    ]
}

fn object_text(fields: &[(String, String)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn string_value(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    s.prop_map(|s| Value::String(s).to_string())
}

/// A value for one event field: mostly near its rule (valid, just over a limit), sometimes
/// anything at all.
fn field_value(field: &'static str) -> BoxedStrategy<String> {
    let valid = match field {
        "event_name" => prop_oneof![
            2 => string_value(name_text(1, 64)),
            1 => string_value(name_text(63, 66)),
            2 => string_value(prop::sample::select(event::STANDARD_NAMES.to_vec()).prop_map(String::from)),
        ]
        .boxed(),
        "session_id" | "user_id" => prop_oneof![
            4 => string_value(text(8)),
            1 => string_value(prop::collection::vec(nasty_char(), 126..=130).prop_map(String::from_iter)),
        ]
        .boxed(),
        "device_type" => string_value(text(34)).boxed(),
        "country_code" => prop_oneof![
            string_value(prop::collection::vec(nasty_char(), 0..=3).prop_map(String::from_iter)),
            string_value(prop::collection::vec(prop::char::range('A', 'z'), 2).prop_map(String::from_iter)),
        ]
        .boxed(),
        // Around the server clocks `time_bounds` draws: often inside some bounds, often not.
        "timestamp" => prop_oneof![
            3 => near_clock_ms().prop_map(|ms| ms.to_string()),
            1 => near_clock_ms().prop_map(|ms| (ms / 1000).to_string()),
            1 => (0..7_300_000_000_000i64).prop_map(|ms| ms.to_string()),
            3 => near_clock_ms().prop_map(|ms| {
                let t = chrono::DateTime::from_timestamp_millis(ms).expect("in range");
                Value::String(t.to_rfc3339()).to_string()
            }),
            1 => (-2_000_000_000_000i64..8_000_000_000_000).prop_map(|ms| {
                let t = chrono::DateTime::from_timestamp_millis(ms).expect("in range");
                Value::String(t.to_rfc3339()).to_string()
            }),
            1 => string_value(text(30)),
        ]
        .boxed(),
        "event_id" => prop_oneof![
            any::<u128>().prop_map(|n| Value::String(uuid::Uuid::from_u128(n).to_string()).to_string()),
            string_value(text(40)),
        ]
        .boxed(),
        "properties" => prop_oneof![
            prop::collection::vec((text(10), json_text()), 0..8).prop_map(|kv| object_text(&kv)),
            // Just under and over the 8 KiB limit.
            (8_150..8_250usize).prop_map(|n| format!("{{\"k\":\"{}\"}}", "v".repeat(n))),
        ]
        .boxed(),
        _ => json_text().boxed(),
    };
    prop_oneof![12 => valid, 1 => json_text(), 1 => number_token()].boxed()
}

/// One item of a batch, as JSON text: mostly an object with the event fields (each present or
/// not) and a few random keys, sometimes any value.
fn item_text() -> impl Strategy<Value = String> {
    let fields: Vec<_> = FIELDS[1..]
        .iter()
        .map(|&f| {
            // Event name and session id present most of the time, so events get accepted.
            let (present, absent) = if matches!(f, "event_name" | "session_id") {
                (12, 1)
            } else {
                (1, 1)
            };
            prop_oneof![
                present => field_value(f).prop_map(move |v| Some((f.to_string(), v))),
                absent => Just(None),
            ]
        })
        .collect();
    let object =
        (fields, prop::collection::vec((key(), json_text()), 0..3)).prop_map(|(fields, extra)| {
            // Random keys first: where one repeats a field, the field's own value (last) wins.
            let mut all = extra;
            all.extend(fields.into_iter().flatten());
            object_text(&all)
        });
    prop_oneof![8 => object, 1 => json_text()]
}

fn json_array_body() -> impl Strategy<Value = Vec<u8>> {
    let items = prop_oneof![
        20 => prop::collection::vec(item_text(), 0..12),
        1 => prop::collection::vec(
            Just(r#"{"event_name":"a","session_id":"s"}"#.to_string()),
            MAX_BATCH - 1..=MAX_BATCH + 1,
        ),
    ];
    (items, mutation())
        .prop_map(|(items, mutate)| mutate.apply(format!("[{}]", items.join(",")).into_bytes()))
}

/// Most bodies go as generated; some get a byte inserted or are cut off.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Insert(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
}

impl Mutation {
    fn apply(&self, mut body: Vec<u8>) -> Vec<u8> {
        match self {
            Mutation::None => {}
            Mutation::Insert(at, byte) => body.insert(at.index(body.len() + 1), *byte),
            Mutation::Truncate(at) => body.truncate(at.index(body.len() + 1)),
        }
        body
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => Just(Mutation::None),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

/// NDJSON lines: events, any JSON, random text, blank lines; joined by `\n` or `\r\n`.
fn ndjson_lines() -> impl Strategy<Value = (Vec<String>, bool)> {
    let line = prop_oneof![
        6 => item_text(),
        1 => json_text(),
        1 => text(40),
        1 => prop::sample::select(vec!["", " ", "\t", "\r", " \u{3000} "]).prop_map(String::from),
    ]
    .prop_map(|l| l.replace('\n', " "));
    (prop::collection::vec(line, 0..12), any::<bool>())
}

// ---- Invariants ----

fn check_event(e: &Event, time: TimeBounds) -> Result<(), TestCaseError> {
    let name_ok = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | ':' | '-');
    prop_assert!(
        (1..=64).contains(&e.event_name.chars().count()) && e.event_name.chars().all(name_ok),
        "event_name {:?}",
        e.event_name
    );
    prop_assert!(
        (1..=128).contains(&e.session_id.chars().count()),
        "session_id {:?}",
        e.session_id
    );
    if let Some(user) = &e.user_id {
        prop_assert!(
            (1..=128).contains(&user.chars().count()),
            "user_id {user:?}"
        );
    }
    prop_assert!(
        e.device_type.chars().count() <= 32,
        "device_type {:?}",
        e.device_type
    );
    prop_assert!(
        time.contains(e.timestamp_ms),
        "timestamp {} outside {time:?}",
        e.timestamp_ms
    );
    prop_assert!(
        e.country_code.is_empty()
            || (e.country_code.len() == 2
                && e.country_code.bytes().all(|b| b.is_ascii_uppercase())),
        "country_code {:?}",
        e.country_code
    );
    prop_assert!(
        e.properties.len() <= MAX_PROPERTIES_BYTES,
        "properties {} bytes",
        e.properties.len()
    );
    let properties: Value = serde_json::from_str(&e.properties)
        .map_err(|err| TestCaseError::fail(format!("properties not JSON: {err}")))?;
    prop_assert!(properties.is_object(), "properties {:?}", e.properties);
    ACCEPTED.set(ACCEPTED.get() + 1);
    Ok(())
}

fn check_rejection(error: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        FIELDS.iter().any(|f| error.starts_with(&format!("{f}: "))),
        "rejection without a field: {error:?}"
    );
    Ok(())
}

/// The outcome of a parser given `items` items (`None`: the body is not a batch at all).
fn check_parsed(
    result: Result<Parsed, BodyError>,
    items: Option<usize>,
    time: TimeBounds,
) -> Result<(), TestCaseError> {
    match (result, items) {
        (Ok(parsed), Some(n)) => {
            prop_assert!(
                (1..=MAX_BATCH).contains(&n),
                "{n} items accepted as a batch"
            );
            prop_assert_eq!(parsed.accepted.len() + parsed.rejected.len(), n);
            let mut indices: Vec<usize> = parsed.rejected.iter().map(|r| r.index).collect();
            indices.dedup();
            prop_assert_eq!(
                indices.len(),
                parsed.rejected.len(),
                "rejected indices repeat"
            );
            prop_assert!(
                indices.iter().all(|&i| i < n),
                "rejected index out of range"
            );
            for e in &parsed.accepted {
                check_event(e, time)?;
            }
            for r in &parsed.rejected {
                check_rejection(&r.error)?;
            }
        }
        (Ok(_), None) => prop_assert!(false, "a body that is no batch was accepted"),
        (Err(BodyError::Empty), Some(n)) => prop_assert_eq!(n, 0),
        (Err(BodyError::TooMany(got)), Some(n)) => {
            prop_assert_eq!(got, n);
            prop_assert!(n > MAX_BATCH);
        }
        (Err(e), Some(n)) => {
            prop_assert!(false, "a body of {n} items was refused as a whole: {e}")
        }
        (Err(_), None) => {}
    }
    Ok(())
}

/// How many items a JSON body holds, by serde_json alone.
fn json_items(body: &[u8]) -> Option<usize> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => Some(items.len()),
        _ => None,
    }
}

/// How many event lines an NDJSON body holds: its non-blank lines, if it is UTF-8.
fn ndjson_items(body: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(body).ok()?;
    Some(text.lines().filter(|l| !l.trim().is_empty()).count())
}

// ---- Properties ----

#[test]
fn arbitrary_bytes_never_panic_either_parser() {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        // Bytes that look a little more like JSON.
        prop::collection::vec(
            prop::sample::select(b"[]{}\",:0123456789.eE+-truefalsnl \n\r\t\\u\xff\xc3".to_vec()),
            0..512
        ),
    ];
    fuzz("arbitrary bytes", (bytes, time_bounds()), |(body, time)| {
        check_parsed(
            event::parse_json_array(&body, time),
            json_items(&body),
            time,
        )?;
        check_parsed(event::parse_ndjson(&body, time), ndjson_items(&body), time)
    });
}

#[test]
fn json_array_bodies_keep_the_field_rules() {
    fuzz(
        "json array",
        (json_array_body(), time_bounds()),
        |(body, time)| {
            check_parsed(
                event::parse_json_array(&body, time),
                json_items(&body),
                time,
            )
        },
    );
}

#[test]
fn ndjson_bodies_keep_the_field_rules() {
    fuzz(
        "ndjson",
        (ndjson_lines(), time_bounds()),
        |((lines, crlf), time)| {
            let body = lines.join(if crlf { "\r\n" } else { "\n" });
            let events = lines.iter().filter(|l| !l.trim().is_empty()).count();
            check_parsed(
                event::parse_ndjson(body.as_bytes(), time),
                Some(events),
                time,
            )
        },
    );
}

#[test]
fn validate_keeps_the_field_rules() {
    fuzz("validate", (item_text(), time_bounds()), |(item, time)| {
        let Ok(value) = serde_json::from_str::<Value>(&item) else {
            return Ok(()); // 1e400 and the like: not JSON serde_json holds; the parsers refuse it.
        };
        match event::validate(value, time) {
            Ok(e) => check_event(&e, time),
            Err(e) => check_rejection(&e.0),
        }
    });
}

#[test]
fn validate_accepts_events_that_keep_the_rules() {
    // The other side: a well-formed event within the bounds is accepted, whatever else it holds.
    let event = (
        name_text(1, 64),
        prop::collection::vec(nasty_char(), 1..=128).prop_map(String::from_iter),
        time_bounds(),
        0..1_000_000_000i64,
        prop::collection::vec((text(10), json_text()), 0..4),
    );
    fuzz(
        "validate valid",
        event,
        |(name, session, time, back, extra)| {
            let ms = time.now_ms - back.min(i64::from(time.retention_days) * DAY_MS - 1);
            let mut fields: Vec<(String, String)> = extra;
            fields.extend([
                ("event_name".into(), Value::String(name).to_string()),
                ("session_id".into(), Value::String(session).to_string()),
                ("timestamp".into(), ms.to_string()),
            ]);
            let value: Value = match serde_json::from_str(&object_text(&fields)) {
                Ok(v) => v,
                Err(_) => return Ok(()),
            };
            let mut obj: Map<String, Value> = value.as_object().cloned().unwrap_or_default();
            // Random extra keys may have been event fields: keep only unknown ones.
            obj.retain(|k, _| {
                !FIELDS.contains(&k.as_str())
                    || ["event_name", "session_id", "timestamp"].contains(&k.as_str())
            });
            let e = event::validate(Value::Object(obj), time)
                .map_err(|e| TestCaseError::fail(format!("valid event refused: {e}")))?;
            prop_assert_eq!(e.timestamp_ms, ms);
            check_event(&e, time)
        },
    );
}

/// URLs from awkward pieces: schemes (doubled), credentials, paths, ports, IPv6, whitespace,
/// controls and non-ASCII.
fn url_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(vec![
            "http://", "https://", "HTTP://", "ftp://", "@", ":", "/", "?", "#", ".", "a",
            "example.com", "localhost", "8443", "[::1]", "u:p@", "%40", " ", "\t", "\u{0}",
            "\u{7f}", "\u{85}", "\u{a0}", "é",
        ])
        .prop_map(String::from),
        1 => nasty_char().prop_map(String::from),
    ];
    prop_oneof![
        3 => prop::collection::vec(piece, 0..10).prop_map(|p| p.concat()),
        1 => text(40),
    ]
}

#[test]
fn url_rules_never_panic_and_accept_only_clean_authorities() {
    fuzz("urls", url_text(), |url| {
        if let Ok(authority) = urls::check_http_url(&url) {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            prop_assert!(rest.is_some(), "no scheme: {url:?}");
            prop_assert!(rest.unwrap_or_default().starts_with(authority));
            prop_assert!(!authority.is_empty());
            prop_assert!(!authority.contains(['@', '/', '?', '#']), "{authority:?}");
            prop_assert!(
                !url.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{url:?}"
            );
        }
        if urls::check_origin(&url).is_ok() {
            prop_assert!(urls::check_http_url(&url).is_ok(), "origin {url:?}");
        }
        Ok(())
    });
}

/// Found by this fuzzing (then fixed): `check_origin` accepted `http://http://abcde`, a path
/// after the host, by measuring the scheme with `trim_start_matches`.
#[test]
fn origins_are_scheme_and_host_only() {
    fuzz("origins", url_text(), |url| {
        if urls::check_origin(&url).is_ok() {
            let authority = urls::check_http_url(&url).unwrap_or_default();
            let scheme = if url.starts_with("https://") {
                "https://"
            } else {
                "http://"
            };
            prop_assert_eq!(
                &url,
                &format!("{scheme}{authority}"),
                "origin with more than a host"
            );
        }
        Ok(())
    });
}

/// The SDK adapters (Segment, PostHog) and name normalisation on any JSON: no panic, one item
/// per message, and whatever they map keeps the field rules once validated.
#[test]
fn sdk_adapters_map_any_json_into_events_that_keep_the_rules() {
    use pulseboard::ingest::formats::{normalize_name, posthog, segment};
    let body = prop_oneof![
        json_text(),
        prop::collection::vec(json_text(), 0..8)
            .prop_map(|m| format!("{{\"batch\":[{}]}}", m.join(","))),
    ];
    fuzz(
        "sdk adapters",
        (body, time_bounds(), text(80)),
        |(body, time, name)| {
            if let Some(normal) = normalize_name(&name) {
                prop_assert!(
                    normalize_name(&normal).as_ref() == Some(&normal),
                    "{name:?} → {normal:?}"
                );
            }
            let Ok(value) = serde_json::from_str::<Value>(&body) else {
                return Ok(());
            };
            let mut mapped = Vec::new();
            if let Ok(r) = segment::request(value.clone(), None, time.now_ms) {
                mapped.push((r.items, r.messages));
            }
            if let Ok(r) = posthog::request(value, time.now_ms) {
                mapped.push((r.items, r.events));
            }
            for (items, sent) in mapped {
                let n = items.len();
                prop_assert_eq!(sent.len(), n);
                let raw = |index: usize, _: Option<&serde_json::Value>| sent[index].to_string();
                let parsed = pulseboard::ingest::event::validate_all(items.into_iter(), time, raw);
                prop_assert_eq!(parsed.accepted.len() + parsed.rejected.len(), n);
                for r in &parsed.rejected {
                    prop_assert!(r.raw.len() <= 2048);
                }
                for e in &parsed.accepted {
                    check_event(e, time)?;
                }
            }
            Ok(())
        },
    );
}
