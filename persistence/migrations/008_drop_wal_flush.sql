-- Snapshot writers now commit synchronously: each commit is visible only once it is on disk, so
-- no reader needs to flush the WAL before it hands on what it read, and nothing writes here.
DROP TABLE wal_flush;
