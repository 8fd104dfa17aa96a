//! An insight's definition and its rules (DESIGN.md "Insights"): parsed from the JSON a client
//! sends, every broken rule reported with the field that broke it.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::ingest::event::{is_event_name, EVENT_NAME_RULE};
use crate::questions::breakdown::Breakdown;
use crate::questions::filters::{prop_key, Filters};
use crate::questions::range::Interval;
use crate::questions::shelf::{check_id, filters, name, DefinitionError};

/// The most events one insight counts together.
pub const MAX_EVENTS: usize = 5;
const FIELDS: [&str; 8] = [
    "id",
    "name",
    "events",
    "where",
    "measure",
    "interval",
    "breakdown",
    "chart",
];

/// How a property's numbers are summed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    Sum,
    Avg,
    Min,
    Max,
    P50,
    P95,
}

impl Aggregate {
    const ALL: [(Aggregate, &'static str); 6] = [
        (Self::Sum, "sum"),
        (Self::Avg, "avg"),
        (Self::Min, "min"),
        (Self::Max, "max"),
        (Self::P50, "p50"),
        (Self::P95, "p95"),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .expect("listed")
            .1
    }
}

/// What each point counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Measure {
    Count,
    /// Distinct `user_id`, else `session_id`.
    Users,
    Sessions,
    /// A property as a number: a JSON number, or a string that parses as one.
    Property {
        aggregate: Aggregate,
        key: String,
    },
}

impl Measure {
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let rule = || {
            DefinitionError::new(
                "measure",
                format!(
                    "count, users, sessions, or sum|avg|min|max|p50|p95:prop.KEY (got {text:?})"
                ),
            )
        };
        match text {
            "count" => return Ok(Self::Count),
            "users" => return Ok(Self::Users),
            "sessions" => return Ok(Self::Sessions),
            _ => {}
        }
        let (aggregate, prop) = text.split_once(':').ok_or_else(rule)?;
        let aggregate = Aggregate::ALL
            .iter()
            .find(|(_, name)| *name == aggregate)
            .ok_or_else(rule)?
            .0;
        let key = prop_key(prop).map_err(|e| DefinitionError::new("measure", e.rule))?;
        Ok(Self::Property {
            aggregate,
            key: key.to_owned(),
        })
    }

    /// Whether an empty bucket is 0 (a count or a sum) rather than null (no value).
    pub fn zero_when_empty(&self) -> bool {
        match self {
            Self::Property { aggregate, .. } => *aggregate == Aggregate::Sum,
            _ => true,
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count => f.write_str("count"),
            Self::Users => f.write_str("users"),
            Self::Sessions => f.write_str("sessions"),
            Self::Property { aggregate, key } => write!(f, "{}:prop.{key}", aggregate.name()),
        }
    }
}

impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How the window draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Chart {
    Line,
    Bar,
    Number,
    Table,
}

/// A stored (or asked) insight, as `PUT` and `GET /api/insights` answer it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Insight {
    pub id: String,
    pub name: String,
    /// None: every event.
    pub events: Vec<String>,
    #[serde(rename = "where")]
    pub filters: Filters,
    pub measure: Measure,
    #[serde(serialize_with = "interval_text")]
    pub interval: Interval,
    pub breakdown: Option<Breakdown>,
    pub chart: Chart,
}

impl Insight {
    /// The insight `id` as `body` defines it (`body` may repeat the id, not another one).
    pub fn parse(id: &str, body: &Value) -> Result<Self, DefinitionError> {
        check_id(id)?;
        let obj = body.as_object().ok_or_else(|| {
            DefinitionError::new(
                "body",
                "a JSON object such as {\"events\": [\"page_view\"]}",
            )
        })?;
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let rule = format!("unknown field; the fields are {}", FIELDS.join(", "));
            return Err(DefinitionError::new(unknown.as_str(), rule));
        }
        if let Some(other) = obj.get("id").filter(|v| v.as_str() != Some(id)) {
            let rule = format!("must be the id in the path ({id:?}) when given (got {other})");
            return Err(DefinitionError::new("id", rule));
        }
        let text = |field: &str, default: &str| -> Result<String, DefinitionError> {
            match obj.get(field) {
                None | Some(Value::Null) => Ok(default.to_owned()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(DefinitionError::new(
                    field,
                    format!("a string (got {other})"),
                )),
            }
        };
        Ok(Self {
            id: id.to_owned(),
            name: name(obj.get("name"), id)?,
            events: events(obj.get("events"))?,
            filters: filters("where", obj.get("where"))?,
            measure: Measure::parse(&text("measure", "count")?)?,
            interval: Interval::parse(&text("interval", "auto")?)?,
            breakdown: match obj.get("breakdown") {
                None | Some(Value::Null) => None,
                Some(_) => Some(Breakdown::parse(&text("breakdown", "")?)?),
            },
            chart: chart(&text("chart", "line")?)?,
        })
    }
}

