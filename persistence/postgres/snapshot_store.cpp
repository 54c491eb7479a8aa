#include "persistence/postgres/snapshot_store.hpp"

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/restart_budget.hpp"
#include "persistence/postgres/pg.hpp"
#include "persistence/postgres/snapshot_sql.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <unordered_set>

namespace bookstore {

namespace {

using flush_atom = caf::atom_constant<caf::atom("sflush")>;

/// A batch's outcome, committed but maybe not flushed yet: answered once a flush after it
/// returned (the writer delegates each of its requests to its flusher with this).
struct await_flush {
  save_result result;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, await_flush& x) {
  return f(caf::meta::type_name("await_flush"), x.result);
}

using flusher_actor = caf::typed_actor<caf::replies_to<await_flush>::with<save_result>,
                                       caf::reacts_to<flush_atom>>;

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

// -- flushers -----------------------------------------------------------------------------------

// A writer's commits do not wait for the WAL flush: its statements run back to back instead of
// each waiting out an fsync. Its flusher makes them durable: one synchronous commit on its own
// connection flushes the WAL up to itself, so every batch whose statement returned before that
// commit began is durable once it returns, and only then answered. Batches that queue up while
// a flush runs share the next one.
struct flusher_state {
  struct pending {
    save_result result;
    caf::typed_response_promise<save_result> rp;
  };
  std::unique_ptr<pg::lazy_connection> conn;
  std::vector<pending> waiting;
  bool flush_scheduled = false;
  metrics::histogram* flush_seconds = nullptr;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "wal_flusher";
};

/// Answers `batch`: as it is if flushed, else with what committed in doubt (it may or may not
/// have reached the disk).
void answer(std::vector<flusher_state::pending>& batch, bool flushed) {
  for (auto& p : batch) {
    if (!flushed)
      for (auto& c : p.result.committed)
        if (c == save_committed)
          c = save_in_doubt;
    p.rp.deliver(std::move(p.result));
  }
}

void flush_wal(flusher_state& st) {
  st.flush_scheduled = false;
  auto batch = std::exchange(st.waiting, {});
  auto started = std::chrono::steady_clock::now();
  bool flushed = true;
  try {
    // A flush on a new connection after a broken one is as good: it covers the same commits.
    pg::run(*st.conn, [](pqxx::connection& c) { pg::flush_wal(c); });
  } catch (const std::exception& e) {
    log::warn(*st.log, "-", "WAL flush failed: {}", e.what());
    flushed = false;
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  st.flush_seconds->observe(took.count());
  answer(batch, flushed);
}

flusher_actor::behavior_type flusher_impl(flusher_actor::stateful_pointer<flusher_state> self,
                                          std::string dsn) {
  auto& st = self->state;
  st.conn = std::make_unique<pg::lazy_connection>(dsn, pg::prepare_wal_flush);
  st.log = log::get("persistence");
  st.flush_seconds = &metrics::global().get_histogram(
    "bookstore_wal_flush_seconds",
    "Time of one WAL flush that makes the snapshot batches before it durable",
    metrics::latency_buckets());
  // Stopped (its writer ended or failed): what waits for a flush is answered in doubt, not left
  // to the callers' timeouts. Requests still in the mailbox bounce; the entities take an error
  // on a save as in doubt too.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto batch = std::exchange(self->state.waiting, {});
    answer(batch, false);
    self->quit(msg.reason);
  });
  return {
    [self](await_flush& a) -> caf::result<save_result> {
      auto rp = self->make_response_promise<save_result>();
      self->state.waiting.push_back({std::move(a.result), rp});
      if (!self->state.flush_scheduled) {
        self->state.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [self](flush_atom) { flush_wal(self->state); },
  };
}

// -- writers ------------------------------------------------------------------------------------

struct writer_state {
  struct pending {
    save_snapshots req;
    caf::typed_response_promise<save_result> rp;
  };
  std::unique_ptr<pg::lazy_connection> conn;
  flusher_actor flusher;
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
    // Answered by the flusher once what committed is durable.
    p.rp.delegate(st.flusher, await_flush{std::move(res)});
  }
}

writer_actor::behavior_type writer_impl(writer_actor::stateful_pointer<writer_state> self,
                                        std::string dsn, size_t max_batch, bool detached) {
  auto& st = self->state;
  st.conn = std::make_unique<pg::lazy_connection>(dsn, pg::prepare_snapshot_writer);
  // Its own flusher, linked: if either fails, both are replaced.
  st.flusher = detached ? self->spawn<caf::detached + caf::linked>(flusher_impl, dsn)
                        : self->spawn<caf::linked>(flusher_impl, dsn);
  // A link does not stop the flusher when the writer ends normally; this does.
  self->attach_functor([flusher = st.flusher](const caf::error&) {
    caf::anon_send_exit(flusher, caf::exit_reason::user_shutdown);
  });
  st.max_batch = std::max<size_t>(1, max_batch);
  st.log = log::get("persistence");
  static const std::vector<double> sizes{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
  st.batch_size = &metrics::global().get_histogram(
    "bookstore_snapshot_batch_size", "Snapshots written per transaction (group commit)", sizes);
  st.commit_seconds = &metrics::global().get_histogram(
    "bookstore_snapshot_commit_seconds", "Time to write and commit one snapshot transaction",
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
  bool found = false;
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
        for (size_t k = 0; k < n && offset + k < rows.size(); ++k) {
          found = found || rows[offset + k].version > 0;
          out[i].items.push_back(std::move(rows[offset + k]));
        }
        offset += n;
      }
    } catch (const std::exception& e) {
      auto err = storage_error(e, *st.log, "snapshot load");
      for (auto i : members) failed[i] = err;
    }
  }
  // A writer's commit is visible before its flush: what an entity starts from must be durable
  // (it may answer from it at once), so a load that found rows waits for a flush of its own.
  if (found) {
    try {
      pg::run(*st.conn, [](pqxx::connection& c) { pg::flush_wal(c); });
    } catch (const std::exception& e) {
      auto err = storage_error(e, *st.log, "WAL flush after a load");
      for (auto& f : failed)
        if (!f)
          f = err;
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
  st.conn = std::make_unique<pg::lazy_connection>(dsn, pg::prepare_snapshot_reader);
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
    return self->spawn<caf::detached + caf::linked>(writer_impl, s.dsn, s.max_batch, true);
  return self->spawn<caf::linked>(writer_impl, s.dsn, s.max_batch, false);
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
