-- The values one dimension takes on the events in the range that match the filters, in their
-- exact case, most events first; `search` keeps those starting with it, whatever the case.
-- properties.rs fills in the dimension's expression (a property as the filters read it).
SELECT value, count() AS events
FROM
(
    SELECT {value} AS value
    FROM events
    WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND {filter}
)
WHERE value != '' AND startsWith(lowerUTF8(value), lowerUTF8({search:String}))
GROUP BY value
ORDER BY events DESC, value
LIMIT 50
