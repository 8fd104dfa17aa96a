-- Retention (DESIGN.md "Retention"): each actor (user, else session) whose first start event in
-- the range falls in period `cohort` (Unix seconds / period_s, UTC) counts in its cohort's size
-- (k = 0), and in period k after it (1..periods) when it did a return event then. Its group is
-- the breakdown value on that first start event. retention.rs fills in the actor and breakdown
-- expressions, the return events' condition and the filters' condition.
WITH firsts AS (
    SELECT {actor} AS actor,
           intDiv(toUnixTimestamp(min(timestamp)), {period_s:Int64}) AS cohort,
           argMin({breakdown}, timestamp) AS value
    FROM events
    WHERE event_name = {start_event:String}
      AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND {filter}
    GROUP BY actor
),
returns AS (
    SELECT DISTINCT {actor} AS actor, intDiv(toUnixTimestamp(timestamp), {period_s:Int64}) AS period
    FROM events
    WHERE {returning}
      AND timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND {filter}
      AND {actor} IN (SELECT actor FROM firsts)
)
SELECT value, cohort, 0 AS k, count() AS actors
FROM firsts
GROUP BY value, cohort
UNION ALL
SELECT f.value AS value, f.cohort AS cohort, r.period - f.cohort AS k, count() AS actors
FROM firsts AS f
INNER JOIN returns AS r ON r.actor = f.actor
WHERE r.period - f.cohort BETWEEN 1 AND {periods:Int64}
GROUP BY value, cohort, k
