//! Segment's HTTP Tracking API (also spoken by RudderStack and Jitsu SDKs): `/v1/batch` and the
//! single-message routes, mapped onto Pulseboard events.

use serde_json::{json, Map, Value};

use super::{event, event_id, millis, normalize_name, text, Item};

/// What a Segment request carries: its messages and the write key given in the body.
#[derive(Debug)]
pub struct Request {
    /// One per message, in order.
    pub items: Vec<Item>,
    /// The messages as sent (what the live view shows of a refused one).
    pub messages: Vec<Value>,
    pub write_key: Option<String>,
}

/// Why a body is not a Segment request at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShapeError {
    #[error("a Segment batch is a JSON object with a `batch` array of messages")]
    NotABatch,
    #[error("a Segment message is a JSON object")]
    NotAMessage,
}

/// `route` is the type a single-message route implies (`track` for `/v1/track`), `None` for
/// `/v1/batch`. `received_ms` is now, for messages without a time and the clock-skew fix.
pub fn request(body: Value, route: Option<&str>, received_ms: i64) -> Result<Request, ShapeError> {
    let Value::Object(mut body) = body else {
        return Err(match route {
            None => ShapeError::NotABatch,
            Some(_) => ShapeError::NotAMessage,
        });
    };
    let write_key = text(body.get("writeKey"));
    // Segment's clock-skew fix: the client's clock was off by (received − sentAt).
    let skew_ms = millis(body.get("sentAt")).map_or(0, |sent| received_ms - sent);
    let messages = match route {
        None => match body.remove("batch") {
            Some(Value::Array(messages)) => messages,
            _ => return Err(ShapeError::NotABatch),
        },
        Some(kind) => {
            body.entry("type").or_insert_with(|| json!(kind));
            vec![Value::Object(body)]
        }
    };
    let items = messages
        .iter()
        .map(|m| message(m, received_ms, skew_ms))
        .collect();
    Ok(Request {
        items,
        messages,
        write_key,
    })
}

/// One message in Pulseboard's event shape.
fn message(message: &Value, received_ms: i64, skew_ms: i64) -> Item {
    let Some(m) = message.as_object() else {
        return Err("message: must be a JSON object".into());
    };
    let kind = m.get("type").and_then(Value::as_str).unwrap_or_default();
    let name = match kind {
        "track" => normalize_name(m.get("event").and_then(Value::as_str).unwrap_or_default())
            .ok_or("event: required for track, a name with at least one letter or digit")?,
        "page" => "page_view".into(),
        "screen" => "screen_view".into(),
        "identify" | "group" | "alias" => kind.into(),
        _ => return Err("type: must be track, page, screen, identify, group or alias".into()),
    };
    let context = m.get("context");
    let at = |path: &str| context.and_then(|c| c.pointer(path));
    let session = text(at("/sessionId"))
        .or_else(|| text(m.get("anonymousId")))
        .or_else(|| text(m.get("userId")));
    let timestamp = millis(m.get("timestamp"))
        .or_else(|| millis(m.get("originalTimestamp")))
        .map_or(received_ms, |t| t + skew_ms);
    let country = at("/location/country")
        .and_then(Value::as_str)
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()));
    Ok(event([
        ("event_name", Some(json!(name))),
        ("timestamp", Some(json!(timestamp))),
        ("session_id", session.map(Value::from)),
        ("user_id", text(m.get("userId")).map(Value::from)),
        ("device_type", at("/device/type").cloned()),
        ("country_code", country.map(Value::from)),
        ("properties", Some(properties(kind, m))),
        (
            "event_id",
            text(m.get("messageId")).map(|id| json!(event_id(&id))),
        ),
    ]))
}

