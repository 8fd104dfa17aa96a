-- One alert rule's window (start_ms, end_ms] on raw events, narrowed by the rule's filters:
-- every number any metric needs, in one read. Raw events keep the counts exact at the window's
-- edges, which a trailing window of whole seconds never aligns with the minute views.
-- {sessions} is `uniqExact(session_id)` for an active_users rule and `0` otherwise: counting
-- distinct sessions exactly is the costly part of the read, and only that metric needs it.
SELECT count() AS events,
       countIf(event_name = 'error_occurred') AS errors,
       {sessions} AS sessions
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
