-- Snapshot writers commit without waiting for the WAL flush (synchronous_commit off on their
-- connection, so a batch's statement never waits on fsync) and are answered only once a later
-- synchronous commit on the flusher's connection returned: that commit flushes the WAL up to
-- itself, every writer commit before it included. Readers that hand on what they read as durable
-- do the same first. Such a commit must write something: its backend's row here, inserted or
-- bumped (a HOT update), one row per backend so that flushes never wait on each other's lock.
CREATE TABLE wal_flush (
  backend integer PRIMARY KEY,
  n       bigint  NOT NULL
);

-- Room on each page for the next versions of its rows: an update that changes no indexed column
-- and finds room on its own page is HOT (no index entries). Applies to pages written from now on.
ALTER TABLE entity_snapshots SET (fillfactor = 75);
