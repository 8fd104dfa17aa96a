//! What the window remembers across launches.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::questions::filters::Filters;
use crate::questions::panels::{Range, Scope};

/// The window's remembered choices (`window.json` in the config directory). Window size and
/// position are the window-state plugin's.
pub struct Settings {
    path: Option<PathBuf>,
}

/// The dashboard the window shows: its range, the filter bar's filters, and the funnel the
/// signup panel shows (none: the hourly signups); and which of the window's views is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Choice {
    pub range: Range,
    pub filters: Filters,
    pub funnel: Option<String>,
    /// The view open in the window's navigation (`ui/app.js`'s `VIEWS`: `dashboard`,
    /// `funnels`, …); none: the first.
    pub page: Option<String>,
    /// The funnel the Funnels view last showed, and its breakdown (`country`, `prop.KEY`, …;
    /// empty: none).
    pub funnel_view: Option<FunnelView>,
}

/// What the Funnels view opens on.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FunnelView {
    pub id: String,
    pub breakdown: String,
}

impl Choice {
    /// What the window's panels and funnels are computed over: the range and filters, now.
    pub fn scope(&self) -> Scope {
        Scope {
            filters: self.filters.clone(),
            ..Scope::new(self.range)
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

#[derive(serde::Serialize, serde::Deserialize)]
struct SettingsFile {
    range: String,
    #[serde(default)]
    filters: BTreeMap<String, String>,
    #[serde(default)]
    funnel: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    funnel_view: Option<FunnelView>,
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
            range: Range::parse(&file.range).unwrap_or_default(),
            filters: Filters::from_map(&file.filters).unwrap_or_default(),
            funnel: file.funnel,
            page: file.page,
            funnel_view: file.funnel_view,
        }
    }

    pub fn save(&self, choice: &Choice) {
        let Some(path) = &self.path else { return };
        let file = SettingsFile {
            range: choice.range.as_str().into(),
            filters: choice.filters.to_map(),
            funnel: choice.funnel.clone(),
            page: choice.page.clone(),
            funnel_view: choice.funnel_view.clone(),
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
    fn a_file_from_before_views_opens_the_first_view() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("window.json");
        std::fs::write(&path, r#"{"range": "24h", "filters": {}, "funnel": null}"#).unwrap();
        let choice = Settings { path: Some(path) }.choice();
        assert_eq!(choice.range.as_str(), "24h");
        assert_eq!(choice.page, None);
    }
}
