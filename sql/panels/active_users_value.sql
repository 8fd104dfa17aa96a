-- Headline: distinct sessions in the last 5 minutes before {end_ms}, exact.
SELECT uniqExact(session_id) AS sessions
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({end_ms:Int64} - 300000, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