/// `properties` (track, page, screen; page and screen add their `name`) or `traits`
/// (identify, group).
fn properties(kind: &str, m: &Map<String, Value>) -> Value {
    let field = match kind {
        "identify" | "group" => "traits",
        _ => "properties",
    };
    let mut properties = match m.get(field) {
        Some(Value::Object(p)) => p.clone(),
        _ => Map::new(),
    };
    if matches!(kind, "page" | "screen") {
        if let Some(name) = m.get("name").filter(|n| !n.is_null()) {
            properties.insert("name".into(), name.clone());
        }
    }
    Value::Object(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn one(message: Value) -> Item {
        let request = request(json!({"batch": [message]}), None, NOW).unwrap();
        request.items.into_iter().next().unwrap()
    }

    /// Each mapping rule of the contract, one message at a time.
    #[test]
    fn messages_map_onto_events() {
        let uuid = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let cases: Vec<(Value, Value)> = vec![
            (
                json!({"type": "track", "event": "Signup Started", "userId": "u1",
                       "anonymousId": "anon-1", "messageId": uuid,
                       "timestamp": "2025-11-24T16:00:00.000Z",
                       "properties": {"plan": "pro"},
                       "context": {"sessionId": 1732, "device": {"type": "mobile"},
                                   "location": {"country": "de"}}}),
                json!({"event_name": "signup_started", "timestamp": 1_764_000_000_000i64,
                       "session_id": "1732", "user_id": "u1", "device_type": "mobile",
                       "country_code": "de", "properties": {"plan": "pro"},
                       "event_id": uuid}),
            ),
            (
                json!({"type": "page", "name": "Home", "anonymousId": "a",
                       "properties": {"url": "https://x/"}}),
                json!({"event_name": "page_view", "timestamp": NOW, "session_id": "a",
                       "properties": {"url": "https://x/", "name": "Home"}}),
            ),
            (
                json!({"type": "screen", "name": "Settings", "userId": 42}),
                json!({"event_name": "screen_view", "timestamp": NOW, "session_id": "42",
                       "user_id": "42", "properties": {"name": "Settings"}}),
            ),
            (
                json!({"type": "identify", "userId": "u9", "traits": {"email": "a@b.c"},
                       "originalTimestamp": "2025-11-24T16:00:00Z",
                       "context": {"location": {"country": "Germany"}}}),
                json!({"event_name": "identify", "timestamp": 1_764_000_000_000i64,
                       "session_id": "u9", "user_id": "u9",
                       "properties": {"email": "a@b.c"}}),
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(one(message.clone()), Ok(expected), "{message}");
        }
    }

    #[test]
    fn a_message_id_that_is_no_uuid_gets_a_stable_one() {
        let m = json!({"type": "track", "event": "x", "anonymousId": "a",
                       "messageId": "node-next-1-abc"});
        let first = one(m.clone()).unwrap();
        assert_eq!(first["event_id"], one(m).unwrap()["event_id"]);
        assert!(uuid::Uuid::parse_str(first["event_id"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn sent_at_corrects_the_clients_clock() {
        // The client's clock runs 10 s behind: its times move 10 s forward.
        let body = json!({"sentAt": "2025-11-24T15:59:50Z", "batch": [
            {"type": "track", "event": "e", "anonymousId": "a",
             "timestamp": "2025-11-24T15:59:40Z"}]});
        let request = request(body, None, NOW).unwrap();
        assert_eq!(
            request.items[0].as_ref().unwrap()["timestamp"],
            json!(NOW - 10_000)
        );
    }

    #[test]
    fn bad_messages_are_rejected_one_by_one() {
        let body = json!({"writeKey": "k", "batch": [
            {"type": "track", "event": "!!!", "anonymousId": "a"},
            {"type": "launch", "anonymousId": "a"},
            "not an object",
            {"type": "track", "event": "ok", "anonymousId": "a"}]});
        let request = request(body, None, NOW).unwrap();
        assert_eq!(request.write_key.as_deref(), Some("k"));
        let errors: Vec<_> = request
            .items
            .iter()
            .map(|i| i.as_ref().err().cloned())
            .collect();
        assert!(errors[0].as_ref().unwrap().starts_with("event: "));
        assert!(errors[1].as_ref().unwrap().starts_with("type: "));
        assert!(errors[2].as_ref().unwrap().starts_with("message: "));
        assert_eq!(errors[3], None);
    }

    #[test]
    fn single_message_routes_imply_the_type() {
        let body = json!({"event": "Clicked", "userId": "u"});
        let request = request(body, Some("track"), NOW).unwrap();
        assert_eq!(request.items[0].as_ref().unwrap()["event_name"], "clicked");
        assert_eq!(
            super::request(json!([1]), None, NOW).unwrap_err(),
            ShapeError::NotABatch
        );
    }
}
