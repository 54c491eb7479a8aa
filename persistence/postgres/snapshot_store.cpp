#include "persistence/postgres/snapshot_store.hpp"

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/restart_budget.hpp"
#include "persistence/postgres/pg.hpp"
#include "persistence/postgres/snapshot_sql.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <unordered_set>

namespace bookstore {

namespace {

using flush_atom = caf::atom_constant<caf::atom("sflush")>;

using writer_actor = caf::typed_actor<caf::replies_to<save_snapshots>::with<save_result>,
                                      caf::reacts_to<flush_atom>>;

using reader_actor = caf::typed_actor<caf::replies_to<load_snapshots>::with<snapshot_batch>,
                                      caf::replies_to<find_due>::with<entity_ids>,
                                      caf::reacts_to<flush_atom>>;

caf::error storage_error(const std::exception& e, spdlog::logger& lg, const char* what) {
  if (auto* f = dynamic_cast<const pg::failure*>(&e))
    return f->err;
  log::warn(lg, "-", "{} failed: {}", what, e.what());
  return make_error(errc::storage_unavailable, "", "database failure");
}

// -- writers ------------------------------------------------------------------------------------

// A writer's commit returns once it is on disk (synchronous_commit on its connection, whatever
// the server's default), so each batch is answered as soon as its statement returns. The fsync
// is the writer's wait, not its CPU: the writes that queue up meanwhile are the next batch, so
// batches grow with load and one fsync covers them all. (Commits that did not wait for the disk,
// made durable by a synchronous commit on a second connection, cost more on 2 cores: about a
// fifth more CPU per confirmed order in tests/bench/orders.sh, from smaller batches, the extra
// commits and the hand-over between the two.)
struct writer_state {
  struct pending {
    save_snapshots req;
    caf::typed_response_promise<save_result> rp;
  };
  std::unique_ptr<pg::lazy_connection> conn;
  std::vector<pending> batch;
  bool flush_scheduled = false;
  size_t max_batch = 5000;
  metrics::histogram* batch_size = nullptr;
  metrics::histogram* commit_seconds = nullptr;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "snapshot_writer";
};

/// Commits `writes` in transactions of at most max_batch rows; returns a save_status per write.
/// A failed transaction fails only its own rows: earlier chunks stay committed, later ones are
/// not tried.
std::vector<uint8_t> commit_rows(writer_state& st, const std::vector<const snapshot*>& writes) {
  std::vector<uint8_t> status(writes.size(), save_failed);
  for (size_t first = 0; first < writes.size(); first += st.max_batch) {
    auto last = std::min(writes.size(), first + st.max_batch);
    std::vector<const snapshot*> chunk{writes.begin() + static_cast<ptrdiff_t>(first),
                                       writes.begin() + static_cast<ptrdiff_t>(last)};
    auto started = std::chrono::steady_clock::now();
    try {
      // The save is one statement in its own transaction (one round trip), so a connection that
      // breaks while it runs leaves it unknown whether it committed. pg::run sends it once more
      // on a new connection: a row that commits then was not written before (its version check
      // passed); a row refused then may be the first attempt's, so it is in doubt, not a
      // conflict. Broken twice: pg::run fails and the rows count as failed (503).
      int sent = 0;
      auto flags = pg::run(*st.conn, [&](pqxx::connection& c) {
        ++sent;
        return pg::save_snapshot_rows(c, chunk);
      });
      if (sent > 1)
        for (auto& f : flags)
          if (f != save_committed)
            f = save_in_doubt;
      std::copy(flags.begin(), flags.end(), status.begin() + static_cast<ptrdiff_t>(first));
    } catch (const std::exception& e) {
      log::warn(*st.log, "-", "snapshot commit failed: {}", e.what());
      break;
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    st.commit_seconds->observe(took.count());
    st.batch_size->observe(static_cast<double>(chunk.size()));
  }
  return status;
}

void flush_writes(writer_state& st) {
  st.flush_scheduled = false;
  auto batch = std::exchange(st.batch, {});
  // One statement cannot write a row twice. The entity runtime keeps one write per entity in
  // flight, so a repeat is a bug: it is reported as a conflict (the entity stops) instead.
  std::vector<const snapshot*> writes;
  std::vector<ptrdiff_t> slot_of; // per write of the batch: index into `writes`, or -1
  std::unordered_set<std::string> seen;
  for (auto& p : batch) {
    for (auto& w : p.req.writes) {
      if (seen.insert(w.entity_type + '\0' + w.entity_id).second) {
        slot_of.push_back(static_cast<ptrdiff_t>(writes.size()));
        writes.push_back(&w);
      } else {
        log::error(*st.log, "-", "{} {} written twice in one batch", w.entity_type,
                   w.entity_id);
        slot_of.push_back(-1);
      }
    }
  }
  auto status = commit_rows(st, writes);
  size_t k = 0;
  for (auto& p : batch) {
    save_result res;
    for (size_t i = 0; i < p.req.writes.size(); ++i, ++k)
      res.committed.push_back(slot_of[k] < 0 ? uint8_t{save_conflict}
                                             : status[static_cast<size_t>(slot_of[k])]);
    p.rp.deliver(std::move(res));
  }
}

writer_actor::behavior_type writer_impl(writer_actor::stateful_pointer<writer_state> self,
                                        std::string dsn, size_t max_batch) {
  auto& st = self->state;
  st.conn = std::make_unique<pg::lazy_connection>(dsn, pg::prepare_snapshot_writer);
  st.max_batch = std::max<size_t>(1, max_batch);
  st.log = log::get("persistence");
  static const std::vector<double> sizes{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
  st.batch_size = &metrics::global().get_histogram(
    "bookstore_snapshot_batch_size", "Snapshots written per transaction (group commit)", sizes);
  st.commit_seconds = &metrics::global().get_histogram(
    "bookstore_snapshot_commit_seconds",
    "Time to write and commit one snapshot transaction, its fsync included",
    metrics::latency_buckets());
  return {
    [self](save_snapshots& req) -> caf::result<save_result> {
      auto rp = self->make_response_promise<save_result>();
      self->state.batch.push_back({std::move(req), rp});
      // The flush goes to the back of the mailbox: every write already queued behind the
      // transaction now committing joins this batch.
      if (!self->state.flush_scheduled) {
        self->state.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [self](flush_atom) { flush_writes(self->state); },
  };
}

// -- readers ------------------------------------------------------------------------------------

struct reader_state {
  struct pending {
    load_snapshots req;
    caf::typed_response_promise<snapshot_batch> rp;
  };
  std::unique_ptr<pg::lazy_connection> conn;
  std::vector<pending> batch;
  bool flush_scheduled = false;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "snapshot_reader";
};

void flush_loads(reader_state& st) {
  st.flush_scheduled = false;
  auto batch = std::exchange(st.batch, {});
  // One query per entity type for everything that queued up.
  std::map<std::string, std::vector<size_t>> by_type;
  for (size_t i = 0; i < batch.size(); ++i) by_type[batch[i].req.entity_type].push_back(i);
  std::vector<snapshot_batch> out(batch.size());
  std::vector<caf::error> failed(batch.size());
  for (auto& [type, members] : by_type) {
    std::vector<std::string> ids;
    for (auto i : members)
      ids.insert(ids.end(), batch[i].req.entity_ids.begin(), batch[i].req.entity_ids.end());
    try {
      auto rows = pg::run(*st.conn, [&](pqxx::connection& c) {
        return pg::load_snapshot_rows(c, type, ids);
      });
      size_t offset = 0;
      for (auto i : members) {
        auto n = batch[i].req.entity_ids.size();
        for (size_t k = 0; k < n && offset + k < rows.size(); ++k)
          out[i].items.push_back(std::move(rows[offset + k]));
        offset += n;
      }
    } catch (const std::exception& e) {
      auto err = storage_error(e, *st.log, "snapshot load");
      for (auto i : members) failed[i] = err;
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (failed[i])
      batch[i].rp.deliver(failed[i]);
    else
      batch[i].rp.deliver(std::move(out[i]));
  }
}

reader_actor::behavior_type reader_impl(reader_actor::stateful_pointer<reader_state> self,
                                        std::string dsn) {
  auto& st = self->state;
  st.conn = std::make_unique<pg::lazy_connection>(dsn, pg::prepare_snapshot_statements);
  st.log = log::get("persistence");
  return {
    [self](load_snapshots& req) -> caf::result<snapshot_batch> {
      auto rp = self->make_response_promise<snapshot_batch>();
      self->state.batch.push_back({std::move(req), rp});
      if (!self->state.flush_scheduled) {
        self->state.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [self](find_due& req) -> caf::result<entity_ids> {
      try {
        auto ids = pg::run(*self->state.conn, [&](pqxx::connection& c) {
          return pg::due_snapshot_ids(c, req.entity_type, req.before_ms, req.limit);
        });
        return entity_ids{std::move(ids)};
      } catch (const std::exception& e) {
        return storage_error(e, *self->state.log, "due lookup");
      }
    },
    [self](flush_atom) { flush_loads(self->state); },
  };
}

// -- front --------------------------------------------------------------------------------------

struct store_state {
  snapshot_store_settings settings;
  std::vector<writer_actor> writers;
  std::vector<reader_actor> readers;
  size_t next_writer = 0;
  size_t next_reader = 0;
  restart_budget restarts;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "snapshot_store";
};

using store_pointer = snapshot_store_actor::stateful_pointer<store_state>;

writer_actor start_writer(store_pointer self) {
  auto& s = self->state.settings;
  if (s.detached)
    return self->spawn<caf::detached + caf::linked>(writer_impl, s.dsn, s.max_batch);
  return self->spawn<caf::linked>(writer_impl, s.dsn, s.max_batch);
}

reader_actor start_reader(store_pointer self) {
  auto& s = self->state.settings;
  if (s.detached)
    return self->spawn<caf::detached + caf::linked>(reader_impl, s.dsn);
  return self->spawn<caf::linked>(reader_impl, s.dsn);
}

snapshot_store_actor::behavior_type store_impl(store_pointer self,
                                               snapshot_store_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.log = log::get("persistence");
  for (size_t i = 0; i < std::max<size_t>(1, st.settings.writers); ++i)
    st.writers.push_back(start_writer(self));
  for (size_t i = 0; i < std::max<size_t>(1, st.settings.readers); ++i)
    st.readers.push_back(start_reader(self));
  // Workers catch their own database errors; one that still dies is replaced, five times in ten
  // seconds at most, then the store fails upward to its supervisor.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    auto replace = [&](auto& pool, auto start) {
      for (auto& w : pool) {
        if (w.address() == msg.source) {
          log::warn(*st.log, "-", "snapshot worker stopped ({}); starting a new one",
                    to_string(msg.reason));
          if (!st.restarts.spend(self->clock().now())) {
            self->quit(make_error(errc::storage_unavailable, "", "snapshot workers keep failing"));
            return true;
          }
          w = start(self);
          return true;
        }
      }
      return false;
    };
    if (replace(st.writers, start_writer) || replace(st.readers, start_reader))
      return;
    self->quit(msg.reason);
  });
  return {
    [self](save_snapshots& req) -> caf::delegated<save_result> {
      auto& st = self->state;
      auto& w = st.writers[st.next_writer++ % st.writers.size()];
      return self->delegate(w, std::move(req));
    },
    [self](load_snapshots& req) -> caf::delegated<snapshot_batch> {
      auto& st = self->state;
      auto& r = st.readers[st.next_reader++ % st.readers.size()];
      return self->delegate(r, std::move(req));
    },
    [self](find_due& req) -> caf::delegated<entity_ids> {
      auto& st = self->state;
      auto& r = st.readers[st.next_reader++ % st.readers.size()];
      return self->delegate(r, std::move(req));
    },
    [self](writer_atom, uint64_t key) -> snapshot_writer_actor {
      auto& st = self->state;
      return caf::actor_cast<snapshot_writer_actor>(st.writers[key % st.writers.size()]);
    },
  };
}

} // namespace

snapshot_store_actor spawn_snapshot_store(caf::event_based_actor* parent,
                                          snapshot_store_settings settings) {
  return parent->spawn<caf::linked>(store_impl, std::move(settings));
}

snapshot_store_actor make_snapshot_store(caf::actor_system& sys,
                                         snapshot_store_settings settings) {
  return sys.spawn(store_impl, std::move(settings));
}

} // namespace bookstore
