//! The command line's own answers: what it says when it cannot do what was asked.

use std::process::Command;

#[test]
fn the_window_without_a_display_points_to_serve() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no display") && stderr.contains("pulseboard serve"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing started: the data dir stays empty"
    );
}
