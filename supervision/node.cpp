#include "supervision/node.hpp"

#include "actors/common/crypto.hpp"
#include "actors/common/log.hpp"
#include "actors/protocol/accounts.hpp"
#include "actors/protocol/names.hpp"
#include "gateway/auth/gate.hpp"
#include "gateway/caf_backend.hpp"
#include "gateway/http_api.hpp"
#include "gateway/server.hpp"
#include "persistence/postgres/migrations.hpp"
#include "supervision/tree.hpp"

#include <caf/all.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

namespace bookstore {

namespace {

using stop_atom = caf::atom_constant<caf::atom("stop")>;

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

/// Migrations, waiting up to 30 s for PostgreSQL to come up.
std::string migrate(const node_config& cfg, spdlog::logger& lg) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto err = pg::apply_migrations(cfg.postgres_dsn, pg::embedded_migrations());
    if (err.empty() || err.rfind("cannot reach", 0) != 0
        || std::chrono::steady_clock::now() > give_up)
      return err;
    log::warn(lg, "-", "waiting for PostgreSQL: {}", err);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

http::server_settings gateway_settings(const node_config& cfg) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  http::server_settings s;
  s.host = cfg.gateway_host;
  s.port = cfg.gateway_port;
  s.threads = cfg.gateway_threads;
  s.idle_timeout = duration_cast<milliseconds>(cfg.gateway_idle_timeout);
  s.request_timeout = duration_cast<milliseconds>(cfg.gateway_request_timeout);
  s.upload_limit = cfg.avatars_max_bytes;
  return s;
}

/// Local mode may start without secrets: they are made up for this run (tokens and MFA secrets
/// then do not survive a restart; deploy/dev.sh keeps a pair under ./var instead).
void resolve_secrets(node_config& cfg, spdlog::logger& lg) {
  if (cfg.auth_jwt_secret.empty()) {
    cfg.auth_jwt_secret = crypto::random_token(48);
    log::warn(lg, "-", "no auth.jwt-secret: using a random one for this run (local mode)");
  }
  if (cfg.auth_mfa_key.empty()) {
    cfg.auth_mfa_key = crypto::hex(crypto::random_bytes(32));
    log::warn(lg, "-", "no auth.mfa-key: using a random one for this run (local mode)");
  }
  cfg.mfa_key_bytes = crypto::unhex(cfg.auth_mfa_key).value_or("");
}

auth::redis_settings redis_of(const node_config& cfg) {
  return auth::redis_settings{cfg.redis_host, cfg.redis_port,
                              std::chrono::duration_cast<std::chrono::milliseconds>(cfg.redis_timeout),
                              cfg.redis_prefix};
}

/// The configured first admin exists before the gateway opens (so its first login works).
void ensure_bootstrap_admin(caf::actor_system& sys, const node_config& cfg, spdlog::logger& lg) {
  if (cfg.auth_bootstrap_admin_email.empty())
    return;
  caf::scoped_actor self{sys};
  auto accounts = sys.registry().get<accounts_actor>(names::accounts);
  self->request(accounts, std::chrono::seconds(30), bootstrap_atom::value)
    .receive([](bool) {},
             [&](caf::error& err) {
               log::error(lg, "-", "the bootstrap admin could not be created: {}",
                          to_string(err));
             });
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty())
      out.push_back(item);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

} // namespace

void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_node(node_config& cfg) {
  log::init(cfg.node_id, cfg.log_level);
  auto lg = log::get("node");
  if (auto err = migrate(cfg, *lg); !err.empty()) {
    std::fprintf(stderr, "bookstore-node: %s\n", err.c_str());
    return 1;
  }
  resolve_secrets(cfg, *lg);
  // Declared before the actor system so it is destroyed after it: answers still on their way
  // from actors post into its (stopped) io_context, never into a destroyed one.
  std::unique_ptr<http::server> server;
  caf::actor_system sys{cfg};
  auto root = spawn_supervisor(sys, node_tree(sys, cfg));
  // The tree starts its children asynchronously: listen only once every service is registered,
  // so the first requests find them.
  auto registered = [&sys] {
    for (auto name : {names::snapshots, names::books, names::health, names::inventory,
                      names::catalog, names::sessions, names::accounts, names::order_index,
                      names::orders, names::payments, names::provider, names::checkout,
                    names::reconciler})
      if (!sys.registry().get(name))
        return false;
    return true;
  };
  for (int i = 0; i < 1000 && !registered(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!registered()) {
    std::fprintf(stderr, "bookstore-node: the supervision tree did not start\n");
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    return 1;
  }
  ensure_bootstrap_admin(sys, cfg, *lg);
  auto backend = std::make_unique<http::caf_backend>(sys, sys.scheduler().num_workers());
  auto access_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.auth_access_ttl);
  auth::revocations revoked{redis_of(cfg), access_ttl};
  revoked.start();
  auth::rate_limiter limiter{
    auth::rate_limit_settings{static_cast<int64_t>(cfg.rate_limit_requests),
                              std::chrono::duration_cast<std::chrono::milliseconds>(
                                cfg.rate_limit_window)},
    redis_of(cfg)};
  limiter.start();
  auth::gate gate{auth::gate_settings{cfg.auth_jwt_secret, access_ttl,
                                      split_list(cfg.rate_limit_trusted_proxies)},
                  revoked, &limiter};
  http::api api{*backend, gate,
                http::api_settings{cfg.payments_webhook_secret, cfg.faults_enabled}};
  server = std::make_unique<http::server>(gateway_settings(cfg),
                                          [&api](http::request req, http::responder done) {
                                            api.handle(std::move(req), std::move(done));
                                          });
  int exit_code = 0;
  uint16_t port = 0;
  try {
    port = server->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bookstore-node: %s\n", e.what());
    exit_code = 1;
  }
  if (exit_code == 0) {
    if (!cfg.gateway_port_file.empty())
      std::ofstream{cfg.gateway_port_file} << port << '\n';
    log::info(*lg, "-", "node {} ready: gateway on http://{}:{}", cfg.node_id, cfg.gateway_host,
              port);
    caf::scoped_actor self{sys};
    self->monitor(root);
    auto waiter = caf::actor_cast<caf::actor>(self);
    std::thread{[waiter] {
      auto set = stop_signals();
      int sig = 0;
      if (sigwait(&set, &sig) == 0)
        caf::anon_send(waiter, stop_atom::value);
    }}.detach();
    self->receive(
      [&](caf::down_msg& dm) {
        log::error(*lg, "-", "supervision tree failed: {}; stopping", to_string(dm.reason));
        exit_code = 1;
      },
      [&](stop_atom) { log::info(*lg, "-", "stopping"); });
  }
  server->stop();
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  backend->shutdown(); // destroyed after the actors are done: their callbacks use it
  // The registry holds strong references; a detached actor (its own thread) is only joined once
  // its last reference is gone, so the names must go before the system waits for its threads.
  for (auto name : {names::catalog, names::accounts, names::inventory, names::sessions,
                    names::snapshots, names::books, names::health, names::order_index,
                    names::orders, names::payments, names::provider, names::checkout,
                    names::reconciler})
    sys.registry().erase(name);
  sys.await_all_actors_done();
  spdlog::default_logger()->flush();
  for (auto name : {"node", "gateway", "persistence", "supervision", "inventory_item",
                    "user_session", "accounts", "order", "payment_intent", "payments"})
    log::get(name)->flush();
  return exit_code;
}

} // namespace bookstore
