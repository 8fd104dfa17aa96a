-- A person's events (DESIGN.md "People"): the actor's own (`user_id = actor`, or no user and
-- `session_id = actor`) in the range and before `before_ms`, newest first. It reads the actor
-- columns of the whole range: a bloom-filter skip index on the actor did not help (a person's
-- events spread over many granules of the name-and-time order; docs/BENCHMARKS.md), a
-- projection by actor is the next lever.
SELECT toString(event_id) AS event_id,
       event_name,
       toUnixTimestamp64Milli(timestamp) AS timestamp_ms,
       session_id,
       user_id,
       device_type,
       country_code,
       properties
FROM events
WHERE coalesce(user_id, session_id) = {actor:String}
  AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND timestamp < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')
ORDER BY timestamp DESC, event_id
LIMIT {limit:UInt32}
