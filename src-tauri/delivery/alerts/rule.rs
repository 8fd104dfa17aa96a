//! An alert rule as the API takes it, checked field by field: a bad rule is refused with the
//! field it breaks named, never half stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::questions::filters::Filters;
use crate::questions::funnels::MAX_STEPS;
use crate::support::duration::{self, Largest};
use crate::support::text;

/// The shortest and longest trailing window a rule may judge.
const MIN_WINDOW_S: u32 = 60;
const MAX_WINDOW_S: u32 = 24 * 3600;
const DEFAULT_WINDOW_S: u32 = 300;
/// A changed condition must last this long before the state changes: long enough that a value
/// hovering at the threshold does not flap, short enough to page within minutes.
const DEFAULT_HOLD_S: u32 = 120;
const MAX_HOLD_S: u32 = 3600;
/// Below this many events in the window a rule is not judged (one error in three events is not
/// an error spike).
pub const DEFAULT_MIN_EVENTS: u64 = 20;
const MAX_NAME_CHARS: usize = 100;
const MAX_ID_CHARS: usize = 64;
/// The built-in rule, there until deleted.
pub const BUILT_IN_ID: &str = "error_rate";

/// A field of a rule (or the rule's id) that breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct RuleError {
    pub field: String,
    pub rule: String,
}

impl RuleError {
    fn new(field: &str, rule: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            rule: rule.into(),
        }
    }
}

/// What a rule measures over its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// Errors (`error_occurred`) / events × 100, two decimals.
    ErrorRatePct,
    /// Events in the window.
    Events,
    /// Distinct sessions in the window.
    ActiveUsers,
    /// Last step / first step × 100 of the funnel with this id, for actors entering in the
    /// window (one decimal).
    FunnelConversionPct(String),
    /// Step n / step n - 1 × 100 of the funnel with this id (n from 2), for actors entering in
    /// the window (one decimal): where in the funnel people leave.
    FunnelStepPct(String, usize),
    /// The measure of the insight with this id over the window, all groups together.
    Insight(String),
}

const FUNNEL_PREFIX: &str = "funnel_conversion_pct:";
const STEP_PREFIX: &str = "funnel_step_pct:";
const INSIGHT_PREFIX: &str = "insight:";
const METRICS: &str = "one of error_rate_pct, events, active_users, \
    funnel_conversion_pct:<funnel id>, funnel_step_pct:<funnel id>:<step from 2>, insight:<insight id>";

impl Metric {
    fn parse(s: &str) -> Result<Self, RuleError> {
        let bad = |rule: &str| Err(RuleError::new("metric", rule));
        match s {
            "error_rate_pct" => Ok(Self::ErrorRatePct),
            "events" => Ok(Self::Events),
            "active_users" => Ok(Self::ActiveUsers),
            _ if s.starts_with(INSIGHT_PREFIX) => {
                let id = &s[INSIGHT_PREFIX.len()..];
                match check_id(id) {
                    Ok(()) => Ok(Self::Insight(id.to_owned())),
                    Err(_) => bad("insight:<insight id>, the id 1 to 64 characters of a-z 0-9 _ -"),
                }
            }
            _ => match (s.strip_prefix(FUNNEL_PREFIX), s.strip_prefix(STEP_PREFIX)) {
                (Some(id), _) if check_id(id).is_ok() => {
                    Ok(Self::FunnelConversionPct(id.to_owned()))
                }
                (Some(_), _) => bad(
                    "funnel_conversion_pct:<funnel id>, the id 1 to 64 characters of a-z 0-9 _ -",
                ),
                (_, Some(rest)) => {
                    let step = rest.rsplit_once(':').and_then(|(id, n)| {
                        let n: usize = n.parse().ok().filter(|n| (2..=MAX_STEPS).contains(n))?;
                        check_id(id)
                            .is_ok()
                            .then(|| Self::FunnelStepPct(id.to_owned(), n))
                    });
                    step.map_or_else(
                        || {
                            bad(&format!(
                                "funnel_step_pct:<funnel id>:<step from 2 to {MAX_STEPS}>"
                            ))
                        },
                        Ok,
                    )
                }
                _ => bad(METRICS),
            },
        }
    }

