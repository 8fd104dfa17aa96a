-- Filtered by country or device: distinct sessions per bucket of {bucket_s} seconds, whole
-- minutes from session_rollups' rows per country and device, the partial minutes at the
-- range's edges from raw events.
SELECT toUnixTimestamp(t) AS t, uniqCombinedMerge(14)(s) AS sessions
FROM
(
    SELECT toStartOfInterval(bucket, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM session_rollups
    WHERE by_dims = 1 AND grain = 60
      AND bucket >= toDateTime({full_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({full_to_s:Int64}, 'UTC')
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
