-- An insight counting events, from count_rollups where it can: whole minutes from the rollups
-- (per country and device when `{by_dims}` is 1: a country or device breakdown or filter),
-- the partial minutes at the window's edges from raw events; then as raw.sql. Minutes fall
-- whole into a bucket: every interval is a multiple of a minute.
SELECT value, bucket, toFloat64(sum(n)) AS m
FROM
(
    SELECT {group} AS value, {rollup_bucket} AS bucket, sum(events) AS n
    FROM count_rollups
    WHERE by_dims = {by_dims:UInt8}
      AND minute >= toDateTime({full_from_s:Int64}, 'UTC')
      AND minute < toDateTime({full_to_s:Int64}, 'UTC')
      AND {keep}
    GROUP BY value, bucket
    UNION ALL
    SELECT {group} AS value, {bucket} AS bucket, count() AS n
    FROM events
    WHERE timestamp > fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
      AND timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
      AND (timestamp < toDateTime({full_from_s:Int64}, 'UTC')
           OR timestamp >= toDateTime({full_to_s:Int64}, 'UTC'))
      AND {keep}
    GROUP BY value, bucket
)
GROUP BY value, bucket
{limit}
