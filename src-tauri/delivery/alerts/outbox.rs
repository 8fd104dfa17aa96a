//! The deliveries not yet made to durable channels (the webhook), in `outbox.json`: written
//! before a delivery is queued and removed once it is made or has failed for good, so a pending
//! delivery survives SIGKILL and SIGTERM and goes out after the restart.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{AlertError, Notice};

const FILE: &str = "outbox.json";

/// A transition on its way to one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Unique in this outbox.
    pub seq: u64,
    pub channel: String,
    pub notice: Notice,
}

/// The pending deliveries of durable channels.
pub struct Outbox {
    path: PathBuf,
    pending: Mutex<Vec<Pending>>,
    next: AtomicU64,
}

impl Outbox {
    /// Reads `outbox.json` in `data_dir` (none: nothing pending).
    pub fn load(data_dir: &Path) -> Result<Self, AlertError> {
        let path = data_dir.join(FILE);
        let pending: Vec<Pending> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AlertError::BadFile {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(AlertError::Read { path, source }),
        };
        let next = pending.iter().map(|p| p.seq + 1).max().unwrap_or(0);
        Ok(Self {
            path,
            pending: Mutex::new(pending),
            next: AtomicU64::new(next),
        })
    }

    /// What waits, oldest first (at a start: what the last run did not deliver).
    pub fn waiting(&self) -> Vec<Pending> {
        self.lock().clone()
    }

    /// Numbers a delivery of `notice` to `channel`, and keeps it on disk when `durable`.
    pub fn add(&self, channel: &str, notice: Notice, durable: bool) -> Pending {
        let pending = Pending {
            seq: self.next.fetch_add(1, Ordering::Relaxed),
            channel: channel.to_owned(),
            notice,
        };
        if durable {
            let mut all = self.lock();
            all.push(pending.clone());
            self.save(&all);
        }
        pending
    }

    /// The delivery `seq` was made, or failed for good: it no longer waits.
    pub fn done(&self, seq: u64) {
        let mut all = self.lock();
        let before = all.len();
        all.retain(|p| p.seq != seq);
        if all.len() != before {
            self.save(&all);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A failed save leaves the delivery in memory (it still goes out); only a crash before it
    /// does would lose it, and the log says so.
    fn save(&self, pending: &[Pending]) {
        let bytes = serde_json::to_vec(pending).expect("pending deliveries serialise");
        if let Err(error) = crate::support::files::write_private(&self.path, &bytes) {
            tracing::warn!(%error, path = %self.path.display(), "pending alert deliveries not saved; a crash now would lose them");
        }
    }
}
