#include "supervision/node.hpp"

#include "actors/common/log.hpp"
#include "actors/protocol/names.hpp"
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
  return s;
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
  // Declared before the actor system so it is destroyed after it: answers still on their way
  // from actors post into its (stopped) io_context, never into a destroyed one.
  std::unique_ptr<http::server> server;
  caf::actor_system sys{cfg};
  auto root = spawn_supervisor(sys, node_tree(sys, cfg));
  // The tree starts its children asynchronously: listen only once every service is registered,
  // so the first requests find them.
  auto registered = [&sys] {
    for (auto name : {names::snapshots, names::books, names::health, names::inventory,
                      names::catalog})
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
  auto backend = std::make_unique<http::caf_backend>(sys, sys.scheduler().num_workers());
  http::api api{*backend};
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
  backend.reset();
  // The registry holds strong references; a detached actor (its own thread) is only joined once
  // its last reference is gone, so the names must go before the system waits for its threads.
  for (auto name : {names::catalog, names::inventory, names::snapshots, names::books, names::health})
    sys.registry().erase(name);
  sys.await_all_actors_done();
  spdlog::default_logger()->flush();
  for (auto name : {"node", "gateway", "persistence", "supervision", "inventory_item"})
    log::get(name)->flush();
  return exit_code;
}

} // namespace bookstore
