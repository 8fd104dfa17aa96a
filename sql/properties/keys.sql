-- The top-level property keys of the events in the range that match the filters, most events
-- first: what the filter bar suggests after "prop.".
SELECT key, count() AS events
FROM events
ARRAY JOIN JSONExtractKeys(properties) AS key
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
GROUP BY key
ORDER BY events DESC, key
LIMIT 200
