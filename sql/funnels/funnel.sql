-- A funnel (DESIGN.md "Funnels"): per actor, the furthest step windowFunnel reaches (default
-- mode: each step at or after the previous, all within the window of a step-1 event), over
-- the events of the range that match the filters; actors with no step-1 event in the range
-- have level 0 and do not enter. Each actor's group is the breakdown value on its earliest
-- step-1 event (ties by value). One row for all actors (total = 1), then the 10 largest
-- groups by step-1 count, then by value. counts[k] = actors that reached at least step k.
-- funnels/compute.rs fills in the actor expression, the step conditions (and step 1's alone),
-- the step names, the breakdown expression and the filters' condition.
SELECT value,
       grouping(value) AS total,
       sumForEach(arrayMap(k -> toUInt64(level >= k), range(1, {step_count:UInt8} + 1))) AS counts
FROM
(
    SELECT {actor} AS actor,
           windowFunnel({window_ms:UInt64})(toUInt64(toUnixTimestamp64Milli(timestamp)), {steps}) AS level,
           argMinIf({breakdown}, (timestamp, {breakdown}), {first}) AS value
    FROM events
    WHERE event_name IN ({names})
      AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND {filter}
    GROUP BY actor
)
WHERE level > 0
GROUP BY GROUPING SETS ((value), ())
ORDER BY total DESC, counts[1] DESC, value
LIMIT 11
