-- Quarter-hour rollups of the unique-count states, for the long ranges.
--
-- Why: merging sketches costs per state. At 100M events the 24h top-features panel merged
-- 1,440 per-minute states per feature (~490 ms) and the 24h sparkline 1,440 session states
-- (~270 ms). A 15-minute state covers the same events with 15x fewer merges; panels read whole
-- quarters here, whole minutes at the range's edges from the minute tables, and the partial
-- minutes from raw events. Same engine, sketch and deduplication window as the minute tables.

CREATE TABLE IF NOT EXISTS quarter_uniques
(
    quarter  DateTime('UTC'),
    sessions AggregateFunction(uniqCombined(14), String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(quarter)
ORDER BY quarter
TTL quarter + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS quarter_uniques_mv TO quarter_uniques AS
SELECT toStartOfFifteenMinutes(timestamp) AS quarter,
       uniqCombinedState(14)(session_id) AS sessions
FROM events
GROUP BY quarter;

CREATE TABLE IF NOT EXISTS quarter_features
(
    quarter DateTime('UTC'),
    feature String,
    users   AggregateFunction(uniqCombined(14), String),
    events  SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(quarter)
ORDER BY (quarter, feature)
TTL quarter + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS quarter_features_mv TO quarter_features AS
SELECT toStartOfFifteenMinutes(timestamp) AS quarter,
       JSONExtractString(properties, 'feature') AS feature,
       uniqCombinedState(14)(coalesce(user_id, session_id)) AS users,
       count() AS events
FROM events
WHERE event_name = 'feature_used' AND feature != ''
GROUP BY quarter, feature;
