-- Filtered by country or device: signups started and completed per hour, whole minutes from
-- minute_dim_counts, the partial minutes at the range's edges from raw events.
SELECT toUnixTimestamp(hour) AS hour, sum(started) AS started, sum(completed) AS completed
FROM
(
    SELECT toStartOfHour(minute) AS hour,
           sumIf(events, event_name = 'signup_started') AS started,
           sumIf(events, event_name = 'signup_completed') AS completed
    FROM minute_dim_counts
    WHERE event_name IN ('signup_started', 'signup_completed')
      AND minute >= toDateTime({full_from_s:Int64}, 'UTC')
      AND minute < toDateTime({full_to_s:Int64}, 'UTC')
      AND {filter}
    GROUP BY hour
    UNION ALL
    SELECT toStartOfHour(toDateTime(timestamp, 'UTC')) AS hour,
           countIf(event_name = 'signup_started') AS started,
           countIf(event_name = 'signup_completed') AS completed
    FROM events
    WHERE event_name IN ('signup_started', 'signup_completed')
      AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND (timestamp < toDateTime({full_from_s:Int64}, 'UTC')
           OR timestamp >= toDateTime({full_to_s:Int64}, 'UTC'))
      AND {filter}
    GROUP BY hour
)
GROUP BY hour
ORDER BY hour
