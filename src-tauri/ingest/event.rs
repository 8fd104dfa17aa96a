//! The product event: its field rules, parsing from JSON and NDJSON, and validation.
//!
//! Validation works on `serde_json::Value` rather than a derived struct so that every rejection
//! can name the field and the rule it broke, and so one bad event never spoils its batch.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The most events one request may carry.
pub const MAX_BATCH: usize = 500;
/// The most bytes `properties` may take once serialised.
pub const MAX_PROPERTIES_BYTES: usize = 8 * 1024;

/// The six names the panels know; other names are stored too.
pub const STANDARD_NAMES: [&str; 6] = [
    "page_view",
    "button_click",
    "signup_started",
    "signup_completed",
    "feature_used",
    "error_occurred",
];

const DAY_MS: i64 = 86_400_000;
/// How far ahead of the server's clock an event may be (clients' clocks drift).
const MAX_AHEAD_MS: i64 = 3_600_000;

/// When an accepted event may have happened: `(now − retention, now + 1h]`. Older events would
/// vanish through the TTL right after the 202; later ones would show in the future (and past
/// 2106 wrap around in the views' `DateTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBounds {
    /// The server's time, which also stamps events that carry none.
    pub now_ms: i64,
    pub retention_days: u32,
}

impl TimeBounds {
    pub fn new(now_ms: i64, retention_days: u32) -> Self {
        Self {
            now_ms,
            retention_days,
        }
    }

    /// Whether `ms` lies within the bounds.
    pub fn contains(&self, ms: i64) -> bool {
        let oldest = self.now_ms - i64::from(self.retention_days) * DAY_MS;
        ms > oldest && ms <= self.now_ms + MAX_AHEAD_MS
    }

    /// The bounds in words.
    pub fn span(&self) -> String {
        format!(
            "within the last {} days (the retention) and at most 1 hour ahead of the server's clock",
            self.retention_days
        )
    }

    /// The `timestamp` rule, with a hint when `ms` looks like seconds.
    fn timestamp_rule(&self, ms: Option<i64>) -> String {
        let mut rule = format!(
            "timestamp: must be an RFC 3339 string or integer epoch milliseconds, {}",
            self.span()
        );
        if let Some(ms) = ms.filter(|ms| self.contains(ms.saturating_mul(1000))) {
            rule.push_str(&format!(
                " (got {ms}, which looks like seconds: send milliseconds)"
            ));
        }
        rule
    }
}

/// A validated event, ready for the journal and the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: Uuid,
    pub event_name: String,
    /// Milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    pub session_id: String,
    pub user_id: Option<String>,
    pub device_type: String,
    pub country_code: String,
    /// The `properties` object serialised as JSON (`{}` when absent).
    pub properties: String,
    /// The client sent `event_id` (or a message id it came from): a re-send of the same event
    /// carries it again, so the journal stores it once. Generated ids are new by definition.
    pub id_given: bool,
}

/// Why one event was rejected: the field and the rule, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub error: String,
    /// The item as sent, cut to [`MAX_RAW_BYTES`]: for the live view, not the HTTP answer.
    #[serde(skip)]
    pub raw: String,
}

/// How much of a refused item the live view shows.
pub const MAX_RAW_BYTES: usize = 2048;

/// A whole body that cannot be read as events at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("malformed JSON: {0}; send a JSON array of event objects")]
    Malformed(String),
    #[error("the body is not UTF-8 ({0}); send UTF-8 NDJSON, one event object per line")]
    NotUtf8(String),
    #[error("the body must be a JSON array of events (or NDJSON with Content-Type: application/x-ndjson)")]
    NotAnArray,
    #[error("empty batch: send 1 to {MAX_BATCH} events")]
    Empty,
    #[error("batch of {0} events is over the limit of {MAX_BATCH} per request; split it into smaller batches")]
    TooMany(usize),
    /// Valid JSON, but not the shape the route takes.
    #[error("{0}")]
    Shape(String),
}

/// Why one event is invalid: `field: rule`, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

/// The outcome of parsing one request body.
#[derive(Debug, Default)]
pub struct Parsed {
    pub accepted: Vec<Event>,
    pub rejected: Vec<Rejection>,
}

