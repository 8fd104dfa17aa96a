//! Schema migrations: `sql/schema/NNN_name.sql`, applied in order, recorded in
//! `schema_migrations`, each statement idempotent so a crash mid-migration is safe to re-run.
//!
//! A materialized view only sees rows inserted after it exists, so each one is preceded by a
//! backfill of its target table from the events already stored. The files write each view's
//! SELECT once, in the view; the backfill is derived from it here, so the two cannot drift apart.

use std::borrow::Cow;

use super::{Store, StoreError};

/// Every migration, in order. `{retention_days}` is the only substitution (a number).
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "001_events",
        include_str!("../../../sql/schema/001_events.sql"),
    ),
    (
        "002_minute_views",
        include_str!("../../../sql/schema/002_minute_views.sql"),
    ),
    (
        "003_compact_uniques",
        include_str!("../../../sql/schema/003_compact_uniques.sql"),
    ),
    (
        "004_quarter_rollups",
        include_str!("../../../sql/schema/004_quarter_rollups.sql"),
    ),
    (
        "005_dimension_rollups",
        include_str!("../../../sql/schema/005_dimension_rollups.sql"),
    ),
    (
        "006_hour_rollups",
        include_str!("../../../sql/schema/006_hour_rollups.sql"),
    ),
    (
        "007_grain_rollups",
        include_str!("../../../sql/schema/007_grain_rollups.sql"),
    ),
    (
        "008_dimension_grains",
        include_str!("../../../sql/schema/008_dimension_grains.sql"),
    ),
];

#[derive(serde::Deserialize)]
struct Applied {
    name: String,
}

/// Applies those of `migrations` not yet recorded, in order; returns the names applied.
pub async fn apply(
    store: &Store,
    retention_days: u32,
    migrations: &[(&'static str, &'static str)],
) -> Result<Vec<&'static str>, StoreError> {
    store
        .execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations \
             (name String, applied_at DateTime DEFAULT now()) \
             ENGINE = MergeTree ORDER BY name",
        )
        .await?;
    let applied: Vec<Applied> = store
        .query("SELECT name FROM schema_migrations", Vec::new())
        .await?;
    let mut newly = Vec::new();
    for (name, sql) in migrations {
        if applied.iter().any(|a| a.name == *name) {
            continue;
        }
        // Said before, not only after: a view's backfill reads every stored event, which
        // takes a minute or more at 100M events.
        tracing::info!(migration = name, "applying a schema migration");
        let sql = sql.replace("{retention_days}", &retention_days.to_string());
        for statement in statements(&sql).into_iter().flat_map(with_backfill) {
            store.execute(&statement).await?;
        }
        store
            .execute(&format!(
                "INSERT INTO schema_migrations (name) VALUES ('{name}')"
            ))
            .await?;
        newly.push(*name);
    }
    Ok(newly)
}

/// Splits a file into statements at lines ending with `;`, dropping comment-only lines.
pub fn statements(sql: &str) -> Vec<&str> {
    sql.split_inclusive(";\n")
        .chain(std::iter::once(""))
        .map(|s| s.trim().trim_end_matches(';').trim())
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim().starts_with("--"))
        })
        .collect()
}

/// The materialized views that exist once every migration ran, in order of creation, each as
/// (view, the table it fills).
pub fn views() -> Vec<(&'static str, &'static str)> {
    let mut views: Vec<(&str, &str)> = Vec::new();
    for statement in MIGRATIONS.iter().flat_map(|(_, sql)| statements(sql)) {
        if let Some(view) = View::parse(statement) {
            views.retain(|(name, _)| *name != view.name);
            views.push((view.name, view.target));
        } else if let Some(dropped) = code(statement).strip_prefix("DROP VIEW IF EXISTS ") {
            views.retain(|(name, _)| *name != dropped.trim());
        }
    }
    views
}

