//! Profile passwords against the REAL OS keychain (the Secret Service on Linux).
//!
//! Needs a running, unlocked Secret Service on the D-Bus session bus. `scripts/test.sh` provides
//! one; by hand (Debian packages `gnome-keyring dbus-x11 libdbus-1-dev`):
//!
//! ```sh
//! dbus-run-session -- sh -c 'echo -n testpass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; cargo test --test keychain'
//! ```
//!
//! (an empty unlock password creates no login collection, and storing then fails). Without a
//! Secret Service these tests FAIL rather than skip: a skipped keychain test would pass without
//! testing anything. Every test uses its own account names and deletes them, pass or fail.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use pulseboard::storage::profiles::{keychain, ActiveStore, Profile, Profiles, Sensitive};
use support::files_containing;

/// A keychain account (and profile name) unique to this run and test.
fn unique_name(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("pb-test-{label}-{}-{nanos}", std::process::id())
}

/// Deletes its account when dropped, so a failing assertion leaves nothing in the keychain.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = keychain::delete(&self.0);
    }
}

/// Fails the test, with how to fix it, unless a Secret Service stores and deletes a password.
fn require_secret_service() {
    let probe = Cleanup(unique_name("probe"));
    let stored = keychain::set(&probe.0, &Sensitive::from("probe".to_string()))
        .and_then(|()| keychain::delete(&probe.0));
    if let Err(error) = stored {
        let cause = std::error::Error::source(&error)
            .map(|cause| format!("\n  cause: {cause}"))
            .unwrap_or_default();
        panic!(
            "the keychain tests need a running, unlocked Secret Service: {error}{cause}\n\
             Run them through scripts/test.sh, which starts one (see the header of tests/keychain.rs)."
        );
    }
}

fn secret(value: &str) -> Sensitive<String> {
    Sensitive::from(value.to_string())
}

fn stored_password(account: &str) -> Option<String> {
    keychain::get(account)
        .unwrap()
        .map(|password| password.expose().clone())
}

fn assert_no_file_contains(dir: &Path, password: &str) {
    let leaked = files_containing(dir, password.as_bytes());
    assert!(leaked.is_empty(), "the password is in {leaked:?}");
}

fn file_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().path())
                .map(|path| if path.is_dir() { file_count(&path) } else { 1 })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn store_read_update_and_delete_a_password() {
    require_secret_service();
    let account = Cleanup(unique_name("crud"));
    let name = account.0.as_str();

    assert_eq!(stored_password(name), None, "a missing entry is Ok(None)");
    keychain::set(name, &secret("first p@ss wörd")).unwrap();
    assert_eq!(stored_password(name).as_deref(), Some("first p@ss wörd"));
    keychain::set(name, &secret("second")).unwrap();
    assert_eq!(stored_password(name).as_deref(), Some("second"));
    keychain::delete(name).unwrap();
    assert_eq!(stored_password(name), None);
    keychain::delete(name).expect("deleting a missing entry is fine");
}

#[test]
fn a_profile_keeps_its_password_in_the_keychain_only() {
    require_secret_service();
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("config");
    let name = Cleanup(unique_name("lib"));
    let password = format!("pw-{}", name.0);
    let profile = Profile {
        name: name.0.clone(),
        url: "http://127.0.0.1:8123".into(),
        user: "default".into(),
        database: "pulseboard".into(),
    };

    let mut profiles = Profiles::load(&config).unwrap();
    profiles
        .add(profile.clone(), Some(secret(&password)))
        .unwrap();
    profiles.set_active(&name.0).unwrap();

    assert!(file_count(root.path()) > 0, "the profile was written");
    assert_no_file_contains(root.path(), &password);
    assert_eq!(stored_password(&name.0), Some(password.clone()));
    match Profiles::load(&config).unwrap().active().unwrap() {
        ActiveStore::Server {
            profile: active,
            password: Some(read),
        } => {
            assert_eq!(active, profile);
            assert_eq!(read.expose(), &password);
        }
        other => panic!("expected the server profile with its password, got {other:?}"),
    }

    profiles.remove(&name.0).unwrap();
    assert_eq!(
        stored_password(&name.0),
        None,
        "removing deletes the password"
    );
}

/// Runs the real binary with every default directory moved under `root`, so that whatever it
/// writes anywhere is in the tree the test searches.
fn pulseboard(root: &Path, args: &[&str], stdin: &str) -> Output {
    let home = root.join("home");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(args)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("PULSEBOARD_CONFIG_DIR", root.join("config"))
        .env("PULSEBOARD_DATA_DIR", root.join("data"))
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn succeeded(output: &Output, password: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    assert!(!stdout.contains(password) && !stderr.contains(password));
    stdout.into_owned()
}

#[test]
fn the_cli_leaves_no_trace_of_the_password_in_any_file() {
    require_secret_service();
    let root = tempfile::tempdir().unwrap();
    let name = Cleanup(unique_name("cli"));
    let password = format!("cli-pw-{}", name.0);
    let add = [
        "profile",
        "add",
        &name.0,
        "--url",
        "https://ch.example.com:8443",
        "--password-stdin",
    ];

    succeeded(
        &pulseboard(root.path(), &add, &format!("{password}\n")),
        &password,
    );
    assert_eq!(
        stored_password(&name.0),
        Some(password.clone()),
        "no line end"
    );
    succeeded(
        &pulseboard(root.path(), &["profile", "use", &name.0], ""),
        &password,
    );
    let listed = succeeded(
        &pulseboard(root.path(), &["profile", "list"], ""),
        &password,
    );
    let row = listed.lines().find(|line| line.contains(&name.0)).unwrap();
    assert!(row.starts_with('*') && row.contains("keychain"), "{listed}");

    assert!(root.path().join("config/profiles.json").exists());
    assert_no_file_contains(root.path(), &password);

    succeeded(
        &pulseboard(root.path(), &["profile", "remove", &name.0], ""),
        &password,
    );
    assert_eq!(stored_password(&name.0), None);
}
