-- Errors and all events per minute of the range (minutes with events only): whole minutes from
-- count_rollups (its rows for every country and device; filtered, the rows per country and
-- device that `{filter}` keeps), the partial minutes at the range's edges from raw events.
-- Property filters use raw/error_rate.sql.
SELECT toUnixTimestamp(minute) AS minute, sum(errors) AS errors, sum(total) AS total
FROM
(
    SELECT minute,
           sumIf(events, event_name = 'error_occurred') AS errors,
           sum(events) AS total
    FROM count_rollups
    WHERE by_dims = {by_dims:UInt8}
      AND minute >= toDateTime({full_from_s:Int64}, 'UTC')
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
