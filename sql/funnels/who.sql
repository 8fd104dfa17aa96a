-- Who reached a funnel's step, or dropped after it (DESIGN.md "People, and who dropped off"):
-- the actors of actors.sql that reached at least step {step} (and, for `dropped`, not the
-- next: {outcome}), in one breakdown group when asked ({grouped}). `total` counts them all,
-- before the limit; the rows are the latest to enter first.
SELECT actor,
       level,
       value,
       toUnixTimestamp64Milli(entered) AS entered_ms,
       count() OVER () AS total
FROM ({actors})
WHERE level >= {step:UInt8}
  AND {outcome}
  AND {grouped}
ORDER BY entered DESC, actor
LIMIT {limit:UInt32}
