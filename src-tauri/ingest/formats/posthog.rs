//! PostHog's capture API (`/batch/`, `/e/`, `/capture/`, `/i/v0/e/`, `/track/`): a batch, one
//! event, or an array of events, mapped onto Pulseboard events.

use serde_json::{json, Value};

use super::{event, event_id, given_time, normalize_name, text, Item};

/// What a PostHog request carries: its events and the project key it names.
#[derive(Debug)]
pub struct Request {
    /// One per event, in order.
    pub items: Vec<Item>,
    /// The events as sent (what the live view shows of a refused one).
    pub events: Vec<Value>,
    pub api_key: Option<String>,
}

/// Why a body is not a PostHog request at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a PostHog body is an event object, an array of events, or {{\"api_key\", \"batch\": [...]}}"
)]
pub struct ShapeError;

/// `received_ms` is now, for events without a time.
pub fn request(body: Value, received_ms: i64) -> Result<Request, ShapeError> {
    let (events, top_key) = match body {
        Value::Array(events) => (events, None),
        Value::Object(mut body) => match body.remove("batch") {
            Some(Value::Array(events)) => (events, key_of(&Value::Object(body))),
            Some(_) => return Err(ShapeError),
            None => {
                let key = key_of(&Value::Object(body.clone()));
                (vec![Value::Object(body)], key)
            }
        },
        _ => return Err(ShapeError),
    };
    let api_key = top_key.or_else(|| events.iter().find_map(key_of));
    let items = events.iter().map(|e| capture(e, received_ms)).collect();
    Ok(Request {
        items,
        events,
        api_key,
    })
}

/// The project key an object carries: `api_key`, `token`, or `properties.token`.
fn key_of(object: &Value) -> Option<String> {
    text(object.get("api_key"))
        .or_else(|| text(object.get("token")))
        .or_else(|| text(object.pointer("/properties/token")))
}

