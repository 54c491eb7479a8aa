#include "config/node_config.hpp"

#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>
#include <caf/dictionary.hpp>
#include <caf/settings.hpp>

#include <algorithm>
#include <fstream>
#include <thread>

namespace bookstore {

node_config::node_config() {
  // Half the cores for the actor scheduler (CAF's default is at least 4): the gateway's threads,
  // the database workers and, on one machine, PostgreSQL need the rest. On the 2-core machine
  // (tests/bench/orders.sh, two interleaved series of 3 and 4 pairs) 1 thread beat 2: medians
  // 1,417 vs 1,290 and 1,444 vs 1,315 orders/s, p99 119 vs 137 and 149 vs 214 ms, at about the
  // same CPU per order. Files and flags may override.
  set("scheduler.max-threads",
      static_cast<size_t>(std::max(1u, std::thread::hardware_concurrency() / 2)));
  opt_group{custom_options_, "node"}
    .add(node_id, "id", "unique id of this node in the cluster")
    .add(node_mode, "mode", "local (secrets may be generated) or production");
  opt_group{custom_options_, "gateway"}
    .add(gateway_host, "host", "address the HTTP gateway binds")
    .add(gateway_port, "port", "HTTP port (0 = any free port)")
    .add(gateway_port_file, "port-file", "file the bound HTTP port is written to")
    .add(gateway_threads, "threads", "Asio threads of the gateway")
    .add(gateway_idle_timeout, "idle-timeout", "idle keep-alive connections are closed after this")
    .add(gateway_request_timeout, "request-timeout", "deadline of one request");
  opt_group{custom_options_, "postgres"}
    .add(postgres_dsn, "dsn", "PostgreSQL connection URI")
    .add(postgres_writers, "writers", "snapshot writers, each with its own connection")
    .add(postgres_readers, "readers", "snapshot and catalog readers, each with its own connection");
  opt_group{custom_options_, "redis"}
    .add(redis_host, "host", "Redis host")
    .add(redis_port, "port", "Redis port")
    .add(redis_timeout, "timeout", "connect and command timeout")
    .add(redis_prefix, "prefix", "prefix of this deployment's Redis keys and streams");
  opt_group{custom_options_, "inventory"}
    .add(inventory_passivate_after, "passivate-after", "idle inventory items leave memory after")
    .add(inventory_reservation_ttl, "reservation-ttl", "default lifetime of a reservation")
    .add(inventory_wake_interval, "wake-interval",
         "how often the database is searched for entities with work due that no shard remembers")
    .add(inventory_shards, "shards", "number of shards entity ids hash into");
  opt_group{custom_options_, "auth"}
    .add(auth_jwt_secret, "jwt-secret", "HS256 key of access tokens (required outside local mode)")
    .add(auth_mfa_key, "mfa-key", "64 hex characters: AES-256 key of stored TOTP secrets")
    .add(auth_bcrypt_cost, "bcrypt-cost", "bcrypt cost of new password hashes (4..31)")
    .add(auth_hash_threads, "hash-threads", "threads of the accounts service (bcrypt, SQL)")
    .add(auth_access_ttl, "access-ttl", "lifetime of access tokens")
    .add(auth_refresh_ttl, "refresh-ttl", "lifetime of a session without refresh")
    .add(auth_bootstrap_admin_email, "bootstrap-admin-email", "admin created at start if missing")
    .add(auth_bootstrap_admin_password, "bootstrap-admin-password", "its password")
    .add(auth_deletion_grace, "deletion-grace", "time between DELETE /v1/me and the purge")
    .add(auth_purge_interval, "purge-interval", "how often due purges are looked for");
  opt_group{custom_options_, "sessions"}.add(sessions_passivate_after, "passivate-after",
                                             "idle sessions leave memory after");
  opt_group{custom_options_, "rate-limit"}
    .add(rate_limit_requests, "requests", "requests per client IP per window")
    .add(rate_limit_window, "window", "length of a rate-limit window")
    .add(rate_limit_trusted_proxies, "trusted-proxies",
         "comma-separated proxy addresses whose X-Forwarded-For is believed");
  opt_group{custom_options_, "avatars"}
    .add(avatars_dir, "dir", "directory of profile pictures")
    .add(avatars_max_bytes, "max-bytes", "largest picture accepted");
  opt_group{custom_options_, "checkout"}
    .add(checkout_step_timeout, "step-timeout", "a saga step not reported back by then is retried")
    .add(checkout_payment_wait, "payment-wait",
         "how long an order waits for the provider before it answers payment_pending")
    .add(checkout_retry_base, "retry-base", "first backoff of a failed saga step (doubles)")
    .add(checkout_retry_max, "retry-max", "longest backoff of a failed saga step")
    .add(checkout_pending_limit, "pending-limit",
         "an order waiting this long for its payment fails (payment_failed)")
    .add(checkout_review_threshold, "review-threshold",
         "orders over this total (minor units) from a new IP go to manual review")
    .add(checkout_passivate_after, "passivate-after", "idle orders and payments leave memory after");
  opt_group{custom_options_, "payments"}
    .add(payments_provider, "provider", "simulated or stripe")
    .add(payments_call_cap, "call-cap", "longest a provider call may take")
    .add(payments_breaker_failures, "breaker-failures", "failures in a row that open the circuit")
    .add(payments_breaker_cooldown, "breaker-cooldown", "time the circuit stays open")
    .add(payments_latency, "latency", "simulated provider: time of an answer")
    .add(payments_slow_latency, "slow-latency", "simulated provider: time of an answer when slow")
    .add(payments_stripe_base_url, "stripe-base-url", "Stripe's API (or a fake of it)")
    .add(payments_stripe_secret_key, "stripe-secret-key", "Stripe secret key (sk_...)")
    .add(payments_stripe_threads, "stripe-threads", "concurrent calls to Stripe")
    .add(payments_webhook_secret, "webhook-secret", "key of Stripe-Signature on webhooks")
    .add(payments_reconcile_interval, "reconcile-interval", "how often the reconciler runs")
    .add(payments_reconcile_lookback, "reconcile-lookback", "provider payments it looks at")
    .add(payments_reconcile_grace, "reconcile-grace",
         "payments younger than this are left to their checkout");
  opt_group{custom_options_, "faults"}.add(faults_enabled, "enabled",
                                           "allow POST /v1/admin/faults (drills and tests)");
  opt_group{custom_options_, "catalog"}.add(catalog_cache_size, "cache-size",
                                            "books kept in the catalog's memory cache");
  opt_group{custom_options_, "supervision"}
    .add(supervision_max_restarts, "max-restarts", "restarts allowed per child within the window")
    .add(supervision_restart_window, "restart-window", "window of the restart intensity limit");
  opt_group{custom_options_, "log"}.add(log_level, "level",
                                        "trace, debug, info, warn, error or off");
}

std::string node_config::parse_and_check(int argc, char** argv) {
  if (auto err = parse(argc, argv))
    return "bad configuration: " + to_string(err);
  if (cli_helptext_printed)
    return {};
  if (!remainder.empty())
    return "bad configuration: unexpected argument '" + remainder.front() + "'";
  return check();
}

namespace {

std::string check_section(const caf::config_option_set& opts, const std::string& prefix,
                          const caf::settings& section) {
  for (auto& [key, value] : section) {
    auto name = prefix.empty() ? key : prefix + "." + key;
    if (auto* sub = caf::get_if<caf::settings>(&value)) {
      // Sections nest one level: [gateway] port=... arrives as {gateway: {port: ...}}.
      if (auto msg = check_section(opts, name, *sub); !msg.empty())
        return msg;
      continue;
    }
    auto dot = name.rfind('.');
    auto category = dot == std::string::npos ? std::string{"global"} : name.substr(0, dot);
    auto short_name = dot == std::string::npos ? name : name.substr(dot + 1);
    auto* opt = opts.qualified_name_lookup(category, short_name);
    if (opt == nullptr)
      return "bad configuration: unknown key '" + name + "'";
    if (auto err = opt->check(value))
      return "bad configuration: '" + name + "' has an invalid value " + caf::to_string(value)
             + " (expected " + std::string(opt->type_name().begin(), opt->type_name().end())
             + ")";
  }
  return {};
}

} // namespace

std::string node_config::check() const {
  // `content` has already lost mistyped file values, so read the file again, raw.
  if (!config_file_path.empty() && std::ifstream{config_file_path}.good()) {
    auto raw = parse_config_file(config_file_path.c_str());
    if (!raw)
      return "bad configuration: " + config_file_path + ": " + to_string(raw.error());
    if (auto msg = check_section(custom_options_, "", *raw); !msg.empty())
      return msg + " in " + config_file_path;
  }
  if (auto msg = check_section(custom_options_, "", content); !msg.empty())
    return msg;
  auto fail = [](const char* key, const char* why) {
    return std::string{"bad configuration: '"} + key + "' " + why;
  };
  if (node_id.empty() || node_id.size() > 64)
    return fail("node.id", "must be 1..64 characters");
  if (gateway_threads < 1 || gateway_threads > 64)
    return fail("gateway.threads", "must be 1..64");
  if (gateway_request_timeout <= caf::timespan{0})
    return fail("gateway.request-timeout", "must be positive");
  if (gateway_idle_timeout <= caf::timespan{0})
    return fail("gateway.idle-timeout", "must be positive");
  if (postgres_dsn.empty())
    return fail("postgres.dsn", "must not be empty");
  if (postgres_writers < 1 || postgres_writers > 32)
    return fail("postgres.writers", "must be 1..32");
  if (postgres_readers < 1 || postgres_readers > 32)
    return fail("postgres.readers", "must be 1..32");
  if (inventory_shards < 1 || inventory_shards > 65536)
    return fail("inventory.shards", "must be 1..65536");
  if (inventory_passivate_after < std::chrono::seconds(1))
    return fail("inventory.passivate-after", "must be at least 1s");
  if (inventory_reservation_ttl < std::chrono::seconds(1))
    return fail("inventory.reservation-ttl", "must be at least 1s");
  if (inventory_wake_interval < std::chrono::milliseconds(100))
    return fail("inventory.wake-interval", "must be at least 100ms");
  if (supervision_max_restarts < 1)
    return fail("supervision.max-restarts", "must be at least 1");
  if (node_mode != "local" && node_mode != "production")
    return fail("node.mode", "must be local or production");
  if (auth_bcrypt_cost < 4 || auth_bcrypt_cost > 31)
    return fail("auth.bcrypt-cost", "must be 4..31");
  if (auth_hash_threads < 1 || auth_hash_threads > 64)
    return fail("auth.hash-threads", "must be 1..64");
  if (auth_access_ttl < std::chrono::seconds(10))
    return fail("auth.access-ttl", "must be at least 10s");
  if (auth_refresh_ttl < auth_access_ttl)
    return fail("auth.refresh-ttl", "must be at least auth.access-ttl");
  if (auth_purge_interval < std::chrono::milliseconds(100))
    return fail("auth.purge-interval", "must be at least 100ms");
  if (auth_bootstrap_admin_email.empty() != auth_bootstrap_admin_password.empty())
    return fail("auth.bootstrap-admin-password", "and auth.bootstrap-admin-email go together");
  if (!auth_bootstrap_admin_password.empty() && auth_bootstrap_admin_password.size() < 8)
    return fail("auth.bootstrap-admin-password", "must be at least 8 characters");
  if (rate_limit_requests < 1)
    return fail("rate-limit.requests", "must be at least 1");
  if (rate_limit_window < std::chrono::seconds(1))
    return fail("rate-limit.window", "must be at least 1s");
  if (redis_prefix.empty() || redis_prefix.find(':') != std::string::npos)
    return fail("redis.prefix", "must be non-empty and without ':'");
  if (avatars_dir.empty())
    return fail("avatars.dir", "must not be empty");
  if (avatars_max_bytes < 1024 || avatars_max_bytes > 64 * 1024 * 1024)
    return fail("avatars.max-bytes", "must be 1024..67108864");
  if (!auth_mfa_key.empty()
      && (auth_mfa_key.size() != 64
          || auth_mfa_key.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
    return fail("auth.mfa-key", "must be 64 hex characters (32 bytes)");
  if (payments_provider != "simulated" && payments_provider != "stripe")
    return fail("payments.provider", "must be simulated or stripe");
  if (payments_provider == "stripe" && payments_stripe_secret_key.empty())
    return fail("payments.stripe-secret-key", "must be set with payments.provider=stripe");
  if (payments_call_cap < std::chrono::milliseconds(100))
    return fail("payments.call-cap", "must be at least 100ms");
  if (payments_breaker_failures < 1)
    return fail("payments.breaker-failures", "must be at least 1");
  if (payments_stripe_threads < 1 || payments_stripe_threads > 64)
    return fail("payments.stripe-threads", "must be 1..64");
  if (checkout_step_timeout < std::chrono::milliseconds(100))
    return fail("checkout.step-timeout", "must be at least 100ms");
  if (checkout_payment_wait < std::chrono::milliseconds(10))
    return fail("checkout.payment-wait", "must be at least 10ms");
  if (checkout_payment_wait >= gateway_request_timeout)
    return fail("checkout.payment-wait",
                "must be shorter than gateway.request-timeout (else a slow provider is a 504, "
                "not a 202 payment_pending)");
  if (checkout_retry_base < std::chrono::milliseconds(1) || checkout_retry_max < checkout_retry_base)
    return fail("checkout.retry-max", "must be at least checkout.retry-base (>= 1ms)");
  if (payments_reconcile_interval < std::chrono::milliseconds(100))
    return fail("payments.reconcile-interval", "must be at least 100ms");
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(levels), std::end(levels), log_level) == std::end(levels))
    return fail("log.level", "must be one of trace, debug, info, warn, error, off");
  // Secrets last: a typo elsewhere is named first.
  if (!local_mode() && auth_jwt_secret.empty())
    return fail("auth.jwt-secret", "must be set outside local mode (node.mode=local)");
  if (!auth_jwt_secret.empty() && auth_jwt_secret.size() < 32)
    return fail("auth.jwt-secret", "must be at least 32 characters");
  if (!local_mode() && auth_mfa_key.empty())
    return fail("auth.mfa-key", "must be set outside local mode (node.mode=local)");
  return {};
}

} // namespace bookstore
