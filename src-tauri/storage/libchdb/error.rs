//! Every way installing the engine can fail, what to do about it, and whether trying again helps.

use std::path::{Path, PathBuf};

/// Errors at the engine-install boundary. Each message says what to do next; those about the
/// network say exactly which file to fetch by hand and where to put it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// No connection to the registry: offline, a name that does not resolve, a proxy in the way.
    #[error(
        "cannot reach {url}: {reason}. Behind a proxy, set HTTPS_PROXY (its CA certificate must \
         be in the system's store or in SSL_CERT_FILE); offline, {}",
        by_hand(.url, .save_as)
    )]
    Unreachable {
        url: String,
        save_as: PathBuf,
        reason: String,
    },
    /// The registry (or a proxy) answered, with something other than the file.
    #[error("{url} answered HTTP {status}. {}", by_hand(.url, .save_as))]
    Refused {
        url: String,
        save_as: PathBuf,
        status: u16,
    },
    /// The body stopped arriving (cut connection, stalled server) more often than the download
    /// resumes by itself.
    #[error(
        "the download of {url} was cut off ({reason}); what arrived is kept: run `pulseboard \
         engine install` again to resume it"
    )]
    Interrupted { url: String, reason: String },
    /// The tarball is not the one pinned in the source. It has been deleted.
    #[error(
        "{path} does not match the SHA-512 pinned in Pulseboard (expected {expected}, got \
         {actual}); it was deleted and nothing was installed. Try again; if it happens again, \
         the registry or a proxy serves another file than {url}"
    )]
    Corrupt {
        path: PathBuf,
        expected: String,
        actual: String,
        url: String,
    },
    /// Someone pressed cancel.
    #[error(
        "the download was cancelled; what arrived is kept in {part} and the next install \
         resumes from there"
    )]
    Cancelled { part: PathBuf },
    /// The checked tarball does not hold the library: the pinned package is wrong.
    #[error("{tarball} holds no {member} ({reason}); report this: the pinned package is wrong")]
    Archive {
        tarball: PathBuf,
        member: String,
        reason: String,
    },
    /// A file in the cache could not be written or read.
    #[error(
        "cannot write or read {path}: {source}. Free disk space (the engine needs ~{} MB, \
         ~{} MB more while it downloads) or fix the folder's permissions",
        super::INSTALLED_MB,
        super::DOWNLOAD_MB
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no cache folder (HOME is unset): set HOME or XDG_CACHE_HOME, or PULSEBOARD_LIBCHDB")]
    NoCacheDir,
    #[error(
        "{var}={value} is not a registry address ({reason}); e.g. {}",
        super::DEFAULT_REGISTRY
    )]
    BadRegistry {
        var: String,
        value: String,
        reason: String,
    },
    /// chDB publishes no build of this version for this platform.
    #[error(
        "there is no chDB {} build for {platform}: use a ClickHouse server profile \
         (`pulseboard profile add`, see docs/PLATFORMS.md) or set PULSEBOARD_LIBCHDB to a \
         libchdb of your own",
        crate::storage::store::chdb::LIBCHDB_VERSION
    )]
    Unsupported { platform: String },
    /// The HTTP client could not be set up (the TLS roots): nothing the user can change.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl InstallError {
    /// Whether running the same install again may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            InstallError::Unreachable { .. }
            | InstallError::Interrupted { .. }
            | InstallError::Corrupt { .. }
            | InstallError::Cancelled { .. } => true,
            // A server error or rate limit passes; a 404 or a proxy's 403 does not.
            InstallError::Refused { status, .. } => *status >= 500 || *status == 429,
            InstallError::Archive { .. }
            | InstallError::Io { .. }
            | InstallError::NoCacheDir
            | InstallError::BadRegistry { .. }
            | InstallError::Unsupported { .. }
            | InstallError::Client(_) => false,
        }
    }

    pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| InstallError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The way around a network that will not let the download through.
fn by_hand(url: &str, save_as: &Path) -> String {
    format!(
        "download {url} by hand (a browser, or `curl -fLo {path} {url}` where the registry \
         is reachable), save it as {path}, then run `pulseboard engine install` again (or \
         press \"Try again\" in the window): the file is checked before it is used",
        path = save_as.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_says_which_file_to_fetch_and_where_to_put_it() {
        let error = InstallError::Unreachable {
            url:
                "https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz"
                    .into(),
            save_as: "/home/u/.cache/pulseboard/libchdb/lib-linux-x64-gnu-26.5.3.tgz".into(),
            reason: "dns error".into(),
        };
        assert_eq!(
            error.to_string(),
            "cannot reach https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz: \
             dns error. Behind a proxy, set HTTPS_PROXY (its CA certificate must be in the \
             system's store or in SSL_CERT_FILE); offline, download \
             https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz \
             by hand (a browser, or `curl -fLo \
             /home/u/.cache/pulseboard/libchdb/lib-linux-x64-gnu-26.5.3.tgz \
             https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz` \
             where the registry is reachable), save it as \
             /home/u/.cache/pulseboard/libchdb/lib-linux-x64-gnu-26.5.3.tgz, then run \
             `pulseboard engine install` again (or press \"Try again\" in the window): the \
             file is checked before it is used"
        );
        assert!(error.is_retryable());
    }

    #[test]
    fn server_errors_are_retried_and_missing_files_are_not() {
        let refused = |status| InstallError::Refused {
            url: "u".into(),
            save_as: "p".into(),
            status,
        };
        assert!(refused(503).is_retryable());
        assert!(refused(429).is_retryable());
        assert!(!refused(404).is_retryable());
        assert!(!refused(407).is_retryable());
    }
}
