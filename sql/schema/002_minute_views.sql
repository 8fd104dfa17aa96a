-- Pre-aggregation at 1-minute grain: every panel reads these (thousands of rows), not raw
-- events (millions). Each target table carries the deduplication window, so a replayed flush
-- (same insert_deduplication_token) never counts twice here either.
--
-- Order per view: target table, backfill from the raw events already stored, then the
-- materialized view. Each SELECT is written once, in its view: before running a
-- `CREATE MATERIALIZED VIEW … TO target AS SELECT …`, the migration runner (store/migrations.rs)
-- runs `TRUNCATE TABLE target` and `INSERT INTO target SELECT …` with the same SELECT.
-- Migrations run before the batcher starts, so nothing is inserted between the backfill and the
-- view's creation; TRUNCATE makes a re-run after a crash start clean.

-- Events per minute and name: funnel counts, error and total counts.
CREATE TABLE IF NOT EXISTS minute_counts
(
    minute     DateTime('UTC'),
    event_name LowCardinality(String),
    events     UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, event_name)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS minute_counts_mv TO minute_counts AS
SELECT toStartOfMinute(timestamp) AS minute, event_name, count() AS events
FROM events
GROUP BY minute, event_name;

-- Unique sessions and unique users (user_id, else session_id) per minute, as mergeable states.
CREATE TABLE IF NOT EXISTS minute_uniques
(
    minute   DateTime('UTC'),
    sessions AggregateFunction(uniq, String),
    users    AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY minute
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS minute_uniques_mv TO minute_uniques AS
SELECT toStartOfMinute(timestamp) AS minute,
       uniqState(session_id) AS sessions,
       uniqState(coalesce(user_id, session_id)) AS users
FROM events
GROUP BY minute;

-- Feature use per minute: unique users and events per properties.feature.
CREATE TABLE IF NOT EXISTS minute_features
(
    minute  DateTime('UTC'),
    feature String,
    users   AggregateFunction(uniq, String),
    events  SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, feature)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS minute_features_mv TO minute_features AS
SELECT toStartOfMinute(timestamp) AS minute,
       JSONExtractString(properties, 'feature') AS feature,
       uniqState(coalesce(user_id, session_id)) AS users,
       count() AS events
FROM events
WHERE event_name = 'feature_used' AND feature != ''
GROUP BY minute, feature;
