-- Raw events (the views' reference, and dashboards filtered by a property): signups started and completed per hour of the range.
SELECT toUnixTimestamp(toStartOfHour(timestamp)) AS hour,
       countIf(event_name = 'signup_started') AS started,
       countIf(event_name = 'signup_completed') AS completed
FROM events
WHERE event_name IN ('signup_started', 'signup_completed')
  AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
GROUP BY hour
ORDER BY hour
