-- Three rollup tables instead of nine: each holds every grain it is read at, one view each.
--
-- Why: every materialized view costs each flush a fixed few milliseconds in chDB (planning its
-- SELECT, writing one more part) on top of its per-row work. With the nine views of 002–006 a
-- 100-row insert took ~60 ms against ~6 ms with none, and ingest fell 30 % when 005 and 006
-- added four. Measured in one chDB process, the same 1M rows inserted into each schema in turn
-- (20,000-row inserts, two runs): nine views 169–236K rows/s; the six left after dropping the
-- minute tables without dimensions 221–323K; these three 296–382K (100,000-row inserts: 395K,
-- 495K, 618K). A view that writes one row per grain (ARRAY JOIN) pays the fixed cost once.
--
-- Rows: `by_dims` 1 is one country and device at 1-minute grain (filtered dashboards);
-- `by_dims` 0 is every country and device together (country_code and device_type empty), at
-- 1 minute and, for the long ranges, 15 minutes (sessions, features) and 1 hour (features). A
-- flag rather than an empty country: an event's country may itself be empty. Sessions and
-- feature users stay uniqCombined(14) sketches (< 2 % per bucket, measured in 003).
--
-- Granules of 256 rows for the sketch tables: a sketch is up to ~12 KB, and ClickHouse reads
-- whole granules, so with the default 8,192 rows (capped at 10 MB) reading the 96 quarter-hour
-- rows of a day dragged in hundreds of neighbouring minute sketches. At 10M events, merged:
-- 24h sparkline 56 → 32 ms, top features 64 → 43 ms (the nine tables before: 45 and 54 ms).

CREATE TABLE IF NOT EXISTS count_rollups
(
    by_dims      UInt8,
    minute       DateTime('UTC'),
    country_code LowCardinality(String),
    device_type  LowCardinality(String),
    event_name   LowCardinality(String),
    events       UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (by_dims, country_code, device_type, minute, event_name)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS count_rollups_mv TO count_rollups AS
SELECT g.1 AS by_dims, minute, g.2 AS country_code, g.3 AS device_type, event_name,
       count() AS events
FROM
(
    SELECT toDateTime(toStartOfMinute(timestamp)) AS minute, event_name,
           [(1, country_code, device_type), (0, '', '')] AS gs
    FROM events
)
ARRAY JOIN gs AS g
GROUP BY by_dims, minute, country_code, device_type, event_name;

CREATE TABLE IF NOT EXISTS session_rollups
(
    by_dims      UInt8,
    grain        UInt16,
    bucket       DateTime('UTC'),
    country_code LowCardinality(String),
    device_type  LowCardinality(String),
    sessions     AggregateFunction(uniqCombined(14), String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (by_dims, grain, country_code, device_type, bucket)
TTL bucket + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS session_rollups_mv TO session_rollups AS
SELECT g.1 AS by_dims, g.2 AS grain, g.3 AS bucket, g.4 AS country_code, g.5 AS device_type,
       uniqCombinedState(14)(session_id) AS sessions
FROM
(
    SELECT session_id,
           [(1, 60, toDateTime(toStartOfMinute(timestamp)), country_code, device_type),
            (0, 60, toDateTime(toStartOfMinute(timestamp)), '', ''),
            (0, 900, toDateTime(toStartOfFifteenMinutes(timestamp)), '', '')] AS gs
    FROM events
)
ARRAY JOIN gs AS g
GROUP BY by_dims, grain, bucket, country_code, device_type;

CREATE TABLE IF NOT EXISTS feature_rollups
(
    by_dims      UInt8,
    grain        UInt16,
    bucket       DateTime('UTC'),
    country_code LowCardinality(String),
    device_type  LowCardinality(String),
    feature      String,
    users        AggregateFunction(uniqCombined(14), String),
    events       SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (by_dims, grain, country_code, device_type, bucket, feature)
TTL bucket + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS feature_rollups_mv TO feature_rollups AS
SELECT g.1 AS by_dims, g.2 AS grain, g.3 AS bucket, g.4 AS country_code, g.5 AS device_type,
       feature, uniqCombinedState(14)(actor) AS users, count() AS events
FROM
(
    SELECT JSONExtractString(properties, 'feature') AS feature,
           coalesce(user_id, session_id) AS actor,
           [(1, 60, toDateTime(toStartOfMinute(timestamp)), country_code, device_type),
            (0, 60, toDateTime(toStartOfMinute(timestamp)), '', ''),
            (0, 900, toDateTime(toStartOfFifteenMinutes(timestamp)), '', ''),
            (0, 3600, toDateTime(toStartOfHour(timestamp)), '', '')] AS gs
    FROM events
    WHERE event_name = 'feature_used' AND feature != ''
)
ARRAY JOIN gs AS g
GROUP BY by_dims, grain, bucket, country_code, device_type, feature;

-- The tables of 002–006 and their views: what they held is in the three above.
DROP VIEW IF EXISTS minute_counts_mv;
DROP TABLE IF EXISTS minute_counts;
DROP VIEW IF EXISTS minute_uniques_mv;
DROP TABLE IF EXISTS minute_uniques;
DROP VIEW IF EXISTS minute_features_mv;
DROP TABLE IF EXISTS minute_features;
DROP VIEW IF EXISTS quarter_uniques_mv;
DROP TABLE IF EXISTS quarter_uniques;
DROP VIEW IF EXISTS quarter_features_mv;
DROP TABLE IF EXISTS quarter_features;
DROP VIEW IF EXISTS hour_features_mv;
DROP TABLE IF EXISTS hour_features;
DROP VIEW IF EXISTS minute_dim_counts_mv;
DROP TABLE IF EXISTS minute_dim_counts;
DROP VIEW IF EXISTS minute_dim_sessions_mv;
DROP TABLE IF EXISTS minute_dim_sessions;
DROP VIEW IF EXISTS minute_dim_features_mv;
DROP TABLE IF EXISTS minute_dim_features;