/// Parses a JSON array body. `time` stamps events that carry no timestamp and bounds the rest.
pub fn parse_json_array(body: &[u8], time: TimeBounds) -> Result<Parsed, BodyError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BodyError::Malformed(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(BodyError::NotAnArray);
    };
    check_count(items.len())?;
    let raw = |_: usize, item: Option<&Value>| item.map(Value::to_string).unwrap_or_default();
    Ok(validate_all(items.into_iter().map(Ok), time, raw))
}

/// Parses an NDJSON body: one event per non-blank line. A line that is not JSON rejects that
/// event only, as a line of a log stream would.
pub fn parse_ndjson(body: &[u8], time: TimeBounds) -> Result<Parsed, BodyError> {
    let text = std::str::from_utf8(body).map_err(|e| BodyError::NotUtf8(e.to_string()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    check_count(lines.len())?;
    let items = lines.iter().map(|line| {
        serde_json::from_str::<Value>(line).map_err(|e| format!("event: malformed JSON line: {e}"))
    });
    Ok(validate_all(items, time, |index, _| {
        lines[index].to_owned()
    }))
}

/// 1 to [`MAX_BATCH`] events per request.
pub fn check_count(n: usize) -> Result<(), BodyError> {
    match n {
        0 => Err(BodyError::Empty),
        n if n > MAX_BATCH => Err(BodyError::TooMany(n)),
        _ => Ok(()),
    }
}

/// Validates each item (an event object, or why it could not become one). `sent` gives a
/// refused item's text as the client sent it, from its index (and the object, when there is
/// one).
pub fn validate_all(
    items: impl Iterator<Item = Result<Value, String>>,
    time: TimeBounds,
    sent: impl Fn(usize, Option<&Value>) -> String,
) -> Parsed {
    let mut parsed = Parsed::default();
    for (index, item) in items.enumerate() {
        let checked = match &item {
            Ok(value) => check(value, time).map_err(|e| e.0),
            Err(error) => Err(error.clone()),
        };
        match checked {
            Ok(event) => parsed.accepted.push(event),
            Err(error) => parsed.rejected.push(Rejection {
                index,
                error,
                raw: crate::support::text::cut(sent(index, item.as_ref().ok()), MAX_RAW_BYTES),
            }),
        }
    }
    parsed
}

/// Validates one event object. The error names the field and the rule it broke.
pub fn validate(value: Value, time: TimeBounds) -> Result<Event, FieldError> {
    check(&value, time)
}

fn check(value: &Value, time: TimeBounds) -> Result<Event, FieldError> {
    let Value::Object(obj) = value else {
        return Err(FieldError("event: must be a JSON object".into()));
    };
    event_fields(obj, time).map_err(FieldError)
}

fn event_fields(obj: &Map<String, Value>, time: TimeBounds) -> Result<Event, String> {
    Ok(Event {
        event_name: event_name(obj)?,
        timestamp_ms: timestamp(obj, time)?,
        session_id: required_text(obj, "session_id", 128)?,
        // An empty user id is no user: it must not merge every anonymous session into one.
        user_id: optional_text(obj, "user_id", 128)?.filter(|id| !id.is_empty()),
        device_type: optional_text(obj, "device_type", 32)?.unwrap_or_else(|| "unknown".into()),
        country_code: country_code(obj)?,
        event_id: event_id(obj)?.unwrap_or_else(Uuid::new_v4),
        id_given: present(obj, "event_id").is_some(),
        properties: properties(obj.get("properties"))?,
    })
}

fn present<'a>(obj: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    obj.get(field).filter(|v| !v.is_null())
}

/// The rule for an event name, in words (after the field name).
pub const EVENT_NAME_RULE: &str = "required, 1 to 64 characters of a-z 0-9 _ . : -";

/// Whether `name` is a valid event name (what ingest accepts and funnel steps may name).
pub fn is_event_name(name: &str) -> bool {
    let allowed = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | ':' | '-');
    !name.is_empty() && name.len() <= 64 && name.chars().all(allowed)
}

fn event_name(obj: &Map<String, Value>) -> Result<String, String> {
    let rule = || format!("event_name: {EVENT_NAME_RULE}");
    match present(obj, "event_name") {
        Some(Value::String(name)) if is_event_name(name) => Ok(name.clone()),
        _ => Err(rule()),
    }
}

