-- A skip index on the actor (the user, else the session) for a person's timeline
-- (sql/people/events.sql): events are sorted by name and time, so one actor's few events lie
-- in a few granules of each name, which the bloom filter lets ClickHouse skip to. Old parts get
-- it by a mutation in the background; until then they are read in full, answers unchanged.
ALTER TABLE events ADD INDEX IF NOT EXISTS actor_bloom coalesce(user_id, session_id) TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE events MATERIALIZE INDEX actor_bloom;
