-- Entities keep their own timers in memory while they have work due (they are not passivated
-- until it is done), so wake_at is read only by the rare lookups that find entities no shard
-- remembers: at a region's start, after a shard failed, and every inventory.wake-interval. An
-- index on it made every update that moved a deadline (nearly every order, payment and
-- reservation step) a non-HOT one, with index writes: about a fifth of PostgreSQL's CPU per order
-- in tests/bench/orders.sh.
DROP INDEX IF EXISTS entity_snapshots_wake;
