-- Distinct sessions per bucket of {bucket_s} seconds over the range, from session_rollups'
-- rows for every country and device: whole quarter-hours when buckets are made of quarters
-- (24h), the other whole minutes at 1-minute grain, the partial minutes at the range's edges
-- from raw events.
SELECT toUnixTimestamp(t) AS t, uniqCombinedMerge(14)(s) AS sessions
FROM
(
    SELECT toStartOfInterval(bucket, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM session_rollups
    WHERE by_dims = 0 AND grain = 900
      AND bucket >= toDateTime({series_q_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({series_q_to_s:Int64}, 'UTC')
    UNION ALL
    SELECT toStartOfInterval(bucket, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM session_rollups
    WHERE by_dims = 0 AND grain = 60
      AND bucket >= toDateTime({full_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({full_to_s:Int64}, 'UTC')
      AND (bucket < toDateTime({series_q_from_s:Int64}, 'UTC')
           OR bucket >= toDateTime({series_q_to_s:Int64}, 'UTC'))
    UNION ALL
    SELECT toStartOfInterval(toDateTime(timestamp, 'UTC'), toIntervalSecond({bucket_s:UInt32})) AS t,
           uniqCombinedState(14)(session_id) AS s
    FROM events
    WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND (timestamp < toDateTime({full_from_s:Int64}, 'UTC')
           OR timestamp >= toDateTime({full_to_s:Int64}, 'UTC'))
    GROUP BY t
)
GROUP BY t
ORDER BY t
