//! What the window remembers across launches.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::questions::filters::Filters;
use crate::questions::panels::{Range, Scope};
use crate::support::duration;

/// The window's remembered choices (`window.json` in the config directory). Window size and
/// position are the window-state plugin's.
pub struct Settings {
    path: Option<PathBuf>,
}

/// The dashboard the window shows: its range (a preset, or a span the user picked) and the
/// instant it ends (none: now, live), the filter bar's filters, and the funnel the signup panel
/// shows (none: the hourly signups); and which of the window's views is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Choice {
    pub range: Range,
    pub at: Option<DateTime<Utc>>,
    pub filters: Filters,
    pub funnel: Option<String>,
    /// The view open in the window's navigation (`ui/app.js`'s `VIEWS`: `dashboard`,
    /// `funnels`, …); none: the first.
    pub page: Option<String>,
    /// The funnel the Funnels view last showed, and its breakdown (`country`, `prop.KEY`, …;
    /// empty: none).
    pub funnel_view: Option<FunnelView>,
    /// The statement the SQL view last ran.
    pub sql: Option<String>,
}

/// What the Funnels view opens on.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FunnelView {
    pub id: String,
    pub breakdown: String,
}

impl Choice {
    /// What the window's panels and funnels are computed over: the range and filters, up to
    /// the chosen instant or now.
    pub fn scope(&self) -> Scope {
        Scope {
            filters: self.filters.clone(),
            at: self.at,
            ..Scope::new(self.range)
        }
    }
}

