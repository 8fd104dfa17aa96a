//! Small pieces every stage leans on, none of which knows the others: "now" (`clock`),
//! durations as people write them (`duration`), private files written whole (`files`), the
//! data directory and its lock (`datadir`), secrets that print `<redacted>` (`secret`) and the
//! one rule for URLs we are given (`urls`). Nothing here imports another stage.

pub mod clock;
pub mod csv;
pub mod datadir;
pub mod duration;
pub mod files;
pub mod secret;
pub mod text;
pub mod urls;
