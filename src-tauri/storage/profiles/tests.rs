//! Profiles without a keychain: an in-memory [`SecretStore`] stands in for it.

use std::cell::RefCell;
use std::collections::HashMap;

use super::*;

/// The keychain as a map, so that tests can see exactly what it holds.
#[derive(Debug, Default)]
struct MemoryStore(RefCell<HashMap<String, String>>);

impl SecretStore for &MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, KeychainError> {
        Ok(self.0.borrow().get(account).cloned().map(Sensitive::from))
    }

    fn set(&self, account: &str, password: &Sensitive<String>) -> Result<(), KeychainError> {
        let password = password.expose().clone();
        self.0.borrow_mut().insert(account.to_string(), password);
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.0.borrow_mut().remove(account);
        Ok(())
    }
}

/// A machine with no Secret Service: every keychain call fails.
#[derive(Debug)]
struct NoKeychain;

impl SecretStore for NoKeychain {
    fn get(&self, _: &str) -> Result<Option<Sensitive<String>>, KeychainError> {
        Err(unavailable())
    }

    fn set(&self, _: &str, _: &Sensitive<String>) -> Result<(), KeychainError> {
        Err(unavailable())
    }

    fn delete(&self, _: &str) -> Result<(), KeychainError> {
        Err(unavailable())
    }
}

fn unavailable() -> KeychainError {
    KeychainError::Unavailable("org.freedesktop.DBus.Error.ServiceUnknown".into())
}

fn server(name: &str) -> Profile {
    Profile {
        name: name.into(),
        url: "https://ch.example.com:8443".into(),
        user: "default".into(),
        database: "pulseboard".into(),
    }
}

fn password(value: &str) -> Option<Sensitive<String>> {
    Some(Sensitive::from(value.to_string()))
}

fn names(profiles: &Profiles<impl SecretStore>) -> Vec<String> {
    profiles.list().into_iter().map(|view| view.name).collect()
}

#[test]
fn a_new_directory_has_only_the_embedded_store_active() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = Profiles::load_with(dir.path(), NoKeychain).unwrap();
    let views = profiles.list();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].name, EMBEDDED);
    assert!(views[0].active && views[0].url.is_none());
    assert!(matches!(profiles.active().unwrap(), ActiveStore::Embedded));
    assert!(!profiles.path().exists(), "loading alone writes nothing");
}

#[test]
fn the_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    profiles.add(server("staging"), None).unwrap();
    profiles.add(server("prod"), password("s3cret")).unwrap();
    profiles.set_active("prod").unwrap();

    let reloaded = Profiles::load_with(dir.path(), &keychain).unwrap();
    assert_eq!(reloaded.list(), profiles.list());
    assert_eq!(names(&reloaded), ["embedded", "prod", "staging"]);
    let prod = &reloaded.list()[1];
    assert!(prod.active && prod.has_password);
    assert!(!reloaded.list()[2].has_password);
    match reloaded.active().unwrap() {
        ActiveStore::Server { profile, password } => {
            assert_eq!(profile, server("prod"));
            assert_eq!(password.unwrap().expose(), "s3cret");
        }
        ActiveStore::Embedded => panic!("prod should be active"),
    }
}

#[test]
fn adding_an_existing_name_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    profiles.add(server("prod"), password("old")).unwrap();
    let moved = Profile {
        url: "http://10.0.0.5:8123".into(),
        ..server("prod")
    };
    profiles.add(moved.clone(), password("new")).unwrap();
    assert_eq!(names(&profiles), ["embedded", "prod"]);
    match profiles.store_for("prod").unwrap() {
        ActiveStore::Server { profile, password } => {
            assert_eq!(profile, moved);
            assert_eq!(password.unwrap().expose(), "new");
        }
        ActiveStore::Embedded => panic!("prod is a server"),
    }
    // Re-adding without a password means the user has none: the old one must not linger.
    profiles.add(moved, None).unwrap();
    assert!(keychain.0.borrow().is_empty());
    assert!(!profiles.list()[1].has_password);
}

