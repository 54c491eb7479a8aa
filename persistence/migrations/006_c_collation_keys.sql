-- Ids are ASCII keys, not words: compare them bytewise. Under the cluster's C.UTF-8 locale every
-- B-tree step on a text key went through strcoll (PostgreSQL 15 takes its fast path only for
-- "C"), a visible share of each snapshot write and order index insert. For ASCII the order is
-- the same, so cursors and lists do not change; the indexes are rebuilt, the rows are not.
ALTER TABLE entity_snapshots
  ALTER COLUMN entity_type TYPE text COLLATE "C",
  ALTER COLUMN entity_id TYPE text COLLATE "C";

ALTER TABLE orders
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN user_id TYPE text COLLATE "C",
  ALTER COLUMN status TYPE text COLLATE "C",
  ALTER COLUMN ip TYPE text COLLATE "C";
