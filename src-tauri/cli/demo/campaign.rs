//! The campaign scenario: the story Pulseboard exists for. Signups go signup_started →
//! email_verified → signup_completed; for a stretch Gmail users lose about 40 % at the
//! verification step (a sender-domain problem), then recover.
//!
//! Every event is a pure function of (seed, origin, its attempt number): [`Campaign::events`]
//! answers the events of any stretch of time without state, so the sender can ask for "what is
//! due now" on the wall clock and a test can replay a fixed clock's stretch exactly.

use serde_json::json;

use super::traffic::{pick, DemoEvent, COUNTRIES, DEVICES};

/// One signup attempt starts every this many milliseconds.
const ATTEMPT_EVERY_MS: i64 = 2_000;
/// Verification arrives 20 s to 5 min after the start, completion 10 s to 3 min after that.
const VERIFY_DELAY_MS: (i64, i64) = (20_000, 300_000);
const COMPLETE_DELAY_MS: (i64, i64) = (10_000, 180_000);
/// The longest an attempt lasts: how far back `events` looks for attempts still running.
const LONGEST_ATTEMPT_MS: i64 = VERIFY_DELAY_MS.1 + COMPLETE_DELAY_MS.1;
/// When Gmail's verification mails go missing, from the campaign's start.
pub const BROKEN_FROM_MS: i64 = 60 * 60_000;
pub const BROKEN_TO_MS: i64 = 105 * 60_000;
/// How much campaign history the live demo sends first, so the story is on screen at once: the
/// stretch where Gmail breaks and the first quarter-hour of its recovery.
pub const BACKFILL_MS: i64 = 2 * 3_600_000;

/// The funnel that tells the story, as `PUT /api/funnels/campaign` takes it: the window's demo
/// defines it when it starts the campaign and no such funnel exists.
pub const FUNNEL_ID: &str = "campaign";
pub fn funnel_definition() -> serde_json::Value {
    json!({"name": "Campaign signups", "window": "1h", "count_by": "user", "steps": [
        {"event_name": "signup_started"}, {"event_name": "email_verified"},
        {"event_name": "signup_completed"}]})
}

const VERIFIED: f64 = 0.85;
/// Gmail's verification rate while broken: about 40 % fewer get through.
const VERIFIED_BROKEN_GMAIL: f64 = 0.5;
const COMPLETED: f64 = 0.8;
const DOMAINS: [(&str, u32); 7] = [
    ("gmail.com", 40),
    ("outlook.com", 18),
    ("yahoo.com", 8),
    ("icloud.com", 6),
    ("acme.io", 12),
    ("globex.com", 9),
    ("initech.dev", 7),
];
const PLANS: [(&str, u32); 3] = [("free", 75), ("pro", 20), ("team", 5)];

/// A campaign that started at `origin_ms`, its randomness fixed by `seed`.
#[derive(Debug, Clone, Copy)]
pub struct Campaign {
    pub seed: u64,
    pub origin_ms: i64,
}

impl Campaign {
    /// Every campaign event with a timestamp in `[from_ms, to_ms)`, in time order.
    pub fn events(&self, from_ms: i64, to_ms: i64) -> Vec<DemoEvent> {
        let first = (from_ms - LONGEST_ATTEMPT_MS - self.origin_ms).max(0) / ATTEMPT_EVERY_MS;
        let last = (to_ms - self.origin_ms).max(0) / ATTEMPT_EVERY_MS;
        let mut events: Vec<DemoEvent> = (first..=last)
            .flat_map(|k| self.attempt(k))
            .filter(|e| e.timestamp.is_some_and(|t| (from_ms..to_ms).contains(&t)))
            .collect();
        events.sort_by_key(|e| e.timestamp);
        events
    }

