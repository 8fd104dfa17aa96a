//! What the window remembers across launches.

use std::path::PathBuf;

use crate::panels::Range;

/// The window's remembered choices (`window.json` in the config directory). Window size and
/// position are the window-state plugin's.
pub struct Settings {
    path: Option<PathBuf>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SettingsFile {
    range: String,
}

impl Settings {
    pub fn load() -> Self {
        let path = crate::profiles::config_dir(None)
            .ok()
            .map(|dir| dir.join("window.json"));
        Self { path }
    }

    pub fn range(&self) -> Range {
        self.path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice::<SettingsFile>(&bytes).ok())
            .and_then(|f| Range::parse(&f.range))
            .unwrap_or(Range::H1)
    }

    pub fn save_range(&self, range: Range) {
        let Some(path) = &self.path else { return };
        let file = SettingsFile {
            range: range.as_str().into(),
        };
        let written =
            crate::files::write_private(path, &serde_json::to_vec(&file).unwrap_or_default());
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "cannot remember the time range");
        }
    }
}
