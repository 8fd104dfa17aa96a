//! What an answer can be broken down by (`breakdown=`): one group per value of a dimension of
//! the event, the property's text as the filters match it.

use serde::{Serialize, Serializer};

use crate::questions::filters::{prop_key, prop_text};
use crate::questions::shelf::DefinitionError;
use crate::storage::store::Params;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Breakdown {
    Country,
    Device,
    EventName,
    Prop(String),
}

impl Breakdown {
    /// `country`, `device`, `event_name` or `prop.KEY` (KEY as the filters take it).
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let bad = |rule: String| DefinitionError::new("breakdown", rule);
        match text {
            "country" => Ok(Self::Country),
            "device" => Ok(Self::Device),
            "event_name" => Ok(Self::EventName),
            _ if text.starts_with("prop.") => prop_key(text)
                .map(|key| Self::Prop(key.to_owned()))
                .map_err(|e| bad(e.rule)),
            _ => Err(bad(format!(
                "country, device, event_name or prop.KEY (got {text:?})"
            ))),
        }
    }

    /// A funnel's breakdown: as [`Breakdown::parse`], but not by event name (its steps are).
    pub fn of_funnel(text: &str) -> Result<Self, DefinitionError> {
        let generic = || {
            let rule = format!("country, device or prop.KEY (got {text:?})");
            Err(DefinitionError::new("breakdown", rule))
        };
        match Self::parse(text) {
            Ok(Self::EventName) => generic(),
            Err(_) if !text.starts_with("prop.") => generic(),
            parsed => parsed,
        }
    }

    pub fn as_text(&self) -> String {
        match self {
            Self::Country => "country".to_owned(),
            Self::Device => "device".to_owned(),
            Self::EventName => "event_name".to_owned(),
            Self::Prop(key) => format!("prop.{key}"),
        }
    }

    /// The SQL of the value on an event row; binds the property key in `params`.
    pub fn sql(&self, params: &mut Params) -> String {
        match self {
            Self::Country => "country_code".to_owned(),
            Self::Device => "device_type".to_owned(),
            // As a plain string, like the other dimensions (it is stored LowCardinality).
            Self::EventName => "toString(event_name)".to_owned(),
            Self::Prop(key) => {
                params.push(("b_key".to_owned(), key.clone()));
                prop_text("{b_key:String}")
            }
        }
    }
}

impl Serialize for Breakdown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdowns_parse_like_filters() {
        assert_eq!(Breakdown::parse("country"), Ok(Breakdown::Country));
        assert_eq!(Breakdown::parse("event_name"), Ok(Breakdown::EventName));
        assert_eq!(
            Breakdown::of_funnel("prop.email_domain"),
            Ok(Breakdown::Prop("email_domain".into()))
        );
        for bad in ["", "colour", "prop.", "prop.a b", "Country"] {
            assert_eq!(Breakdown::parse(bad).unwrap_err().field, "breakdown");
        }
        let refused = Breakdown::of_funnel("event_name").unwrap_err();
        assert_eq!(
            refused.rule,
            "country, device or prop.KEY (got \"event_name\")"
        );
    }
}
