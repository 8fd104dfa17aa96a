//! Connection profiles: which ClickHouse Pulseboard writes to and reads from.
//!
//! The embedded engine is the built-in profile `embedded`; a team's server is a named profile
//! (url, user, database) stored with the active profile's name in `profiles.json` in the config
//! directory. Passwords go to the OS keychain ([`keychain`]), never to that file: the file only
//! records *whether* the keychain holds one, so a profile without a password works on a machine
//! with no keychain at all.

pub mod cli;
pub mod keychain;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::support::secret::Sensitive;
pub use keychain::{Keychain, KeychainError, SecretStore};

/// The built-in profile: the embedded engine on this machine.
pub const EMBEDDED: &str = "embedded";
/// Overrides the platform's config directory.
pub const CONFIG_DIR_ENV: &str = "PULSEBOARD_CONFIG_DIR";
const FILE_NAME: &str = "profiles.json";

/// A ClickHouse server to use instead of the embedded engine. Its password, if any, lives in the
/// OS keychain under the profile's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// 1 to 64 characters of `A-Z a-z 0-9 _ . -`; also the keychain account.
    pub name: String,
    /// The server's HTTP(S) interface, e.g. `https://clickhouse.example.com:8443`.
    pub url: String,
    pub user: String,
    /// The database that holds Pulseboard's tables.
    pub database: String,
}

/// One row of [`Profiles::list`]. The server fields are `None` for the embedded store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileView {
    pub name: String,
    pub url: Option<String>,
    pub user: Option<String>,
    pub database: Option<String>,
    pub active: bool,
    /// Whether the keychain holds a password for it (read from the file: no keychain lookup).
    pub has_password: bool,
}

/// The store a profile points at, with what is needed to connect to it.
#[derive(Debug, Clone)]
pub enum ActiveStore {
    Embedded,
    Server {
        profile: Profile,
        password: Option<Sensitive<String>>,
    },
}

impl ActiveStore {
    /// How to reach this profile's server (`None` for the embedded store).
    pub fn server_config(
        &self,
        timeout: std::time::Duration,
    ) -> Option<crate::storage::store::ServerConfig> {
        match self {
            ActiveStore::Embedded => None,
            ActiveStore::Server { profile, password } => {
                Some(crate::storage::store::ServerConfig {
                    url: profile.url.clone(),
                    user: profile.user.clone(),
                    password: password.clone(),
                    database: profile.database.clone(),
                    timeout,
                })
            }
        }
    }
}

/// What saving a profile does with its password. The one rule for the CLI and the window: an
/// empty password field (or an empty answer at the prompt) keeps the password the keychain
/// holds; only an explicit "no password" (`--no-password`) deletes it.
#[derive(Debug, Clone)]
pub enum Password {
    /// Keep what the keychain holds for this profile (nothing, for a new one).
    Keep,
    Set(Sensitive<String>),
    /// The user has no password: delete a stored one.
    Clear,
}

impl Password {
    /// What a password field or prompt means: empty keeps the stored one.
    pub fn from_field(text: String) -> Self {
        if text.is_empty() {
            Password::Keep
        } else {
            Password::Set(Sensitive::from(text))
        }
    }
}

impl From<Option<Sensitive<String>>> for Password {
    fn from(password: Option<Sensitive<String>>) -> Self {
        password.map_or(Password::Clear, Password::Set)
    }
}

