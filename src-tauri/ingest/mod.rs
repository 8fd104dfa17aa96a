//! What comes in: the event and its field rules (`event`), the SDK wire formats turned into
//! events (`formats`: Segment, PostHog) and the product's own names mapped to Pulseboard's
//! (`aliases`). The HTTP routes that receive them are in `crate::http`.

/// The header the demo's requests carry: their events are stored like any other, but they are
/// not the product's, so the built-in alert rule goes on waiting for the product's first event.
pub const DEMO_HEADER: &str = "x-pulseboard-demo";

pub mod aliases;
pub mod event;
pub mod formats;
