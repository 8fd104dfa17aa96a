//! Profile passwords in the OS keychain (`keyring`: the Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows). Service `pulseboard`, account = profile name.

use crate::support::secret::Sensitive;

/// The keychain service every Pulseboard password is filed under.
pub const SERVICE: &str = "pulseboard";

/// Why the keychain could not answer. The messages are stable (the window and the CLI show them
/// as they are) and never contain a password: `keyring`'s own errors can carry the stored bytes,
/// so they are never passed through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeychainError {
    /// `keyring` reports a missing service and a locked or missing default keyring alike (both
    /// are D-Bus errors), so the message covers both.
    #[error(
        "cannot use the OS keychain: no Secret Service is running on the D-Bus session bus, or its \
         default keyring is locked or missing. Start (and unlock) gnome-keyring or KeePassXC's \
         Secret Service, or use a profile without a password"
    )]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(
        "the OS keychain is locked or refused access: unlock it (log in to the desktop session, \
         or unlock the collection in Seahorse or KeePassXC) and try again"
    )]
    Locked(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the keychain entry for profile {account:?} is unusable: {reason}")]
    Entry {
        account: String,
        reason: &'static str,
    },
}

/// Where profile passwords live. The real one is [`Keychain`]; tests swap in a fake so that
/// they need no Secret Service.
pub trait SecretStore {
    fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, KeychainError>;
    fn set(&self, account: &str, password: &Sensitive<String>) -> Result<(), KeychainError>;
    fn delete(&self, account: &str) -> Result<(), KeychainError>;
}

/// The OS keychain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keychain;

impl SecretStore for Keychain {
    fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, KeychainError> {
        get(account)
    }

    fn set(&self, account: &str, password: &Sensitive<String>) -> Result<(), KeychainError> {
        set(account, password)
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        delete(account)
    }
}

/// The password stored for `account`; `Ok(None)` when there is none.
pub fn get(account: &str) -> Result<Option<Sensitive<String>>, KeychainError> {
    match entry(account)?.get_password() {
        Ok(password) => Ok(Some(Sensitive::from(password))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(classify(account, error)),
    }
}

/// Stores (or replaces) the password for `account`.
pub fn set(account: &str, password: &Sensitive<String>) -> Result<(), KeychainError> {
    entry(account)?
        .set_password(password.expose())
        .map_err(|error| classify(account, error))
}

/// Deletes the password for `account`; deleting one that is not there is not an error.
pub fn delete(account: &str) -> Result<(), KeychainError> {
    match entry(account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(classify(account, error)),
    }
}

fn entry(account: &str) -> Result<keyring::Entry, KeychainError> {
    keyring::Entry::new(SERVICE, account).map_err(|error| classify(account, error))
}

fn classify(account: &str, error: keyring::Error) -> KeychainError {
    let reason = match error {
        keyring::Error::PlatformFailure(cause) => return KeychainError::Unavailable(cause),
        keyring::Error::NoStorageAccess(cause) => return KeychainError::Locked(cause),
        keyring::Error::BadEncoding(_) => "the stored password is not UTF-8; set it again",
        keyring::Error::Ambiguous(_) => {
            "several keychain items match it; delete the extra ones in your keychain manager"
        }
        keyring::Error::TooLong(..) | keyring::Error::Invalid(..) => {
            "the keychain rejects this profile name"
        }
        // A missing entry is handled by each caller; anything newer is reported generically.
        _ => "the keychain answered with an unexpected error",
    };
    KeychainError::Entry {
        account: account.to_string(),
        reason,
    }
}
