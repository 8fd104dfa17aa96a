-- An insight over raw events: `{measure}` of the events in the window `(start_ms, end_ms]`
-- that `{keep}` keeps (its events, its `where`, the filters, a number where the measure reads
-- a property), per `{group}` (the breakdown's value, '' without one) and `{bucket}` (the
-- interval's index, 0 for the whole range). `{limit}`: the largest groups first, or the
-- buckets of the groups chosen.
SELECT {group} AS value, {bucket} AS bucket, toFloat64({measure}) AS m
FROM events
WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND {keep}
GROUP BY value, bucket
{limit}
