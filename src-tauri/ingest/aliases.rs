//! Event aliases: a product's own event names mapped onto the names the panels know
//! (`signed_up` → `signup_completed`), applied at ingest to every format. Kept in
//! `aliases.json` in the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::ingest::event::Event;
use crate::ingest::formats::normalize_name;

/// The most aliases one instance keeps.
pub const MAX_ALIASES: usize = 1000;

/// Errors reading, checking or saving aliases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AliasError {
    #[error(
        "alias {0:?}: names are 1 to 64 characters of a-z 0-9 _ . : - (as events are normalised)"
    )]
    BadName(String),
    #[error("at most {MAX_ALIASES} aliases")]
    TooMany,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid aliases file ({reason}): fix or delete it", path.display())]
    BadFile { path: PathBuf, reason: String },
}

/// The aliases in force. Cheap to read from many requests at once; one writer at a time, so
/// the file and the map never disagree once a change is answered.
pub struct Aliases {
    path: PathBuf,
    map: RwLock<Arc<BTreeMap<String, String>>>,
    writer: Mutex<()>,
}

impl AliasError {
    /// Whether the request was at fault (400) rather than the data directory (500).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, AliasError::BadName(_) | AliasError::TooMany)
    }
}

impl Aliases {
    /// Reads `<data_dir>/aliases.json` (none yet: no aliases).
    pub fn load(data_dir: &Path) -> Result<Self, AliasError> {
        let path = data_dir.join("aliases.json");
        let map = match std::fs::read(&path) {
            Ok(bytes) => {
                let bad = |reason: String| AliasError::BadFile {
                    path: path.clone(),
                    reason,
                };
                let map: BTreeMap<String, String> =
                    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
                check(&map).map_err(|e| bad(e.to_string()))?;
                map
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(AliasError::Io { path, source }),
        };
        Ok(Self {
            path,
            map: RwLock::new(Arc::new(map)),
            writer: Mutex::new(()),
        })
    }

    pub fn get(&self) -> Arc<BTreeMap<String, String>> {
        self.map.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces every alias with `map`, checked first, saved before it takes effect.
    pub fn set(&self, map: BTreeMap<String, String>) -> Result<(), AliasError> {
        check(&map)?;
        let bytes = serde_json::to_vec_pretty(&map).expect("a map of strings serialises");
        let _writing = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        crate::support::files::write_private(&self.path, &bytes).map_err(|source| {
            AliasError::Io {
                path: self.path.clone(),
                source,
            }
        })?;
        *self.map.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
        Ok(())
    }

    /// Renames the events that have an alias.
    pub fn apply(&self, events: &mut [Event]) {
        let map = self.get();
        if map.is_empty() {
            return;
        }
        for event in events {
            if let Some(to) = map.get(&event.event_name) {
                event.event_name.clone_from(to);
            }
        }
    }
}

/// Both sides of every alias are event names as ingest normalises them.
fn check(map: &BTreeMap<String, String>) -> Result<(), AliasError> {
    if map.len() > MAX_ALIASES {
        return Err(AliasError::TooMany);
    }
    let is_name = |n: &String| normalize_name(n).as_ref() == Some(n);
    match map.iter().flat_map(|(k, v)| [k, v]).find(|n| !is_name(n)) {
        Some(bad) => Err(AliasError::BadName(bad.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::{validate, TimeBounds};

    #[test]
    fn aliases_rename_events_survive_a_reload_and_refuse_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let aliases = Aliases::load(dir.path()).unwrap();
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        aliases
            .set(map(&[("signed_up", "signup_completed")]))
            .unwrap();
        let event = |name: &str| {
            let value = serde_json::json!({"event_name": name, "session_id": "s"});
            validate(value, TimeBounds::new(0, 90)).unwrap()
        };
        let mut events = [event("signed_up"), event("page_view")];
        Aliases::load(dir.path()).unwrap().apply(&mut events);
        assert_eq!(events[0].event_name, "signup_completed");
        assert_eq!(events[1].event_name, "page_view");
        for bad in [
            ("Signed Up", "signup_completed"),
            ("signed_up", ""),
            ("_x", "y"),
        ] {
            let error = aliases.set(map(&[bad])).unwrap_err();
            assert!(matches!(error, AliasError::BadName(_)), "{bad:?}: {error}");
        }
        assert_eq!(aliases.get().len(), 1, "a refused set changes nothing");
    }
}
