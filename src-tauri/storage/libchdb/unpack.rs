//! Checking a tarball against its digest, and taking one file out of it whole or not at all.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha512};

use super::InstallError;

/// npm's integrity string of a file: `sha512-` and the base64 of its SHA-512.
pub(super) fn sha512_integrity(path: &Path) -> Result<String, InstallError> {
    let mut file = File::open(path).map_err(InstallError::io(path))?;
    let mut hasher = Sha512::new();
    io::copy(&mut file, &mut hasher).map_err(InstallError::io(path))?;
    let digest = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
    Ok(format!("sha512-{digest}"))
}

/// Writes `member` of the gzipped tarball to `target`: into a temporary file beside it, made
/// durable, then renamed, so `target` is either absent or complete.
pub(super) fn unpack(tarball: &Path, member: &str, target: &Path) -> Result<(), InstallError> {
    let dir = target.parent().expect("the install path has a folder");
    std::fs::create_dir_all(dir).map_err(InstallError::io(dir))?;
    let temp = Temp(dir.join(format!(
        ".{}.{}-{}.tmp",
        target.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        fastrand::u32(..)
    )));
    let archive = File::open(tarball).map_err(InstallError::io(tarball))?;
    let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let archive_error = |reason: String| InstallError::Archive {
        tarball: tarball.to_owned(),
        member: member.into(),
        reason,
    };
    let mut entry = find(&mut entries, member)
        .map_err(|e| archive_error(e.to_string()))?
        .ok_or_else(|| archive_error("no such file in it".into()))?;
    let mut out = File::create(&temp.0).map_err(InstallError::io(&temp.0))?;
    io::copy(&mut entry, &mut out).map_err(|e| match e.kind() {
        // A write failure names the file; a read failure is the archive's.
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => archive_error(e.to_string()),
        _ => InstallError::io(&temp.0)(e),
    })?;
    out.sync_all().map_err(InstallError::io(&temp.0))?;
    temp.persist(target).map_err(InstallError::io(target))
}

/// The entry at `member`, read up to its start.
fn find<'a, R: Read>(
    archive: &'a mut tar::Archive<R>,
    member: &str,
) -> io::Result<Option<tar::Entry<'a, R>>> {
    for entry in archive.entries()? {
        let entry = entry?;
        if entry.path()?.as_ref() == Path::new(member) {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

/// A temporary file, deleted unless [`persist`](Temp::persist)ed (an unpack that fails half-way
/// leaves nothing behind).
struct Temp(PathBuf);

impl Temp {
    fn persist(mut self, target: &Path) -> io::Result<()> {
        std::fs::rename(&self.0, target)?;
        self.0 = PathBuf::new();
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
