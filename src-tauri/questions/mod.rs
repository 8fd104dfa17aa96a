//! What is asked of the stored events: over a time range (`range`), narrowed by filters
//! (`filters`): the dashboard's built-in panels (`panels`: a registry of kinds), `funnels`, and
//! the keys and values the events carry (`properties`, for the filter bar's suggestions), and
//! a user's own read-only SQL (`sql`).
//! Each answer is one snapshot of the store (`as_of_flush`).

pub mod breakdown;
pub mod filters;
pub mod funnels;
pub mod insights;
pub mod layout;
pub mod panels;
pub mod people;
pub mod properties;
pub mod range;
pub mod retention;
pub mod shelf;
pub mod sql;
