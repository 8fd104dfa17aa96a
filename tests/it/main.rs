//! Integration tests against the real `pulseboard serve` binary: real chDB, real SQLite files.
//!
//! Needs libchdb (`scripts/setup.sh` fetches it; `scripts/test.sh` runs it first) and the
//! `fault-injection` feature (`cargo test --features fault-injection`), which `scripts/test.sh`
//! passes. Without libchdb every test here fails with the set-up hint; none is skipped.

mod access;
mod alerts;
mod annotations;
mod cli;
mod common;
mod csv;
mod dashboard;
mod durability;
mod formats;
mod funnels;
mod hardening;
mod ingest;
mod insights;
mod live;
mod load;
mod panels;
mod people;
mod properties;
mod retention;
mod sdks;
mod sql;
#[path = "../support/mod.rs"]
mod support;
mod views;

#[cfg(not(feature = "fault-injection"))]
compile_error!("the integration tests need `--features fault-injection`; run scripts/test.sh");
