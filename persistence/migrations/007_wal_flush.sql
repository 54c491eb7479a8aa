-- Snapshot writers commit without waiting for the WAL flush (synchronous_commit off on their
-- connection, so a batch's statement never waits on fsync) and are answered only once a later
-- synchronous commit on the flusher's connection returned: that commit flushes the WAL up to
-- itself, every writer commit before it included. The flusher's commit must write something:
-- this one row, bumped each time (a HOT update).
CREATE TABLE wal_flush (
  id integer PRIMARY KEY CHECK (id = 1),
  n  bigint  NOT NULL
);
INSERT INTO wal_flush VALUES (1, 0);

-- Room on each page for the next versions of its rows: an update that changes no indexed column
-- and finds room on its own page is HOT (no index entries). Applies to pages written from now on.
ALTER TABLE entity_snapshots SET (fillfactor = 75);
