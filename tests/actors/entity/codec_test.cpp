#define CAF_SUITE codec
#include <caf/test/unit_test.hpp>

#include "actors/entity/codec.hpp"
#include "actors/orders/order_state.hpp"
#include "actors/payments/payment_state.hpp"

using namespace bookstore;

namespace {

order_state busy_order() {
  order_state st;
  st.user_id = "usr_alice";
  st.body_hash = "ab12";
  st.status = "reserved";
  st.step = "pay";
  st.attempt = 2;
  st.items = {order_item_record{"bk_1", "A \"quoted\" title", 2, 1500}};
  st.total = 3000;
  st.currency = "EUR";
  st.name = "Alice";
  st.manual_capture = true;
  st.restock = false; // its default is true: false must survive
  st.history = {order_history_record{"pending", 1}, order_history_record{"reserved", 2}};
  st.created_at = 1;
  return st;
}

/// Every key, as snapshots were written before fields at their default were left out.
std::string full_map(const order_state& st) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, st.msgpack_fields());
  return {buf.data(), buf.size()};
}

void check_same(const order_state& a, const order_state& b) {
  CAF_CHECK_EQUAL(a.user_id, b.user_id);
  CAF_CHECK_EQUAL(a.status, b.status);
  CAF_CHECK_EQUAL(a.step, b.step);
  CAF_CHECK_EQUAL(a.attempt, b.attempt);
  CAF_REQUIRE_EQUAL(a.items.size(), b.items.size());
  CAF_CHECK_EQUAL(a.items[0].title, b.items[0].title);
  CAF_CHECK_EQUAL(a.items[0].quantity, b.items[0].quantity);
  CAF_CHECK_EQUAL(a.total, b.total);
  CAF_CHECK_EQUAL(a.currency, b.currency);
  CAF_CHECK_EQUAL(a.manual_capture, b.manual_capture);
  CAF_CHECK_EQUAL(a.restock, b.restock);
  CAF_CHECK_EQUAL(a.line2, b.line2);
  CAF_CHECK_EQUAL(a.retry_at, b.retry_at);
  CAF_CHECK_EQUAL(a.history.size(), b.history.size());
}

} // namespace

CAF_TEST(a state round-trips with every field that differs from its default) {
  auto st = busy_order();
  auto back = entity::decode<order_state>(entity::encode(st));
  check_same(st, back);
  CAF_CHECK_EQUAL(back.restock, false);
  // And a fresh state reads back as a fresh state.
  auto fresh = entity::decode<order_state>(entity::encode(order_state{}));
  CAF_CHECK_EQUAL(fresh.restock, true);
  CAF_CHECK(fresh.user_id.empty());
}

CAF_TEST(fields at their default are left out and snapshots with every key still read) {
  auto st = busy_order();
  auto sparse = entity::encode(st);
  auto full = full_map(st);
  CAF_CHECK_LESS(sparse.size() + 150, full.size()); // carrier, tracking, decline code, ...
  CAF_CHECK_EQUAL(sparse.find("tracking_number"), std::string::npos);
  check_same(st, entity::decode<order_state>(full));
  payment_state p;
  p.order_id = "ord_1";
  p.status = "processing";
  p.amount = 3000;
  auto back = entity::decode<payment_state>(entity::encode(p));
  CAF_CHECK_EQUAL(back.order_id, "ord_1");
  CAF_CHECK_EQUAL(back.status, "processing");
  CAF_CHECK_EQUAL(back.amount, 3000);
  CAF_CHECK(back.events.empty());
}
