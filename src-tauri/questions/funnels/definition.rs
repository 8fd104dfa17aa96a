//! A funnel's definition and its rules (DESIGN.md "Funnels"): parsed from the JSON a client
//! sends, every broken rule reported with the path of the field that broke it
//! (`steps[2].where.prop.plan: …`).

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::ingest::event::{is_event_name, EVENT_NAME_RULE};
use crate::questions::filters::Filters;
pub use crate::questions::shelf::{check_id, DefinitionError};
use crate::questions::shelf::{filters, name};
use crate::support::duration::{self, Largest};

pub const MIN_STEPS: usize = 2;
pub const MAX_STEPS: usize = 8;
const MIN_WINDOW_S: u64 = 60;
const MAX_WINDOW_S: u64 = 7 * 86_400;
const DEFAULT_WINDOW_S: u64 = 3600;

/// Whom a funnel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CountBy {
    /// `user_id`, else `session_id`: the panels' "unique user".
    User,
    Session,
}

/// One step: an event name, narrowed by `where` (the filter keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Step {
    pub event_name: String,
    #[serde(rename = "where", skip_serializing_if = "Filters::is_empty")]
    pub filters: Filters,
}

/// A stored funnel, as `PUT` and `GET /api/funnels` answer it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Funnel {
    pub id: String,
    pub name: String,
    pub steps: Vec<Step>,
    #[serde(rename = "window", serialize_with = "window_text")]
    pub window_s: u64,
    pub count_by: CountBy,
}

impl Funnel {
    /// The built-in funnel every data directory starts with.
    pub fn builtin_signup() -> Self {
        let step = |name: &str| Step {
            event_name: name.to_owned(),
            filters: Filters::default(),
        };
        Self {
            id: "signup".to_owned(),
            name: "Signup".to_owned(),
            steps: vec![step("signup_started"), step("signup_completed")],
            window_s: DEFAULT_WINDOW_S,
            count_by: CountBy::User,
        }
    }

    /// The funnel `id` as `body` defines it. `body` may repeat the id (a stored funnel sent
    /// back as it was read), but not another one.
    pub fn parse(id: &str, body: &Value) -> Result<Self, DefinitionError> {
        check_id(id)?;
        let obj = body.as_object().ok_or_else(|| {
            DefinitionError::new(
                "body",
                "a JSON object with steps (and optionally name, window, count_by)",
            )
        })?;
        const FIELDS: [&str; 5] = ["id", "name", "steps", "window", "count_by"];
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(unknown_field(unknown, "id, name, steps, window, count_by"));
        }
        if let Some(other) = obj.get("id").filter(|v| v.as_str() != Some(id)) {
            let rule = format!("must be the id in the path ({id:?}) when given (got {other})");
            return Err(DefinitionError::new("id", rule));
        }
        Ok(Self {
            id: id.to_owned(),
            name: name(obj.get("name"), id)?,
            steps: steps(obj.get("steps"))?,
            window_s: window(obj.get("window"))?,
            count_by: count_by(obj.get("count_by"))?,
        })
    }
}

fn unknown_field(path: &str, known: &str) -> DefinitionError {
    DefinitionError::new(path, format!("unknown field; the fields are {known}"))
}

fn steps(value: Option<&Value>) -> Result<Vec<Step>, DefinitionError> {
    let rule = format!("required, a list of {MIN_STEPS} to {MAX_STEPS} steps");
    let list = match value {
        Some(Value::Array(list)) if (MIN_STEPS..=MAX_STEPS).contains(&list.len()) => list,
        Some(Value::Array(list)) => {
            let rule = format!("{rule} (got {})", list.len());
            return Err(DefinitionError::new("steps", rule));
        }
        _ => return Err(DefinitionError::new("steps", rule)),
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| step(&format!("steps[{i}]"), v))
        .collect()
}

