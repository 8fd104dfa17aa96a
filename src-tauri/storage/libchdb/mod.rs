//! Where the embedded engine's library comes from: `libchdb.so`, fetched from the npm registry
//! (the package and version `scripts/setup.sh` uses), checked against a SHA-512 pinned here
//! before anything is unpacked, and installed into the user's cache where
//! [`store::chdb`](crate::storage::store::chdb) looks for it.
//!
//! An installed package has no libchdb (it would make a 30 MB package 200 MB): the window
//! offers this on first start, `pulseboard engine install` does it in a terminal.
//!
//! In the cache folder (`~/.cache/pulseboard/libchdb/`): `<tarball>.part` while it downloads
//! (kept when interrupted or cancelled, so the next run resumes it with an HTTP `Range`),
//! `<tarball>` once complete (or put there by hand), `<version>/libchdb.so` once installed. The
//! library appears by one rename: nothing half-unpacked is ever at that path.

pub mod cli;
mod download;
mod error;
mod unpack;

use std::path::{Path, PathBuf};

use tokio::sync::watch;
use url::Url;

pub use error::InstallError;

use crate::storage::store::chdb::{cache_root, LIBCHDB_VERSION};

/// The npm package that carries libchdb for Linux x86-64 (glibc).
pub const CHDB_PACKAGE: &str = "@chdb/lib-linux-x64-gnu";
/// Its tarball's digest as npm records it: `npm view @chdb/lib-linux-x64-gnu@26.5.3
/// dist.integrity`. Pinned, so a registry or proxy serving another file cannot install it.
pub const CHDB_INTEGRITY: &str =
    "sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ==";
/// The registry used unless `PULSEBOARD_NPM_REGISTRY` (or npm's own `npm_config_registry`)
/// names another, e.g. a company mirror.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";
/// Environment variable naming the npm registry to download from.
pub const REGISTRY_ENV: &str = "PULSEBOARD_NPM_REGISTRY";
/// The download and the library's size, for the window's offer and the terminal's estimate.
pub const DOWNLOAD_MB: u64 = 170;
pub const INSTALLED_MB: u64 = 560;

/// An npm package holding one library file, and the digest its tarball must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The npm name, scope included: `@chdb/lib-linux-x64-gnu`.
    pub name: String,
    pub version: String,
    /// npm's integrity string for the tarball: `sha512-<base64>`.
    pub integrity: String,
    /// The file to take from the tarball: `package/libchdb.so`.
    pub member: String,
}

impl Package {
    /// The real engine package for this machine, or why there is none.
    pub fn chdb() -> Result<Self, InstallError> {
        if !cfg!(all(
            target_os = "linux",
            target_arch = "x86_64",
            target_env = "gnu"
        )) {
            return Err(InstallError::Unsupported {
                platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            });
        }
        Ok(Self {
            name: CHDB_PACKAGE.into(),
            version: LIBCHDB_VERSION.into(),
            integrity: CHDB_INTEGRITY.into(),
            member: "package/libchdb.so".into(),
        })
    }

    /// npm's tarball name: `lib-linux-x64-gnu-26.5.3.tgz` (the name without its scope).
    fn tarball_name(&self) -> String {
        let bare = self.name.rsplit('/').next().unwrap_or(&self.name);
        format!("{bare}-{}.tgz", self.version)
    }

    /// The file name the library gets in the cache: the member's last component.
    fn file_name(&self) -> &str {
        self.member.rsplit('/').next().unwrap_or(&self.member)
    }
}

/// What a download is doing; reported at least every half second while bytes flow or stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Progress {
    /// `done` bytes of `total` (when the server said) are on disk.
    Downloading { done: u64, total: Option<u64> },
    /// The whole tarball is being checked against the pinned SHA-512.
    Verifying,
    /// The library is being taken out of the checked tarball.
    Unpacking,
}

/// What is in the cache, for `pulseboard engine status` and the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub package: String,
    pub version: String,
    /// Where [`Installer::install`] puts the library.
    pub install_path: PathBuf,
    pub installed: bool,
    /// Bytes of an interrupted download the next install resumes from.
    pub partial_bytes: Option<u64>,
    /// Where the tarball comes from, and where to put it when downloading it by hand.
    pub url: String,
    pub save_as: PathBuf,
}

/// Downloads, checks and installs one [`Package`] from one registry into one cache folder.
pub struct Installer {
    package: Package,
    registry: Url,
    root: PathBuf,
    client: reqwest::Client,
}

impl Installer {
    /// The real engine, from the configured registry, into the user's cache.
    pub fn from_env() -> Result<Self, InstallError> {
        let root = cache_root().ok_or(InstallError::NoCacheDir)?;
        Self::new(Package::chdb()?, registry_from_env()?, root)
    }

