-- Tables of the naive order baseline (tests/bench/order_pgbench.sql); 100,000 stocked SKUs.
DROP TABLE IF EXISTS orders, inventory, payments, outbox;
CREATE TABLE orders(
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL,
  total numeric(12,2) NOT NULL,
  status text NOT NULL,
  items jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_user_idx ON orders(user_id);
CREATE TABLE inventory(
  sku_id int PRIMARY KEY,
  stock bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO inventory(sku_id, stock) SELECT g, 1000000000 FROM generate_series(1,100000) g;
CREATE TABLE payments(
  id bigserial PRIMARY KEY,
  order_id bigint NOT NULL,
  amount numeric(12,2) NOT NULL,
  status text NOT NULL,
  provider_ref text NOT NULL);
CREATE TABLE outbox(
  id bigserial PRIMARY KEY,
  aggregate_id bigint NOT NULL,
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
VACUUM ANALYZE;
