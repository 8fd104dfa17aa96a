//! Nothing acknowledged is lost or counted twice: restarts, SIGKILL before a flush, failed
//! inserts, inserts whose acknowledgement was lost, and a full journal.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{event, Server};
use crate::support::add_profile;

fn batch(n: usize, session: &str) -> Value {
    json!((0..n)
        .map(|i| event(
            if i % 7 == 0 {
                "error_occurred"
            } else {
                "page_view"
            },
            &format!("{session}-{i}")
        ))
        .collect::<Vec<_>>())
}

#[tokio::test]
async fn restart_keeps_every_event_and_sigkill_before_the_flush_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut acked = server.post_ok(&batch(300, "a")).await;
    server.drained().await;
    server.stop();

    // A long flush interval: the next events are only in the journal when the process dies.
    let server = Server::start(
        dir.path(),
        &[
            "--flush-interval",
            "1h",
            "--flush-min-interval",
            "1h",
            "--flush-size",
            "100000",
        ],
    );
    assert_eq!(
        server.stored_events().await,
        acked,
        "a clean restart keeps what was stored"
    );
    acked += server.post_ok(&batch(250, "b")).await;
    acked += server.post_ok(&batch(250, "c")).await;
    assert_eq!(server.health().await["buffer_size"], 500);
    server.kill();

    let server = Server::start(dir.path(), &[]);
    server.drained().await;
    assert_eq!(
        server.stored_events().await,
        acked,
        "the journal replays after SIGKILL"
    );
    server.stop();
}

#[tokio::test]
async fn a_failed_insert_is_retried_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    server.set_fault("down").await;
    let mut acked = 0;
    for i in 0..4 {
        acked += server.post_ok(&batch(200, &format!("down{i}"))).await;
    }
    let health = server.unreachable().await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["spilled"], acked);
    assert_eq!(health["buffer_size"], acked);

    server.set_fault("up").await;
    server.drained().await;
    assert_eq!(server.stored_events().await, acked);
    server.stop();
}

#[tokio::test]
async fn an_insert_whose_ack_was_lost_is_not_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    // Every insert lands in ClickHouse but reports failure, so the batcher re-sends the same
    // flush (same token) until the fault clears: deduplication must absorb the repeats.
    server.set_fault("lose_ack").await;
    let acked = server.post_ok(&batch(400, "lost")).await;
    // The batcher re-sends the flush a few times (after 200 ms, then 400 ms…).
    server
        .health_until("three failed re-sends", |h| {
            h["failed_flushes"].as_u64() >= Some(3)
        })
        .await;
    server.set_fault("up").await;
    server.drained().await;
    assert_eq!(server.stored_events().await, acked);

    // The same again across a crash: the ack is lost, the process dies, the restart re-sends.
    server.set_fault("lose_ack").await;
    let more = server.post_ok(&batch(300, "crash")).await;
    // Failing means it landed: only the acknowledgement is lost.
    server.unreachable().await;
    server.kill();
    let server = Server::start(dir.path(), &[]);
    server.drained().await;
    assert_eq!(server.stored_events().await, acked + more);
    server.stop();
}

#[tokio::test]
async fn a_full_journal_answers_503_with_retry_after_and_keeps_what_it_took() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--journal-cap", "40KiB"]);
    server.set_fault("down").await;
    let mut acked = 0;
    let mut refused = None;
    for i in 0..50 {
        let response = server
            .http
            .post(format!("{}/v1/events", server.url))
            .json(&batch(100, &format!("full{i}")))
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 503 {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status().as_u16(), 202);
        acked += 100;
    }
    let refused = refused.expect("the journal never filled");
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("cap"), "{body}");

    server.set_fault("up").await;
    server.drained().await;
    assert_eq!(server.stored_events().await, acked);
    assert_eq!(
        server.post_ok(&batch(10, "after")).await,
        10,
        "accepts again once drained"
    );
    server.stop();
}

#[tokio::test]
async fn events_held_at_a_profile_switch_go_to_the_store_they_were_accepted_for() {
    let dir = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let config_dir = config.path().display().to_string();
    let env = [("PULSEBOARD_CONFIG_DIR", config_dir.as_str())];
    // A team server nobody answers for (port 9: discard, closed here).
    add_profile("team", "http://127.0.0.1:9", env);
    let journal = || rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let held = || -> i64 {
        journal()
            .query_row("SELECT count(*) FROM batches", [], |r| r.get(0))
            .unwrap()
    };

    // Accepted for the embedded store, still in the journal when the process dies.
    let hold = [
        "--flush-interval",
        "1h",
        "--flush-min-interval",
        "1h",
        "--flush-size",
        "100000",
    ];
    let server = Server::start(dir.path(), &hold);
    let acked = server.post_ok(&batch(120, "before-switch")).await;
    server.kill();
    assert!(held() > 0);

    // Switching to `team`: the held events go to the embedded store first; then the engine
    // starts although the team server is down, and spills.
    let team = Server::start_with_env(dir.path(), &["--profile", "team"], &env);
    assert_eq!(
        held(),
        0,
        "delivered to the embedded store before switching"
    );
    let owner: String = journal()
        .query_row("SELECT value FROM meta WHERE key = 'profile'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(owner, "team");
    let health = team.health().await;
    assert_eq!(health["store_reachable"], false, "{health}");
    team.kill();

    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        server.stored_events().await,
        acked,
        "all in the embedded store, once"
    );
    server.stop();

    // Events accepted for `team` stay for `team`: the embedded store will not take them.
    let team = Server::start_with_env(dir.path(), &["--profile", "team"], &env);
    assert_eq!(team.post_ok(&batch(30, "for-team")).await, 30);
    assert_eq!(team.health().await["spilled"], 30);
    team.kill();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_pulseboard"))
        .args([
            "serve",
            "--port",
            "0",
            "--profile",
            "embedded",
            "--data-dir",
        ])
        .arg(dir.path())
        .envs(env)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("30 events accepted for profile \"team\"")
            && stderr.contains("--profile team"),
        "{stderr}"
    );
    assert_eq!(held(), 1, "still in the journal");
}

#[tokio::test]
async fn a_statement_the_engine_refuses_needs_action_and_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    // Every insert becomes a statement chDB itself refuses (an unknown table, code 60).
    server.set_fault("bad_statement").await;
    let acked = server.post_ok(&batch(50, "refused")).await;
    let health = server
        .health_until("a failed flush", |h| h["failed_flushes"] != 0)
        .await;
    assert_eq!(health["needs_action"], true, "{health}");
    assert_eq!(health["store_reachable"], false, "{health}");
    assert_eq!(health["buffer_size"], acked);
    let error = health["last_error"].as_str().unwrap();
    assert!(error.contains("refused Pulseboard's SQL"), "{error}");
    assert!(error.contains("Code: 60"), "{error}");
    // A retryable failure is retried after 200, 400, 800 ms…; a refusal is not.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.health().await["failed_flushes"], 1);

    // A restart tries again at once (the fault switch does not survive it): nothing was lost.
    server.stop();
    let server = Server::start(dir.path(), &[]);
    server.drained().await;
    assert_eq!(server.stored_events().await, acked);
    server.stop();
}
