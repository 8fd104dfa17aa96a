//! Annotations: a short text at an instant ("fixed the sender domain"), marked on every time
//! chart — the window's, the SVGs and the PNG — so a change in a line has its cause beside it.
//! Kept in `annotations.json` in the data directory; one writer, and the file and the list
//! never disagree once a change is answered.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::delivery::charts::{Mark, MarkKind};
use crate::support::text;

/// The most annotations one instance keeps.
pub const MAX_ANNOTATIONS: usize = 10_000;
const MAX_TEXT_CHARS: usize = 200;
const FILE: &str = "annotations.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub id: String,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// Errors adding, deleting, reading or saving annotations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotationError {
    /// A field of the request: its name and its rule (400).
    #[error("{0}: {1}")]
    Bad(String, String),
    #[error("no annotation {0:?}: GET /api/annotations lists them")]
    NotFound(String),
    #[error(
        "at most {MAX_ANNOTATIONS} annotations: delete one (DELETE /api/annotations/ID) first"
    )]
    TooMany,
    #[error("cannot write {}: {source}; check the data directory's free space and permissions", path.display())]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid annotations file ({reason}): fix or delete it", path.display())]
    BadFile { path: PathBuf, reason: String },
}

/// The annotations of one data directory, oldest first.
pub struct Annotations {
    path: PathBuf,
    list: RwLock<Arc<Vec<Annotation>>>,
    writer: Mutex<()>,
}

impl Annotations {
    /// Reads `<data_dir>/annotations.json` (none yet: no annotations).
    pub fn load(data_dir: &Path) -> Result<Self, AnnotationError> {
        let path = data_dir.join(FILE);
        let list = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AnnotationError::BadFile {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(AnnotationError::Save { path, source }),
        };
        Ok(Self {
            path,
            list: RwLock::new(Arc::new(list)),
            writer: Mutex::new(()),
        })
    }

    pub fn all(&self) -> Arc<Vec<Annotation>> {
        self.list.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The annotations in `(start_ms, end_ms]`, oldest first: a range as the panels read it.
    pub fn within(&self, start_ms: i64, end_ms: i64) -> Vec<Annotation> {
        let inside = |a: &&Annotation| (start_ms + 1..=end_ms).contains(&a.at.timestamp_millis());
        self.all().iter().filter(inside).cloned().collect()
    }

    /// Every annotation as a chart mark; each chart draws those on its span.
    pub fn marks(&self) -> Vec<Mark> {
        self.all()
            .iter()
            .map(|a| Mark {
                at: a.at.timestamp(),
                kind: MarkKind::Note,
                label: a.text.clone(),
            })
            .collect()
    }

    /// Adds the annotation a request body describes (`{"text", "at"?}`), at `now` when it names
    /// no instant; the instant must lie in `time` (where events may lie).
    pub fn add(
        &self,
        body: &Value,
        now: DateTime<Utc>,
        time: impl Fn(DateTime<Utc>) -> Result<(), String>,
    ) -> Result<Annotation, AnnotationError> {
        let (text, at) = parse(body)?;
        let at = at.unwrap_or(now).trunc_subsecs(3);
        time(at).map_err(|rule| AnnotationError::Bad("at".into(), rule))?;
        let annotation = Annotation {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            at,
            text,
        };
        self.change(|list| {
            if list.len() >= MAX_ANNOTATIONS {
                return Err(AnnotationError::TooMany);
            }
            let place = list.partition_point(|a| a.at <= annotation.at);
            list.insert(place, annotation.clone());
            Ok(())
        })?;
        Ok(annotation)
    }

    pub fn delete(&self, id: &str) -> Result<(), AnnotationError> {
        self.change(|list| {
            let at = list
                .iter()
                .position(|a| a.id == id)
                .ok_or_else(|| AnnotationError::NotFound(id.to_owned()))?;
            list.remove(at);
            Ok(())
        })
    }

    /// Applies `edit` to a copy of the list, saves it, then makes it the list.
    fn change(
        &self,
        edit: impl FnOnce(&mut Vec<Annotation>) -> Result<(), AnnotationError>,
    ) -> Result<(), AnnotationError> {
        let _writing = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut list = self.all().as_ref().clone();
        edit(&mut list)?;
        let bytes = serde_json::to_vec_pretty(&list).expect("annotations serialise");
        crate::support::files::write_private(&self.path, &bytes).map_err(|source| {
            AnnotationError::Save {
                path: self.path.clone(),
                source,
            }
        })?;
        *self.list.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(list);
        Ok(())
    }
}

/// `{"text": 1..=200 characters, "at"?: RFC 3339}`; anything else is named.
fn parse(body: &Value) -> Result<(String, Option<DateTime<Utc>>), AnnotationError> {
    let fields = body.as_object().ok_or_else(|| {
        AnnotationError::Bad("body".into(), "a JSON object like {\"text\": \"…\"}".into())
    })?;
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["text", "at"].contains(&k.as_str()))
    {
        let rule = "unknown field; an annotation has text and at".to_owned();
        let name: String = unknown.chars().take(40).collect();
        return Err(AnnotationError::Bad(name, rule));
    }
    let rule = format!("required, 1 to {MAX_TEXT_CHARS} characters");
    let text = fields
        .get("text")
        .and_then(Value::as_str)
        .map(str::trim)
        .ok_or_else(|| AnnotationError::Bad("text".into(), rule.clone()))?;
    text::check(text).map_err(|rule| AnnotationError::Bad("text".into(), rule.into()))?;
    if !(1..=MAX_TEXT_CHARS).contains(&text.chars().count()) {
        return Err(AnnotationError::Bad("text".into(), rule));
    }
    let at = match fields.get("at") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| AnnotationError::Bad("at".into(), "an RFC 3339 time".into()))?
                .with_timezone(&Utc),
        ),
    };
    Ok((text.to_owned(), at))
}