    /// Attempt `k`: who signs up, and how far they get.
    fn attempt(&self, k: i64) -> Vec<DemoEvent> {
        let mut rng =
            fastrand::Rng::with_seed(self.seed ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let start = self.origin_ms + k * ATTEMPT_EVERY_MS;
        let domain = pick(&mut rng, &DOMAINS);
        let broken = (BROKEN_FROM_MS..BROKEN_TO_MS).contains(&(start - self.origin_ms));
        let verified = if broken && domain == "gmail.com" {
            VERIFIED_BROKEN_GMAIL
        } else {
            VERIFIED
        };
        // The signup form identifies the user from the start, so every step counts for one user.
        let base = DemoEvent {
            event_name: "signup_started",
            timestamp: Some(start),
            session_id: format!("cs-{:x}-{k}", self.seed),
            user_id: Some(format!("cu-{:x}-{k}", self.seed)),
            device_type: pick(&mut rng, &DEVICES),
            country_code: pick(&mut rng, &COUNTRIES),
            properties: json!({"email_domain": domain, "method": "email"}),
        };
        let mut events = vec![base.clone()];
        let verify_at = start + rng.i64(VERIFY_DELAY_MS.0..VERIFY_DELAY_MS.1);
        let complete_at = verify_at + rng.i64(COMPLETE_DELAY_MS.0..COMPLETE_DELAY_MS.1);
        let plan = pick(&mut rng, &PLANS);
        if rng.f64() < verified {
            events.push(DemoEvent {
                event_name: "email_verified",
                timestamp: Some(verify_at),
                properties: json!({"email_domain": domain}),
                ..base.clone()
            });
            if rng.f64() < COMPLETED {
                events.push(DemoEvent {
                    event_name: "signup_completed",
                    timestamp: Some(complete_at),
                    properties: json!({"email_domain": domain, "plan": plan}),
                    ..base
                });
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: i64 = 1_767_268_800_000;

    fn rate(events: &[DemoEvent], domain: &str, from: i64, to: i64) -> f64 {
        let of = |name: &str| {
            events
                .iter()
                .filter(|e| e.event_name == name && e.properties["email_domain"] == domain)
                .filter(|e| {
                    // Attempts that started in the stretch.
                    let k: i64 = e.session_id.rsplit('-').next().unwrap().parse().unwrap();
                    (from..to).contains(&(k * ATTEMPT_EVERY_MS))
                })
                .count() as f64
        };
        of("email_verified") / of("signup_started")
    }

    #[test]
    fn any_stretch_is_the_same_events_and_gmail_breaks_then_recovers() {
        let campaign = Campaign {
            seed: 7,
            origin_ms: ORIGIN,
        };
        let all = campaign.events(ORIGIN, ORIGIN + 3 * 3_600_000);
        // Cut anywhere, the pieces are the whole.
        let cut = ORIGIN + 4_321_987;
        let mut pieces = campaign.events(ORIGIN, cut);
        pieces.extend(campaign.events(cut, ORIGIN + 3 * 3_600_000));
        let json = |v: &[DemoEvent]| serde_json::to_string(v).unwrap();
        assert_eq!(json(&pieces), json(&all));
        assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));

        let before = rate(&all, "gmail.com", 0, BROKEN_FROM_MS);
        let broken = rate(&all, "gmail.com", BROKEN_FROM_MS, BROKEN_TO_MS);
        let after = rate(
            &all,
            "gmail.com",
            BROKEN_TO_MS,
            3 * 3_600_000 - LONGEST_ATTEMPT_MS,
        );
        let others = rate(&all, "outlook.com", BROKEN_FROM_MS, BROKEN_TO_MS);
        assert!((0.8..0.9).contains(&before), "{before}");
        assert!((0.42..0.58).contains(&broken), "{broken}");
        assert!((0.8..0.9).contains(&after), "{after}");
        assert!((0.78..0.92).contains(&others), "{others}");
        for e in &all {
            let value = serde_json::to_value(e).unwrap();
            crate::ingest::event::validate(
                value,
                crate::ingest::event::TimeBounds::new(ORIGIN + 3 * 3_600_000, 90),
            )
            .unwrap();
        }
    }
}
