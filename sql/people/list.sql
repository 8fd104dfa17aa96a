-- People (DESIGN.md "People"): every actor (the user, else the session) with an event in the
-- range that matches the filters and whose id starts with the search, newest last event first.
-- The latest country and device are those of the actor's last event (ties by event id, so
-- both come from one event). The actors are those recent.sql found; questions/people.rs fills
-- in the filters' condition.
SELECT coalesce(user_id, session_id) AS actor,
       toUnixTimestamp64Milli(min(timestamp)) AS first_ms,
       toUnixTimestamp64Milli(max(timestamp)) AS last_ms,
       count() AS events,
       uniqExact(session_id) AS sessions,
       argMax((country_code, device_type), (timestamp, event_id)) AS latest
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND coalesce(user_id, session_id) IN {actors:Array(String)}
  AND {filter}
GROUP BY actor
ORDER BY last_ms DESC, actor
LIMIT {limit:UInt32}
