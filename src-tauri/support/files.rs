//! Files Pulseboard writes for its user (settings, profiles, the journal): readable by that
//! user only, and replaced whole or not at all.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// A stored definition (a funnel, an alert rule) that no longer passes the rules a `PUT` must
/// pass — written by an older version, or by hand: kept as it was, so nothing is lost, and
/// reported with what is wrong until it is replaced or deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invalid {
    pub id: String,
    pub error: String,
    pub definition: Value,
}

/// Writes `path` with mode 0600 through a temp file and a rename: a reader (or a crash) never
/// sees half a file, and the rename is synced to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = write_new_private(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    // The rename itself is durable only once the directory entry is on disk.
    fs::File::open(dir)?.sync_all()
}

fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // A temp file left by a crashed run of this pid would keep its old mode: start afresh.
    let _ = fs::remove_file(path);
    let mut file = private_options().create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `path` empty with mode 0600 when it does not exist, and makes an existing one 0600
/// (SQLite then gives its WAL and shared-memory files the same mode).
pub fn ensure_private(path: &Path) -> io::Result<()> {
    private_options().create(true).truncate(false).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn written_files_are_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/settings.json");
        write_private(&path, b"{\"a\":1}").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}");
        assert_eq!(mode(&path), 0o600);
        let journal = dir.path().join("journal.sqlite3");
        fs::write(&journal, b"x").unwrap();
        fs::set_permissions(&journal, fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private(&journal).unwrap();
        assert_eq!(
            (mode(&journal), fs::read(&journal).unwrap()),
            (0o600, b"x".to_vec())
        );
    }
}
