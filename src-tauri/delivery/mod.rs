//! How answers reach people: charts (`charts`: SVG and PNG), alert rules and their channels
//! (`alerts`), every request's outcome as it lands (`live`), and the window's view model (`view`), what it remembers (`settings`) and the SDK
//! snippets of "Connect your product" (`connect`). The Tauri glue is `crate::app`.

pub mod alerts;
pub mod annotations;
pub mod charts;
pub mod connect;
pub mod live;
pub mod settings;
pub mod view;
