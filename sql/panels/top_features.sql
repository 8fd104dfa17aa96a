-- The ten features with the most unique users (user_id, else session_id) in the range, from
-- feature_rollups (its rows for every country and device; filtered, the rows per country and
-- device that `{filter}` keeps): whole hours, then the other whole quarter-hours, then the
-- other whole minutes, the partial minutes at the range's edges from raw events. Property
-- filters use raw/top_features.sql.
SELECT feature, uniqCombinedMerge(14)(u) AS users, sum(n) AS events
FROM
(
    SELECT feature, users AS u, toUInt64(events) AS n
    FROM feature_rollups
    WHERE by_dims = {by_dims:UInt8} AND grain = 3600
      AND bucket >= toDateTime({h_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({h_to_s:Int64}, 'UTC')
      AND {filter}
    UNION ALL
    SELECT feature, users AS u, toUInt64(events) AS n
    FROM feature_rollups
    WHERE by_dims = {by_dims:UInt8} AND grain = 900
      AND bucket >= toDateTime({q_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({q_to_s:Int64}, 'UTC')
      AND (bucket < toDateTime({h_from_s:Int64}, 'UTC')
           OR bucket >= toDateTime({h_to_s:Int64}, 'UTC'))
      AND {filter}
    UNION ALL
    SELECT feature, users AS u, toUInt64(events) AS n
    FROM feature_rollups
    WHERE by_dims = {by_dims:UInt8} AND grain = 60
      AND bucket >= toDateTime({full_from_s:Int64}, 'UTC')
      AND bucket < toDateTime({full_to_s:Int64}, 'UTC')
      AND (bucket < toDateTime({q_from_s:Int64}, 'UTC')
           OR bucket >= toDateTime({q_to_s:Int64}, 'UTC'))
      AND {filter}
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
      AND {filter}
    GROUP BY feature
)
GROUP BY feature
ORDER BY users DESC, feature ASC
LIMIT 10
