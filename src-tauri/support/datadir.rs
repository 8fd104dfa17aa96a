//! The data directory: private to its user, and used by one Pulseboard at a time.
//!
//! Two engines on one directory would share a journal and each deliver the other's events to
//! its own store; chDB would open the same files twice. So an instance holds an OS lock on
//! `pulseboard.lock` for its whole life, whatever its profile, and writes there who it is so
//! that a second one can say which is running.

use std::fs::{DirBuilder, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Errors claiming the data directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    #[error("cannot create the data directory {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another Pulseboard is running on the data directory {path} ({running}): stop it, or \
         give this one another --data-dir"
    )]
    InUse { path: PathBuf, running: String },
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates `dir` (and its parents) readable by its user only; an existing one keeps its mode.
pub fn create_private(dir: &Path) -> Result<(), DataDirError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| DataDirError::Create {
        path: dir.to_owned(),
        source,
    })
}

/// A data directory this process holds; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DataDir {
    lock: File,
}

impl DataDir {
    /// Creates `dir` if needed and locks it, or says which Pulseboard holds it.
    pub fn claim(dir: &Path) -> Result<Self, DataDirError> {
        create_private(dir)?;
        let path = dir.join("pulseboard.lock");
        let lock_error = |source| DataDirError::Lock {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut running = String::new();
                let _ = file.read_to_string(&mut running);
                return Err(DataDirError::InUse {
                    path: dir.to_owned(),
                    running: describe(running.trim()),
                });
            }
            Err(TryLockError::Error(source)) => return Err(lock_error(source)),
        }
        let mut held = Self { lock: file };
        held.announce("starting");
        Ok(held)
    }

    /// Records who holds the directory (pid and where it listens), for a second instance's error.
    pub fn announce(&mut self, listening: &str) {
        let text = format!("pid {}, {listening}", std::process::id());
        let written = self
            .lock
            .set_len(0)
            .and_then(|()| self.lock.rewind())
            .and_then(|()| self.lock.write_all(text.as_bytes()));
        if let Err(error) = written {
            tracing::debug!(%error, "cannot note this instance in the lock file");
        }
    }
}

fn describe(running: &str) -> String {
    if running.is_empty() {
        "its process id is unknown".into()
    } else {
        running.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_at_a_time_and_the_second_names_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut first = DataDir::claim(&data).unwrap();
        first.announce("listening on http://127.0.0.1:8787");
        let error = DataDir::claim(&data).unwrap_err().to_string();
        let pid = std::process::id();
        assert!(
            error.contains(&format!("(pid {pid}, listening on http://127.0.0.1:8787)")),
            "{error}"
        );
        drop(first);
        DataDir::claim(&data).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&data).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
