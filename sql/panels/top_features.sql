-- The ten features with the most unique users (user_id, else session_id) in the range: whole
-- hours from hour_features, the other whole quarter-hours from quarter_features, the other
-- whole minutes from minute_features, the partial minutes at the range's edges from raw events.
SELECT feature, uniqCombinedMerge(14)(u) AS users, sum(n) AS events
FROM
(
    SELECT feature, users AS u, toUInt64(events) AS n
    FROM hour_features
    WHERE hour >= toDateTime({h_from_s:Int64}, 'UTC')
      AND hour < toDateTime({h_to_s:Int64}, 'UTC')
    UNION ALL
    SELECT feature, users AS u, toUInt64(events) AS n
    FROM quarter_features
    WHERE quarter >= toDateTime({q_from_s:Int64}, 'UTC')
      AND quarter < toDateTime({q_to_s:Int64}, 'UTC')
      AND (quarter < toDateTime({h_from_s:Int64}, 'UTC')
           OR quarter >= toDateTime({h_to_s:Int64}, 'UTC'))
    UNION ALL
    SELECT feature, users AS u, toUInt64(events) AS n
    FROM minute_features
    WHERE minute >= toDateTime({full_from_s:Int64}, 'UTC')
      AND minute < toDateTime({full_to_s:Int64}, 'UTC')
      AND (minute < toDateTime({q_from_s:Int64}, 'UTC')
           OR minute >= toDateTime({q_to_s:Int64}, 'UTC'))
    UNION ALL
    SELECT JSONExtractString(properties, 'feature') AS feature,
           uniqCombinedState(14)(coalesce(user_id, session_id)) AS u,
           count() AS n
    FROM events
    WHERE event_name = 'feature_used'
      AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND (timestamp < toDateTime({full_from_s:Int64}, 'UTC')
           OR timestamp >= toDateTime({full_to_s:Int64}, 'UTC'))
      AND feature != ''
    GROUP BY feature
)
GROUP BY feature
ORDER BY users DESC, feature ASC
LIMIT 10