    /// What is written after a value of it: ` %` for a percentage, nothing for a count (its
    /// name says what it counts).
    pub fn unit(&self) -> &'static str {
        match self {
            Self::ErrorRatePct | Self::FunnelConversionPct(_) | Self::FunnelStepPct(..) => " %",
            Self::Events | Self::ActiveUsers | Self::Insight(_) => "",
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::ErrorRatePct => "error_rate_pct".into(),
            Self::Events => "events".into(),
            Self::ActiveUsers => "active_users".into(),
            Self::FunnelConversionPct(id) => format!("{FUNNEL_PREFIX}{id}"),
            Self::FunnelStepPct(id, n) => format!("{STEP_PREFIX}{id}:{n}"),
            Self::Insight(id) => format!("{INSIGHT_PREFIX}{id}"),
        }
    }

    /// The funnel it measures and the step it needs (its last one for the conversion).
    pub fn funnel(&self) -> Option<(&str, usize)> {
        match self {
            Self::FunnelConversionPct(id) => Some((id, 2)),
            Self::FunnelStepPct(id, n) => Some((id, *n)),
            _ => None,
        }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Which side of the threshold fires: of the metric, or of its change in percent against an
/// earlier window (`compare_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Above,
    Below,
    /// Fires when the metric fell by more than `threshold` percent.
    DropsByPct,
    /// Fires when the metric rose by more than `threshold` percent.
    RisesByPct,
}

impl Op {
    /// Whether `value` is on the firing side (strictly: a value equal to the threshold is ok).
    /// For a change, `value` is the change in percent: a drop of 40 % is -40.
    pub fn crossed(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Above | Op::RisesByPct => value > threshold,
            Op::Below => value < threshold,
            Op::DropsByPct => value < -threshold,
        }
    }

    /// Whether the rule judges the metric's change rather than the metric.
    pub fn is_change(self) -> bool {
        matches!(self, Op::DropsByPct | Op::RisesByPct)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Above => "above",
            Op::Below => "below",
            Op::DropsByPct => "drops_by_pct",
            Op::RisesByPct => "rises_by_pct",
        }
    }
}

/// The window a change is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareTo {
    /// The window just before the rule's own.
    #[default]
    Previous,
    /// The same window a day earlier (a daily rhythm does not fire).
    DayBefore,
    /// The same window a week earlier.
    WeekBefore,
}

impl CompareTo {
    /// How far before the rule's window the compared one ends, in seconds.
    pub fn shift_s(self, window_s: u32) -> i64 {
        match self {
            CompareTo::Previous => window_s.into(),
            CompareTo::DayBefore => 24 * 3600,
            CompareTo::WeekBefore => 7 * 24 * 3600,
        }
    }

    /// `the 15m before`, `the same 15m a day before`: what a change is against, for people.
    pub fn text(self, window_s: u32) -> String {
        let window = window_text(window_s);
        match self {
            CompareTo::Previous => format!("the {window} before"),
            CompareTo::DayBefore => format!("the same {window} a day before"),
            CompareTo::WeekBefore => format!("the same {window} a week before"),
        }
    }
}

/// A checked rule. Stored as it serialises; [`Rule::parse`] is the only way in from outside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub metric: Metric,
    pub op: Op,
    pub threshold: f64,
    /// For `drops_by_pct` and `rises_by_pct` only: the window the change is measured against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_to: Option<CompareTo>,
    /// The trailing window, in seconds (`"5m"` in JSON).
    #[serde(rename = "for", with = "window")]
    pub window_s: u32,
    /// The state changes only once the new condition has held this long, in seconds (`"2m"`
    /// in JSON; rules stored before it was added get the default).
    #[serde(rename = "hold", default = "default_hold", with = "hold")]
    pub hold_s: u32,
    pub min_events: u64,
    pub filters: Filters,
    pub webhook: Option<String>,
    /// Muted rules are judged and call their webhook, but the window does not notify.
    pub muted: bool,
}

