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
/// signup panel shows (none: the hourly signups).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Choice {
    pub range: Range,
    pub filters: Filters,
    pub funnel: Option<String>,
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

#[derive(serde::Serialize, serde::Deserialize)]
struct SettingsFile {
    range: String,
    #[serde(default)]
    filters: BTreeMap<String, String>,
    #[serde(default)]
    funnel: Option<String>,
}

impl Settings {
    pub fn load() -> Self {
        let path = crate::storage::profiles::config_dir(None)
            .ok()
            .map(|dir| dir.join("window.json"));
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
        }
    }

    pub fn save(&self, choice: &Choice) {
        let Some(path) = &self.path else { return };
        let file = SettingsFile {
            range: choice.range.as_str().into(),
            filters: choice.filters.to_map(),
            funnel: choice.funnel.clone(),
        };
        let written = crate::support::files::write_private(
            path,
            &serde_json::to_vec(&file).unwrap_or_default(),
        );
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "cannot remember the dashboard's range, filters and funnel");
        }
    }
}