fn capture(captured: &Value, received_ms: i64) -> Item {
    let Some(e) = captured.as_object() else {
        return Err("event: must be a JSON object".into());
    };
    let name = e.get("event").and_then(Value::as_str).unwrap_or_default();
    let name = match name {
        "$pageview" => "page_view".to_string(),
        "$autocapture" => "button_click".to_string(),
        "$exception" => "error_occurred".to_string(),
        other => normalize_name(other.strip_prefix('$').unwrap_or(other))
            .ok_or("event: required, a name with at least one letter or digit")?,
    };
    let mut properties = match e.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        _ => Default::default(),
    };
    properties.remove("token");
    // posthog-js sends it among the properties only.
    let distinct_id = text(e.get("distinct_id")).or_else(|| text(properties.get("distinct_id")));
    let session = text(properties.get("$session_id")).or_else(|| distinct_id.clone());
    // posthog-js sends `offset` (ms before sending) instead of a timestamp.
    let offset = e.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let timestamp = given_time(e.get("timestamp"))?.unwrap_or(received_ms - offset);
    let device = properties
        .get("$device_type")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let country = properties.get("$geoip_country_code").cloned();
    Ok(event([
        ("event_name", Some(json!(name))),
        ("timestamp", Some(json!(timestamp))),
        ("session_id", session.map(Value::from)),
        ("user_id", distinct_id.map(Value::from)),
        ("device_type", device.map(Value::from)),
        ("country_code", country),
        ("properties", Some(Value::Object(properties))),
        (
            "event_id",
            text(e.get("uuid")).map(|id| json!(event_id(&id))),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    #[test]
    fn events_map_onto_pulseboard_events() {
        let uuid = "01a2293b-c21c-7576-9a3c-3f1e2d4c5b6a";
        let cases: Vec<(Value, Value)> = vec![
            (
                json!({"event": "$pageview", "distinct_id": "u1", "uuid": uuid,
                       "timestamp": "2025-11-24T16:00:00Z",
                       "properties": {"$session_id": "s9", "$device_type": "Mobile",
                                      "$geoip_country_code": "DE", "token": "k",
                                      "$current_url": "https://x/"}}),
                json!({"event_name": "page_view", "timestamp": 1_764_000_000_000i64,
                       "session_id": "s9", "user_id": "u1", "device_type": "mobile",
                       "country_code": "DE", "event_id": uuid,
                       "properties": {"$session_id": "s9", "$device_type": "Mobile",
                                      "$geoip_country_code": "DE",
                                      "$current_url": "https://x/"}}),
            ),
            (
                json!({"event": "$autocapture", "distinct_id": 7}),
                json!({"event_name": "button_click", "timestamp": NOW, "session_id": "7",
                       "user_id": "7", "properties": {}}),
            ),
            (
                json!({"event": "$exception", "distinct_id": "u", "offset": 1500}),
                json!({"event_name": "error_occurred", "timestamp": NOW - 1500,
                       "session_id": "u", "user_id": "u", "properties": {}}),
            ),
            (
                json!({"event": "$identify", "distinct_id": "u"}),
                json!({"event_name": "identify", "timestamp": NOW, "session_id": "u",
                       "user_id": "u", "properties": {}}),
            ),
            (
                json!({"event": "feature_used",
                       "properties": {"distinct_id": "b9", "token": "k", "feature": "export"}}),
                json!({"event_name": "feature_used", "timestamp": NOW, "session_id": "b9",
                       "user_id": "b9", "properties": {"distinct_id": "b9", "feature": "export"}}),
            ),
            (
                json!({"event": "Order Completed", "distinct_id": "u"}),
                json!({"event_name": "order_completed", "timestamp": NOW, "session_id": "u",
                       "user_id": "u", "properties": {}}),
            ),
        ];
        for (captured, expected) in cases {
            let request = request(captured.clone(), NOW).unwrap();
            assert_eq!(request.items, vec![Ok(expected)], "{captured}");
        }
    }

    #[test]
    fn every_body_shape_and_where_the_key_is() {
        let e = json!({"event": "x", "distinct_id": "u"});
        let batch = request(json!({"api_key": "k1", "batch": [e, e]}), NOW).unwrap();
        assert_eq!(
            (batch.items.len(), batch.api_key.as_deref()),
            (2, Some("k1"))
        );
        let single = request(
            json!({"event": "x", "distinct_id": "u", "token": "k2"}),
            NOW,
        )
        .unwrap();
        assert_eq!(
            (single.items.len(), single.api_key.as_deref()),
            (1, Some("k2"))
        );
        let array = request(
            json!([{"event": "x", "distinct_id": "u",
                                    "properties": {"token": "k3"}}]),
            NOW,
        )
        .unwrap();
        assert_eq!(array.api_key.as_deref(), Some("k3"));
        assert!(array.items[0].as_ref().unwrap()["properties"]
            .get("token")
            .is_none());
        assert_eq!(request(json!("x"), NOW).unwrap_err(), ShapeError);
        let bad = request(json!([{"event": "$$$", "distinct_id": "u"}, 3]), NOW).unwrap();
        assert!(bad
            .items
            .iter()
            .all(|i| i.as_ref().unwrap_err().starts_with("event: ")));
    }

    #[test]
    fn a_timestamp_is_rfc_3339_or_epoch_millis_and_anything_else_is_the_events_error() {
        let at = |timestamp: Value| {
            let captured = json!({"event": "x", "distinct_id": "u", "timestamp": timestamp});
            request(captured, NOW).unwrap().items.remove(0)
        };
        let time = |item: Item| item.unwrap()["timestamp"].clone();
        assert_eq!(time(at(json!(NOW - 5))), json!(NOW - 5));
        assert_eq!(
            time(at(json!("2025-11-24T16:00:00Z"))),
            json!(1_764_000_000_000i64)
        );
        assert_eq!(time(at(Value::Null)), json!(NOW));
        for garbage in [json!("yesterday"), json!(1.5), json!({"t": 1}), json!(true)] {
            let error = at(garbage.clone()).unwrap_err();
            assert!(
                error.starts_with("timestamp: an RFC 3339 time or integer epoch milliseconds"),
                "{garbage}: {error}"
            );
        }
    }
}
