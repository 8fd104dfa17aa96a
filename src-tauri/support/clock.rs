//! Where "now" comes from: the system clock, or a fixed one that tests set and move by hand,
//! so a test that depends on time says which time instead of sleeping until it passes.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// The engine's clock. Cheap to clone; clones of a fixed clock share its time.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stays at `at` until [`Clock::set`] moves it.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(AtomicI64::new(at.timestamp_millis()))))
    }

    /// Moves a fixed clock (and every clone of it) to `at`; the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(ms) = &self.0 {
            ms.store(at.timestamp_millis(), Ordering::SeqCst);
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(ms) => DateTime::from_timestamp_millis(ms.load(Ordering::SeqCst))
                .expect("a fixed clock holds a valid time"),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_set_and_clones_follow() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
            .unwrap()
            .to_utc();
        let clock = Clock::fixed(t0);
        let clone = clock.clone();
        assert_eq!(clock.now(), t0);
        clock.set(t0 + chrono::Duration::minutes(5));
        assert_eq!(clone.now_ms(), t0.timestamp_millis() + 300_000);
        let system = Clock::system();
        assert!((system.now() - Utc::now()).num_seconds().abs() < 5);
    }
}
