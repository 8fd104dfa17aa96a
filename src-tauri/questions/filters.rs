//! Filters: the narrowing every panel, funnel and alert can apply to the events it reads
//! (`country=DE`, `device=mobile`, `prop.KEY=VALUE`; comma lists mean any of them; AND-ed).
//!
//! One type parses them (from a query string or a JSON object), says whether the rollups can
//! answer them (country and device are rollup dimensions; properties need raw events) and turns
//! them into a SQL condition whose values travel as bound parameters.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::storage::store::Params;
use crate::support::text;

/// At most this many filters (parameters) at once.
pub const MAX_FILTERS: usize = 5;
const MAX_KEY_CHARS: usize = 64;
const MAX_DEVICE_CHARS: usize = 32;
/// Values in one filter's comma list (ClickHouse searches at most 255 strings at once).
const MAX_VALUES: usize = 100;

/// A filter parameter that breaks a rule: `param` names it, `rule` says what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {rule}")]
pub struct FilterError {
    pub param: String,
    pub rule: String,
}

impl FilterError {
    pub fn new(param: &str, rule: impl Into<String>) -> Self {
        Self {
            param: param.to_owned(),
            rule: rule.into(),
        }
    }
}

/// Parsed filters, normalised (countries upper-case). Equal filters hash alike, so a cache can
/// key on them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    country: Vec<String>,
    device: Vec<String>,
    /// `(KEY, values)` in key order.
    props: Vec<(String, Vec<String>)>,
}

impl Filters {
    /// Whether `name` is a filter parameter's name (`country`, `device` or `prop.…`).
    pub fn is_filter_param(name: &str) -> bool {
        matches!(name, "country" | "device") || name.starts_with("prop.")
    }

    /// Parses `(name, value)` pairs, every one a filter parameter.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, FilterError> {
        let mut filters = Filters::default();
        let mut seen = 0;
        for (name, value) in pairs {
            seen += 1;
            if seen > MAX_FILTERS {
                return Err(FilterError::new(
                    name,
                    format!("at most {MAX_FILTERS} filters at once"),
                ));
            }
            filters.add(name, value)?;
        }
        Ok(filters)
    }

    fn add(&mut self, name: &str, value: &str) -> Result<(), FilterError> {
        let values = split(name, value)?;
        let slot = match name {
            "country" => {
                let bad = values
                    .iter()
                    .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()));
                if let Some(bad) = bad {
                    let rule = format!("two letters (a country code such as DE), got {bad:?}");
                    return Err(FilterError::new(name, rule));
                }
                &mut self.country
            }
            "device" => {
                if let Some(bad) = values.iter().find(|d| d.chars().count() > MAX_DEVICE_CHARS) {
                    let rule = format!("at most {MAX_DEVICE_CHARS} characters, got {bad:?}");
                    return Err(FilterError::new(name, rule));
                }
                &mut self.device
            }
            _ => {
                let key = prop_key(name)?;
                if self.props.iter().any(|(k, _)| k == key) {
                    return Err(twice(name));
                }
                let at = self.props.partition_point(|(k, _)| k.as_str() < key);
                self.props.insert(at, (key.to_owned(), values));
                return Ok(());
            }
        };
        if !slot.is_empty() {
            return Err(twice(name));
        }
        *slot = values;
        if name == "country" {
            self.country
                .iter_mut()
                .for_each(|c| c.make_ascii_uppercase());
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.country.is_empty() && self.device.is_empty() && self.props.is_empty()
    }

    /// Whether a property filter is among them: those read raw events, the rest the rollups.
    pub fn has_props(&self) -> bool {
        !self.props.is_empty()
    }

    /// A SQL condition on rows with `country_code`, `device_type` (and, when property filters
    /// are present, `properties`) columns; `1` when there are no filters. Parameter names start
    /// with `prefix`, so several conditions can share one query.
    pub fn condition(&self, prefix: &str) -> (String, Params) {
        let mut terms = Vec::new();
        let mut params = Params::new();
        if !self.country.is_empty() {
            let list = bind(&mut params, format!("{prefix}country"), &self.country);
            terms.push(format!("has({list}, country_code)"));
        }
        if !self.device.is_empty() {
            let list = bind(&mut params, format!("{prefix}device"), &self.device);
            terms.push(format!("has({list}, device_type)"));
        }
        for (i, (key, values)) in self.props.iter().enumerate() {
            let key_param = format!("{prefix}key{i}");
            let key_placeholder = format!("{{{key_param}:String}}");
            params.push((key_param, key.clone()));
            let list = bind(&mut params, format!("{prefix}prop{i}"), values);
            let texts: Vec<String> = values.iter().map(|v| as_in_json(v)).collect();
            let texts = bind(&mut params, format!("{prefix}text{i}"), &texts);
            // A cheap substring test first: parsing JSON is what makes a property filter slow
            // (3.1 s for the error rate at 10M events, 0.7 s to search the text), and most rows
            // fail the search. Then the exact test on the value as text.
            terms.push(format!(
                "multiSearchAny(properties, {texts}) AND has({list}, {})",
                prop_text(&key_placeholder)
            ));
        }
        if terms.is_empty() {
            return ("1".to_owned(), params);
        }
        (terms.join(" AND "), params)
    }

    /// Whether an event with these fields passes them, as [`Filters::condition`] judges a
    /// stored row (a property's text: a string as is, anything else as JSON writes it).
    pub fn matches(&self, country: &str, device: &str, properties: &str) -> bool {
        let passes =
            |values: &[String], v: &str| values.is_empty() || values.iter().any(|x| x == v);
        if !passes(&self.country, country) || !passes(&self.device, device) {
            return false;
        }
        if self.props.is_empty() {
            return true;
        }
        let Ok(serde_json::Value::Object(props)) = serde_json::from_str(properties) else {
            return false;
        };
        self.props.iter().all(|(key, values)| {
            let text = match props.get(key) {
                None => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            values.contains(&text)
        })
    }

    /// The filters as `param → comma list`, as responses echo them and rules store them.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        if !self.country.is_empty() {
            map.insert("country".to_owned(), self.country.join(","));
        }
        if !self.device.is_empty() {
            map.insert("device".to_owned(), self.device.join(","));
        }
        for (key, values) in &self.props {
            map.insert(format!("prop.{key}"), values.join(","));
        }
        map
    }
}

