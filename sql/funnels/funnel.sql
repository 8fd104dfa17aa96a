-- A funnel's counts over the actors of actors.sql: one row for all actors (total = 1), then
-- the 10 largest groups by step-1 count, then by value. counts[k] = actors that reached at
-- least step k.
SELECT value,
       grouping(value) AS total,
       sumForEach(arrayMap(k -> toUInt64(level >= k), range(1, {step_count:UInt8} + 1))) AS counts
FROM ({actors})
WHERE level > 0
GROUP BY GROUPING SETS ((value), ())
ORDER BY total DESC, counts[1] DESC, value
LIMIT 11
