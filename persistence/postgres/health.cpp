#include "persistence/postgres/health.hpp"

#include "persistence/postgres/pg.hpp"
#include "persistence/redis/redis_client.hpp"

#include <caf/all.hpp>

namespace bookstore {

namespace {

/// Probes that queued up while one was running (a dependency hanging up to its timeout) get the
/// result of that one instead of each running again.
constexpr auto reuse_result_for = std::chrono::seconds(1);

struct health_state {
  std::unique_ptr<pg::lazy_connection> pg;
  std::unique_ptr<redis::client> redis;
  health_report last;
  std::chrono::steady_clock::time_point last_at{};
  static inline const char* name = "health";
};

std::string check_postgres(health_state& st) {
  try {
    pg::run(*st.pg, [](pqxx::connection& c) {
      pqxx::nontransaction tx{c};
      tx.exec("SELECT 1");
      return 0;
    });
    return {};
  } catch (const std::exception&) {
    return "unreachable";
  }
}

std::string check_redis(health_state& st) {
  try {
    auto r = st.redis->command({"PING"});
    if (r.is_error())
      return "error";
    return {};
  } catch (const redis::io_error&) {
    return "unreachable";
  }
}

health_actor::behavior_type health_impl(health_actor::stateful_pointer<health_state> self,
                                        health_settings s) {
  self->state.pg = std::make_unique<pg::lazy_connection>(s.dsn, nullptr,
                                                         std::chrono::milliseconds(0));
  self->state.redis = std::make_unique<redis::client>(s.redis_host, s.redis_port, s.redis_timeout);
  return {
    [self](probe_health) {
      auto& st = self->state;
      auto now = std::chrono::steady_clock::now();
      if (now - st.last_at < reuse_result_for)
        return st.last;
      st.last = health_report{check_postgres(st), check_redis(st)};
      st.last_at = std::chrono::steady_clock::now();
      return st.last;
    },
  };
}

} // namespace

health_actor spawn_health_checker(caf::event_based_actor* parent, health_settings settings) {
  return parent->spawn<caf::detached + caf::linked>(health_impl, std::move(settings));
}

} // namespace bookstore
