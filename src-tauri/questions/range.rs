//! The time ranges a question covers: `(end - range, end]`, with the bucket each range's
//! time series uses. `end` is now, or the `at`/`to` instant the question was asked for.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::questions::shelf::DefinitionError;
use crate::support::duration::{self, Largest};

/// The longest span `from`/`to` may pick: 30 days.
pub const MAX_SPAN_S: u32 = 30 * 86_400;

/// A dashboard time range: one of the header's presets, or a span picked by `from`/`to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Range {
    #[default]
    H1,
    H6,
    H24,
    /// Whole seconds, from 1 minute to [`MAX_SPAN_S`] ([`Range::span`] checks).
    Span(u32),
}

impl Range {
    /// The presets `range=` takes.
    pub const ALL: [Range; 3] = [Range::H1, Range::H6, Range::H24];

    /// The presets of the team's own questions (insights, retention): the panels' and a week
    /// and a month.
    pub const LONG: [Range; 5] = [
        Range::H1,
        Range::H6,
        Range::H24,
        Range::Span(7 * 86_400),
        Range::Span(MAX_SPAN_S),
    ];

    /// A preset by its name (`1h`, `6h`, `24h`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_in(s, &Self::ALL)
    }

    /// One of `presets` by its name (`7d`).
    pub fn parse_in(s: &str, presets: &[Range]) -> Option<Self> {
        presets.iter().copied().find(|r| r.to_string() == s)
    }

    /// `1h, 6h or 24h`: the names of `presets`, for an error.
    pub fn names(presets: &[Range]) -> String {
        let names: Vec<String> = presets.iter().map(Range::to_string).collect();
        match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// The range from `from_ms` to `to_ms` (a preset when as long as one): whole seconds, at
    /// least a minute, at most 30 days; the error says which rule `from`/`to` broke.
    pub fn span(from_ms: i64, to_ms: i64) -> Result<Self, String> {
        let ms = to_ms - from_ms;
        if ms < 60_000 {
            return Err("from: must be at least 1 minute before to".into());
        }
        if ms > i64::from(MAX_SPAN_S) * 1000 {
            return Err("from: must be at most 30 days before to".into());
        }
        if ms % 1000 != 0 {
            return Err("from: must be a whole number of seconds before to".into());
        }
        // One range, one value: a span as long as a preset is that preset.
        let seconds = ms / 1000;
        let preset = Self::ALL.into_iter().find(|p| p.seconds() == seconds);
        Ok(preset.unwrap_or(Range::Span(seconds as u32)))
    }

    pub fn seconds(self) -> i64 {
        match self {
            Range::H1 => 3600,
            Range::H6 => 6 * 3600,
            Range::H24 => 24 * 3600,
            Range::Span(s) => i64::from(s),
        }
    }

    /// A time series' bucket: 1 min up to 1h, 5 min up to 6h, 15 min up to 24h, 1 hour up to
    /// 7 days, 1 day beyond (what `interval=auto` means).
    pub fn bucket_seconds(self) -> i64 {
        const STEPS: [(i64, i64); 4] = [
            (3600, 60),
            (6 * 3600, 300),
            (86_400, 900),
            (7 * 86_400, 3600),
        ];
        let length = self.seconds();
        STEPS
            .into_iter()
            .find(|(up_to, _)| length <= *up_to)
            .map_or(86_400, |(_, bucket)| bucket)
    }
}

/// A time series' bucket length (`interval=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// As the range's panels ([`Range::bucket_seconds`]).
    Auto,
    Minute,
    Hour,
    Day,
}

impl Interval {
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        match text {
            "auto" => Ok(Self::Auto),
            "minute" => Ok(Self::Minute),
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            _ => Err(DefinitionError::new(
                "interval",
                format!("minute, hour, day or auto (got {text:?})"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// The bucket length in seconds over `range`.
    pub fn seconds(self, range: Range) -> i64 {
        match self {
            Self::Auto => range.bucket_seconds(),
            Self::Minute => 60,
            Self::Hour => 3600,
            Self::Day => 86_400,
        }
    }
}

/// `1h`, `6h`, `24h`; a span in its largest whole unit (`90m`, `36h`, `7d`).
impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Range::H1 => f.write_str("1h"),
            Range::H6 => f.write_str("6h"),
            Range::H24 => f.write_str("24h"),
            Range::Span(s) => f.write_str(&duration::text(u64::from(*s), Largest::Day)),
        }
    }
}

impl Serialize for Range {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_bucket_as_auto_does_and_keep_to_the_rules() {
        let span = |h: i64| Range::span(0, h * 3_600_000).unwrap();
        assert_eq!(
            [1, 2, 6, 7, 24, 36, 168, 169, 720].map(|h| span(h).bucket_seconds()),
            [60, 300, 300, 900, 900, 3600, 3600, 86_400, 86_400]
        );
        for preset in Range::ALL {
            assert_eq!(Range::span(0, preset.seconds() * 1000), Ok(preset));
            assert_eq!(Range::parse(&preset.to_string()), Some(preset));
        }
        assert_eq!(span(36).to_string(), "36h");
        assert_eq!(Range::span(0, 90 * 60_000).unwrap().to_string(), "90m");
        assert_eq!(span(720).to_string(), "30d");
        assert_eq!(Range::parse("36h"), None, "range= takes the presets only");
        assert_eq!(Range::parse("7d"), None, "the panels keep to a day");
        assert_eq!(Range::parse_in("7d", &Range::LONG), Some(span(168)));
        assert_eq!(Range::names(&Range::LONG), "1h, 6h, 24h, 7d or 30d");
        assert!(Range::span(0, 59_000).unwrap_err().contains("1 minute"));
        assert!(Range::span(0, 721 * 3_600_000)
            .unwrap_err()
            .contains("30 days"));
        assert!(Range::span(0, 60_500).unwrap_err().contains("whole"));
        assert!(Range::span(10, 0).is_err());
    }

    #[test]
    fn intervals_parse() {
        assert_eq!(Interval::parse("auto").unwrap().seconds(Range::H6), 300);
        assert_eq!(Interval::parse("hour").unwrap().seconds(Range::H1), 3600);
        assert_eq!(Interval::parse("week").unwrap_err().field, "interval");
    }
}
