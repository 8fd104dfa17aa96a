-- Country and device as rollup dimensions, for dashboards filtered by them.
--
-- Why separate tables: the unfiltered panels keep reading the rollups without dimensions, so a
-- dashboard nobody filters costs what it did (adding two dimensions to those tables would make
-- every unfiltered sparkline merge one sketch per country and device in each minute instead of
-- one). A filtered dashboard reads these with `country_code` / `device_type` in its WHERE: a
-- session keeps one country and device, so the per-dimension sketches it merges are small.
-- Country and device lead the sorting key, so a country filter reads that country's rows only
-- (24h sparkline filtered by one of 15 countries at 10M events: 87 ms instead of 257 ms).
-- Property filters still read raw events (properties are open-ended).

CREATE TABLE IF NOT EXISTS minute_dim_counts
(
    minute       DateTime('UTC'),
    country_code LowCardinality(String),
    device_type  LowCardinality(String),
    event_name   LowCardinality(String),
    events       UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (country_code, device_type, minute, event_name)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS minute_dim_counts_mv TO minute_dim_counts AS
SELECT toStartOfMinute(timestamp) AS minute, country_code, device_type, event_name,
       count() AS events
FROM events
GROUP BY minute, country_code, device_type, event_name;

CREATE TABLE IF NOT EXISTS minute_dim_sessions
(
    minute       DateTime('UTC'),
    country_code LowCardinality(String),
    device_type  LowCardinality(String),
    sessions     AggregateFunction(uniqCombined(14), String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (country_code, device_type, minute)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS minute_dim_sessions_mv TO minute_dim_sessions AS
SELECT toStartOfMinute(timestamp) AS minute, country_code, device_type,
       uniqCombinedState(14)(session_id) AS sessions
FROM events
GROUP BY minute, country_code, device_type;

CREATE TABLE IF NOT EXISTS minute_dim_features
(
    minute       DateTime('UTC'),
    country_code LowCardinality(String),
    device_type  LowCardinality(String),
    feature      String,
    users        AggregateFunction(uniqCombined(14), String),
    events       SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (country_code, device_type, minute, feature)
TTL minute + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS minute_dim_features_mv TO minute_dim_features AS
SELECT toStartOfMinute(timestamp) AS minute, country_code, device_type,
       JSONExtractString(properties, 'feature') AS feature,
       uniqCombinedState(14)(coalesce(user_id, session_id)) AS users,
       count() AS events
FROM events
WHERE event_name = 'feature_used' AND feature != ''
GROUP BY minute, country_code, device_type, feature;
