-- The actors last seen most recently (DESIGN.md "People"), among events since {since_ms}: when
-- this finds `limit` of them, no actor last seen before it can rank above them, so the list
-- (list.sql) need only aggregate these few over the whole range. questions/people.rs widens
-- {since_ms} until enough are found or it reaches the range's start.
SELECT coalesce(user_id, session_id) AS actor
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND startsWith(coalesce(user_id, session_id), {search:String})
  AND {filter}
GROUP BY actor
ORDER BY max(timestamp) DESC, actor
LIMIT {limit:UInt32}