fn timestamp(obj: &Map<String, Value>, time: TimeBounds) -> Result<i64, String> {
    let rule = |ms| time.timestamp_rule(ms);
    let ms = match present(obj, "timestamp") {
        None => return Ok(time.now_ms),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| rule(None))?
            .with_timezone(&Utc)
            .timestamp_millis(),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| rule(None))?,
        Some(_) => return Err(rule(None)),
    };
    if !time.contains(ms) {
        return Err(rule(Some(ms)));
    }
    Ok(ms)
}

fn required_text(obj: &Map<String, Value>, field: &str, max: usize) -> Result<String, String> {
    match present(obj, field) {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= max => Ok(s.clone()),
        _ => Err(format!(
            "{field}: required, a string of 1 to {max} characters"
        )),
    }
}

fn optional_text(
    obj: &Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<Option<String>, String> {
    match present(obj, field) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(_) => Err(format!(
            "{field}: optional, a string of at most {max} characters"
        )),
    }
}

fn country_code(obj: &Map<String, Value>) -> Result<String, String> {
    match present(obj, "country_code") {
        None => Ok(String::new()),
        Some(Value::String(s)) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(s.to_ascii_uppercase())
        }
        Some(_) => Err("country_code: optional, two ASCII letters (ISO 3166-1 alpha-2)".into()),
    }
}

/// The client's event id, if it sent one.
fn event_id(obj: &Map<String, Value>) -> Result<Option<Uuid>, String> {
    match present(obj, "event_id") {
        None => Ok(None),
        Some(Value::String(s)) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| "event_id: optional, a UUID string".to_string()),
        Some(_) => Err("event_id: optional, a UUID string".into()),
    }
}

