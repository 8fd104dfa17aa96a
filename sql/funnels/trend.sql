-- A funnel's conversion over time (DESIGN.md "The story over time"): the actors of actors.sql
-- counted in the bucket of their entry (`bucket` = entry time / interval), for all actors
-- (total = 1) and for each of the funnel's largest groups (compute.rs names them). Summed over
-- the buckets, the rows give the funnel's own counts. Buckets nobody entered have no row.
SELECT value,
       grouping(value) AS total,
       intDiv(toUnixTimestamp64Milli(entered), {interval_ms:Int64}) AS bucket,
       sumForEach(arrayMap(k -> toUInt64(level >= k), range(1, {step_count:UInt8} + 1))) AS counts
FROM ({actors})
WHERE level > 0
GROUP BY GROUPING SETS ((value, bucket), (bucket))
HAVING total = 1 OR {grouped}
ORDER BY total DESC, value, bucket
