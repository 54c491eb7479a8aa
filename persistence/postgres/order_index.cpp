#include "persistence/postgres/order_index.hpp"

#include "actors/common/log.hpp"
#include "persistence/postgres/pg.hpp"

#include <caf/all.hpp>

#include <map>
#include <string>

namespace bookstore {

namespace {

using flush_atom = caf::atom_constant<caf::atom("oiflush")>;

using index_actor = order_index_actor::extend<caf::reacts_to<flush_atom>>;

// New orders, and whether each one's user has an order that went through from its IP.
const std::string insert_body = R"(
input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                       $7::bigint[]) AS t(id, user_id, status, total, currency, ip, created_ms)),
ins AS (
  INSERT INTO orders (id, user_id, status, total, currency, ip, created_at, updated_at)
  SELECT id, user_id, status, total, currency, ip, to_timestamp(created_ms / 1000.0),
         to_timestamp(created_ms / 1000.0)
  FROM input ON CONFLICT (id) DO NOTHING)
SELECT i.id, EXISTS (SELECT 1 FROM orders o
                     WHERE o.user_id = i.user_id AND o.ip = i.ip AND o.id <> i.id
                       AND o.status IN ('confirmed', 'shipped', 'delivered', 'refunded'))
FROM input i)";

const std::string insert_sql = "WITH" + insert_body;

constexpr const char* status_sql = R"(
UPDATE orders o SET status = u.status, updated_at = to_timestamp(u.ms / 1000.0)
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(id, status, ms)
WHERE o.id = u.id AND o.updated_at <= to_timestamp(u.ms / 1000.0))";

// Status changes and new orders of one burst as one statement (one round trip, one commit):
// the update of status_sql over $8..$10 runs as a CTE beside the insert.
const std::string both_sql = R"(
WITH upd AS (
  UPDATE orders o SET status = u.status, updated_at = to_timestamp(u.ms / 1000.0)
  FROM unnest($8::text[], $9::text[], $10::bigint[]) AS u(id, status, ms)
  WHERE o.id = u.id AND o.updated_at <= to_timestamp(u.ms / 1000.0)),)" + insert_body;

constexpr const char* query_sql = R"(
SELECT id, round(extract(epoch FROM created_at) * 1000)::bigint
FROM orders
WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR status = $2)
  AND ($3::bigint = 0 OR (created_at, id) < (to_timestamp($3::bigint / 1000.0), $4))
ORDER BY created_at DESC, id DESC
LIMIT $5)";

void prepare(pqxx::connection& c) {
  c.prepare("order_index_insert", insert_sql);
  c.prepare("order_index_status", status_sql);
  c.prepare("order_index_both", both_sql);
  c.prepare("order_index_query", query_sql);
}

struct index_state {
  std::unique_ptr<pg::lazy_connection> conn;
  std::vector<std::pair<index_order, caf::typed_response_promise<bool>>> inserts;
  std::map<std::string, order_status_changed> updates; ///< the newest per order
  bool flush_scheduled = false;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "order_index";
};

using pointer = index_actor::stateful_pointer<index_state>;

