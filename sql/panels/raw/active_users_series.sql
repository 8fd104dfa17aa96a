-- Raw events (the views' reference, and dashboards filtered by a property): distinct sessions per bucket of {bucket_s} seconds over the range.
SELECT toUnixTimestamp(toStartOfInterval(timestamp, toIntervalSecond({bucket_s:UInt32}))) AS t,
       uniq(session_id) AS sessions
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
GROUP BY t
ORDER BY t
