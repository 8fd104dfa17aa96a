-- Per actor of a funnel (DESIGN.md "Funnels"): the furthest step windowFunnel reaches (default
-- mode: each step at or after the previous, all within the window of a step-1 event), over
-- the events of the range that match the filters; actors with no step-1 event in the range
-- have level 0 and do not enter. Each actor's group is the breakdown value on its earliest
-- step-1 event (ties by value); `entered` is that event's time (a trend's bucket).
-- funnels/compute.rs fills in the actor expression, the step conditions (and step 1's alone),
-- the step names, the breakdown expression and the filters' condition, and puts this query
-- into funnel.sql or trend.sql.
SELECT {actor} AS actor,
       windowFunnel({window_ms:UInt64})(toUInt64(toUnixTimestamp64Milli(timestamp)), {steps}) AS level,
       argMinIf({breakdown}, (timestamp, {breakdown}), {first}) AS value,
       minIf(timestamp, {first}) AS entered
FROM events
WHERE event_name IN ({names})
  AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {filter}
  -- Only actors with a step-1 event in the range can enter: skipping the others' events
  -- before grouping halves the time at 10M events (most actors never start a funnel).
  AND {actor} IN (
      SELECT {actor}
      FROM events
      WHERE event_name = {s0:String}
        AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
        AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
        AND {filter}
        AND {first}
  )
GROUP BY actor
