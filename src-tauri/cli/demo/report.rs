//! Progress: the readings `run` hands its caller about once a second, and how the CLI prints
//! them (the window shows its own).

use std::io::Write;
use std::time::Duration;

use tokio::time::Instant;

use super::sender::Sender;
use super::{DemoProgress, DemoSummary};
use crate::delivery::charts::thousands;

/// Turns totals into a progress reading with the rate since the previous one.
pub(super) struct Meter {
    duration: Duration,
    at: Instant,
    sent: u64,
}

impl Meter {
    /// A meter for a run of `duration` that started at `start`.
    pub(super) fn new(duration: Duration, start: Instant) -> Self {
        Self {
            duration,
            at: start,
            sent: 0,
        }
    }

    pub(super) fn read(&mut self, sender: &Sender, now: Instant) -> DemoProgress {
        let totals = &sender.totals;
        let span = (now - self.at).as_secs_f64();
        let rate_per_s = if span > 0.0 {
            (totals.sent - self.sent) as f64 / span
        } else {
            0.0
        };
        self.at = now;
        self.sent = totals.sent;
        DemoProgress {
            elapsed: now - sender.start,
            duration: self.duration,
            sent: totals.sent,
            accepted: totals.accepted,
            rejected: totals.rejected,
            failed_requests: totals.failed_requests,
            rate_per_s,
        }
    }
}

/// Rewrites one live line on stderr.
pub fn print_progress(p: &DemoProgress) {
    let line = format!(
        "demo {}s/{}s  {} sent  {}/s  accepted {}  rejected {}  failed requests {}",
        p.elapsed.as_secs(),
        p.duration.as_secs(),
        thousands(p.sent),
        thousands(p.rate_per_s.round() as u64),
        thousands(p.accepted),
        thousands(p.rejected),
        thousands(p.failed_requests),
    );
    // Trailing blanks wipe what a longer previous line left behind.
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{line}    ");
    let _ = err.flush();
}

/// Ends the live line on stderr and prints the totals to stdout.
pub fn print_summary(s: &DemoSummary, elapsed: Duration) {
    eprintln!();
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.sent as f64 / secs
    } else {
        0.0
    };
    println!(
        "demo done in {:.1}s: {} sent ({}/s), accepted {}, rejected {}, failed requests {}",
        secs,
        thousands(s.sent),
        thousands(rate.round() as u64),
        thousands(s.accepted),
        thousands(s.rejected),
        thousands(s.failed_requests),
    );
}