#[test]
fn the_file_never_contains_the_password_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    let secret = "correct-horse-battery-staple";
    profiles.add(server("prod"), password(secret)).unwrap();
    profiles.set_active("prod").unwrap();

    let bytes = std::fs::read(profiles.path()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("ch.example.com"), "{text}");
    assert_eq!(keychain.0.borrow()["prod"], secret);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temp file is left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(profiles.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn debug_output_of_the_active_store_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    profiles
        .add(server("prod"), password("s3cret-value"))
        .unwrap();
    let shown = format!("{:?}", profiles.store_for("prod").unwrap());
    assert!(!shown.contains("s3cret-value"), "{shown}");
}

#[test]
fn validation_errors_name_the_field() {
    let cases = [
        (
            "name",
            Profile {
                name: String::new(),
                ..server("x")
            },
        ),
        (
            "name",
            Profile {
                name: "a".repeat(65),
                ..server("x")
            },
        ),
        (
            "name",
            Profile {
                name: "has space".into(),
                ..server("x")
            },
        ),
        (
            "name",
            Profile {
                name: "ünïcode".into(),
                ..server("x")
            },
        ),
        (
            "url",
            Profile {
                url: "ch.example.com:8443".into(),
                ..server("x")
            },
        ),
        (
            "url",
            Profile {
                url: "ftp://ch.example.com".into(),
                ..server("x")
            },
        ),
        (
            "url",
            Profile {
                url: "https://".into(),
                ..server("x")
            },
        ),
        (
            "url",
            Profile {
                url: "https://ch example.com".into(),
                ..server("x")
            },
        ),
        (
            "url",
            Profile {
                url: "https://default:pw@ch.example.com".into(),
                ..server("x")
            },
        ),
        (
            "user",
            Profile {
                user: String::new(),
                ..server("x")
            },
        ),
        (
            "user",
            Profile {
                user: "two words".into(),
                ..server("x")
            },
        ),
        (
            "database",
            Profile {
                database: String::new(),
                ..server("x")
            },
        ),
        (
            "database",
            Profile {
                database: "1st".into(),
                ..server("x")
            },
        ),
        (
            "database",
            Profile {
                database: "pulse-board".into(),
                ..server("x")
            },
        ),
        (
            "database",
            Profile {
                database: "db; DROP".into(),
                ..server("x")
            },
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut profiles = Profiles::load_with(dir.path(), NoKeychain).unwrap();
    for (field, profile) in cases {
        let shown = format!("{profile:?}");
        match profiles.add(profile, None) {
            Err(ProfileError::Invalid { field: named, .. }) => assert_eq!(named, field, "{shown}"),
            other => panic!("{shown}: expected an invalid {field}, got {other:?}"),
        }
    }
    assert_eq!(names(&profiles), ["embedded"]);
    assert!(!profiles.path().exists());
}

#[test]
fn valid_profiles_pass() {
    for profile in [
        server("prod"),
        Profile {
            name: "a".repeat(64),
            ..server("x")
        },
        Profile {
            name: "team-eu_2.prod".into(),
            ..server("x")
        },
        Profile {
            url: "http://localhost:8123".into(),
            ..server("x")
        },
        Profile {
            url: "https://ch.example.com/path?x=1".into(),
            ..server("x")
        },
        Profile {
            database: "_analytics_2".into(),
            ..server("x")
        },
    ] {
        profile
            .validate()
            .unwrap_or_else(|e| panic!("{profile:?}: {e}"));
    }
}

#[test]
fn a_url_with_credentials_is_refused_without_echoing_them() {
    let profile = Profile {
        url: "https://default:hunter2@ch.example.com".into(),
        ..server("prod")
    };
    let message = profile.validate().unwrap_err().to_string();
    assert!(message.starts_with("invalid url:"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn embedded_cannot_be_removed_or_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mut profiles = Profiles::load_with(dir.path(), NoKeychain).unwrap();
    assert!(matches!(
        profiles.remove(EMBEDDED),
        Err(ProfileError::Reserved)
    ));
    let impostor = Profile {
        name: EMBEDDED.into(),
        ..server("x")
    };
    assert!(matches!(
        profiles.add(impostor, None),
        Err(ProfileError::Reserved)
    ));
    assert_eq!(names(&profiles), ["embedded"]);
}

#[test]
fn removing_the_active_profile_falls_back_to_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    profiles.add(server("prod"), password("s3cret")).unwrap();
    profiles.set_active("prod").unwrap();
    profiles.remove("prod").unwrap();

    assert!(keychain.0.borrow().is_empty(), "the password goes with it");
    let reloaded = Profiles::load_with(dir.path(), &keychain).unwrap();
    assert_eq!(reloaded.active_name(), EMBEDDED);
    assert!(matches!(reloaded.active().unwrap(), ActiveStore::Embedded));
    assert_eq!(names(&reloaded), ["embedded"]);
}

#[test]
fn unknown_names_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut profiles = Profiles::load_with(dir.path(), NoKeychain).unwrap();
    for result in [
        profiles.set_active("nope"),
        profiles.remove("nope"),
        profiles.store_for("nope").map(drop),
    ] {
        assert!(matches!(result, Err(ProfileError::NotFound { name }) if name == "nope"));
    }
}

#[test]
fn a_profile_without_password_needs_no_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let mut profiles = Profiles::load_with(dir.path(), NoKeychain).unwrap();
    profiles.add(server("local"), None).unwrap();
    profiles.set_active("local").unwrap();
    assert!(matches!(
        profiles.active().unwrap(),
        ActiveStore::Server { password: None, .. }
    ));
    profiles.remove("local").unwrap();
}

#[test]
fn a_missing_keychain_leaves_the_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut profiles = Profiles::load_with(dir.path(), NoKeychain).unwrap();
    let error = profiles
        .add(server("prod"), password("s3cret"))
        .unwrap_err();
    assert!(matches!(
        error,
        ProfileError::Keychain(KeychainError::Unavailable(_))
    ));
    assert!(error.to_string().contains("no Secret Service"), "{error}");
    assert!(!profiles.path().exists());
}

