#include "supervision/tree.hpp"

#include "actors/accounts/accounts.hpp"
#include "actors/catalog/catalog.hpp"
#include "actors/inventory/inventory_region.hpp"
#include "actors/orders/checkout.hpp"
#include "actors/orders/order_region.hpp"
#include "actors/payments/payment_provider.hpp"
#include "actors/payments/payment_region.hpp"
#include "actors/payments/reconciler.hpp"
#include "actors/protocol/names.hpp"
#include "actors/session/session_region.hpp"
#include "persistence/postgres/book_store.hpp"
#include "persistence/postgres/health.hpp"
#include "persistence/postgres/order_index.hpp"
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
  s.orders = service_ref<order_actor>{sys, names::orders};
  s.session_timeout = cfg.gateway_request_timeout;
  return s;
}

provider_settings provider_settings_of(const node_config& cfg, caf::actor_system& sys) {
  provider_settings s;
  s.kind = cfg.payments_provider;
  s.call_cap = ms(cfg.payments_call_cap);
  s.breaker_failures = static_cast<int64_t>(cfg.payments_breaker_failures);
  s.breaker_cooldown = ms(cfg.payments_breaker_cooldown);
  s.latency = ms(cfg.payments_latency);
  s.slow_latency = ms(cfg.payments_slow_latency);
  s.stripe_base_url = cfg.payments_stripe_base_url;
  s.stripe_secret_key = cfg.payments_stripe_secret_key;
  s.stripe_threads = cfg.payments_stripe_threads;
  s.payments = service_ref<payment_actor>{sys, names::payments};
  return s;
}

checkout_settings checkout_settings_of(const node_config& cfg, caf::actor_system& sys) {
  checkout_settings s;
  s.orders = service_ref<order_actor>{sys, names::orders};
  s.inventory = service_ref<inventory_actor>{sys, names::inventory};
  s.payments = service_ref<payment_actor>{sys, names::payments};
  s.sessions = service_ref<session_actor>{sys, names::sessions};
  s.orders = service_ref<order_actor>{sys, names::orders};
  s.index = service_ref<order_index_actor>{sys, names::order_index};
  s.step_timeout = ms(cfg.checkout_step_timeout);
  s.payment_wait = ms(cfg.checkout_payment_wait);
  s.reservation_ttl_ms = ms(cfg.inventory_reservation_ttl).count();
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
    {"orderindex", names::order_index,
     [&cfg](caf::event_based_actor* parent) {
       return untyped(spawn_order_index(parent, order_index_settings{cfg.postgres_dsn, true}));
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
  regions.push_back(
    {"orders", names::orders, [&cfg, system](caf::event_based_actor* parent) {
       entity::runtime_settings rt;
       rt.shards = cfg.inventory_shards;
       rt.passivate_after = cfg.checkout_passivate_after;
       rt.wake_interval = cfg.inventory_wake_interval;
       order::settings s;
       s.step_timeout_ms = ms(cfg.checkout_step_timeout).count() * 3;
       s.retry_base_ms = ms(cfg.checkout_retry_base).count();
       s.retry_max_ms = ms(cfg.checkout_retry_max).count();
       s.pending_limit_ms = ms(cfg.checkout_pending_limit).count();
       s.review_threshold = static_cast<int64_t>(cfg.checkout_review_threshold);
       s.checkout = service_ref<checkout_actor>{*system, names::checkout};
       return untyped(spawn_order_region(
         parent, service_ref<snapshot_store_actor>{*system, names::snapshots}, rt, s));
     }});
  regions.push_back(
    {"payments", names::payments, [&cfg, system](caf::event_based_actor* parent) {
       entity::runtime_settings rt;
       rt.shards = cfg.inventory_shards;
       rt.passivate_after = cfg.checkout_passivate_after;
       rt.wake_interval = cfg.inventory_wake_interval;
       payment_intent::settings s;
       s.call_cap_ms = ms(cfg.payments_call_cap).count();
       s.provider = service_ref<provider_actor>{*system, names::provider};
       return untyped(spawn_payment_region(
         parent, service_ref<snapshot_store_actor>{*system, names::snapshots}, rt, s));
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
    {"provider", names::provider,
     [&cfg, system](caf::event_based_actor* parent) {
       return untyped(spawn_payment_provider(parent, provider_settings_of(cfg, *system)));
     }},
    {"checkout", names::checkout,
     [&cfg, system](caf::event_based_actor* parent) {
       return untyped(spawn_checkout(parent, checkout_settings_of(cfg, *system)));
     }},
    {"reconciler", names::reconciler,
     [&cfg, system](caf::event_based_actor* parent) {
       reconciler_settings s;
       s.interval = ms(cfg.payments_reconcile_interval);
       s.lookback = ms(cfg.payments_reconcile_lookback);
       s.grace = ms(cfg.payments_reconcile_grace);
       s.provider = service_ref<provider_actor>{*system, names::provider};
       s.orders = service_ref<order_actor>{*system, names::orders};
       s.payments = service_ref<payment_actor>{*system, names::payments};
       s.audit = service_ref<accounts_actor>{*system, names::accounts};
       return spawn_reconciler(parent, s);
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