void schedule(pointer self) {
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

void flush(pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  auto inserts = std::move(st.inserts);
  st.inserts.clear();
  auto updates = std::move(st.updates);
  st.updates.clear();
  if (inserts.empty() && updates.empty())
    return;
  try {
    auto known = pg::run(*st.conn, [&](pqxx::connection& c) {
      std::map<std::string, bool> out;
      // One statement, so no BEGIN/COMMIT round trips; it is atomic on its own.
      pqxx::nontransaction tx{c};
      std::vector<std::string> uid, ustatus;
      std::vector<int64_t> uat;
      for (auto& [k, u] : updates) uid.push_back(k), ustatus.push_back(u.status), uat.push_back(u.updated_at);
      if (inserts.empty()) {
        tx.exec_prepared("order_index_status", pg::array_literal(uid), pg::array_literal(ustatus),
                         pg::array_literal(uat));
        return out;
      }
      std::vector<std::string> id, user, status, currency, ip;
      std::vector<int64_t> total, created;
      for (auto& [x, rp] : inserts) {
        id.push_back(x.order_id), user.push_back(x.user_id), status.push_back(x.status);
        currency.push_back(x.currency), ip.push_back(x.ip);
        total.push_back(x.total), created.push_back(x.created_at);
      }
      auto rows = updates.empty()
        ? tx.exec_prepared("order_index_insert", pg::array_literal(id), pg::array_literal(user),
                           pg::array_literal(status), pg::array_literal(total),
                           pg::array_literal(currency), pg::array_literal(ip),
                           pg::array_literal(created))
        : tx.exec_prepared("order_index_both", pg::array_literal(id), pg::array_literal(user),
                           pg::array_literal(status), pg::array_literal(total),
                           pg::array_literal(currency), pg::array_literal(ip),
                           pg::array_literal(created), pg::array_literal(uid),
                           pg::array_literal(ustatus), pg::array_literal(uat));
      for (const auto& row : rows) out[row[0].as<std::string>()] = row[1].as<bool>();
      return out;
    });
    for (auto& [x, rp] : inserts) rp.deliver(known[x.order_id]);
  } catch (const std::exception& e) {
    log::warn(*st.log, "-", "order index write of {} orders failed: {}", inserts.size() + updates.size(),
              e.what());
    auto err = make_error(errc::storage_unavailable, "", "order index unavailable");
    for (auto& [x, rp] : inserts) rp.deliver(err);
    // Status updates are retried with the next burst (an older one never overwrites a newer).
    for (auto& [k, u] : updates) st.updates.emplace(k, u);
    if (!st.updates.empty())
      self->delayed_send(self, std::chrono::seconds(1), flush_atom::value),
        st.flush_scheduled = true;
  }
}

index_actor::behavior_type index_impl(pointer self, std::string dsn) {
  self->state.conn = std::make_unique<pg::lazy_connection>(dsn, prepare);
  self->state.log = log::get("persistence");
  return {
    [self](index_order& x) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->state.inserts.emplace_back(std::move(x), rp);
      schedule(self);
      return rp;
    },
    [self](order_status_changed& u) {
      auto& slot = self->state.updates[u.order_id];
      if (u.updated_at >= slot.updated_at)
        slot = std::move(u);
      schedule(self);
    },
    [self](flush_atom) { flush(self); },
    [self](query_orders& q) -> caf::result<order_refs> {
      try {
        return pg::run(*self->state.conn, [&](pqxx::connection& c) {
          pqxx::nontransaction tx{c};
          auto rows = tx.exec_prepared("order_index_query", q.user_id, q.status, q.before_ms,
                                       q.before_id, q.limit);
          order_refs out;
          for (const auto& row : rows) {
            out.ids.push_back(row[0].as<std::string>());
            out.created.push_back(row[1].as<int64_t>());
          }
          return out;
        });
      } catch (const pg::failure& f) {
        return f.err;
      } catch (const std::exception& e) {
        log::warn(*self->state.log, "-", "order list failed: {}", e.what());
        return make_error(errc::storage_unavailable, "", "database failure");
      }
    },
  };
}

} // namespace

order_index_actor spawn_order_index(caf::event_based_actor* parent, order_index_settings s) {
  auto a = s.detached ? parent->spawn<caf::detached + caf::linked>(index_impl, s.dsn)
                      : parent->spawn<caf::linked>(index_impl, s.dsn);
  return caf::actor_cast<order_index_actor>(a);
}

order_index_actor make_order_index(caf::actor_system& sys, order_index_settings s) {
  auto a = s.detached ? sys.spawn<caf::detached>(index_impl, s.dsn) : sys.spawn(index_impl, s.dsn);
  return caf::actor_cast<order_index_actor>(a);
}

} // namespace bookstore
