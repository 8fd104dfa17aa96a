//! Saved questions (funnels, insights): definitions kept in one JSON file of the data
//! directory, a list as `GET` shows them. One writer: a change is saved whole before it takes
//! effect, so the file and memory never disagree. A stored definition that no longer passes
//! the rules a `PUT` must pass is kept as it was ([`Invalid`]) and reported until replaced or
//! deleted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{json, Value};

use crate::questions::filters::{FilterError, Filters};
pub use crate::support::files::Invalid;
use crate::support::text;

const MAX_ID_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 100;

/// A field or parameter that breaks its rule: `field` is its path in the request, `rule`
/// what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct DefinitionError {
    pub field: String,
    pub rule: String,
}

impl DefinitionError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// An id: 1..=64 characters of `[a-z0-9_-]`.
pub fn check_id(id: &str) -> Result<(), DefinitionError> {
    let allowed = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-');
    if id.is_empty() || id.len() > MAX_ID_CHARS || !id.bytes().all(allowed) {
        let rule = format!("1 to {MAX_ID_CHARS} characters of a-z 0-9 _ - (got {id:?})");
        return Err(DefinitionError::new("id", rule));
    }
    Ok(())
}

/// A definition's `name`: 1..=100 characters without controls; the id when absent.
pub fn name(value: Option<&Value>, id: &str) -> Result<String, DefinitionError> {
    match value {
        None | Some(Value::Null) => Ok(id.to_owned()),
        Some(Value::String(s)) if text::check(s).is_err() => {
            Err(DefinitionError::new("name", text::NO_CONTROL))
        }
        Some(Value::String(s)) if (1..=MAX_NAME_CHARS).contains(&s.chars().count()) => {
            Ok(s.clone())
        }
        Some(_) => Err(DefinitionError::new(
            "name",
            format!("a string of 1 to {MAX_NAME_CHARS} characters"),
        )),
    }
}

/// A `where` at `path`: the filter keys, each value a string (a comma list means any of them);
/// none when absent.
pub fn filters(path: &str, value: Option<&Value>) -> Result<Filters, DefinitionError> {
    let map = match value {
        None | Some(Value::Null) => return Ok(Filters::default()),
        Some(Value::Object(map)) => map,
        Some(_) => {
            let rule = "an object of filters such as {\"prop.plan\": \"pro\"}";
            return Err(DefinitionError::new(path, rule));
        }
    };
    let mut texts = BTreeMap::new();
    for (key, value) in map {
        let Value::String(text) = value else {
            let rule = "a string (several values separated by commas)";
            return Err(DefinitionError::new(format!("{path}.{key}"), rule));
        };
        texts.insert(key.clone(), text.clone());
    }
    Filters::from_map(&texts).map_err(|FilterError { param, rule }| {
        DefinitionError::new(format!("{path}.{param}"), rule)
    })
}

/// What a shelf holds: a definition with an id, parsed from the JSON a client sends.
pub trait Definition: Serialize + Sized {
    /// `funnel`, `insight`: how errors name one.
    const KIND: &'static str;
    /// `/api/funnels`: where they are listed and defined.
    const ROUTE: &'static str;
    fn parse(id: &str, body: &Value) -> Result<Self, DefinitionError>;
}

/// Errors keeping definitions, and a definition or parameter that breaks a rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShelfError {
    #[error(transparent)]
    Invalid(#[from] DefinitionError),
    #[error("no {kind} {id:?}: GET {route} lists them, PUT {route}/{id} defines it")]
    Unknown {
        kind: &'static str,
        route: &'static str,
        id: String,
    },
    #[error(
        "{kind} {id:?} as stored breaks a rule ({error}): PUT a corrected definition or DELETE it"
    )]
    Stored {
        kind: &'static str,
        id: String,
        error: String,
    },
    #[error("{}: {source}; check the data directory's permissions and free space", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid file of {kind}s ({reason}): fix or delete it", path.display())]
    BadFile {
        kind: &'static str,
        path: PathBuf,
        reason: String,
    },
}

#[derive(Debug)]
struct Book<T> {
    items: BTreeMap<String, Arc<T>>,
    invalid: BTreeMap<String, Invalid>,
}

impl<T> Clone for Book<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            invalid: self.invalid.clone(),
        }
    }
}

/// The definitions of one kind in `<data_dir>/<file>`.
#[derive(Debug)]
pub struct Shelf<T> {
    path: PathBuf,
    /// Held while a change is saved.
    book: Mutex<Book<T>>,
}

