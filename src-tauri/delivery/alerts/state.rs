//! A rule's state between evaluations (ok or firing, since when, the last value) and the one
//! function that decides a transition from a measurement.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rule::Rule;

/// Transitions kept per rule.
pub const KEPT_TRANSITIONS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Ok,
    Firing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Firing => "firing",
        }
    }
}

/// One change of state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub state: State,
    pub at: DateTime<Utc>,
    pub value: f64,
    pub threshold: f64,
}

/// A channel's delivery that failed for good (after its retries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryFailure {
    pub at: DateTime<Utc>,
    pub error: String,
}

/// What one evaluation measured for a rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// Events in the window (what `min_events` counts).
    pub events: u64,
    /// The metric's value; `None` when it has none (an error rate of no events).
    pub value: Option<f64>,
}

/// A condition that has not yet held for the rule's `hold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Holding {
    pub state: State,
    pub since: DateTime<Utc>,
}

/// A rule's state, kept with it in the data dir.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RuleState {
    pub state: State,
    /// When the current state began: the first judgement, or the last transition.
    pub since: Option<DateTime<Utc>>,
    /// The metric at the last evaluation.
    pub value: Option<f64>,
    /// Events in the window at the last evaluation.
    pub events: Option<u64>,
    /// Whether the last evaluation had `min_events` events and so judged the rule.
    pub judged: bool,
    pub evaluated_at: Option<DateTime<Utc>>,
    /// Confirmed flushes the last evaluation read.
    pub as_of_flush: Option<u64>,
    /// The other state's condition, while it has held for less than the rule's `hold`: since
    /// when it has held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding: Option<Holding>,
    /// Oldest first.
    pub transitions: VecDeque<Transition>,
    /// The last failure of each channel (`webhook`, `desktop`) since its last success.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delivery_errors: BTreeMap<String, DeliveryFailure>,
}

impl RuleState {
    /// Records `measure` taken at `at` (reading `as_of_flush` flushes) and returns the
    /// transition it causes, if any: the state changes once the other side of the threshold has
    /// held for the rule's `hold`. A window with fewer than `min_events` events (or no value)
    /// judges nothing: the state (and a condition holding) stays as it was, for lack of
    /// evidence either way.
    pub fn judge(
        &mut self,
        rule: &Rule,
        measure: Measure,
        at: DateTime<Utc>,
        as_of_flush: u64,
    ) -> Option<Transition> {
        self.value = measure.value;
        self.events = Some(measure.events);
        self.evaluated_at = Some(at);
        self.as_of_flush = Some(as_of_flush);
        let value = measure.value.filter(|_| measure.events >= rule.min_events);
        self.judged = value.is_some();
        let value = value?;
        self.since.get_or_insert(at);
        let state = match rule.op.crossed(value, rule.threshold) {
            true => State::Firing,
            false => State::Ok,
        };
        if state == self.state {
            self.holding = None;
            return None;
        }
        let holding = match self.holding {
            Some(h) if h.state == state => h,
            _ => *self.holding.insert(Holding { state, since: at }),
        };
        if at - holding.since < chrono::Duration::seconds(rule.hold_s.into()) {
            return None;
        }
        self.holding = None;
        let transition = Transition {
            state,
            at,
            value,
            threshold: rule.threshold,
        };
        self.state = state;
        self.since = Some(at);
        if self.transitions.len() == KEPT_TRANSITIONS {
            self.transitions.pop_front();
        }
        self.transitions.push_back(transition.clone());
        Some(transition)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::support::clock::Clock;

    fn rule(min_events: u64) -> Rule {
        Rule {
            threshold: 1.0,
            min_events,
            hold_s: 0,
            ..Rule::built_in()
        }
    }

    fn measure(events: u64, value: f64) -> Measure {
        Measure {
            events,
            value: Some(value),
        }
    }

    #[test]
    fn a_rule_fires_resolves_and_keeps_the_last_fifty_transitions() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
            .unwrap()
            .to_utc();
        let clock = Clock::fixed(t0);
        let rule = rule(20);
        let mut s = RuleState::default();
        assert_eq!(s.judge(&rule, measure(20, 0.5), clock.now(), 1), None);
        assert_eq!((s.state, s.since, s.judged), (State::Ok, Some(t0), true));

        clock.set(t0 + Duration::seconds(15));
        let fired = s.judge(&rule, measure(40, 2.5), clock.now(), 2).unwrap();
        assert_eq!(
            fired,
            Transition {
                state: State::Firing,
                at: clock.now(),
                value: 2.5,
                threshold: 1.0
            }
        );
        assert_eq!((s.state, s.since), (State::Firing, Some(clock.now())));
        // Still firing: no new transition, `since` stays.
        let fired_at = clock.now();
        clock.set(t0 + Duration::seconds(30));
        assert_eq!(s.judge(&rule, measure(40, 3.0), clock.now(), 3), None);
        assert_eq!(
            (s.since, s.value, s.as_of_flush),
            (Some(fired_at), Some(3.0), Some(3))
        );
        // Exactly at the threshold is ok again.
        let resolved = s.judge(&rule, measure(40, 1.0), clock.now(), 4).unwrap();
        assert_eq!((resolved.state, resolved.value), (State::Ok, 1.0));

        for i in 0..60 {
            s.judge(&rule, measure(40, (i % 2 * 5) as f64), clock.now(), 5);
        }
        assert_eq!(s.transitions.len(), KEPT_TRANSITIONS);
        assert_eq!(s.transitions.back().unwrap().state, s.state);
    }

