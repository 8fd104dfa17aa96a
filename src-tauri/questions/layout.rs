//! The dashboard the team arranges (DESIGN.md "The dashboard you arrange"): which panels,
//! insights and funnels it shows, in order, kept in `dashboard.json` in the data directory. At
//! first the four panels. Saved whole before it takes effect, like the shelf's definitions.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::questions::panels::PanelName;
use crate::questions::shelf::{check_id, DefinitionError, ShelfError};

const FILE: &str = "dashboard.json";
/// More would not fit a screen, and each tile is computed on every push.
pub const MAX_TILES: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TileKind {
    Panel,
    Insight,
    Funnel,
}

/// One tile: a panel by name, or a saved insight or funnel by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tile {
    pub kind: TileKind,
    pub id: String,
}

/// `{"tiles": [...]}`, as `GET /api/dashboard` answers and `PUT` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tiles {
    pub tiles: Vec<Tile>,
}

impl Default for Tiles {
    /// The four panels, in the registry's order.
    fn default() -> Self {
        let tiles = PanelName::ALL
            .iter()
            .map(|name| Tile {
                kind: TileKind::Panel,
                id: name.as_str().to_owned(),
            })
            .collect();
        Self { tiles }
    }
}

impl Tiles {
    /// Checks `body` tile by tile; `exists` says whether a saved insight or funnel is there.
    /// A tile breaking a rule is named by its index (`tiles[2].id`).
    pub fn parse(
        body: &Value,
        exists: impl Fn(TileKind, &str) -> bool,
    ) -> Result<Self, DefinitionError> {
        let list = body
            .get("tiles")
            .and_then(Value::as_array)
            .ok_or_else(|| DefinitionError::new("tiles", "a list of {\"kind\", \"id\"}"))?;
        if list.len() > MAX_TILES {
            let rule = format!("at most {MAX_TILES} tiles (got {})", list.len());
            return Err(DefinitionError::new("tiles", rule));
        }
        let mut tiles: Vec<Tile> = Vec::with_capacity(list.len());
        for (i, value) in list.iter().enumerate() {
            let tile = tile(value, &exists).map_err(|(field, rule)| {
                DefinitionError::new(format!("tiles[{i}]{field}"), rule)
            })?;
            if let Some(j) = tiles.iter().position(|t| t == &tile) {
                let rule = format!("already on the dashboard as tiles[{j}]");
                return Err(DefinitionError::new(format!("tiles[{i}]"), rule));
            }
            tiles.push(tile);
        }
        Ok(Self { tiles })
    }
}

/// One tile of a `PUT`, or the field (`.kind`, `.id`) it breaks and why.
fn tile(
    value: &Value,
    exists: impl Fn(TileKind, &str) -> bool,
) -> Result<Tile, (&'static str, String)> {
    let kind: TileKind = value
        .get("kind")
        .and_then(|k| serde_json::from_value(k.clone()).ok())
        .ok_or((".kind", "panel, insight or funnel".to_owned()))?;
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .ok_or((".id", "a string".to_owned()))?;
    let known = match kind {
        TileKind::Panel => PanelName::parse(id).is_some(),
        TileKind::Insight | TileKind::Funnel => check_id(id).is_ok() && exists(kind, id),
    };
    if !known {
        let rule = match kind {
            TileKind::Panel => format!("no panel {id:?}: one of {}", PanelName::names()),
            TileKind::Insight => format!("no insight {id:?}: GET /api/insights lists them"),
            TileKind::Funnel => format!("no funnel {id:?}: GET /api/funnels lists them"),
        };
        return Err((".id", rule));
    }
    Ok(Tile {
        kind,
        id: id.to_owned(),
    })
}

/// The arranged dashboard of a data directory.
#[derive(Debug)]
pub struct Layout {
    path: PathBuf,
    tiles: Mutex<Tiles>,
}

impl Layout {
    /// Reads `<data_dir>/dashboard.json` (the four panels without one). A file that is not a
    /// list of tiles stops the start with nothing to undo, as a shelf's does.
    pub fn load(data_dir: &Path) -> Result<Self, ShelfError> {
        let path = data_dir.join(FILE);
        let tiles = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ShelfError::BadFile {
                kind: "dashboard tile",
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tiles::default(),
            Err(source) => return Err(ShelfError::Io { path, source }),
        };
        Ok(Self {
            path,
            tiles: Mutex::new(tiles),
        })
    }

    pub fn tiles(&self) -> Tiles {
        self.lock().clone()
    }

    /// Replaces the tiles with `body`'s (checked first, saved before it takes effect).
    pub fn put(
        &self,
        body: &Value,
        exists: impl Fn(TileKind, &str) -> bool,
    ) -> Result<Tiles, ShelfError> {
        let tiles = Tiles::parse(body, exists)?;
        let mut current = self.lock();
        let bytes = serde_json::to_vec_pretty(&tiles).expect("tiles serialise");
        crate::support::files::write_private(&self.path, &bytes).map_err(|source| {
            ShelfError::Io {
                path: self.path.clone(),
                source,
            }
        })?;
        *current = tiles.clone();
        Ok(tiles)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tiles> {
        self.tiles.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tiles_are_checked_by_index_and_kept_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::load(dir.path()).unwrap();
        assert_eq!(
            json!(layout.tiles()),
            json!({"tiles": [{"kind": "panel", "id": "active_users"},
                             {"kind": "panel", "id": "signup_funnel"},
                             {"kind": "panel", "id": "top_features"},
                             {"kind": "panel", "id": "error_rate"}]})
        );
        let exists = |kind: TileKind, id: &str| (kind, id) == (TileKind::Insight, "checkout");
        let body = json!({"tiles": [{"kind": "insight", "id": "checkout"},
                                    {"kind": "panel", "id": "error_rate"}]});
        layout.put(&body, exists).unwrap();
        let again = Layout::load(dir.path()).unwrap();
        assert_eq!(json!(again.tiles()), body);

        let cases = [
            (json!({}), "tiles", "a list"),
            (
                json!({"tiles": [{"kind": "chart", "id": "x"}]}),
                "tiles[0].kind",
                "panel, insight",
            ),
            (
                json!({"tiles": [{"kind": "panel"}]}),
                "tiles[0].id",
                "a string",
            ),
            (
                json!({"tiles": [{"kind": "panel", "id": "error_rate"},
                                 {"kind": "funnel", "id": "checkout"}]}),
                "tiles[1].id",
                "no funnel \"checkout\"",
            ),
            (
                json!({"tiles": [{"kind": "panel", "id": "visits"}]}),
                "tiles[0].id",
                "no panel",
            ),
            (
                json!({"tiles": [{"kind": "insight", "id": "checkout"},
                                 {"kind": "insight", "id": "checkout"}]}),
                "tiles[1]",
                "already on the dashboard as tiles[0]",
            ),
            (
                json!({"tiles": vec![json!({"kind": "panel", "id": "error_rate"}); 25]}),
                "tiles",
                "at most 24",
            ),
        ];
        for (body, field, rule) in cases {
            let Err(ShelfError::Invalid(e)) = layout.put(&body, exists) else {
                panic!("{body} was taken");
            };
            assert_eq!(e.field, field, "{body}");
            assert!(e.rule.contains(rule), "{body}: {}", e.rule);
        }
        // Nothing refused was kept.
        assert_eq!(json!(Layout::load(dir.path()).unwrap().tiles()), body);
    }
}
