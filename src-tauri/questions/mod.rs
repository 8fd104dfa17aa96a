//! What is asked of the stored events: over a time range (`range`), narrowed by filters
//! (`filters`): the dashboard's built-in panels (`panels`: a registry of kinds) and `funnels`.
//! Each answer is one snapshot of the store (`as_of_flush`).

pub mod filters;
pub mod funnels;
pub mod panels;
pub mod range;