#[test]
fn a_password_deleted_from_the_keychain_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    profiles.add(server("prod"), password("s3cret")).unwrap();
    keychain.0.borrow_mut().clear();
    assert!(matches!(
        profiles.store_for("prod"),
        Err(ProfileError::PasswordMissing { name }) if name == "prod"
    ));
}

#[test]
fn a_broken_or_hand_edited_file_is_refused_with_its_path() {
    for contents in [
        "{not json",
        r#"{"active": "embedded", "profiles": [{"name": "x", "url": "ftp://h", "user": "u", "database": "d"}]}"#,
        r#"{"profiles": [{"name": "embedded", "url": "http://h", "user": "u", "database": "d"}]}"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("profiles.json"), contents).unwrap();
        let error = Profiles::load_with(dir.path(), NoKeychain).unwrap_err();
        assert!(matches!(error, ProfileError::BadFile { .. }), "{error:?}");
        assert!(error.to_string().contains("profiles.json"), "{error}");
    }
}

#[test]
fn an_explicit_config_dir_wins() {
    let dir = PathBuf::from("/tmp/pulseboard-explicit");
    assert_eq!(config_dir(Some(dir.clone())).unwrap(), dir);
}

#[test]
fn an_empty_password_field_keeps_the_stored_one_and_only_clear_deletes_it() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = MemoryStore::default();
    let mut profiles = Profiles::load_with(dir.path(), &keychain).unwrap();
    let stored = |profiles: &Profiles<&MemoryStore>| match profiles.store_for("prod").unwrap() {
        ActiveStore::Server { password, .. } => password.map(|p| p.expose().to_string()),
        ActiveStore::Embedded => panic!("prod is a server"),
    };
    // A new profile saved with an empty field has no password.
    profiles
        .add(server("prod"), Password::from_field(String::new()))
        .unwrap();
    assert_eq!(stored(&profiles), None);
    profiles
        .add(server("prod"), Password::from_field("s3cret".into()))
        .unwrap();
    // Editing the URL with the field left empty (the window) or an empty prompt (the CLI).
    let moved = Profile {
        url: "http://10.0.0.5:8123".into(),
        ..server("prod")
    };
    profiles
        .add(moved, Password::from_field(String::new()))
        .unwrap();
    assert_eq!(stored(&profiles).as_deref(), Some("s3cret"));
    assert!(profiles.list()[1].has_password);
    // `--no-password`: the user has none.
    profiles.add(server("prod"), Password::Clear).unwrap();
    assert_eq!(stored(&profiles), None);
    assert!(keychain.0.borrow().is_empty());
}
