//! ClickHouse's RowBinary encoding of events: the journal keeps events in this form so a flush
//! is a concatenation of blobs, and the store inserts it without re-encoding.

use crate::ingest::event::Event;

/// The insert column list, in encoding order.
pub const COLUMNS: &str =
    "event_id, event_name, timestamp, session_id, user_id, device_type, country_code, properties";

/// The same columns as a `file()` / `input()` structure. `DateTime64(3)` carries the same Int64
/// as the table's `DateTime64(3, 'UTC')`; leaving out the zone keeps this free of quotes.
pub const STRUCTURE: &str = "event_id UUID, event_name String, timestamp DateTime64(3), \
    session_id String, user_id Nullable(String), device_type String, country_code String, \
    properties String";

/// Appends one event's row to `out`.
pub fn encode(event: &Event, out: &mut Vec<u8>) {
    // ClickHouse stores a UUID as two little-endian UInt64: the high half, then the low half.
    let (hi, lo) = event.event_id.as_u64_pair();
    out.extend_from_slice(&hi.to_le_bytes());
    out.extend_from_slice(&lo.to_le_bytes());
    string(&event.event_name, out);
    out.extend_from_slice(&event.timestamp_ms.to_le_bytes());
    string(&event.session_id, out);
    match &event.user_id {
        Some(user) => {
            out.push(0);
            string(user, out);
        }
        None => out.push(1),
    }
    string(&event.device_type, out);
    string(&event.country_code, out);
    string(&event.properties, out);
}

/// Encodes a batch of events into one buffer.
pub fn encode_all(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 128);
    for event in events {
        encode(event, &mut out);
    }
    out
}

fn string(s: &str, out: &mut Vec<u8>) {
    leb128(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn leb128(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn encodes_every_column_in_order() {
        let event = Event {
            event_id: Uuid::parse_str("00010203-0405-0607-0809-0a0b0c0d0e0f").unwrap(),
            event_name: "a".into(),
            timestamp_ms: 1,
            session_id: "s".repeat(200),
            user_id: None,
            device_type: "d".into(),
            country_code: "".into(),
            properties: "{}".into(),
            id_given: false,
        };
        let bytes = encode_all(&[event]);
        assert_eq!(
            &bytes[..16],
            &[7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8]
        );
        assert_eq!(&bytes[16..18], &[1, b'a']);
        assert_eq!(&bytes[18..26], &1i64.to_le_bytes());
        assert_eq!(&bytes[26..28], &[200 & 0x7f | 0x80, 1]); // 200 as LEB128
        let rest = &bytes[28 + 200..];
        assert_eq!(rest, &[1, 1, b'd', 0, 2, b'{', b'}']);
    }
}
