//! "Would it have fired?": a rule replayed over the stored events of a range, judged at every
//! whole minute and at the present as the live evaluation judges it (its window, `min_events`
//! and `hold`) from a fresh state. Each judgement is its own query, so replaying never holds a
//! flush back.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::measure::{measure, MeasureError};
use super::state::{RuleState, State};
use super::{AlertError, Alerts};
use crate::questions::panels::Range;

/// `GET /api/alerts/{id}/preview`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub id: String,
    pub range: Range,
    /// Judgements made (instants with enough events): up to one per minute, and the present.
    pub judgements: u32,
    pub transitions: Vec<Replayed>,
}

/// A change of state the rule would have made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replayed {
    pub at: DateTime<Utc>,
    pub state: State,
    pub value: f64,
}

impl Alerts {
    /// Rule `id` replayed over `range` up to `end` (none: now), judged at each whole minute
    /// and at the end.
    pub async fn preview(
        &self,
        id: &str,
        range: Range,
        end: Option<DateTime<Utc>>,
    ) -> Result<Preview, AlertError> {
        if range.seconds() > Range::H24.seconds() {
            return Err(AlertError::LongPreview(range));
        }
        let rule = self
            .list()
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| AlertError::NotFound(id.to_owned()))?
            .rule;
        let now = end.unwrap_or_else(|| self.clock.now());
        let minute = now.timestamp().div_euclid(60) * 60;
        let last = DateTime::from_timestamp(minute, 0).expect("a time in range");
        let minutes = (0..range.seconds() / 60)
            .rev()
            .map(|back| last - Duration::minutes(back));
        let instants = minutes.chain((now > last).then_some(now));
        let mut state = RuleState::default();
        let (mut transitions, mut judgements) = (Vec::new(), 0);
        for at in instants {
            let measured = measure(&self.store, &self.questions, &rule, at).await?;
            let transition = state.judge(&rule, measured, at, 0);
            judgements += u32::from(state.judged);
            transitions.extend(transition.map(|t| Replayed {
                at: t.at,
                state: t.state,
                value: t.value,
            }));
        }
        Ok(Preview {
            id: id.to_owned(),
            range,
            judgements,
            transitions,
        })
    }
}

impl From<MeasureError> for AlertError {
    fn from(error: MeasureError) -> Self {
        AlertError::Replay(Box::new(error))
    }
}
