//! What every built-in panel implements; `kinds/mod.rs` lists them.

use std::future::Future;

use plotters::prelude::DrawingBackend;
use serde::Serialize;

use super::query::Query;
use crate::delivery::charts::{Area, DrawResult, Hover, Mark, Output};
use crate::questions::range::Range;
use crate::storage::store::StoreError;
use crate::support::csv::Csv;

/// What a built-in panel is: a name, a title, its queries, its chart, its CSV.
pub trait Kind: Sized + Clone + PartialEq + Serialize + Send + Sync {
    /// The name in `/api/panels/{name}` and the dashboard's JSON member.
    const NAME: &'static str;
    /// The chart's caption.
    const TITLE: &'static str;

    /// The answer before the store has given one (a server down at start).
    fn empty() -> Self;

    /// Runs its queries for one dashboard.
    fn compute(q: &Query<'_>) -> impl Future<Output = Result<Self, StoreError>> + Send;

    /// Draws the chart over `range` with alert `marks`, collecting hover titles; `out` says
    /// how text from events must be made safe to draw.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        range: Range,
        marks: &[Mark],
        out: Output,
        hovers: &mut Vec<Hover>,
    ) -> DrawResult<DB>;

    /// The rows as a table (`/api/panels/{name}.csv`).
    fn csv(&self) -> Csv;

    /// No event shows in it.
    fn is_empty(&self) -> bool;

    /// The window's one-line summary under the chart, for panels that have one.
    fn summary(&self) -> Option<String> {
        None
    }
}
