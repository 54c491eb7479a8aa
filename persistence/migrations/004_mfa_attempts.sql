-- Wrong MFA codes are counted per account: after 5 in a row the account takes no code for 15
-- minutes, whatever IP the attempts come from.
ALTER TABLE users
  ADD COLUMN mfa_failures     integer NOT NULL DEFAULT 0,
  ADD COLUMN mfa_locked_until timestamptz;