/// How long `profile test` and the window's "test connection" wait for a server.
pub const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The profiles in the configuration directory (`PULSEBOARD_CONFIG_DIR` or the platform's).
pub fn open() -> Result<Profiles, ProfileError> {
    Profiles::load(config_dir(None)?)
}

/// Connects to `store` as its profile says and reports what answered, in words for people.
pub async fn test_connection(
    name: &str,
    store: &ActiveStore,
    timeout: std::time::Duration,
) -> Result<String, crate::storage::store::StoreError> {
    let Some(config) = store.server_config(timeout) else {
        return Ok(format!(
            "{name}: the embedded store runs inside Pulseboard; nothing to reach"
        ));
    };
    let url = config.url.clone();
    let server = crate::storage::store::Server::connect(config).await?;
    let version = server.version().await?;
    Ok(format!(
        "{name}: ClickHouse {version} at {url} answers and accepts the credentials"
    ))
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    #[error("invalid {field}: {rule}")]
    Invalid { field: &'static str, rule: String },
    #[error("`embedded` is the built-in store: it cannot be removed or replaced")]
    Reserved,
    #[error("no profile named {name:?} (see `pulseboard profile list`)")]
    NotFound { name: String },
    #[error("the OS keychain has no password for profile {name:?}: add the profile again with its password")]
    PasswordMissing { name: String },
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not a valid profiles file: {reason}", path.display())]
    BadFile { path: PathBuf, reason: String },
    #[error("cannot find a home directory for the configuration; set {CONFIG_DIR_ENV}")]
    NoConfigDir,
}

/// The directory that holds `profiles.json`: `explicit` if given, else `PULSEBOARD_CONFIG_DIR`,
/// else the platform's config directory (e.g. `~/.config/pulseboard`).
pub fn config_dir(explicit: Option<PathBuf>) -> Result<PathBuf, ProfileError> {
    let from_env = || {
        std::env::var_os(CONFIG_DIR_ENV)
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = explicit.or_else(from_env) {
        return Ok(dir);
    }
    directories::ProjectDirs::from("dev", "pulseboard", "pulseboard")
        .map(|dirs| dirs.config_dir().to_owned())
        .ok_or(ProfileError::NoConfigDir)
}

impl Profile {
    /// Checks every field; the error names the first field that breaks its rule. Values are not
    /// echoed: a URL pasted with credentials in it must not end up in a message.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.name == EMBEDDED {
            return Err(ProfileError::Reserved);
        }
        check("name", is_profile_name(&self.name), NAME_RULE)?;
        check_url(&self.url)?;
        check("user", is_user(&self.user), USER_RULE)?;
        check(
            "database",
            crate::storage::store::is_identifier(&self.database),
            DATABASE_RULE,
        )
    }
}

const NAME_RULE: &str = "1 to 64 characters of A-Z a-z 0-9 _ . -";
const USER_RULE: &str = "must be non-empty, without spaces or control characters";
const DATABASE_RULE: &str = "must be an identifier: a letter or _ followed by letters, digits or _";

fn check(field: &'static str, ok: bool, rule: &str) -> Result<(), ProfileError> {
    if ok {
        Ok(())
    } else {
        Err(ProfileError::Invalid {
            field,
            rule: rule.to_string(),
        })
    }
}

fn is_profile_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn is_user(user: &str) -> bool {
    !user.is_empty() && !user.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_url(url: &str) -> Result<(), ProfileError> {
    crate::support::urls::check_http_url(url)
        .map(drop)
        .map_err(|rule| ProfileError::Invalid {
            field: "url",
            rule: rule.to_string(),
        })
}

/// What `profiles.json` holds. Never a password: only whether the keychain has one.
#[derive(Debug, Serialize, Deserialize)]
struct ProfilesFile {
    #[serde(default = "embedded_name")]
    active: String,
    #[serde(default)]
    profiles: Vec<StoredProfile>,
}

impl Default for ProfilesFile {
    fn default() -> Self {
        Self {
            active: embedded_name(),
            profiles: Vec::new(),
        }
    }
}

fn embedded_name() -> String {
    EMBEDDED.to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredProfile {
    #[serde(flatten)]
    profile: Profile,
    #[serde(default)]
    password_in_keychain: bool,
}

/// The profiles in one config directory, with the keychain that holds their passwords.
#[derive(Debug)]
pub struct Profiles<S = Keychain> {
    path: PathBuf,
    file: ProfilesFile,
    secrets: S,
}

impl Profiles<Keychain> {
    /// Reads `profiles.json` in `dir` (none yet: only `embedded`), passwords in the OS keychain.
    pub fn load(dir: impl Into<PathBuf>) -> Result<Self, ProfileError> {
        Self::load_with(dir, Keychain)
    }
}

impl<S: SecretStore> Profiles<S> {
    /// Like [`Profiles::load`], with passwords in `secrets`.
    pub fn load_with(dir: impl Into<PathBuf>, secrets: S) -> Result<Self, ProfileError> {
        let path = dir.into().join(FILE_NAME);
        let file = read_file(&path)?;
        Ok(Self {
            path,
            file,
            secrets,
        })
    }

    /// The file the profiles are kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn active_name(&self) -> &str {
        &self.file.active
    }

    /// `embedded` first, then the server profiles by name.
    pub fn list(&self) -> Vec<ProfileView> {
        let embedded = ProfileView {
            name: embedded_name(),
            url: None,
            user: None,
            database: None,
            active: self.file.active == EMBEDDED,
            has_password: false,
        };
        let servers = self.file.profiles.iter().map(|stored| ProfileView {
            name: stored.profile.name.clone(),
            url: Some(stored.profile.url.clone()),
            user: Some(stored.profile.user.clone()),
            database: Some(stored.profile.database.clone()),
            active: self.file.active == stored.profile.name,
            has_password: stored.password_in_keychain,
        });
        std::iter::once(embedded).chain(servers).collect()
    }

    /// Adds `profile`, or replaces the one with its name. `Some(password)` goes to the keychain;
    /// `None` means the server takes no password, and a password stored before is deleted.
    pub fn add(
        &mut self,
        profile: Profile,
        password: impl Into<Password>,
    ) -> Result<(), ProfileError> {
        profile.validate()?;
        let had_password = self
            .find(&profile.name)
            .is_some_and(|s| s.password_in_keychain);
        // The keychain goes first: if it fails, the file still describes what the keychain holds.
        let password_in_keychain = match password.into() {
            Password::Set(password) => {
                self.secrets.set(&profile.name, &password)?;
                true
            }
            Password::Clear if had_password => {
                self.secrets.delete(&profile.name)?;
                false
            }
            Password::Clear => false,
            Password::Keep => had_password,
        };
        let stored = StoredProfile {
            profile,
            password_in_keychain,
        };
        let profiles = &mut self.file.profiles;
        match profiles.binary_search_by(|s| s.profile.name.cmp(&stored.profile.name)) {
            Ok(at) => profiles[at] = stored,
            Err(at) => profiles.insert(at, stored),
        }
        self.save()
    }

    /// Removes a profile and its keychain password. If it was active, `embedded` becomes active.
    pub fn remove(&mut self, name: &str) -> Result<(), ProfileError> {
        if name == EMBEDDED {
            return Err(ProfileError::Reserved);
        }
        let at = self.position(name)?;
        if self.file.profiles[at].password_in_keychain {
            self.secrets.delete(name)?;
        }
        self.file.profiles.remove(at);
        if self.file.active == name {
            self.file.active = embedded_name();
        }
        self.save()
    }

    pub fn set_active(&mut self, name: &str) -> Result<(), ProfileError> {
        if name != EMBEDDED {
            self.position(name)?;
        }
        self.file.active = name.to_string();
        self.save()
    }

    /// The store to use now, with its password read from the keychain.
    pub fn active(&self) -> Result<ActiveStore, ProfileError> {
        self.store_for(&self.file.active)
    }

    /// The store profile `name` points at, with its password read from the keychain.
    pub fn store_for(&self, name: &str) -> Result<ActiveStore, ProfileError> {
        if name == EMBEDDED {
            return Ok(ActiveStore::Embedded);
        }
        let stored = &self.file.profiles[self.position(name)?];
        let password = if stored.password_in_keychain {
            let missing = || ProfileError::PasswordMissing {
                name: name.to_string(),
            };
            Some(self.secrets.get(name)?.ok_or_else(missing)?)
        } else {
            None
        };
        Ok(ActiveStore::Server {
            profile: stored.profile.clone(),
            password,
        })
    }

    fn find(&self, name: &str) -> Option<&StoredProfile> {
        self.file.profiles.iter().find(|s| s.profile.name == name)
    }

    fn position(&self, name: &str) -> Result<usize, ProfileError> {
        self.file
            .profiles
            .iter()
            .position(|s| s.profile.name == name)
            .ok_or_else(|| ProfileError::NotFound {
                name: name.to_string(),
            })
    }

    fn save(&self) -> Result<(), ProfileError> {
        let mut json =
            serde_json::to_vec_pretty(&self.file).expect("strings and bools always serialise");
        json.push(b'\n');
        crate::support::files::write_private(&self.path, &json).map_err(|source| ProfileError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

fn read_file(path: &Path) -> Result<ProfilesFile, ProfileError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(ProfilesFile::default()),
        Err(source) => {
            return Err(ProfileError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    let bad = |reason: String| ProfileError::BadFile {
        path: path.to_owned(),
        reason,
    };
    let file: ProfilesFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    // A hand-edited file gets the same checks as `add`, so nothing downstream sees a bad profile.
    for stored in &file.profiles {
        stored.profile.validate().map_err(|e| bad(e.to_string()))?;
    }
    Ok(file)
}
