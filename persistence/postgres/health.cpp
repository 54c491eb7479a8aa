#include "persistence/postgres/health.hpp"

#include "persistence/postgres/pg.hpp"
#include "persistence/redis/redis_client.hpp"

#include <caf/all.hpp>

namespace bookstore {

namespace {

struct health_state {
  std::unique_ptr<pg::lazy_connection> pg;
  std::unique_ptr<redis::client> redis;
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
      return health_report{check_postgres(self->state), check_redis(self->state)};
    },
  };
}

} // namespace

health_actor spawn_health_checker(caf::event_based_actor* parent, health_settings settings) {
  return parent->spawn<caf::detached + caf::linked>(health_impl, std::move(settings));
}

} // namespace bookstore
