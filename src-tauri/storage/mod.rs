//! Where accepted events are kept: the durable SQLite journal (`journal`), the batcher that
//! flushes it (`batcher`), ClickHouse (`store`: embedded chDB or a server), which store to use
//! (`profiles`, passwords in the OS keychain) and where the embedded engine's library comes
//! from (`libchdb`).

pub mod batcher;
pub mod journal;
pub mod libchdb;
pub mod profiles;
pub mod store;