impl Rule {
    /// The built-in rule: error_rate_pct above 1.0 over 5 minutes, at least 20 events.
    pub fn built_in() -> Self {
        Self {
            name: "Error rate above 1 %".into(),
            metric: Metric::ErrorRatePct,
            op: Op::Above,
            threshold: crate::questions::panels::ERROR_THRESHOLD_PCT,
            compare_to: None,
            window_s: DEFAULT_WINDOW_S,
            hold_s: DEFAULT_HOLD_S,
            min_events: DEFAULT_MIN_EVENTS,
            filters: Filters::default(),
            webhook: None,
            muted: false,
        }
    }

    /// What its values are written with: ` %` for a change or a percentage.
    pub fn unit(&self) -> &'static str {
        match self.op.is_change() {
            true => " %",
            false => self.metric.unit(),
        }
    }

    /// `above 1 % over the last 5m`, `on a drop of more than 30 % over the last 15m against the
    /// 15m before`: what fires it, for people.
    pub fn condition(&self) -> String {
        let (t, unit) = (self.threshold, self.unit());
        let window = window_text(self.window_s);
        let against = || self.compare_to.unwrap_or_default().text(self.window_s);
        match self.op {
            Op::Above | Op::Below => {
                format!("{} {t}{unit} over the last {window}", self.op.as_str())
            }
            Op::DropsByPct => {
                format!(
                    "on a drop of more than {t} % over the last {window} against {}",
                    against()
                )
            }
            Op::RisesByPct => {
                format!(
                    "on a rise of more than {t} % over the last {window} against {}",
                    against()
                )
            }
        }
    }

    /// Checks a rule as the API sends it (a JSON object); `id` names it when `name` is absent.
    pub fn parse(id: &str, body: &Value) -> Result<Self, RuleError> {
        check_id(id)?;
        let fields = body
            .as_object()
            .ok_or_else(|| RuleError::new("rule", "must be a JSON object"))?;
        if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let rule = format!("unknown field; a rule has {}", FIELDS.join(", "));
            return Err(RuleError::new(unknown, rule));
        }
        let op = op(required(fields, "op")?)?;
        Ok(Self {
            name: name(fields, id)?,
            metric: Metric::parse(required(fields, "metric")?.as_str().ok_or_else(|| {
                RuleError::new("metric", "must be a string such as \"error_rate_pct\"")
            })?)?,
            op,
            threshold: threshold(required(fields, "threshold")?, op)?,
            compare_to: compare_to(fields.get("compare_to"), op)?,
            window_s: match fields.get("for") {
                None | Some(Value::Null) => DEFAULT_WINDOW_S,
                Some(v) => window::parse(v)?,
            },
            hold_s: match fields.get("hold") {
                None | Some(Value::Null) => DEFAULT_HOLD_S,
                Some(v) => hold::parse(v)?,
            },
            min_events: min_events(fields.get("min_events"))?,
            filters: filters(fields.get("filters"))?,
            webhook: webhook(fields.get("webhook"))?,
            muted: match fields.get("muted") {
                None | Some(Value::Null) => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| RuleError::new("muted", "must be true or false"))?,
            },
        })
    }
}

const FIELDS: [&str; 11] = [
    "name",
    "metric",
    "op",
    "threshold",
    "compare_to",
    "for",
    "hold",
    "min_events",
    "filters",
    "webhook",
    "muted",
];

/// A rule's id (in its URL): 1 to 64 characters of `a-z 0-9 _ -`.
pub fn check_id(id: &str) -> Result<(), RuleError> {
    let valid = (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        return Ok(());
    }
    Err(RuleError::new(
        "id",
        format!("1 to {MAX_ID_CHARS} characters of a-z 0-9 _ - (got {id:?})"),
    ))
}

fn required<'a>(fields: &'a Map<String, Value>, field: &str) -> Result<&'a Value, RuleError> {
    match fields.get(field) {
        None | Some(Value::Null) => Err(RuleError::new(field, "required")),
        Some(v) => Ok(v),
    }
}

