-- The durable state of every entity: one row per (type, id), written with a version check.
CREATE TABLE entity_snapshots (
  entity_type    text        NOT NULL,
  entity_id      text        NOT NULL,
  version        bigint      NOT NULL CHECK (version > 0),
  state          bytea       NOT NULL,
  schema_version integer     NOT NULL,
  wake_at        bigint,     -- Unix ms when the entity has work due (e.g. a reservation expires)
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity_type, entity_id)
);

CREATE INDEX entity_snapshots_wake ON entity_snapshots (entity_type, wake_at)
  WHERE wake_at IS NOT NULL;
