-- Distinct sessions per bucket of {bucket_s} seconds over the range, from session_rollups (its
-- rows for every country and device; filtered, the rows per country and device that `{filter}`
-- keeps): whole quarter-hours when buckets are made of quarters (24h), the other whole minutes
-- at 1-minute grain, the partial minutes at the range's edges from raw events. Property
-- filters use raw/active_users_series.sql.
SELECT toUnixTimestamp(t) AS t, uniqCombinedMerge(14)(s) AS sessions
FROM
(
    SELECT toStartOfInterval(bucket, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM session_rollups
    WHERE by_dims = {by_dims:UInt8} AND grain = 900
      AND bucket >= toDateTime({series_q_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({series_q_to_s:Int64}, 'UTC')
      AND {filter}
    UNION ALL
    SELECT toStartOfInterval(bucket, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM session_rollups
    WHERE by_dims = {by_dims:UInt8} AND grain = 60
      AND bucket >= toDateTime({full_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({full_to_s:Int64}, 'UTC')
      AND (bucket < toDateTime({series_q_from_s:Int64}, 'UTC')
           OR bucket >= toDateTime({series_q_to_s:Int64}, 'UTC'))
      AND {filter}
    UNION ALL
    SELECT toStartOfInterval(toDateTime(timestamp, 'UTC'), toIntervalSecond({bucket_s:UInt32})) AS t,
           uniqCombinedState(14)(session_id) AS s
    FROM events
    WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND (timestamp < toDateTime({full_from_s:Int64}, 'UTC')
           OR timestamp >= toDateTime({full_to_s:Int64}, 'UTC'))
      AND {filter}
    GROUP BY t
)
GROUP BY t
ORDER BY t
