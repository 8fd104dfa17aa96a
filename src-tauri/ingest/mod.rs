//! What comes in: the event and its field rules (`event`), the SDK wire formats turned into
//! events (`formats`: Segment, PostHog) and the product's own names mapped to Pulseboard's
//! (`aliases`). The HTTP routes that receive them are in `crate::http`.

pub mod aliases;
pub mod event;
pub mod formats;
