#pragma once

// The node's configuration: CAF's own config system (file + `--section.key=value`) with our
// options. CAF 0.17 silently ignores unknown keys and mistyped values in a file; `check()` does
// not, so a typo stops the node with one line instead of running on a default.

#include <caf/actor_system_config.hpp>

#include <cstdint>
#include <string>

namespace bookstore {

struct node_config : caf::actor_system_config {
  // [node]
  std::string node_id = "node-1";
  std::string node_mode = "production"; ///< "local" allows generated secrets
  // [gateway]
  std::string gateway_host = "127.0.0.1";
  uint16_t gateway_port = 8080;
  std::string gateway_port_file;
  size_t gateway_threads = 2;
  caf::timespan gateway_idle_timeout = std::chrono::seconds(60);
  caf::timespan gateway_request_timeout = std::chrono::seconds(5);
  // [postgres]
  std::string postgres_dsn = "postgresql://bookstore@127.0.0.1:5432/bookstore";
  size_t postgres_writers = 1;
  size_t postgres_readers = 2;
  // [redis]
  std::string redis_host = "127.0.0.1";
  uint16_t redis_port = 6379;
  caf::timespan redis_timeout = std::chrono::milliseconds(500);
  std::string redis_prefix = "bookstore"; ///< of every key and stream this deployment uses
  // [inventory]
  caf::timespan inventory_passivate_after = std::chrono::minutes(5);
  caf::timespan inventory_reservation_ttl = std::chrono::minutes(15);
  caf::timespan inventory_wake_interval = std::chrono::minutes(5);
  size_t inventory_shards = 1024;
  // [auth]
  std::string auth_jwt_secret;
  std::string auth_mfa_key; ///< 64 hex characters (AES-256)
  std::string mfa_key_bytes; ///< not an option: auth.mfa-key decoded by the node at start
  size_t auth_bcrypt_cost = 12;
  size_t auth_hash_threads = 2;
  caf::timespan auth_access_ttl = std::chrono::minutes(15);
  caf::timespan auth_refresh_ttl = std::chrono::hours(24 * 30);
  std::string auth_bootstrap_admin_email;
  std::string auth_bootstrap_admin_password;
  caf::timespan auth_deletion_grace = std::chrono::hours(24 * 30);
  caf::timespan auth_purge_interval = std::chrono::hours(1);
  // [sessions]
  caf::timespan sessions_passivate_after = std::chrono::minutes(5);
  // [rate-limit]
  size_t rate_limit_requests = 2000;
  caf::timespan rate_limit_window = std::chrono::minutes(5);
  std::string rate_limit_trusted_proxies; ///< comma-separated IP addresses
  // [avatars]
  std::string avatars_dir = "var/avatars";
  size_t avatars_max_bytes = 2 * 1024 * 1024;
  // [checkout]
  caf::timespan checkout_step_timeout = std::chrono::seconds(10);
  caf::timespan checkout_payment_wait = std::chrono::seconds(3);
  caf::timespan checkout_retry_base = std::chrono::milliseconds(500);
  caf::timespan checkout_retry_max = std::chrono::seconds(60);
  caf::timespan checkout_pending_limit = std::chrono::hours(1);
  size_t checkout_review_threshold = 50000; ///< minor units of the order's currency
  caf::timespan checkout_passivate_after = std::chrono::minutes(5);
  // [payments]
  std::string payments_provider = "simulated";
  caf::timespan payments_call_cap = std::chrono::seconds(30);
  size_t payments_breaker_failures = 5;
  caf::timespan payments_breaker_cooldown = std::chrono::seconds(10);
  caf::timespan payments_latency = std::chrono::milliseconds(0);
  caf::timespan payments_slow_latency = std::chrono::seconds(10);
  std::string payments_stripe_base_url = "https://api.stripe.com";
  std::string payments_stripe_secret_key;
  size_t payments_stripe_threads = 4;
  std::string payments_webhook_secret;
  caf::timespan payments_reconcile_interval = std::chrono::minutes(5);
  caf::timespan payments_reconcile_lookback = std::chrono::hours(24);
  caf::timespan payments_reconcile_grace = std::chrono::minutes(10);
  // [faults]
  bool faults_enabled = false;
  // [catalog]
  size_t catalog_cache_size = 200000;
  // [supervision]
  size_t supervision_max_restarts = 5;
  caf::timespan supervision_restart_window = std::chrono::seconds(10);
  // [log]
  std::string log_level = "info";

  node_config();

  /// Parses the command line and the config file it names, then checks every key and value.
  /// Returns an empty string on success, else one line that names the bad key.
  std::string parse_and_check(int argc, char** argv);

  /// Checks what `parse` left in `content`: unknown keys, mistyped values, bad ranges.
  std::string check() const;

  bool local_mode() const { return node_mode == "local"; }
};

} // namespace bookstore
