//! Where a rule's transitions go: one file per channel behind [`Channel`] — `webhook.rs` here,
//! and the window's desktop notifications (`app/alerts.rs`, which needs Tauri). A channel says
//! from the rule whether it is wanted (a webhook URL set; not muted, for the desktop). Each
//! channel delivers on a task of its own, in the order of the transitions, so a slow receiver
//! delays only its own channel; each channel's last failure shows on the rule
//! (`delivery_errors`).

pub mod webhook;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Notice, Rule};

/// A delivery in progress.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), ChannelError>> + Send + 'a>>;

/// A way to tell people about a transition.
pub trait Channel: Send + Sync {
    /// Its name in `delivery_errors` and the logs.
    fn name(&self) -> &'static str;

    /// Whether `rule` asks for this channel.
    fn wants(&self, rule: &Rule) -> bool;

    /// Delivers `notice`, retrying as the channel sees fit; an error is the final one.
    fn deliver<'a>(&'a self, notice: &'a Notice) -> Delivery<'a>;
}

/// Why a channel could not deliver a notice, worded for the rule's row.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChannelError(pub String);

/// The channels an engine delivers to besides the webhook, which every engine has (the window
/// adds its desktop notifications). Carried in the engine's config across profile switches.
#[derive(Clone, Default)]
pub struct Channels(Vec<Arc<dyn Channel>>);

impl Channels {
    pub fn with(mut self, channel: Arc<dyn Channel>) -> Self {
        self.0.push(channel);
        self
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &Arc<dyn Channel>> {
        self.0.iter()
    }
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|c| c.name()))
            .finish()
    }
}
