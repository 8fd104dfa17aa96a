//! The Linux packages as a user gets them. `scripts/package.sh` builds them (`scripts/test.sh`
//! runs it before the tests); these tests unpack the .deb into a scratch root (`dpkg-deb -x`)
//! and check its metadata, desktop entry, icons and size, the .rpm's, and that the unpacked
//! binary serves `/health` with the engine from the user's cache and names its window as the
//! desktop entry says.
//!
//! They fail, never skip, when something is missing: the packages (run scripts/package.sh),
//! `dpkg-deb`, `desktop-file-validate`, `rpm` or `xprop` (scripts/setup.sh installs them),
//! libchdb in the cache (`pulseboard engine install`), or a display (CI runs under xvfb-run).

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{signal, test_env, wait_exit};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The issue's target for a package's size.
const MAX_PACKAGE_BYTES: u64 = 30 * 1000 * 1000;

/// `target/release/bundle/<kind>/<file>`, found from this test's own binary under `target/`.
fn bundle(kind: &str, file: &str) -> PathBuf {
    let debug = Path::new(env!("CARGO_BIN_EXE_pulseboard"))
        .parent()
        .unwrap();
    let path = debug.join("../release/bundle").join(kind).join(file);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/package.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

fn deb() -> PathBuf {
    bundle("deb", &format!("Pulseboard_{VERSION}_amd64.deb"))
}

fn rpm() -> PathBuf {
    bundle("rpm", &format!("Pulseboard-{VERSION}-1.x86_64.rpm"))
}

/// Runs a tool that must be installed, and returns its output whatever its exit status.
fn tool(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): run scripts/setup.sh"))
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The .deb unpacked into a fresh scratch root.
fn unpacked() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let deb = deb();
    stdout(&tool(
        "dpkg-deb",
        &["-x", deb.to_str().unwrap(), root.path().to_str().unwrap()],
    ));
    root
}

fn control_field(field: &str) -> String {
    let deb = deb();
    stdout(&tool("dpkg-deb", &["-f", deb.to_str().unwrap(), field]))
        .trim_end()
        .to_string()
}

#[test]
fn the_deb_declares_its_version_description_and_runtime_dependencies() {
    assert_eq!(control_field("Package"), "pulseboard");
    assert_eq!(control_field("Version"), VERSION);
    assert_eq!(control_field("Architecture"), "amd64");
    // WebKitGTK 4.1 and GTK for the window, libdbus for the keychain (Secret Service).
    assert_eq!(
        control_field("Depends"),
        "libdbus-1-3, libwebkit2gtk-4.1-0, libgtk-3-0"
    );
    assert_eq!(control_field("Recommends"), "gnome-keyring");
    let description = control_field("Description");
    assert_eq!(
        description.lines().next().unwrap(),
        "Live product analytics on your laptop"
    );
}

#[test]
fn the_desktop_entry_is_valid_and_starts_the_packaged_binary() {
    let root = unpacked();
    let entry = root
        .path()
        .join("usr/share/applications/Pulseboard.desktop");
    let validate = tool("desktop-file-validate", &[entry.to_str().unwrap()]);
    assert_eq!(
        (
            validate.status.code(),
            String::from_utf8_lossy(&validate.stdout).as_ref()
        ),
        (Some(0), ""),
        "desktop-file-validate: {validate:?}"
    );
    let text = std::fs::read_to_string(&entry).unwrap();
    let key = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {text}"))
            .to_string()
    };
    assert_eq!(key("Type"), "Application");
    assert_eq!(key("Name"), "Pulseboard");
    assert_eq!(key("Comment"), "Live product analytics on your laptop");
    assert_eq!(key("Categories"), "Office;");
    assert_eq!(key("Exec"), "pulseboard");
    assert_eq!(key("Icon"), "pulseboard");
    assert_eq!(key("StartupWMClass"), "Pulseboard");
    assert!(root.path().join("usr/bin/pulseboard").is_file());
    for size in ["32x32", "128x128", "256x256@2"] {
        let icon = format!("usr/share/icons/hicolor/{size}/apps/pulseboard.png");
        assert!(root.path().join(&icon).is_file(), "{icon} is missing");
    }
}

#[test]
fn the_rpm_declares_its_version_and_runtime_dependencies() {
    let rpm = rpm();
    let query = |format: &str| {
        stdout(&tool(
            "rpm",
            &["-qp", "--queryformat", format, rpm.to_str().unwrap()],
        ))
    };
    assert_eq!(query("%{NAME} %{VERSION}"), format!("pulseboard {VERSION}"));
    assert_eq!(query("%{SUMMARY}"), "Live product analytics on your laptop");
    let recommends = stdout(&tool(
        "rpm",
        &["-qp", "--recommends", rpm.to_str().unwrap()],
    ));
    assert_eq!(recommends, "gnome-keyring\n");
    let requires = stdout(&tool("rpm", &["-qp", "--requires", rpm.to_str().unwrap()]));
    let needed = [
        "dbus-libs",
        "libgtk-3.so.0()(64bit)",
        "libwebkit2gtk-4.1.so.0()(64bit)",
    ];
    for needed in needed {
        assert!(
            requires.lines().any(|l| l == needed),
            "{needed} not required: {requires}"
        );
    }
}

#[test]
fn each_package_is_under_30_mb() {
    for package in [deb(), rpm()] {
        let bytes = std::fs::metadata(&package).unwrap().len();
        assert!(
            bytes < MAX_PACKAGE_BYTES,
            "{} is {bytes} bytes",
            package.display()
        );
    }
}

#[test]
fn the_unpacked_binary_serves_health_with_the_cached_engine() {
    let root = unpacked();
    let binary = root.path().join("usr/bin/pulseboard");
    let version = stdout(&tool(binary.to_str().unwrap(), &["--version"]));
    assert_eq!(version.trim_end(), format!("pulseboard {VERSION}"));
    let data = tempfile::tempdir().unwrap();
    // No PULSEBOARD_LIBCHDB: the binary finds the engine where `pulseboard engine install`
    // puts it, as an installed app does.
    let mut child = Command::new(&binary)
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data.path())
        .envs(test_env("200ms"))
        .env_remove(pulseboard::storage::store::chdb::LIBCHDB_ENV)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .expect("serve exited before listening (is libchdb installed? pulseboard engine install)")
        .unwrap();
    let url = first
        .strip_prefix("Pulseboard listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let health: serde_json::Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let response = reqwest::get(format!("{url}/health")).await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    });
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"], "embedded");
    signal(&child, "TERM");
    wait_exit(child);
}

#[test]
fn the_window_class_is_the_one_the_desktop_entry_names() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run under xvfb-run (scripts/test.sh does)"
    );
    let root = unpacked();
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(root.path().join("usr/bin/pulseboard"))
        .args(["--port", "0", "--data-dir"])
        .arg(data.path())
        .envs(test_env("200ms"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let class = loop {
        // The window's title is its WM_NAME; GTK's hidden leader window is named "pulseboard".
        let xprop = tool("xprop", &["-name", "Pulseboard", "WM_CLASS"]);
        if xprop.status.success() {
            break String::from_utf8(xprop.stdout).unwrap();
        }
        assert!(Instant::now() < deadline, "no Pulseboard window: {xprop:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    signal(&child, "TERM");
    wait_exit(child);
    assert_eq!(
        class.trim_end(),
        r#"WM_CLASS(STRING) = "pulseboard", "Pulseboard""#
    );
}