fn name(fields: &Map<String, Value>, id: &str) -> Result<String, RuleError> {
    let bad = || {
        let rule = format!("1 to {MAX_NAME_CHARS} characters");
        RuleError::new("name", rule)
    };
    let name = match fields.get("name") {
        None | Some(Value::Null) => return Ok(id.to_owned()),
        Some(v) => v.as_str().ok_or_else(bad)?.trim(),
    };
    text::check(name).map_err(|rule| RuleError::new("name", rule))?;
    if !(1..=MAX_NAME_CHARS).contains(&name.chars().count()) {
        return Err(bad());
    }
    Ok(name.to_owned())
}

fn op(value: &Value) -> Result<Op, RuleError> {
    serde_json::from_value(value.clone())
        .map_err(|_| RuleError::new("op", "above, below, drops_by_pct or rises_by_pct"))
}

fn threshold(value: &Value, op: Op) -> Result<f64, RuleError> {
    let threshold = value
        .as_f64()
        .filter(|t| t.is_finite())
        .ok_or_else(|| RuleError::new("threshold", "must be a number"))?;
    if op.is_change() && threshold <= 0.0 {
        let rule = format!(
            "a percentage above 0 for {}: 30 fires on a change of more than 30 %",
            op.as_str()
        );
        return Err(RuleError::new("threshold", rule));
    }
    Ok(threshold)
}

fn compare_to(value: Option<&Value>, op: Op) -> Result<Option<CompareTo>, RuleError> {
    match (value, op.is_change()) {
        (None | Some(Value::Null), change) => Ok(change.then_some(CompareTo::Previous)),
        (Some(_), false) => Err(RuleError::new(
            "compare_to",
            "only with op drops_by_pct or rises_by_pct",
        )),
        (Some(v), true) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| RuleError::new("compare_to", "previous, day_before or week_before")),
    }
}

fn min_events(value: Option<&Value>) -> Result<u64, RuleError> {
    match value {
        None | Some(Value::Null) => Ok(DEFAULT_MIN_EVENTS),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| RuleError::new("min_events", "a whole number, 0 or more")),
    }
}

fn filters(value: Option<&Value>) -> Result<Filters, RuleError> {
    let map: BTreeMap<String, String> = match value {
        None | Some(Value::Null) => return Ok(Filters::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            RuleError::new(
                "filters",
                "an object of filter to text, such as {\"country\": \"DE\"}",
            )
        })?,
    };
    Filters::from_map(&map).map_err(|e| RuleError::new(&format!("filters.{}", e.param), e.rule))
}

fn webhook(value: Option<&Value>) -> Result<Option<String>, RuleError> {
    let url = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v
            .as_str()
            .ok_or_else(|| RuleError::new("webhook", "an http(s) URL"))?,
    };
    crate::support::urls::check_http_url(url).map_err(|rule| RuleError::new("webhook", rule))?;
    Ok(Some(url.to_owned()))
}

fn default_hold() -> u32 {
    DEFAULT_HOLD_S
}

/// A duration as people write it (`90s`, `5m`, `1h`), in whole seconds within `range`.
fn seconds(
    value: &Value,
    field: &str,
    range: std::ops::RangeInclusive<u32>,
    rule: &str,
) -> Result<u32, RuleError> {
    let bad = || RuleError::new(field, rule);
    let text = value.as_str().ok_or_else(bad)?;
    duration::whole_seconds(text)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| range.contains(s))
        .ok_or_else(bad)
}

