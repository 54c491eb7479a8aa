-- Accounts, their login sessions (the index; each session's state is its user_session entity),
-- and the append-only audit log.
CREATE TABLE users (
  id                    text        PRIMARY KEY,
  email                 text        NOT NULL,
  name                  text        NOT NULL,
  password_hash         text        NOT NULL,
  roles                 text[]      NOT NULL DEFAULT '{customer}',
  mfa_secret            bytea,       -- AES-256-GCM: iv | ciphertext | tag, aad = user id
  mfa_enabled           boolean     NOT NULL DEFAULT false,
  mfa_last_step         bigint      NOT NULL DEFAULT 0, -- last accepted TOTP step (no replays)
  avatar_type           text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  deletion_requested_at timestamptz,
  purge_after           timestamptz
);

-- Emails are unique case-insensitively (they are stored lower-case as well).
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_purge ON users (purge_after) WHERE purge_after IS NOT NULL;

CREATE TABLE user_sessions (
  id         text        PRIMARY KEY,
  user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ip         text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE audit_log (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor_id   text,        -- who acted; NULL when unknown or anonymised
  action     text        NOT NULL,
  subject_id text,        -- what it is about (a user, a book, a session)
  ip         text,
  request_id text,
  detail     jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_actor ON audit_log (actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_subject ON audit_log (subject_id) WHERE subject_id IS NOT NULL;

-- Append-only: rows are never deleted, and the only change allowed is the anonymisation of a
-- purged user (personal fields to NULL / '{}'); the action and time stay.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF NEW.id <> OLD.id OR NEW.at <> OLD.at OR NEW.action <> OLD.action
     OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
     OR (NEW.subject_id IS NOT NULL AND NEW.subject_id IS DISTINCT FROM OLD.subject_id)
     OR (NEW.ip IS NOT NULL AND NEW.ip IS DISTINCT FROM OLD.ip)
     OR (NEW.request_id IS DISTINCT FROM OLD.request_id)
     OR (NEW.detail <> '{}'::jsonb AND NEW.detail <> OLD.detail) THEN
    RAISE EXCEPTION 'audit_log rows may only be anonymised';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();
