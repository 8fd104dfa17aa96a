//! Files Pulseboard writes for its user (settings, profiles, the journal): readable by that
//! user only, and replaced whole or not at all through a temp file of a name no other writer
//! uses; the temp files a crash leaves behind are removed at the next start.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

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

/// A temp file older than this is left from a crash: a write takes milliseconds.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Writes `path` with mode 0600 through a temp file and a rename: a reader (or a crash) never
/// sees half a file, and the rename is synced to disk. The temp file's name is this write's
/// own (`<name>.<pid>.<n>.tmp`), so concurrent writers, in this process or another, never
/// share one; the last rename wins whole.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = temp_path(path);
    let written = write_new_private(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    // The rename itself is durable only once the directory entry is on disk.
    fs::File::open(dir)?.sync_all()
}

fn temp_path(path: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Whether `name` is one of our temp files: `<name>.<pid>.<n>.tmp`, or `<stem>.<pid>.tmp` as
/// earlier versions named them.
fn is_temp(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".tmp") else {
        return false;
    };
    let numbers = stem
        .rsplit('.')
        .take_while(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        .count();
    numbers >= 1 && stem.split('.').count() > numbers
}

/// Removes the temp files a crashed write left in `dir` (older than a minute: a write in
/// progress elsewhere is left alone). Returns how many went.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let stale = |entry: &fs::DirEntry| {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_AFTER);
        old && entry.file_name().to_str().is_some_and(is_temp)
    };
    let mut removed = 0;
    for entry in entries.flatten().filter(stale) {
        match fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) => {
                tracing::warn!(%error, path = %entry.path().display(), "cannot remove a stale temp file")
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, dir = %dir.display(), "removed temp files left by a crash");
    }
    removed
}

fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
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
    fn concurrent_writers_never_share_a_temp_file_and_the_last_rename_wins_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aliases.json");
        std::thread::scope(|scope| {
            for i in 0..16 {
                let path = &path;
                scope.spawn(move || {
                    for j in 0..20 {
                        let body = format!("{{\"writer\": {i}, \"write\": {j}}}");
                        write_private(path, body.as_bytes()).unwrap();
                    }
                });
            }
        });
        let text = fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["write"], 19, "{text}");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "temp files left: {left:?}");
    }

    #[test]
    fn only_old_temp_files_of_ours_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        let make = |name: &str, modified: SystemTime| {
            let path = dir.path().join(name);
            fs::write(&path, b"x").unwrap();
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(modified)
                .unwrap();
        };
        for name in [
            "aliases.json.4242.7.tmp",
            "funnels.4242.tmp",
            "alerts.json.1.0.tmp",
        ] {
            make(name, old);
        }
        make("alerts.json.9.9.tmp", SystemTime::now());
        for name in ["notes.tmp", "journal.sqlite3", "x.y.tmp", "a.json"] {
            make(name, old);
        }
        assert_eq!(remove_stale_temps(dir.path()), 3);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "a.json",
                "alerts.json.9.9.tmp",
                "journal.sqlite3",
                "notes.tmp",
                "x.y.tmp"
            ]
        );
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
