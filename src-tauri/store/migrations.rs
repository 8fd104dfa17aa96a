//! Schema migrations: `sql/schema/NNN_name.sql`, applied in order, recorded in
//! `schema_migrations`, each statement idempotent so a crash mid-migration is safe to re-run.

use super::{Store, StoreError};

/// Every migration, in order. `{retention_days}` is the only substitution (a number).
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "001_events",
        include_str!("../../sql/schema/001_events.sql"),
    ),
    (
        "002_minute_views",
        include_str!("../../sql/schema/002_minute_views.sql"),
    ),
    (
        "003_compact_uniques",
        include_str!("../../sql/schema/003_compact_uniques.sql"),
    ),
    (
        "004_quarter_rollups",
        include_str!("../../sql/schema/004_quarter_rollups.sql"),
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
        let sql = sql.replace("{retention_days}", &retention_days.to_string());
        for statement in statements(&sql) {
            store.execute(statement).await?;
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
}