impl<T: Definition> Shelf<T> {
    /// Reads `<data_dir>/<file>`; without one, `first` (the built-in definitions). A file that
    /// is not a list of definitions stops the start with nothing to undo.
    pub fn load(
        data_dir: &Path,
        file: &str,
        first: impl FnOnce() -> Vec<(String, T)>,
    ) -> Result<Self, ShelfError> {
        let path = data_dir.join(file);
        let book = match std::fs::read(&path) {
            Ok(bytes) => parse_file(&bytes).map_err(|reason| ShelfError::BadFile {
                kind: T::KIND,
                path: path.clone(),
                reason,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Book {
                items: first()
                    .into_iter()
                    .map(|(id, t)| (id, Arc::new(t)))
                    .collect(),
                invalid: BTreeMap::new(),
            },
            Err(source) => return Err(ShelfError::Io { path, source }),
        };
        for broken in book.invalid.values() {
            tracing::warn!(kind = T::KIND, id = %broken.id, error = %broken.error, "a stored definition breaks a rule; it is kept but not computed");
        }
        Ok(Self {
            path,
            book: Mutex::new(book),
        })
    }

    /// Every definition, by id.
    pub fn list(&self) -> Vec<Arc<T>> {
        self.lock().items.values().cloned().collect()
    }

    /// The stored definitions that break a rule, by id.
    pub fn invalid(&self) -> Vec<Invalid> {
        self.lock().invalid.values().cloned().collect()
    }

    pub fn get(&self, id: &str) -> Result<Arc<T>, ShelfError> {
        let book = self.lock();
        if let Some(broken) = book.invalid.get(id) {
            return Err(ShelfError::Stored {
                kind: T::KIND,
                id: id.to_owned(),
                error: broken.error.clone(),
            });
        }
        book.items.get(id).cloned().ok_or_else(|| self.unknown(id))
    }

    /// Defines (or redefines) `id` from `body`; saved before it takes effect.
    pub fn put(&self, id: &str, body: &Value) -> Result<Arc<T>, ShelfError> {
        check_id(id)?;
        let item = Arc::new(T::parse(id, body)?);
        let mut book = self.lock();
        let mut next = book.clone();
        next.items.insert(id.to_owned(), item.clone());
        next.invalid.remove(id);
        self.save(&next)?;
        *book = next;
        Ok(item)
    }

    /// Deletes `id` (a built-in one too: it stays deleted).
    pub fn delete(&self, id: &str) -> Result<(), ShelfError> {
        let mut book = self.lock();
        let mut next = book.clone();
        let known = next.items.remove(id).is_some() | next.invalid.remove(id).is_some();
        if !known {
            return Err(self.unknown(id));
        }
        self.save(&next)?;
        *book = next;
        Ok(())
    }

    fn unknown(&self, id: &str) -> ShelfError {
        ShelfError::Unknown {
            kind: T::KIND,
            route: T::ROUTE,
            id: id.to_owned(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book<T>> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the definitions and, as they were read, those that break a rule.
    fn save(&self, book: &Book<T>) -> Result<(), ShelfError> {
        let items = book.items.values().map(|t| json!(t));
        let invalid = book.invalid.values().map(|i| i.definition.clone());
        let list: Vec<Value> = items.chain(invalid).collect();
        let bytes = serde_json::to_vec_pretty(&list).expect("definitions serialise");
        crate::support::files::write_private(&self.path, &bytes).map_err(|source| ShelfError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// The file: the list of definitions as `GET` shows them, each checked by the rules a `PUT`
/// must pass; one that breaks them is kept aside as [`Invalid`].
fn parse_file<T: Definition>(bytes: &[u8]) -> Result<Book<T>, String> {
    let list: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut book = Book {
        items: BTreeMap::new(),
        invalid: BTreeMap::new(),
    };
    for value in list {
        let id = value["id"]
            .as_str()
            .ok_or_else(|| format!("a {} without an id", T::KIND))?;
        check_id(id).map_err(|e| format!("{} {id:?}: {e}", T::KIND))?;
        match T::parse(id, &value) {
            Ok(item) => {
                book.items.insert(id.to_owned(), Arc::new(item));
            }
            Err(error) => {
                let invalid = Invalid {
                    id: id.to_owned(),
                    error: error.to_string(),
                    definition: value.clone(),
                };
                book.invalid.insert(id.to_owned(), invalid);
            }
        }
    }
    Ok(book)
}