fn step(path: &str, value: &Value) -> Result<Step, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| {
        DefinitionError::new(path, "an object with event_name (and optionally where)")
    })?;
    if let Some(unknown) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "event_name" | "where"))
    {
        return Err(unknown_field(
            &format!("{path}.{unknown}"),
            "event_name, where",
        ));
    }
    let event_name = match obj.get("event_name") {
        Some(Value::String(s)) if is_event_name(s) => s.clone(),
        _ => {
            return Err(DefinitionError::new(
                format!("{path}.event_name"),
                EVENT_NAME_RULE,
            ))
        }
    };
    let filters = filters(&format!("{path}.where"), obj.get("where"))?;
    Ok(Step {
        event_name,
        filters,
    })
}

fn window(value: Option<&Value>) -> Result<u64, DefinitionError> {
    let rule = "a duration from 1m to 7d such as \"30m\", \"1h\" or \"7d\"";
    let text = match value {
        None | Some(Value::Null) => return Ok(DEFAULT_WINDOW_S),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(DefinitionError::new(
                "window",
                format!("{rule} (got {other})"),
            ))
        }
    };
    let bad = || DefinitionError::new("window", format!("{rule} (got {text:?})"));
    // Whole seconds only: windowFunnel counts milliseconds, but a window like "1.0001s" is a typo.
    let secs = duration::whole_seconds(text).map_err(|_| bad())?;
    if !(MIN_WINDOW_S..=MAX_WINDOW_S).contains(&secs) {
        return Err(bad());
    }
    Ok(secs)
}

fn count_by(value: Option<&Value>) -> Result<CountBy, DefinitionError> {
    match value.and_then(Value::as_str) {
        None if value.is_none_or(Value::is_null) => Ok(CountBy::User),
        Some("user") => Ok(CountBy::User),
        Some("session") => Ok(CountBy::Session),
        _ => Err(DefinitionError::new(
            "count_by",
            format!("user or session (got {})", value.unwrap_or(&Value::Null)),
        )),
    }
}

/// The window as the shortest text that says it exactly ("90s", "30m", "1h", "7d").
fn window_text<S: Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&duration::text(*secs, Largest::Day))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_full_definition_parses_and_echoes() {
        let body = json!({"name": "Signup", "steps": [
            {"event_name": "signup_started"},
            {"event_name": "email_verified"},
            {"event_name": "signup_completed", "where": {"prop.plan": "pro,team"}}],
            "window": "90m", "count_by": "session"});
        let funnel = Funnel::parse("signup-2", &body).unwrap();
        assert_eq!(funnel.window_s, 5400);
        assert_eq!(funnel.count_by, CountBy::Session);
        let echo = serde_json::to_value(&funnel).unwrap();
        assert_eq!(
            echo,
            json!({"id": "signup-2", "name": "Signup", "steps": [
                {"event_name": "signup_started"},
                {"event_name": "email_verified"},
                {"event_name": "signup_completed", "where": {"prop.plan": "pro,team"}}],
                "window": "90m", "count_by": "session"})
        );
        // What was read can be sent back as it is.
        assert_eq!(Funnel::parse("signup-2", &echo).unwrap(), funnel);
        let minimal = json!({"steps": [{"event_name": "a"}, {"event_name": "b"}]});
        let funnel = Funnel::parse("x", &minimal).unwrap();
        assert_eq!((funnel.name.as_str(), funnel.window_s), ("x", 3600));
        assert_eq!(funnel.count_by, CountBy::User);
    }

    #[test]
    fn windows_read_as_durations_between_a_minute_and_a_week() {
        let parse = |w: &str| window(Some(&json!(w)));
        assert_eq!(parse("1m"), Ok(60));
        assert_eq!(parse("7d"), Ok(604_800));
        assert_eq!(parse("90s"), Ok(90));
        for bad in ["59s", "8d", "1w", "", "0", "1.5s", "-1h", "h"] {
            assert_eq!(parse(bad).unwrap_err().field, "window", "{bad}");
        }
        let text = |secs| {
            let funnel = Funnel {
                window_s: secs,
                ..Funnel::builtin_signup()
            };
            serde_json::to_value(funnel).unwrap()["window"].clone()
        };
        assert_eq!(
            [text(90), text(120), text(7200), text(86_400)],
            [json!("90s"), json!("2m"), json!("2h"), json!("1d")]
        );
    }
}