fn properties(value: Option<&Value>) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Ok("{}".into()),
        Some(v @ Value::Object(_)) => {
            let text = v.to_string();
            if text.len() > MAX_PROPERTIES_BYTES {
                return Err(format!(
                    "properties: at most {MAX_PROPERTIES_BYTES} bytes once serialised (got {})",
                    text.len()
                ));
            }
            Ok(text)
        }
        Some(_) => Err("properties: optional, a JSON object".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2024-03-01T07:33:20Z.
    const NOW_MS: i64 = 1_709_278_400_000;
    const NOW: TimeBounds = TimeBounds {
        now_ms: NOW_MS,
        retention_days: 90,
    };

    fn base() -> Value {
        json!({"event_name": "page_view", "session_id": "s1"})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = base();
        v[field] = value;
        v
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let e = validate(base(), NOW).unwrap();
        assert_eq!(e.timestamp_ms, NOW_MS);
        assert_eq!(e.user_id, None);
        assert_eq!(e.device_type, "unknown");
        assert_eq!(e.country_code, "");
        assert_eq!(e.properties, "{}");
    }

    #[test]
    fn accepted_values_are_normalised() {
        let e = validate(
            json!({"event_name": "feature_used", "session_id": "s", "user_id": null,
                   "timestamp": "2024-03-01T10:00:00+02:00", "country_code": "de",
                   "properties": {"feature": "export"}, "unknown": 1,
                   "event_id": "67e55044-10b1-426f-9247-bb680e5fe0c8"}),
            NOW,
        )
        .unwrap();
        assert_eq!(e.timestamp_ms, 1_709_280_000_000);
        assert_eq!(e.country_code, "DE");
        assert_eq!(e.properties, r#"{"feature":"export"}"#);
        assert_eq!(
            e.event_id.to_string(),
            "67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
        let e = validate(with("timestamp", json!(NOW_MS - 123)), NOW).unwrap();
        assert_eq!(e.timestamp_ms, NOW_MS - 123);
    }

    #[test]
    fn each_rule_names_its_field() {
        let long = |n: usize| json!("x".repeat(n));
        let cases = [
            (json!([1]), "event"),
            (json!({"session_id": "s"}), "event_name"),
            (with("event_name", json!("")), "event_name"),
            (with("event_name", json!("Page View")), "event_name"),
            (with("event_name", long(65)), "event_name"),
            (with("event_name", json!(7)), "event_name"),
            (json!({"event_name": "a"}), "session_id"),
            (with("session_id", json!("")), "session_id"),
            (with("session_id", long(129)), "session_id"),
            (with("user_id", long(129)), "user_id"),
            (with("user_id", json!(5)), "user_id"),
            (with("device_type", long(33)), "device_type"),
            (with("country_code", json!("DEU")), "country_code"),
            (with("country_code", json!("1x")), "country_code"),
            (with("timestamp", json!("yesterday")), "timestamp"),
            (with("timestamp", json!(1.5)), "timestamp"),
            (with("timestamp", json!(-1)), "timestamp"),
            (with("timestamp", json!(true)), "timestamp"),
            (with("properties", json!([1, 2])), "properties"),
            (
                with("properties", json!({"k": "v".repeat(9000)})),
                "properties",
            ),
            (with("event_id", json!("not-a-uuid")), "event_id"),
        ];
        for (value, field) in cases {
            let err = validate(value.clone(), NOW).expect_err(&value.to_string());
            assert!(err.0.starts_with(&format!("{field}: ")), "{value} -> {err}");
        }
    }

    #[test]
    fn timestamps_must_lie_within_the_retention_and_an_hour_ahead() {
        const DAY: i64 = 86_400_000;
        let at = |ms: i64| validate(with("timestamp", json!(ms)), NOW).map(|e| e.timestamp_ms);
        assert_eq!(at(NOW_MS - 90 * DAY + 1), Ok(NOW_MS - 90 * DAY + 1));
        assert_eq!(at(NOW_MS + 3_600_000), Ok(NOW_MS + 3_600_000));
        for ms in [
            NOW_MS - 90 * DAY,
            NOW_MS + 3_600_001,
            0,
            // 2106-02-07T06:28:16Z: where ClickHouse's DateTime wraps around.
            4_294_967_296_000,
        ] {
            let error = at(ms).unwrap_err().0;
            assert!(error.starts_with("timestamp: "), "{error}");
            assert!(error.contains("within the last 90 days"), "{error}");
            assert!(!error.contains("looks like seconds"), "{ms}: {error}");
        }
        // Seconds sent instead of milliseconds: the error says so.
        let error = at(NOW_MS / 1000).unwrap_err().0;
        assert!(
            error.ends_with("(got 1709278400, which looks like seconds: send milliseconds)"),
            "{error}"
        );
        let error = validate(with("timestamp", json!("2026-13-01T00:00:00Z")), NOW).unwrap_err();
        assert!(error.0.starts_with("timestamp: "), "{error}");
    }

    #[test]
    fn an_empty_user_id_is_no_user() {
        let e = validate(with("user_id", json!("")), NOW).unwrap();
        assert_eq!(e.user_id, None);
    }

    #[test]
    fn batch_limits_and_partial_acceptance() {
        assert_eq!(parse_json_array(b"[]", NOW).unwrap_err(), BodyError::Empty);
        assert_eq!(
            parse_json_array(b"{}", NOW).unwrap_err(),
            BodyError::NotAnArray
        );
        assert!(matches!(
            parse_json_array(b"[{", NOW),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            parse_json_array(b"[\"\xff\"]", NOW),
            Err(BodyError::Malformed(_))
        ));
        let many = serde_json::to_vec(&vec![base(); 501]).unwrap();
        assert_eq!(
            parse_json_array(&many, NOW).unwrap_err(),
            BodyError::TooMany(501)
        );
        let body = serde_json::to_vec(&json!([base(), {"event_name": "x"}, base()])).unwrap();
        let parsed = parse_json_array(&body, NOW).unwrap();
        assert_eq!(parsed.accepted.len(), 2);
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].index, 1);
        assert_eq!(parsed.rejected[0].raw, r#"{"event_name":"x"}"#);
        let lines = b"{\"event_name\": \"x\"}\nnot json\n";
        let parsed = parse_ndjson(lines, NOW).unwrap();
        let raw: Vec<&str> = parsed.rejected.iter().map(|r| r.raw.as_str()).collect();
        assert_eq!(raw, [r#"{"event_name": "x"}"#, "not json"]);
    }

    #[test]
    fn ndjson_rejects_bad_lines_only() {
        let body = b"{\"event_name\":\"a\",\"session_id\":\"s\"}\n\nnot json\n{\"event_name\":\"b\",\"session_id\":\"s\"}\n";
        let parsed = parse_ndjson(body, NOW).unwrap();
        assert_eq!(parsed.accepted.len(), 2);
        assert_eq!(
            parsed.rejected,
            vec![Rejection {
                index: 1,
                error: parsed.rejected[0].error.clone(),
                raw: "not json".into(),
            }]
        );
        assert!(parsed.rejected[0]
            .error
            .starts_with("event: malformed JSON line"));
    }
}
