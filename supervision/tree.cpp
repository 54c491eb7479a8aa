#include "supervision/tree.hpp"

#include "actors/accounts/accounts.hpp"
#include "actors/catalog/catalog.hpp"
#include "actors/inventory/inventory_region.hpp"
#include "actors/protocol/names.hpp"
#include "actors/session/session_region.hpp"
#include "persistence/postgres/book_store.hpp"
#include "persistence/postgres/health.hpp"
#include "persistence/postgres/snapshot_store.hpp"

#include <caf/all.hpp>

namespace bookstore {

namespace {

template <class Handle>
caf::actor untyped(Handle h) {
  return caf::actor_cast<caf::actor>(std::move(h));
}

std::chrono::milliseconds ms(caf::timespan t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t);
}

accounts_settings accounts_settings_of(const node_config& cfg, caf::actor_system& sys) {
  accounts_settings s;
  s.dsn = cfg.postgres_dsn;
  s.workers = cfg.auth_hash_threads;
  s.bcrypt_cost = static_cast<unsigned>(cfg.auth_bcrypt_cost);
  s.mfa_key = cfg.mfa_key_bytes;
  s.refresh_ttl_ms = ms(cfg.auth_refresh_ttl).count();
  s.deletion_grace_ms = ms(cfg.auth_deletion_grace).count();
  s.purge_interval = cfg.auth_purge_interval;
  s.avatar_dir = cfg.avatars_dir;
  s.bootstrap_email = cfg.auth_bootstrap_admin_email;
  s.bootstrap_password = cfg.auth_bootstrap_admin_password;
  s.sessions = service_ref<session_actor>{sys, names::sessions};
  s.session_timeout = cfg.gateway_request_timeout;
  return s;
}

supervisor_spec branch(const node_config& cfg, std::string label, std::vector<child_spec> kids) {
  return supervisor_spec{std::move(label), cfg.supervision_max_restarts,
                         cfg.supervision_restart_window, std::move(kids)};
}

} // namespace

supervisor_spec node_tree(caf::actor_system& sys, const node_config& cfg) {
  auto* system = &sys;
  std::vector<child_spec> persistence{
    {"snapshots", names::snapshots,
     [&cfg](caf::event_based_actor* parent) {
       return untyped(spawn_snapshot_store(
         parent, snapshot_store_settings{cfg.postgres_dsn, cfg.postgres_writers,
                                         cfg.postgres_readers, 5000, true}));
     }},
    {"books", names::books,
     [&cfg](caf::event_based_actor* parent) {
       return untyped(
         spawn_book_store(parent, book_store_settings{cfg.postgres_dsn, cfg.postgres_readers, true}));
     }},
    {"health", names::health,
     [&cfg](caf::event_based_actor* parent) {
       return untyped(spawn_health_checker(
         parent, health_settings{cfg.postgres_dsn, cfg.redis_host, cfg.redis_port,
                                 ms(cfg.redis_timeout)}));
     }},
  };
  std::vector<child_spec> regions{
    {"inventory", names::inventory,
     [&cfg, system](caf::event_based_actor* parent) {
       entity::runtime_settings rt;
       rt.shards = cfg.inventory_shards;
       rt.passivate_after = cfg.inventory_passivate_after;
       rt.wake_interval = cfg.inventory_wake_interval;
       inventory_item::settings items;
       items.default_ttl_ms = ms(cfg.inventory_reservation_ttl).count();
       items.watcher = service_ref<stock_watch_actor>{*system, names::catalog};
       return untyped(spawn_inventory_region(
         parent, service_ref<snapshot_store_actor>{*system, names::snapshots}, rt, items));
     }},
  };
  regions.push_back(
    {"sessions", names::sessions, [&cfg, system](caf::event_based_actor* parent) {
       entity::runtime_settings rt;
       rt.shards = cfg.inventory_shards;
       rt.passivate_after = cfg.sessions_passivate_after;
       return untyped(spawn_session_region(
         parent, service_ref<snapshot_store_actor>{*system, names::snapshots}, rt, {}));
     }});
  std::vector<child_spec> services{
    {"catalog", names::catalog,
     [&cfg, system](caf::event_based_actor* parent) {
       catalog_settings s;
       s.cache_size = cfg.catalog_cache_size;
       s.timeout = cfg.gateway_request_timeout;
       return untyped(spawn_catalog(parent, service_ref<book_store_actor>{*system, names::books},
                                    service_ref<inventory_actor>{*system, names::inventory}, s));
     }},
    {"accounts", names::accounts,
     [&cfg, system](caf::event_based_actor* parent) {
       return untyped(spawn_accounts(parent, accounts_settings_of(cfg, *system)));
     }},
  };
  auto sub = [&cfg](std::string label, std::vector<child_spec> kids) {
    return child_spec{label, caf::atom(""),
                      [spec = branch(cfg, label, std::move(kids))](caf::event_based_actor* parent) {
                        return spawn_child_supervisor(parent, spec);
                      }};
  };
  return branch(cfg, "root",
                {sub("persistence", std::move(persistence)), sub("regions", std::move(regions)),
                 sub("services", std::move(services))});
}

} // namespace bookstore
