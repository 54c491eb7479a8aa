-- The naive baseline of one order (one book): everything an order makes durable, in one
-- transaction per order: the order, its stock decrement, its payment, its event.
\set uid random(1, 1000000)
\set sku random(1, 100000)
BEGIN;
INSERT INTO orders(user_id, total, status, items) VALUES (:uid, 38.99, 'confirmed', jsonb_build_array(jsonb_build_object('sku', :sku, 'qty', 1, 'price', '38.99', 'name', 'The Empire of Samarkand'))) RETURNING id \gset
UPDATE inventory SET stock = stock - 1, updated_at = now() WHERE sku_id = :sku;
INSERT INTO payments(order_id, amount, status, provider_ref) VALUES (:id, 38.99, 'succeeded', 'sim_' || :id);
INSERT INTO outbox(aggregate_id, event_type, payload) VALUES (:id, 'order.confirmed', jsonb_build_object('order_id', :id, 'user_id', :uid, 'total', '38.99'));
END;
