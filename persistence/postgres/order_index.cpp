#include "persistence/postgres/order_index.hpp"

#include "actors/common/log.hpp"
#include "persistence/postgres/pg.hpp"

#include <caf/all.hpp>

#include <string>

namespace bookstore {

namespace {

using flush_atom = caf::atom_constant<caf::atom("oiflush")>;

using index_actor = order_index_actor::extend<caf::reacts_to<flush_atom>>;

// Per question: whether the user has another order from that IP that went through.
constexpr const char* known_sql = R"(
SELECT EXISTS (SELECT 1 FROM orders o
               WHERE o.user_id = q.user_id AND o.ip = q.ip AND o.id <> q.order_id
                 AND o.status IN ('confirmed', 'shipped', 'delivered', 'refunded'))
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q(user_id, ip, order_id, n)
ORDER BY q.n)";

constexpr const char* query_sql = R"(
SELECT id, round(extract(epoch FROM created_at) * 1000)::bigint
FROM orders
WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR status = $2)
  AND ($3::bigint = 0 OR (created_at, id) < (to_timestamp($3::bigint / 1000.0), $4))
ORDER BY created_at DESC, id DESC
LIMIT $5)";

void prepare(pqxx::connection& c) {
  c.prepare("order_index_known", known_sql);
  c.prepare("order_index_query", query_sql);
}

struct index_state {
  std::unique_ptr<pg::lazy_connection> conn;
  std::vector<std::pair<check_ip, caf::typed_response_promise<bool>>> questions;
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

/// Answers every IP question that queued up with one statement.
void flush(pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  auto questions = std::move(st.questions);
  st.questions.clear();
  if (questions.empty())
    return;
  try {
    auto known = pg::run(*st.conn, [&](pqxx::connection& c) {
      std::vector<std::string> users, ips, ids;
      for (auto& [q, rp] : questions)
        users.push_back(q.user_id), ips.push_back(q.ip), ids.push_back(q.order_id);
      // The rows come from snapshot writers' commits, each visible only once on disk: an IP
      // found known is known durably.
      std::vector<bool> out;
      pqxx::nontransaction tx{c};
      for (const auto& row : tx.exec_prepared("order_index_known", pg::array_literal(users),
                                              pg::array_literal(ips), pg::array_literal(ids)))
        out.push_back(row[0].as<bool>());
      return out;
    });
    for (size_t i = 0; i < questions.size(); ++i)
      questions[i].second.deliver(i < known.size() && known[i]);
  } catch (const std::exception& e) {
    log::warn(*st.log, "-", "order index lookup of {} IPs failed: {}", questions.size(), e.what());
    auto err = make_error(errc::storage_unavailable, "", "order index unavailable");
    for (auto& [q, rp] : questions) rp.deliver(err);
  }
}

index_actor::behavior_type index_impl(pointer self, std::string dsn) {
  self->state.conn = std::make_unique<pg::lazy_connection>(dsn, prepare);
  self->state.log = log::get("persistence");
  return {
    [self](check_ip& q) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->state.questions.emplace_back(std::move(q), rp);
      schedule(self);
      return rp;
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
