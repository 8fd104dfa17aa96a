-- Signups started and completed per hour of the range: whole minutes from count_rollups (its
-- rows for every country and device; filtered, the rows per country and device that `{filter}`
-- keeps), the partial minutes at the range's edges from raw events. Property filters use
-- raw/signup_funnel.sql.
SELECT toUnixTimestamp(hour) AS hour, sum(started) AS started, sum(completed) AS completed
FROM
(
    SELECT toStartOfHour(minute) AS hour,
           sumIf(events, event_name = 'signup_started') AS started,
           sumIf(events, event_name = 'signup_completed') AS completed
    FROM count_rollups
    WHERE event_name IN ('signup_started', 'signup_completed')
      AND by_dims = {by_dims:UInt8}
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
