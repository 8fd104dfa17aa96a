-- Raw events, one row per accepted event. Panels read the pre-aggregated views; the raw rows
-- stay for ad-hoc queries. The deduplication window makes a replayed flush (same
-- insert_deduplication_token) a no-op on a non-replicated table.
CREATE TABLE IF NOT EXISTS events
(
    event_id     UUID,
    event_name   LowCardinality(String),
    timestamp    DateTime64(3, 'UTC'),
    date         Date MATERIALIZED toDate(timestamp),
    session_id   String,
    user_id      Nullable(String),
    device_type  LowCardinality(String),
    country_code LowCardinality(String),
    properties   String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (event_name, timestamp)
TTL date + INTERVAL {retention_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;