/// The statements to run for one statement of a file: a materialized view comes after the
/// emptying and backfill of its target table, anything else runs as written.
fn with_backfill(statement: &str) -> Vec<Cow<'_, str>> {
    match View::parse(statement) {
        Some(view) => vec![
            format!("TRUNCATE TABLE {}", view.target).into(),
            // The target's deduplication window would drop a backfill block identical to one
            // inserted before a crash; the TRUNCATE already made the re-run start clean.
            format!(
                "INSERT INTO {}\n{}\nSETTINGS insert_deduplicate = 0",
                view.target, view.select
            )
            .into(),
            statement.into(),
        ],
        None => vec![statement.into()],
    }
}

/// `CREATE MATERIALIZED VIEW [IF NOT EXISTS] name TO target AS select`, taken apart.
struct View<'a> {
    name: &'a str,
    target: &'a str,
    select: &'a str,
}

impl<'a> View<'a> {
    fn parse(statement: &'a str) -> Option<Self> {
        let rest = code(statement).strip_prefix("CREATE MATERIALIZED VIEW ")?;
        let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
        let (name, rest) = word(rest)?;
        let (to, rest) = word(rest)?;
        let (target, rest) = word(rest)?;
        let (as_, select) = word(rest)?;
        (to == "TO" && as_ == "AS").then_some(View {
            name,
            target,
            select,
        })
    }
}

/// `statement` from its first keyword on, past the comment lines above it.
fn code(statement: &str) -> &str {
    let mut rest = statement.trim_start();
    while rest.starts_with("--") {
        rest = rest
            .split_once('\n')
            .map_or("", |(_, next)| next)
            .trim_start();
    }
    rest
}

/// The first word of `text` and what follows it, both trimmed.
fn word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace)?;
    Some((&text[..end], text[end..].trim_start()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_statements_and_skips_comments() {
        let sql = "-- a comment\nCREATE TABLE a (x UInt8);\n\n-- only comment;\nINSERT INTO a\nSELECT 1;\n";
        assert_eq!(
            super::statements(sql),
            vec![
                "-- a comment\nCREATE TABLE a (x UInt8)",
                "INSERT INTO a\nSELECT 1",
            ]
        );
    }

    #[test]
    fn migration_names_are_ordered_and_unique() {
        let names: Vec<_> = super::MIGRATIONS.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn a_view_runs_after_emptying_and_backfilling_its_target() {
        let (_, sql) = super::MIGRATIONS[1];
        let statements = super::statements(sql);
        let view = statements
            .iter()
            .find(|s| s.contains("minute_counts_mv"))
            .unwrap();
        let select = "SELECT toStartOfMinute(timestamp) AS minute, event_name, count() AS events\n\
                      FROM events\n\
                      GROUP BY minute, event_name";
        assert_eq!(
            super::with_backfill(view),
            [
                "TRUNCATE TABLE minute_counts".to_string(),
                format!("INSERT INTO minute_counts\n{select}\nSETTINGS insert_deduplicate = 0"),
                format!(
                    "CREATE MATERIALIZED VIEW IF NOT EXISTS minute_counts_mv TO minute_counts AS\n\
                     {select}"
                ),
            ]
        );
    }

    #[test]
    fn other_statements_run_as_written() {
        for statement in [
            "-- a comment\nCREATE TABLE a (x UInt8)",
            "DROP VIEW IF EXISTS minute_uniques_mv",
            "-- no TO table: nothing to backfill\nCREATE MATERIALIZED VIEW v AS SELECT 1",
        ] {
            assert_eq!(super::with_backfill(statement), [statement]);
        }
    }

    #[test]
    fn a_commented_view_without_if_not_exists_is_read() {
        let view =
            super::View::parse("-- why\n-- more\nCREATE MATERIALIZED VIEW v TO t AS\nSELECT 1")
                .unwrap();
        assert_eq!(
            (view.name, view.target, view.select),
            ("v", "t", "SELECT 1")
        );
    }

    #[test]
    fn views_lists_the_materialized_views_left_after_every_migration() {
        assert_eq!(
            super::views(),
            [
                ("count_rollups_mv", "count_rollups"),
                ("session_rollups_mv", "session_rollups"),
                ("feature_rollups_mv", "feature_rollups"),
            ]
        );
    }
}
