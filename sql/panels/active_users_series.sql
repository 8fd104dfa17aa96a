-- Distinct sessions per bucket of {bucket_s} seconds over the range: whole quarter-hours from
-- quarter_uniques when buckets are made of quarters (24h), the other whole minutes from
-- minute_uniques, the partial minutes at the range's edges from raw events.
SELECT toUnixTimestamp(t) AS t, uniqCombinedMerge(14)(s) AS sessions
FROM
(
    SELECT toStartOfInterval(quarter, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM quarter_uniques
    WHERE quarter >= toDateTime({series_q_from_s:Int64}, 'UTC')
      AND quarter < toDateTime({series_q_to_s:Int64}, 'UTC')
    UNION ALL
    SELECT toStartOfInterval(minute, toIntervalSecond({bucket_s:UInt32})) AS t, sessions AS s
    FROM minute_uniques
    WHERE minute >= toDateTime({full_from_s:Int64}, 'UTC')
      AND minute < toDateTime({full_to_s:Int64}, 'UTC')
      AND (minute < toDateTime({series_q_from_s:Int64}, 'UTC')
           OR minute >= toDateTime({series_q_to_s:Int64}, 'UTC'))
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
