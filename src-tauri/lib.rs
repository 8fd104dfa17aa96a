//! Pulseboard: live product analytics on a laptop.
//!
//! The top level reads as the data flow, one folder per stage:
//! - `ingest`: the event and its rules, SDK formats, aliases;
//! - `storage`: the SQLite journal, the batcher, the ClickHouse store (embedded chDB or a
//!   server), connection profiles and the embedded engine's library;
//! - `questions`: filters, the dashboard's panels (a registry of tile kinds), funnels;
//! - `delivery`: charts, alerts and their channels, the window's view model.
//!
//! Around them: `http` is the API server (every route, one error enum deciding the status),
//! `engine` wires journal, batcher, store, questions and alerts (and `engine::instance` serves
//! it on an address), `app` is the desktop window's Tauri glue, `cli` the command line with the
//! demo and the bench, and `support` the leaf helpers every stage uses. See docs/ARCHITECTURE.md.

pub mod app;
pub mod cli;
pub mod delivery;
pub mod engine;
pub mod http;
pub mod ingest;
pub mod questions;
pub mod storage;
pub mod support;
