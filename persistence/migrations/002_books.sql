-- The catalog. Filters match genres and authors case-insensitively through lower_array().
CREATE FUNCTION lower_array(text[]) RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(array_agg(lower(x)), '{}') FROM unnest($1) AS x $$;

CREATE TABLE books (
  id             text        PRIMARY KEY,
  isbn           text        NOT NULL UNIQUE,
  title          text        NOT NULL,
  authors        text[]      NOT NULL,
  genres         text[]      NOT NULL DEFAULT '{}',
  description    text        NOT NULL DEFAULT '',
  price_amount   bigint      NOT NULL CHECK (price_amount >= 0),
  price_currency text        NOT NULL,
  published_year integer,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX books_genres ON books USING gin (lower_array(genres));
CREATE INDEX books_authors ON books USING gin (lower_array(authors));
