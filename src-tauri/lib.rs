//! Pulseboard: live product analytics on a laptop.
//!
//! The data flow, one module per stage: `event` (validation) → `ingest` (HTTP) → `journal`
//! (durable SQLite) → `batcher` → `store` (ClickHouse: embedded chDB or a server) → `panels` →
//! `charts`. `engine` wires them together; `profiles` says which store to use (passwords in the
//! OS keychain, held as `secret::Sensitive`); `cli`, `demo` and `bench` drive it;
//! `app` is the desktop window over `view`.

pub mod app;
pub mod batcher;
pub mod bench;
pub mod charts;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod event;
pub mod ingest;
pub mod journal;
pub mod panels;
pub mod profiles;
pub mod secret;
pub mod store;
pub mod view;
