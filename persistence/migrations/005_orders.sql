-- The order index: the read model of order lists and of the fraud rule (an order's IP seen
-- before for its user). Each order's state is its `order` entity's snapshot.
CREATE TABLE orders (
  id         text        PRIMARY KEY,
  user_id    text        NOT NULL,
  status     text        NOT NULL,
  total      bigint      NOT NULL,
  currency   text        NOT NULL,
  ip         text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE INDEX orders_user ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_status ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_user_ip ON orders (user_id, ip);
