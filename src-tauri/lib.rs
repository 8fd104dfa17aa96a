//! Pulseboard: live product analytics on a laptop.
//!
//! The data flow, one module per stage: `http` (routes, status codes) → `event` (validation) →
//! `journal` (durable SQLite) → `batcher` → `store` (ClickHouse: embedded chDB or a server) →
//! `panels` (and `funnels`) → `charts`, and `alerts` judging rules after every flush. `engine`
//! wires journal, batcher, store and panels and knows nothing of
//! HTTP; `instance` is an engine serving its API (and its move to another profile); `profiles`
//! says which store to use (passwords in the OS keychain, held as `secret::Sensitive`); `libchdb`
//! fetches and installs the embedded engine's library; `cli`,
//! `demo` and `bench` drive it; `app` is the desktop window's Tauri glue over `view`.
//! See docs/ARCHITECTURE.md.

pub mod alerts;
pub mod aliases;
pub mod app;
pub mod batcher;
pub mod bench;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod connect;
pub mod datadir;
pub mod demo;
pub mod engine;
pub mod event;
pub mod files;
pub mod filters;
pub mod formats;
pub mod funnels;
pub mod http;
pub mod instance;
pub mod journal;
pub mod libchdb;
pub mod panels;
pub mod profiles;
pub mod secret;
pub mod settings;
pub mod store;
pub mod urls;
pub mod view;
