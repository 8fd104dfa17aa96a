-- One alert rule's window (start_ms, end_ms] on raw events, narrowed by the rule's filters:
-- every number any metric needs, in one read. Raw events keep the counts exact at the window's
-- edges, which a trailing window of whole seconds never aligns with the minute views.
SELECT count() AS events,
       countIf(event_name = 'error_occurred') AS errors,
       uniqExact(session_id) AS sessions
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