impl Serialize for Filters {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

/// From a JSON object of `param → value` (a funnel step's `where`, an alert's `filters`).
impl<'de> Deserialize<'de> for Filters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        Filters::from_map(&map).map_err(serde::de::Error::custom)
    }
}

impl Filters {
    /// Parses a `param → value` map; an unknown parameter is an error naming it.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, FilterError> {
        if let Some(unknown) = map.keys().find(|k| !Self::is_filter_param(k)) {
            return Err(unknown_param(unknown));
        }
        Self::parse(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// The error for a parameter that is not a filter.
pub fn unknown_param(name: &str) -> FilterError {
    FilterError::new(
        name,
        "unknown parameter; filters are country, device and prop.KEY",
    )
}

fn twice(name: &str) -> FilterError {
    FilterError::new(
        name,
        "given twice; list several values with commas instead (a,b)",
    )
}

/// The comma list of `value`: no item may be empty.
fn split(name: &str, value: &str) -> Result<Vec<String>, FilterError> {
    let values: Vec<String> = value.split(',').map(str::to_owned).collect();
    if values.iter().any(String::is_empty) {
        let rule = "must not be empty (a value, or several separated by commas)";
        return Err(FilterError::new(name, rule));
    }
    if let Some(bad) = values.iter().find(|v| text::check(v).is_err()) {
        let rule = format!("{}, got {bad:?}", text::NO_CONTROL);
        return Err(FilterError::new(name, rule));
    }
    if values.len() > MAX_VALUES {
        let rule = format!("at most {MAX_VALUES} values, got {}", values.len());
        return Err(FilterError::new(name, rule));
    }
    Ok(values)
}

/// SQL for the text of property `key` (a placeholder or literal) on a row with `properties`: a
/// string as is, anything else as JSON writes it, empty when absent.
pub fn prop_text(key: &str) -> String {
    format!(
        "if(JSONType(properties, {key}) = 'String', JSONExtractString(properties, {key}), \
         JSONExtractRaw(properties, {key}))"
    )
}

/// KEY of `prop.KEY`: 1..=64 characters of `[A-Za-z0-9_$.-]`.
pub fn prop_key(name: &str) -> Result<&str, FilterError> {
    let key = name
        .strip_prefix("prop.")
        .ok_or_else(|| unknown_param(name))?;
    let valid = (1..=MAX_KEY_CHARS).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_$.-".contains(&b));
    if !valid {
        let rule = format!(
            "the property key must be 1..={MAX_KEY_CHARS} characters of A-Z a-z 0-9 _ $ . -"
        );
        return Err(FilterError::new(name, rule));
    }
    Ok(key)
}

/// How `value` appears inside the stored properties (serialised by serde_json): JSON-escaped.
fn as_in_json(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Binds `values` as the `Array(String)` parameter `name`; returns its placeholder.
fn bind(params: &mut Params, name: String, values: &[String]) -> String {
    let placeholder = format!("{{{name}:Array(String)}}");
    params.push((name, array_literal(values)));
    placeholder
}

/// `['a','b']`: an `Array(String)` parameter in ClickHouse's text format.
pub fn array_literal(values: &[String]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect();
    format!("[{}]", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Filters, FilterError> {
        Filters::parse(pairs.iter().copied())
    }

    #[test]
    fn filters_normalise_and_echo() {
        let f = parse(&[
            ("country", "de,fr"),
            ("prop.plan", "pro"),
            ("device", "mobile"),
        ])
        .unwrap();
        let echo = serde_json::to_value(&f).unwrap();
        assert_eq!(
            echo,
            serde_json::json!({"country": "DE,FR", "device": "mobile", "prop.plan": "pro"})
        );
        assert!(f.has_props());
        // The same filters in another order are the same key.
        let g = parse(&[
            ("device", "mobile"),
            ("prop.plan", "pro"),
            ("country", "DE,FR"),
        ]);
        assert_eq!(g.unwrap(), f);
        assert!(parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn an_event_matches_as_the_sql_condition_judges_a_row() {
        let f = parse(&[
            ("country", "de,fr"),
            ("prop.n", "2,1.5"),
            ("prop.ok", "true"),
        ])
        .unwrap();
        let props = r#"{"n": 1.5, "ok": true, "s": "x"}"#;
        assert!(f.matches("DE", "mobile", props));
        assert!(!f.matches("US", "mobile", props));
        assert!(
            !f.matches("FR", "mobile", r#"{"n": 1.5}"#),
            "absent is empty text"
        );
        assert!(!f.matches("FR", "mobile", r#"{"n": "3", "ok": true}"#));
        assert!(
            f.matches("FR", "tv", r#"{"n": "2", "ok": true}"#),
            "a string as is"
        );
        let strings = parse(&[("prop.s", "x"), ("device", "tv")]).unwrap();
        assert!(strings.matches("US", "tv", props));
        assert!(!strings.matches("US", "desktop", props));
        assert!(parse(&[]).unwrap().matches("", "", "not json"));
    }

    #[test]
    fn bad_filters_name_the_parameter() {
        // The pairs, the parameter the error names, a part of its rule.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[("country", "DEU")], "country", "two letters"),
            (&[("country", "D1")], "country", "two letters"),
            (&[("country", "")], "country", "must not be empty"),
            (&[("country", "DE,")], "country", "must not be empty"),
            (&[("device", "")], "device", "must not be empty"),
            (&[("device", &"x".repeat(33))], "device", "at most 32"),
            (&[("prop.", "x")], "prop.", "property key"),
            (&[("prop.a b", "x")], "prop.a b", "property key"),
            (&[("prop.plan", "")], "prop.plan", "must not be empty"),
            (&[("country", "DE"), ("country", "FR")], "country", "twice"),
            (&[("prop.a", "1"), ("prop.a", "2")], "prop.a", "twice"),
            (
                &[
                    ("prop.a", "1"),
                    ("prop.b", "1"),
                    ("prop.c", "1"),
                    ("prop.d", "1"),
                    ("prop.e", "1"),
                    ("country", "DE"),
                ],
                "country",
                "at most 5",
            ),
        ];
        for (pairs, param, rule) in cases {
            let err = parse(pairs).unwrap_err();
            assert_eq!(err.param, *param, "{pairs:?}");
            assert!(err.rule.contains(rule), "{pairs:?}: {}", err.rule);
        }
        let map = BTreeMap::from([("colour".to_owned(), "red".to_owned())]);
        assert_eq!(Filters::from_map(&map).unwrap_err().param, "colour");
    }

    #[test]
    fn the_condition_binds_every_value() {
        let f = parse(&[("country", "DE"), ("prop.x", "it's")]).unwrap();
        let (sql, params) = f.condition("f_");
        assert_eq!(
            sql,
            "has({f_country:Array(String)}, country_code) AND multiSearchAny(properties, \
             {f_text0:Array(String)}) AND has({f_prop0:Array(String)}, \
             if(JSONType(properties, {f_key0:String}) = 'String', JSONExtractString(properties, \
             {f_key0:String}), JSONExtractRaw(properties, {f_key0:String})))"
        );
        assert_eq!(
            params,
            vec![
                ("f_country".to_owned(), "['DE']".to_owned()),
                ("f_key0".to_owned(), "x".to_owned()),
                ("f_prop0".to_owned(), r"['it\'s']".to_owned()),
                ("f_text0".to_owned(), r"['it\'s']".to_owned()),
            ]
        );
        // Searched as serde_json writes it into the stored properties.
        assert_eq!(as_in_json("say \"hi\"\\"), r#"say \"hi\"\\"#);
        assert_eq!(Filters::default().condition("f_").0, "1");
    }
}
