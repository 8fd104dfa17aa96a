-- Raw events (the views' reference, and dashboards filtered by a property): the ten features with the most unique users (user_id, else session_id) in the range.
SELECT JSONExtractString(properties, 'feature') AS feature,
       uniq(coalesce(user_id, session_id)) AS users,
       count() AS events
FROM events
WHERE event_name = 'feature_used'
  AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
  AND feature != ''
GROUP BY feature
ORDER BY users DESC, feature ASC
LIMIT 10
