//! Where a rule's transitions go: one file per channel behind [`Channel`] — `webhook.rs` here,
//! and the window's desktop notifications (`app/alerts.rs`, which needs Tauri). A channel says
//! from the rule whether it is wanted (a webhook URL set; not muted, for the desktop). Each
//! channel delivers on a task of its own, in the order of the transitions, so a slow receiver
//! delays only its own channel; each channel's last failure shows on the rule
//! (`delivery_errors`).

pub mod webhook;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::outbox::{Outbox, Pending};
use super::{DeliveryFailure, Notice, Rule};

/// How many transitions of one rule may wait for one channel; past it the newest is dropped
/// and the rule says so.
pub const QUEUE_PER_RULE: usize = 16;

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

    /// Whether a delivery not yet made when the process stops is made after the restart (kept
    /// in the outbox): yes for a webhook, no for a desktop notification about the past.
    fn durable(&self) -> bool {
        false
    }
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

/// Where a delivery's outcome goes: `(rule, channel, the failure or none)`.
pub(super) type Report = Arc<dyn Fn(&str, &'static str, Option<DeliveryFailure>) + Send + Sync>;

/// Drains `channel`'s queue until the engine stops, handing each rule's deliveries to a task
/// of that rule's own: in order within a rule, a slow or dead receiver delaying no other rule.
pub(super) async fn dispatch(
    channel: Arc<dyn Channel>,
    mut queue: mpsc::UnboundedReceiver<Pending>,
    outbox: Arc<Outbox>,
    report: Report,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut rules: HashMap<String, mpsc::Sender<Pending>> = HashMap::new();
    loop {
        let Some(pending) = unless_stopping(queue.recv(), &mut shutdown).await else {
            return;
        };
        let rule = pending.notice.id.clone();
        let worker = rules.entry(rule.clone()).or_insert_with(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_PER_RULE);
            let task = deliver_rule(
                channel.clone(),
                receiver,
                outbox.clone(),
                report.clone(),
                shutdown.clone(),
            );
            tokio::spawn(task);
            sender
        });
        if let Err(refused) = worker.try_send(pending) {
            let dropped = match refused {
                mpsc::error::TrySendError::Full(p) | mpsc::error::TrySendError::Closed(p) => p,
            };
            outbox.done(dropped.seq);
            let error = format!(
                "{QUEUE_PER_RULE} transitions were already waiting for this channel: the one at {} was dropped (the receiver is too slow)",
                dropped.notice.transition.at.to_rfc3339()
            );
            let failure = DeliveryFailure {
                at: chrono::Utc::now(),
                error,
            };
            report(&rule, channel.name(), Some(failure));
        }
    }
}

/// Delivers one rule's transitions to `channel`, one at a time, until the engine stops; a
/// delivery the stop cuts short stays in the outbox for the next start.
async fn deliver_rule(
    channel: Arc<dyn Channel>,
    mut queue: mpsc::Receiver<Pending>,
    outbox: Arc<Outbox>,
    report: Report,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let Some(pending) = unless_stopping(queue.recv(), &mut shutdown).await else {
            return;
        };
        let outcome = tokio::select! {
            outcome = channel.deliver(&pending.notice) => outcome,
            _ = shutdown.changed() => return,
        };
        outbox.done(pending.seq);
        let rule = &pending.notice.id;
        let failure = outcome.err().map(|failed| {
            tracing::warn!(rule = %rule, channel = channel.name(), error = %failed, "alert delivery failed");
            DeliveryFailure {
                at: chrono::Utc::now(),
                error: failed.to_string(),
            }
        });
        report(rule, channel.name(), failure);
    }
}

/// What `next` gives, or nothing once the engine stops.
async fn unless_stopping<T>(
    next: impl Future<Output = Option<T>>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<T> {
    tokio::select! {
        item = next => item,
        _ = shutdown.changed() => None,
    }
}