    /// `package` from `registry` into `root` (a version folder per package version).
    pub fn new(package: Package, registry: Url, root: PathBuf) -> Result<Self, InstallError> {
        let client = reqwest::Client::builder()
            .connect_timeout(download::CONNECT_TIMEOUT)
            .user_agent(concat!("pulseboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| InstallError::Client(e.to_string()))?;
        Ok(Self {
            package,
            registry,
            root,
            client,
        })
    }

    /// The tarball's address: `<registry>/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz`.
    pub fn url(&self) -> String {
        let base = self.registry.as_str().trim_end_matches('/');
        format!(
            "{base}/{}/-/{}",
            self.package.name,
            self.package.tarball_name()
        )
    }

    /// Where the library is installed: `<root>/<version>/libchdb.so`.
    pub fn install_path(&self) -> PathBuf {
        self.root
            .join(&self.package.version)
            .join(self.package.file_name())
    }

    /// Where the complete tarball goes (and where to put one downloaded by hand).
    pub fn tarball_path(&self) -> PathBuf {
        self.root.join(self.package.tarball_name())
    }

    fn part_path(&self) -> PathBuf {
        self.root
            .join(format!("{}.part", self.package.tarball_name()))
    }

    pub fn status(&self) -> Status {
        Status {
            package: self.package.name.clone(),
            version: self.package.version.clone(),
            install_path: self.install_path(),
            installed: self.install_path().is_file(),
            partial_bytes: std::fs::metadata(self.part_path()).ok().map(|m| m.len()),
            url: self.url(),
            save_as: self.tarball_path(),
        }
    }

    /// Installs the library unless it is there, and returns its path. `progress` hears every
    /// step; setting `cancel` to true stops the download (what arrived is kept for a resume).
    /// A tarball already at [`tarball_path`](Self::tarball_path) is used without downloading.
    pub async fn install(
        &self,
        mut progress: impl FnMut(Progress) + Send,
        cancel: watch::Receiver<bool>,
    ) -> Result<PathBuf, InstallError> {
        let target = self.install_path();
        if target.is_file() {
            return Ok(target);
        }
        let tarball = self.tarball_path();
        if !tarball.is_file() {
            let source = download::Source {
                client: &self.client,
                url: &self.url(),
                part: &self.part_path(),
                save_as: &tarball,
            };
            source.fetch(&mut progress, cancel).await?;
        }
        progress(Progress::Verifying);
        self.verify(&tarball).await?;
        progress(Progress::Unpacking);
        let (member, into) = (self.package.member.clone(), target.clone());
        let from = tarball.clone();
        blocking(move || unpack::unpack(&from, &member, &into)).await?;
        // The tarball's work is done; keeping it would hold 170 MB for nothing.
        if let Err(error) = std::fs::remove_file(&tarball) {
            tracing::warn!(%error, path = %tarball.display(), "cannot delete the downloaded tarball");
        }
        Ok(target)
    }

    /// Checks the tarball against the pinned digest; a mismatch deletes it, so the next try
    /// downloads afresh instead of failing on the same file.
    async fn verify(&self, tarball: &Path) -> Result<(), InstallError> {
        let path = tarball.to_owned();
        let actual = blocking(move || unpack::sha512_integrity(&path)).await?;
        if actual == self.package.integrity {
            return Ok(());
        }
        let _ = std::fs::remove_file(tarball);
        Err(InstallError::Corrupt {
            path: tarball.to_owned(),
            expected: self.package.integrity.clone(),
            actual,
            url: self.url(),
        })
    }
}

/// `PULSEBOARD_NPM_REGISTRY`, else npm's own `npm_config_registry`, else the public registry.
pub fn registry_from_env() -> Result<Url, InstallError> {
    let configured = [REGISTRY_ENV, "npm_config_registry", "NPM_CONFIG_REGISTRY"]
        .into_iter()
        .find_map(|var| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (var, v))
        });
    let (var, value) = configured.unwrap_or((REGISTRY_ENV, DEFAULT_REGISTRY.into()));
    parse_registry(&value).map_err(|reason| InstallError::BadRegistry {
        var: var.into(),
        value,
        reason,
    })
}

fn parse_registry(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("scheme {other}: use http or https")),
    }
}

/// File work (hashing 170 MB, unpacking 560 MB) stays off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, InstallError> + Send + 'static,
) -> Result<T, InstallError> {
    tokio::task::spawn_blocking(work)
        .await
        .expect("an engine install step panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installer(registry: &str) -> Installer {
        let package = Package {
            name: "@chdb/lib-linux-x64-gnu".into(),
            version: "26.5.3".into(),
            integrity: CHDB_INTEGRITY.into(),
            member: "package/libchdb.so".into(),
        };
        Installer::new(
            package,
            parse_registry(registry).unwrap(),
            "/cache/libchdb".into(),
        )
        .unwrap()
    }

    #[test]
    fn the_tarball_url_follows_npm_layout_with_or_without_a_trailing_slash() {
        let expected =
            "https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz";
        assert_eq!(installer("https://registry.npmjs.org").url(), expected);
        assert_eq!(installer("https://registry.npmjs.org/").url(), expected);
        assert_eq!(
            installer("http://mirror.example:4873/npm/").url(),
            "http://mirror.example:4873/npm/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-26.5.3.tgz"
        );
    }

    #[test]
    fn paths_in_the_cache() {
        let installer = installer(DEFAULT_REGISTRY);
        assert_eq!(
            installer.install_path(),
            Path::new("/cache/libchdb/26.5.3/libchdb.so")
        );
        assert_eq!(
            installer.tarball_path(),
            Path::new("/cache/libchdb/lib-linux-x64-gnu-26.5.3.tgz")
        );
        assert_eq!(
            installer.part_path(),
            Path::new("/cache/libchdb/lib-linux-x64-gnu-26.5.3.tgz.part")
        );
    }

    #[test]
    fn a_registry_must_be_http_or_https() {
        assert_eq!(
            parse_registry("ftp://mirror.example/").unwrap_err(),
            "scheme ftp: use http or https"
        );
        assert_eq!(
            parse_registry("registry.npmjs.org").unwrap_err(),
            "relative URL without a base"
        );
    }

    #[test]
    fn the_real_package_is_the_one_setup_fetches() {
        let setup = include_str!("../../../scripts/setup.sh");
        assert!(setup.contains(&format!("LIBCHDB_VERSION={LIBCHDB_VERSION}\n")));
        assert!(setup.contains(&format!("LIBCHDB_PACKAGE=\"{CHDB_PACKAGE}@")));
    }
}