/// A time the window's header picked: a preset range, live or as of an instant, or a span.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimePick {
    Preset {
        range: String,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    Span {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

impl TimePick {
    /// The range and its end (none: live) this pick means at `now`, or why it cannot be shown.
    pub fn resolve(self, now: DateTime<Utc>) -> Result<(Range, Option<DateTime<Utc>>), String> {
        let (range, end) = match self {
            TimePick::Preset { range, at } => {
                let preset = Range::parse(&range)
                    .ok_or_else(|| format!("unknown range {range:?}; use 1h, 6h or 24h"))?;
                (preset, at)
            }
            TimePick::Span { from, to } => {
                let span = Range::span(from.timestamp_millis(), to.timestamp_millis())
                    .map_err(|rule| rule.replace("from: ", "From "))?;
                (span, Some(to))
            }
        };
        match end {
            Some(end) if end > now => Err("that time is still to come: pick one up to now".into()),
            _ => Ok((range, end)),
        }
    }
}

/// A view of the window's navigation as it may be remembered: a short lower-case word (the
/// page names its views, `ui/app.js`'s `VIEWS`, so a new view needs nothing here).
pub fn page(name: String) -> Result<String, String> {
    let word =
        (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    match word {
        true => Ok(name),
        false => Err(format!(
            "unknown view {name:?}: a lower-case word such as dashboard or funnels"
        )),
    }
}

/// A preset (`6h`) or a span as [`Range`] writes it (`36h`).
fn remembered_range(text: &str) -> Option<Range> {
    let span = || duration::whole_seconds(text).ok()?.checked_mul(1000);
    Range::parse(text).or_else(|| Range::span(0, i64::try_from(span()?).ok()?).ok())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SettingsFile {
    range: String,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
    #[serde(default)]
    filters: BTreeMap<String, String>,
    #[serde(default)]
    funnel: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    funnel_view: Option<FunnelView>,
    #[serde(default)]
    sql: Option<String>,
}

impl Settings {
    pub fn load() -> Self {
        let dir = crate::storage::profiles::config_dir(None).ok();
        if let Some(dir) = &dir {
            crate::support::files::remove_stale_temps(dir);
        }
        let path = dir.map(|dir| dir.join("window.json"));
        Self { path }
    }

    /// The remembered choice; what cannot be read (no file, an older or damaged one) falls back
    /// to the defaults: the last hour, unfiltered.
    pub fn choice(&self) -> Choice {
        let file = self
            .path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice::<SettingsFile>(&bytes).ok());
        let Some(file) = file else {
            return Choice::default();
        };
        Choice {
            range: remembered_range(&file.range).unwrap_or_default(),
            at: file.at,
            filters: Filters::from_map(&file.filters).unwrap_or_default(),
            funnel: file.funnel,
            page: file.page,
            funnel_view: file.funnel_view,
            sql: file.sql,
        }
    }

    pub fn save(&self, choice: &Choice) {
        let Some(path) = &self.path else { return };
        let file = SettingsFile {
            range: choice.range.to_string(),
            at: choice.at,
            filters: choice.filters.to_map(),
            funnel: choice.funnel.clone(),
            page: choice.page.clone(),
            funnel_view: choice.funnel_view.clone(),
            sql: choice.sql.clone(),
        };
        let written = crate::support::files::write_private(
            path,
            &serde_json::to_vec(&file).unwrap_or_default(),
        );
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "cannot remember the window's range, filters, funnel and view");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_view_is_remembered_with_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            path: Some(dir.path().join("window.json")),
        };
        let choice = Choice {
            range: Range::H6,
            page: Some("funnels".into()),
            ..Choice::default()
        };
        settings.save(&choice);
        assert_eq!(settings.choice(), choice);
    }

    #[test]
    fn a_picked_span_and_its_end_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            path: Some(dir.path().join("window.json")),
        };
        let to = "2026-11-30T14:00:00Z".parse().unwrap();
        let choice = Choice {
            range: Range::span(0, 36 * 3_600_000).unwrap(),
            at: Some(to),
            ..Choice::default()
        };
        settings.save(&choice);
        let text = std::fs::read_to_string(dir.path().join("window.json")).unwrap();
        assert!(
            text.contains(r#""range":"36h","at":"2026-11-30T14:00:00Z""#),
            "{text}"
        );
        assert_eq!(settings.choice(), choice);
        assert_eq!(remembered_range("31d"), None, "longer than 30 days");
    }

    #[test]
    fn a_time_pick_is_a_range_and_an_end_or_says_why_not() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        let t = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let preset = |range: &str, at| TimePick::Preset {
            range: range.into(),
            at,
        };
        assert_eq!(preset("6h", None).resolve(now), Ok((Range::H6, None)));
        let earlier = t("2026-11-30T14:00:00Z");
        assert_eq!(
            preset("1h", Some(earlier)).resolve(now),
            Ok((Range::H1, Some(earlier)))
        );
        let span = TimePick::Span {
            from: t("2026-11-29T02:00:00Z"),
            to: earlier,
        };
        assert_eq!(
            span.resolve(now),
            Ok((Range::span(0, 36 * 3_600_000).unwrap(), Some(earlier)))
        );
        let backwards = TimePick::Span {
            from: earlier,
            to: t("2026-11-29T02:00:00Z"),
        };
        assert_eq!(
            backwards.resolve(now).unwrap_err(),
            "From must be at least 1 minute before to"
        );
        let later = t("2026-12-01T12:05:00Z");
        assert!(preset("1h", Some(later))
            .resolve(now)
            .unwrap_err()
            .contains("up to now"));
        assert!(preset("2h", None)
            .resolve(now)
            .unwrap_err()
            .contains("1h, 6h or 24h"));
        let json =
            r#"{"kind": "span", "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:01Z"}"#;
        let too_long: TimePick = serde_json::from_str(json).unwrap();
        assert!(too_long.resolve(now).unwrap_err().contains("30 days"));
    }

    #[test]
    fn a_file_from_before_views_opens_the_first_view() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("window.json");
        std::fs::write(&path, r#"{"range": "24h", "filters": {}, "funnel": null}"#).unwrap();
        let choice = Settings { path: Some(path) }.choice();
        assert_eq!(choice.range.to_string(), "24h");
        assert_eq!(choice.page, None);
    }
}
