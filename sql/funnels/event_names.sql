-- The event names seen in the range (and matching the filters), most frequent first: what a
-- funnel editor offers as steps.
SELECT event_name, count() AS count
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
GROUP BY event_name
ORDER BY count DESC, event_name
LIMIT 1000