/// Serde for a field of whole seconds written as a duration: `seconds_field!(module, field,
/// range, rule)`.
macro_rules! seconds_field {
    ($module:ident, $field:literal, $range:expr, $rule:literal) => {
        mod $module {
            use serde::{Deserialize, Deserializer, Serializer};
            use serde_json::Value;

            use super::*;

            pub fn parse(value: &Value) -> Result<u32, RuleError> {
                seconds(value, $field, $range, $rule)
            }

            pub fn serialize<S: Serializer>(seconds: &u32, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&duration::text((*seconds).into(), Largest::Hour))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
                parse(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

seconds_field!(
    window,
    "for",
    MIN_WINDOW_S..=MAX_WINDOW_S,
    "a duration from 1m to 24h, such as \"90s\", \"5m\" or \"1h\""
);
seconds_field!(
    hold,
    "hold",
    0..=MAX_HOLD_S,
    "a duration from 0s to 1h, such as \"0s\", \"2m\" or \"10m\""
);

/// The largest whole unit up to hours: 3600 → `1h`, 90 → `90s`.
pub fn window_text(seconds: u32) -> String {
    duration::text(seconds.into(), Largest::Hour)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_full_rule_round_trips_and_defaults_fill_in() {
        let body = json!({
            "name": "Errors spike", "metric": "error_rate_pct", "op": "above", "threshold": 1.0,
            "for": "60m", "hold": "90s", "min_events": 50, "filters": {"country": "de"},
            "webhook": "http://127.0.0.1:9000/hook", "muted": true,
        });
        let rule = Rule::parse("spike", &body).unwrap();
        assert_eq!(rule.window_s, 3600);
        assert_eq!(
            serde_json::to_value(&rule).unwrap(),
            json!({
                "name": "Errors spike", "metric": "error_rate_pct", "op": "above",
                "threshold": 1.0, "for": "1h", "hold": "90s", "min_events": 50,
                "filters": {"country": "DE"},
                "webhook": "http://127.0.0.1:9000/hook", "muted": true,
            })
        );
        let stored: Rule = serde_json::from_value(serde_json::to_value(&rule).unwrap()).unwrap();
        assert_eq!(stored, rule);

        let step = json!({"metric": "funnel_step_pct:campaign:2", "op": "below", "threshold": 70});
        let rule = Rule::parse("verification", &step).unwrap();
        assert_eq!(rule.metric, Metric::FunnelStepPct("campaign".into(), 2));
        assert_eq!(rule.metric.funnel(), Some(("campaign", 2)));
        assert_eq!(
            serde_json::to_value(&rule).unwrap()["metric"],
            "funnel_step_pct:campaign:2"
        );

        let funnel =
            json!({"metric": "funnel_conversion_pct:signup", "op": "below", "threshold": 40});
        let rule = Rule::parse("conversion", &funnel).unwrap();
        assert_eq!(rule.metric, Metric::FunnelConversionPct("signup".into()));
        assert_eq!(
            serde_json::to_value(&rule).unwrap()["metric"],
            "funnel_conversion_pct:signup"
        );

        let drop = json!({"metric": "insight:checkout", "op": "drops_by_pct", "threshold": 30,
                          "for": "15m", "compare_to": "day_before"});
        let rule = Rule::parse("checkout-drop", &drop).unwrap();
        assert_eq!(
            (&rule.metric, rule.op, rule.compare_to),
            (
                &Metric::Insight("checkout".into()),
                Op::DropsByPct,
                Some(CompareTo::DayBefore)
            )
        );
        assert_eq!(
            serde_json::to_value(&rule).unwrap()["compare_to"],
            "day_before"
        );
        assert_eq!(
            rule.condition(),
            "on a drop of more than 30 % over the last 15m against the same 15m a day before"
        );
        // A change is against the window just before unless told otherwise.
        let rise = json!({"metric": "events", "op": "rises_by_pct", "threshold": 50});
        let rule = Rule::parse("surge", &rise).unwrap();
        assert_eq!(rule.compare_to, Some(CompareTo::Previous));
        assert_eq!(rule.compare_to.unwrap().shift_s(rule.window_s), 300);
        assert_eq!(CompareTo::WeekBefore.shift_s(300), 7 * 86400);

        let minimal = json!({"metric": "events", "op": "below", "threshold": 10});
        let rule = Rule::parse("quiet", &minimal).unwrap();
        assert_eq!(
            (
                rule.name.as_str(),
                rule.window_s,
                rule.hold_s,
                rule.min_events,
                rule.muted
            ),
            ("quiet", 300, 120, 20, false)
        );
        assert_eq!((&rule.webhook, rule.compare_to), (&None, None));
        assert_eq!(rule.condition(), "below 10 over the last 5m");
    }

    #[test]
    fn bad_rules_name_the_field() {
        let good = json!({"metric": "events", "op": "above", "threshold": 1});
        let with = |field: &str, value: Value| {
            let mut body = good.clone();
            body[field] = value;
            body
        };
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("Bad Id", good.clone(), "id", "a-z 0-9"),
            ("x", json!([]), "rule", "JSON object"),
            (
                "x",
                json!({"op": "above", "threshold": 1}),
                "metric",
                "required",
            ),
            ("x", with("metric", json!("errors")), "metric", "one of"),
            ("x", with("metric", json!(3)), "metric", "string"),
            (
                "x",
                with("metric", json!("funnel_conversion_pct:")),
                "metric",
                "funnel id",
            ),
            (
                "x",
                with("metric", json!("funnel_step_pct:signup:1")),
                "metric",
                "step from 2 to 8",
            ),
            (
                "x",
                with("metric", json!("funnel_step_pct:signup")),
                "metric",
                "step from 2 to 8",
            ),
            (
                "x",
                with("op", json!("over")),
                "op",
                "above, below, drops_by_pct",
            ),
            (
                "x",
                with("metric", json!("insight:Checkout")),
                "metric",
                "insight:<insight id>",
            ),
            (
                "x",
                with("compare_to", json!("previous")),
                "compare_to",
                "only with op drops_by_pct or rises_by_pct",
            ),
            (
                "x",
                json!({"metric": "events", "op": "drops_by_pct", "threshold": 30,
                       "compare_to": "month_before"}),
                "compare_to",
                "previous, day_before or week_before",
            ),
            (
                "x",
                json!({"metric": "events", "op": "rises_by_pct", "threshold": 0}),
                "threshold",
                "a percentage above 0",
            ),
            ("x", with("threshold", json!("1")), "threshold", "number"),
            ("x", with("for", json!("30s")), "for", "1m to 24h"),
            ("x", with("for", json!("25h")), "for", "1m to 24h"),
            ("x", with("for", json!("5 m")), "for", "1m to 24h"),
            ("x", with("for", json!(300)), "for", "1m to 24h"),
            (
                "x",
                with("min_events", json!(-1)),
                "min_events",
                "whole number",
            ),
            (
                "x",
                with("min_events", json!(2.5)),
                "min_events",
                "whole number",
            ),
            (
                "x",
                with("filters", json!({"country": "DEU"})),
                "filters.country",
                "two letters",
            ),
            (
                "x",
                with("filters", json!({"colour": "red"})),
                "filters.colour",
                "unknown",
            ),
            ("x", with("filters", json!(["DE"])), "filters", "object"),
            ("x", with("webhook", json!("ftp://x")), "webhook", "http://"),
            (
                "x",
                with("webhook", json!("https://u:p@hooks.example")),
                "webhook",
                "password",
            ),
            ("x", with("muted", json!("yes")), "muted", "true or false"),
            ("x", with("name", json!("")), "name", "1 to 100"),
            ("x", with("name", json!("a\u{7}b")), "name", "control"),
            ("x", with("colour", json!("red")), "colour", "unknown field"),
        ];
        for (id, body, field, rule) in cases {
            let error = Rule::parse(id, &body).unwrap_err();
            assert_eq!(error.field, field, "{body}");
            assert!(error.rule.contains(rule), "{body}: {}", error.rule);
        }
    }

    #[test]
    fn windows_read_and_write_in_whole_units() {
        for (text, seconds, back) in [
            ("1m", 60, "1m"),
            ("90s", 90, "90s"),
            ("120m", 7200, "2h"),
            ("24h", 86400, "24h"),
        ] {
            assert_eq!(window::parse(&json!(text)), Ok(seconds), "{text}");
            assert_eq!(window_text(seconds), back);
        }
    }

    #[test]
    fn thresholds_are_crossed_strictly() {
        assert!(Op::Above.crossed(1.01, 1.0));
        assert!(!Op::Above.crossed(1.0, 1.0));
        assert!(Op::Below.crossed(9.0, 10.0));
        assert!(!Op::Below.crossed(10.0, 10.0));
        // A drop of 40 % is -40: it crosses drops_by_pct 30, not 40.
        assert!(Op::DropsByPct.crossed(-40.0, 30.0));
        assert!(!Op::DropsByPct.crossed(-40.0, 40.0));
        assert!(!Op::DropsByPct.crossed(40.0, 30.0));
        assert!(Op::RisesByPct.crossed(40.0, 30.0));
        assert!(!Op::RisesByPct.crossed(-40.0, 30.0));
    }
}
