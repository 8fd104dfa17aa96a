//! The wire formats products already send — Segment's HTTP Tracking API and PostHog's capture
//! API — turned into Pulseboard's own event shape (a JSON object with `event_name`,
//! `session_id`, …), one adapter per format. Everything after (aliases, validation, dedup, the
//! journal) is shared and never knows where an event came from.

pub mod posthog;
pub mod segment;

use chrono::DateTime;
use serde_json::{Map, Value};
use uuid::Uuid;

/// One message of a batch: an event in Pulseboard's shape, or why it cannot be one.
pub type Item = Result<Value, String>;

/// Event names that other tools write freely ("Signup Started") in Pulseboard's alphabet:
/// lower-case, each run of characters outside `[a-z0-9_.:-]` becomes `_`, leading and trailing
/// `_` dropped, cut to 64. `None` when nothing is left.
pub fn normalize_name(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | ':' | '-') {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    // Cut, then trim: a cut that lands after a run must not leave a trailing `_`.
    let cut: String = out.trim_start_matches('_').chars().take(64).collect();
    let trimmed = cut.trim_end_matches('_');
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// A string or a number, as text (ids are sent both ways).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An RFC 3339 time in epoch milliseconds.
fn millis(value: Option<&Value>) -> Option<i64> {
    let text = value?.as_str()?;
    Some(DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis())
}

/// A message's own time, when it gives one: an RFC 3339 string or integer epoch milliseconds
/// (as Pulseboard's own format takes them; the event's rules then judge its range). Anything
/// else is the message's error, not a reason to use the server's time instead.
fn given_time(value: Option<&Value>) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(v) => millis(Some(v)).map(Some).ok_or_else(|| {
            format!("timestamp: an RFC 3339 time or integer epoch milliseconds (got {v})")
        }),
    }
}

/// A client's message id as an event id: itself when it is a UUID, else a UUID v5 of it, so the
/// same message re-sent gets the same id (and is stored once).
fn event_id(id: &str) -> String {
    match Uuid::parse_str(id) {
        Ok(uuid) => uuid.to_string(),
        Err(_) => Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()).to_string(),
    }
}

/// Builds an event object, leaving out what is absent (validation fills the defaults).
fn event(fields: [(&str, Option<Value>); 8]) -> Value {
    let object: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect();
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_as_the_contract_says() {
        for (raw, expected) in [
            ("Signup Started", Some("signup_started")),
            ("  Order -- Completed!! ", Some("order_--_completed")),
            ("checkout.step:2", Some("checkout.step:2")),
            ("Ünïcode Näme", Some("n_code_n_me")),
            ("___", None),
            ("", None),
            ("!!!", None),
        ] {
            assert_eq!(normalize_name(raw).as_deref(), expected, "{raw:?}");
        }
        assert_eq!(normalize_name(&"a".repeat(100)).unwrap().len(), 64);
        // Found by fuzzing: a cut right after a run left a trailing `_`.
        let long = format!("{}¡a", "a".repeat(63));
        assert_eq!(normalize_name(&long).unwrap(), "a".repeat(63));
    }

    #[test]
    fn message_ids_become_stable_event_ids() {
        let uuid = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(event_id(uuid), uuid);
        let node = "node-next-1732900000000-abc";
        assert_eq!(event_id(node), event_id(node));
        assert_ne!(event_id(node), event_id("node-next-1732900000000-abd"));
    }
}
