-- Filtered by country or device: errors and all events per minute (minutes with events only),
-- whole minutes from minute_dim_counts, the partial minutes at the range's edges from raw events.
SELECT toUnixTimestamp(minute) AS minute, sum(errors) AS errors, sum(total) AS total
FROM
(
    SELECT minute,
           sumIf(events, event_name = 'error_occurred') AS errors,
           sum(events) AS total
    FROM minute_dim_counts
    WHERE minute >= toDateTime({full_from_s:Int64}, 'UTC')
      AND minute < toDateTime({full_to_s:Int64}, 'UTC')
      AND {filter}
    GROUP BY minute
    UNION ALL
    SELECT toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute,
           countIf(event_name = 'error_occurred') AS errors,
           count() AS total
    FROM events
    WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND (timestamp < toDateTime({full_from_s:Int64}, 'UTC')
           OR timestamp >= toDateTime({full_to_s:Int64}, 'UTC'))
      AND {filter}
    GROUP BY minute
)
GROUP BY minute
HAVING total > 0
ORDER BY minute