    #[test]
    fn too_few_events_judge_nothing() {
        let rule = rule(20);
        let mut s = RuleState::default();
        let now = Utc::now();
        assert_eq!(s.judge(&rule, measure(19, 100.0), now, 1), None);
        assert_eq!(
            (s.state, s.since, s.judged, s.value, s.events),
            (State::Ok, None, false, Some(100.0), Some(19))
        );
        // Firing, then a quiet window: it keeps firing (no evidence of recovery).
        s.judge(&rule, measure(20, 100.0), now, 2).unwrap();
        assert_eq!(s.judge(&rule, measure(3, 0.0), now, 3), None);
        assert_eq!(s.state, State::Firing);
        // No value at all (an error rate of no events) judges nothing, whatever min_events.
        let none = Measure {
            events: 0,
            value: None,
        };
        assert_eq!(s.judge(&self::rule(0), none, now, 4), None);
        assert!(!s.judged);
    }

    #[test]
    fn a_state_changes_only_once_the_other_side_has_held_for_the_hold() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
            .unwrap()
            .to_utc();
        let rule = Rule {
            hold_s: 120,
            ..rule(20)
        };
        let at = |s: i64| t0 + Duration::seconds(s);
        let mut s = RuleState::default();
        let mut judge = |secs: i64, value: f64| s.judge(&rule, measure(40, value), at(secs), 1);
        // The 49.9 → 50.1 hover of the walkthrough: over, under, over; never two minutes over.
        for (secs, value) in [(0, 0.5), (10, 1.5), (70, 0.9), (80, 1.2), (190, 0.8)] {
            assert_eq!(judge(secs, value), None, "at {secs} s");
        }
        // Over from 200 s on: it fires at 320 s, not before.
        assert_eq!(judge(200, 2.0), None);
        assert_eq!(judge(319, 2.0), None);
        let fired = judge(320, 2.5).unwrap();
        assert_eq!(
            (fired.state, fired.at, fired.value),
            (State::Firing, at(320), 2.5)
        );
        // A too-quiet window in between neither breaks nor counts as holding.
        assert_eq!(s.judge(&rule, measure(3, 0.0), at(330), 1), None);
        assert_eq!(s.holding, None);
        let mut judge = |secs: i64, value: f64| s.judge(&rule, measure(40, value), at(secs), 1);
        assert_eq!(judge(340, 0.5), None);
        assert_eq!(judge(400, 0.5), None);
        assert_eq!(judge(459, 0.5), None);
        let resolved = judge(460, 0.5).unwrap();
        assert_eq!((resolved.state, resolved.at), (State::Ok, at(460)));
        assert_eq!(
            s.transitions.len(),
            2,
            "one firing, one resolution: no flapping"
        );
    }
}
