-- Raw events (the views' reference, and dashboards filtered by a property): errors and all events per minute of the range.
SELECT toUnixTimestamp(toStartOfMinute(timestamp)) AS minute,
       countIf(event_name = 'error_occurred') AS errors,
       count() AS total
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
GROUP BY minute
ORDER BY minute