fn events(value: Option<&Value>) -> Result<Vec<String>, DefinitionError> {
    let rule = format!("a list of 0 to {MAX_EVENTS} event names (none: every event)");
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() <= MAX_EVENTS => list,
        Some(_) => return Err(DefinitionError::new("events", rule)),
    };
    let mut names = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match v.as_str() {
            Some(s) if is_event_name(s) => {
                if !names.iter().any(|n| n == s) {
                    names.push(s.to_owned());
                }
            }
            _ => {
                return Err(DefinitionError::new(
                    format!("events[{i}]"),
                    EVENT_NAME_RULE,
                ))
            }
        }
    }
    Ok(names)
}

fn chart(text: &str) -> Result<Chart, DefinitionError> {
    match text {
        "line" => Ok(Chart::Line),
        "bar" => Ok(Chart::Bar),
        "number" => Ok(Chart::Number),
        "table" => Ok(Chart::Table),
        _ => Err(DefinitionError::new(
            "chart",
            format!("line, bar, number or table (got {text:?})"),
        )),
    }
}

fn interval_text<S: Serializer>(interval: &Interval, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(interval.as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_full_definition_parses_and_echoes() {
        let body = json!({"name": "Checkout clicks", "events": ["button_click"],
            "where": {"prop.button": "checkout"}, "measure": "p95:prop.amount",
            "interval": "hour", "breakdown": "country", "chart": "bar"});
        let insight = Insight::parse("checkout", &body).unwrap();
        assert_eq!(
            insight.measure,
            Measure::Property {
                aggregate: Aggregate::P95,
                key: "amount".into()
            }
        );
        let echo = serde_json::to_value(&insight).unwrap();
        let mut expected = body.clone();
        expected["id"] = json!("checkout");
        assert_eq!(echo, expected);
        assert_eq!(Insight::parse("checkout", &echo).unwrap(), insight);
        let minimal = Insight::parse("all", &json!({})).unwrap();
        assert_eq!(
            serde_json::to_value(minimal).unwrap(),
            json!({"id": "all", "name": "all", "events": [], "where": {}, "measure": "count",
                   "interval": "auto", "breakdown": null, "chart": "line"})
        );
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let field = |body: Value| Insight::parse("x", &body).unwrap_err().field;
        for (body, expected) in [
            (json!([]), "body"),
            (json!({"colour": "red"}), "colour"),
            (json!({"id": "y"}), "id"),
            (json!({"name": ""}), "name"),
            (json!({"events": ["a", "b", "c", "d", "e", "f"]}), "events"),
            (json!({"events": ["ok", ""]}), "events[1]"),
            (json!({"events": "page_view"}), "events"),
            (json!({"where": {"prop.a b": "x"}}), "where.prop.a b"),
            (json!({"where": {"country": 3}}), "where.country"),
            (json!({"measure": "median:prop.x"}), "measure"),
            (json!({"measure": "sum:amount"}), "measure"),
            (json!({"measure": "sum:prop."}), "measure"),
            (json!({"measure": 3}), "measure"),
            (json!({"interval": "week"}), "interval"),
            (json!({"breakdown": "colour"}), "breakdown"),
            (json!({"chart": "pie"}), "chart"),
        ] {
            assert_eq!(field(body.clone()), expected, "{body}");
        }
        assert_eq!(
            Insight::parse("Bad Id", &json!({})).unwrap_err().field,
            "id"
        );
    }
}
