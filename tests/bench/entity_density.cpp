// Entity density: activates N inventory_item entities in one actor system, each from its own
// snapshot in PostgreSQL, through the same region, shards and snapshot store as the node, and
// prints resident memory per entity and cold activation latency.
//   bench-entity-density --dsn=URI [--entities=1000000] [--sample=10000] [--concurrency=256]

#include "actors/common/ids.hpp"
#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/entity/codec.hpp"
#include "actors/inventory/inventory_region.hpp"
#include "actors/protocol/type_registry.hpp"
#include "persistence/postgres/migrations.hpp"
#include "persistence/postgres/pg.hpp"
#include "persistence/postgres/snapshot_store.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

using namespace bookstore;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string dsn;
  size_t entities = 1'000'000;
  size_t sample = 10'000;
  size_t concurrency = 256;
};

long resident_bytes() {
  std::ifstream f{"/proc/self/statm"};
  long pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

std::string entity_id(size_t n) {
  return ids::make_deterministic("bk", 10'000'000 + n);
}

/// Writes a snapshot for entities [0, count) unless they are there already.
void seed(const std::string& dsn, size_t count) {
  pqxx::connection conn{pg::with_connect_timeout(dsn)};
  {
    pqxx::read_transaction tx{conn};
    auto have = tx.exec1("SELECT count(*) FROM entity_snapshots WHERE entity_type = "
                         "'inventory_item'")[0]
                  .as<size_t>();
    if (have >= count)
      return;
  }
  std::fprintf(stderr, "seeding %zu inventory snapshots...\n", count);
  inventory_state st;
  st.on_hand = 25;
  auto state = pg::bytea_hex(entity::encode(st));
  conn.prepare("seed", "INSERT INTO entity_snapshots (entity_type, entity_id, version, state,"
                       " schema_version) SELECT 'inventory_item', u.id, 1, $2::bytea, 1"
                       " FROM unnest($1::text[]) AS u(id) ON CONFLICT DO NOTHING");
  for (size_t first = 0; first < count; first += 20000) {
    std::vector<std::string> batch;
    for (size_t n = first; n < std::min(count, first + 20000); ++n) batch.push_back(entity_id(n));
    pqxx::work tx{conn};
    tx.exec_prepared("seed", pg::array_literal(batch), state);
    tx.commit();
  }
  pqxx::nontransaction{conn}.exec("VACUUM ANALYZE entity_snapshots");
}

struct run_result {
  std::vector<float> latencies_ms;
  size_t failures = 0;
  double seconds = 0;
};

/// Sends get_stock to entities [first, first + count) with `concurrency` in flight.
run_result activate(caf::actor_system& sys, inventory_actor region, size_t first, size_t count,
                    size_t concurrency) {
  run_result out;
  out.latencies_ms.resize(count);
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  auto started = clock_type::now();
  sys.spawn([&](caf::event_based_actor* self) {
    auto next = std::make_shared<size_t>(0);
    auto finished = std::make_shared<size_t>(0);
    auto send_one = std::make_shared<std::function<void()>>();
    *send_one = [&, self, next, finished, send_one] {
      if (*next >= count)
        return;
      auto i = (*next)++;
      auto sent = clock_type::now();
      // A benchmark driver: no timeout, every entity answers or the run reports failures.
      self->request(region, caf::infinite, get_stock{{}, entity_id(first + i)})
        .then(
          [&, i, sent, finished, send_one](stock_level&) {
            std::chrono::duration<float, std::milli> took = clock_type::now() - sent;
            out.latencies_ms[i] = took.count();
            if (++*finished == count) {
              std::lock_guard<std::mutex> guard{mtx};
              done = true;
              cv.notify_all();
            }
            (*send_one)();
          },
          [&, finished, send_one](caf::error&) {
            ++out.failures;
            if (++*finished == count) {
              std::lock_guard<std::mutex> guard{mtx};
              done = true;
              cv.notify_all();
            }
            (*send_one)();
          });
    };
    for (size_t k = 0; k < std::min(concurrency, count); ++k) (*send_one)();
  });
  std::unique_lock<std::mutex> lock{mtx};
  cv.wait(lock, [&] { return done; });
  std::chrono::duration<double> took = clock_type::now() - started;
  out.seconds = took.count();
  return out;
}

float percentile(std::vector<float> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p * static_cast<double>(xs.size())))];
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* prefix) { return a.substr(std::string{prefix}.size()); };
    if (a.rfind("--dsn=", 0) == 0)
      opt.dsn = value("--dsn=");
    else if (a.rfind("--entities=", 0) == 0)
      opt.entities = std::stoul(value("--entities="));
    else if (a.rfind("--sample=", 0) == 0)
      opt.sample = std::stoul(value("--sample="));
    else if (a.rfind("--concurrency=", 0) == 0)
      opt.concurrency = std::stoul(value("--concurrency="));
  }
  if (opt.dsn.empty()) {
    std::fprintf(stderr, "usage: bench-entity-density --dsn=URI [--entities=N] [--sample=N]"
                         " [--concurrency=N]\n");
    return 2;
  }
  log::init("bench", "warn");
  if (auto err = pg::apply_migrations(opt.dsn, pg::embedded_migrations()); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  seed(opt.dsn, opt.entities + opt.sample);

  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  snapshot_store_settings store_settings;
  store_settings.dsn = opt.dsn;
  store_settings.readers = 2;
  store_settings.writers = 1;
  auto store = make_snapshot_store(sys, store_settings);
  entity::runtime_settings rt;
  rt.shards = 1024;
  rt.passivate_after = std::chrono::hours(1);
  rt.wake_interval = std::chrono::hours(1);
  auto region = make_inventory_region(sys, service_ref<snapshot_store_actor>{store}, rt,
                                      inventory_item::settings{});
  // Warm the machinery (shard actors, connections) on the sample's first entity, then measure.
  activate(sys, region, opt.entities, 1, 1);
  auto before = resident_bytes();
  auto bulk = activate(sys, region, 0, opt.entities, opt.concurrency);
  auto after = resident_bytes();
  auto cold = activate(sys, region, opt.entities + 1, opt.sample - 1, 1);

  auto& active = metrics::global().get_gauge("bookstore_entities_active", "",
                                             {{"type", "inventory_item"}});
  std::printf("entity density: %zu inventory_item entities activated from PostgreSQL snapshots\n",
              opt.entities);
  std::printf("  entities in memory:       %lld\n", static_cast<long long>(active.value()));
  std::printf("  resident memory:          %.1f MiB -> %.1f MiB\n", before / 1048576.0,
              after / 1048576.0);
  std::printf("  per entity:               %.0f bytes   (target < 1024)\n",
              static_cast<double>(after - before) / static_cast<double>(opt.entities));
  std::printf("  bulk activation:          %.0f entities/s with %zu in flight, "
              "p50 %.2f ms, p99 %.2f ms, failures %zu\n",
              static_cast<double>(opt.entities) / bulk.seconds, opt.concurrency,
              percentile(bulk.latencies_ms, 0.5), percentile(bulk.latencies_ms, 0.99),
              bulk.failures);
  std::printf("  cold activation, one at a time (%zu): p50 %.2f ms, p99 %.2f ms, max %.2f ms "
              "(target p99 < 5 ms), failures %zu\n",
              opt.sample - 1, percentile(cold.latencies_ms, 0.5),
              percentile(cold.latencies_ms, 0.99), percentile(cold.latencies_ms, 1.0),
              cold.failures);
  caf::anon_send_exit(region, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  return 0;
}
