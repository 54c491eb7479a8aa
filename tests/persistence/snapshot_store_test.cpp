#define CAF_SUITE snapshot_store
#include <caf/test/dsl.hpp>

#include "actors/common/metrics.hpp"
#include "actors/protocol/errc.hpp"
#include "persistence/postgres/snapshot_sql.hpp"
#include "persistence/postgres/snapshot_store.hpp"
#include "tests/support/scratch_database.hpp"

#include <optional>
#include <string>

#include <pqxx/pqxx>

using namespace bookstore;

namespace {

/// The store against a real PostgreSQL, its workers on the deterministic scheduler.
struct fixture : test_coordinator_fixture<> {
  testing::scratch_database db;
  snapshot_store_actor store;

  fixture() {
    snapshot_store_settings s;
    s.dsn = db.dsn();
    s.writers = 1;
    s.readers = 1;
    s.detached = false;
    store = make_snapshot_store(sys, s);
    sched.run();
  }

  ~fixture() override {
    caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
    sched.run();
  }

  snapshot snap(std::string id, int64_t version, std::string state) {
    return snapshot{"thing", std::move(id), version, std::move(state), 1, 0, {}};
  }

  /// `synchronous_commit` as a session on `c` has it.
  static std::string synchronous_commit(pqxx::connection& c) {
    return pqxx::nontransaction{c}.exec("SHOW synchronous_commit")[0][0].as<std::string>();
  }

  int64_t stored_version(const std::string& id) {
    pqxx::connection c{db.dsn()};
    auto r = pqxx::nontransaction{c}.exec_params(
      "SELECT version FROM entity_snapshots WHERE entity_type = 'thing' AND entity_id = $1", id);
    return r.empty() ? 0 : r[0][0].as<int64_t>();
  }

  template <class Reply, class Msg>
  caf::expected<Reply> ask(Msg msg) {
    std::optional<caf::expected<Reply>> out;
    sys.spawn([&out, this, msg](caf::event_based_actor* me) mutable {
      me->request(store, caf::infinite, std::move(msg))
        .then([&out](Reply& r) { out = std::move(r); },
              [&out](caf::error& err) { out = std::move(err); });
    });
    sched.run();
    CAF_REQUIRE(out.has_value());
    return std::move(*out);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(snapshot_store_tests, fixture)

CAF_TEST(an entity without a snapshot loads as version zero) {
  auto got = ask<snapshot_batch>(load_snapshots{"thing", {"a"}});
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->items.size(), 1u);
  CAF_CHECK_EQUAL(got->items[0].entity_id, "a");
  CAF_CHECK_EQUAL(got->items[0].version, 0);
}

CAF_TEST(writes round-trip binary state in the order asked) {
  std::string bytes{"\0\x01\xff\"{}\\,", 9};
  auto saved = ask<save_result>(save_snapshots{{snap("a", 1, bytes), snap("b", 1, "x")}});
  CAF_REQUIRE(saved);
  CAF_CHECK_EQUAL(saved->committed, (std::vector<uint8_t>{1, 1}));
  auto got = ask<snapshot_batch>(load_snapshots{"thing", {"b", "missing", "a"}});
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->items.size(), 3u);
  CAF_CHECK_EQUAL(got->items[0].state, "x");
  CAF_CHECK_EQUAL(got->items[1].version, 0);
  CAF_CHECK_EQUAL(got->items[2].state, bytes);
  CAF_CHECK_EQUAL(got->items[2].version, 1);
}

CAF_TEST(ids with quotes backslashes and commas are written and found as they are) {
  // They travel in array literals, which need the quotes and backslashes escaped.
  std::vector<std::string> ids{"a\"b", "c\\d", "e,f {g}", "\"\\\"", "\\", "plain"};
  save_snapshots first;
  for (size_t i = 0; i < ids.size(); ++i)
    first.writes.push_back(snap(ids[i], 1, "s" + std::to_string(i)));
  auto saved = ask<save_result>(first);
  CAF_REQUIRE(saved);
  CAF_CHECK_EQUAL(saved->committed, std::vector<uint8_t>(ids.size(), 1));
  // Updates find their rows by these ids, and the answer names each one that was written.
  save_snapshots second;
  for (size_t i = 0; i < ids.size(); ++i)
    second.writes.push_back(snap(ids[i], 2, "t" + std::to_string(i)));
  saved = ask<save_result>(second);
  CAF_REQUIRE(saved);
  CAF_CHECK_EQUAL(saved->committed, std::vector<uint8_t>(ids.size(), 1));
  auto got = ask<snapshot_batch>(load_snapshots{"thing", ids});
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->items.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    CAF_CHECK_EQUAL(got->items[i].entity_id, ids[i]);
    CAF_CHECK_EQUAL(got->items[i].version, 2);
    CAF_CHECK_EQUAL(got->items[i].state, "t" + std::to_string(i));
  }
  CAF_CHECK_EQUAL(stored_version("a\"b"), 2);
  CAF_CHECK_EQUAL(stored_version("c\\d"), 2);
}

CAF_TEST(a write over a stale version is refused and changes nothing) {
  CAF_REQUIRE(ask<save_result>(save_snapshots{{snap("a", 1, "v1")}}));
  CAF_REQUIRE(ask<save_result>(save_snapshots{{snap("a", 2, "v2")}}));
  // A second activation that loaded version 1 tries to write its version 2.
  auto stale = ask<save_result>(save_snapshots{{snap("a", 2, "other"), snap("b", 1, "fine")}});
  CAF_REQUIRE(stale);
  CAF_CHECK_EQUAL(stale->committed, (std::vector<uint8_t>{0, 1}));
  // A gap (version 4 over 2) is refused too.
  auto gap = ask<save_result>(save_snapshots{{snap("a", 4, "skip")}});
  CAF_REQUIRE(gap);
  CAF_CHECK_EQUAL(gap->committed, (std::vector<uint8_t>{0}));
  auto got = ask<snapshot_batch>(load_snapshots{"thing", {"a"}});
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->items[0].version, 2);
  CAF_CHECK_EQUAL(got->items[0].state, "v2");
}

CAF_TEST(a first write over an existing snapshot is a conflict) {
  CAF_REQUIRE(ask<save_result>(save_snapshots{{snap("a", 1, "first")}}));
  auto again = ask<save_result>(save_snapshots{{snap("a", 1, "second")}});
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->committed, (std::vector<uint8_t>{0}));
}

CAF_TEST(writes that queue up behind a commit go out as one transaction) {
  // Three requests arrive before the writer runs: one transaction commits all of them.
  auto& batches = metrics::global().get_histogram("bookstore_snapshot_batch_size", "", {});
  auto transactions_before = batches.count();
  auto rows_before = batches.sum();
  std::vector<std::optional<caf::expected<save_result>>> outs(3);
  for (int i = 0; i < 3; ++i) {
    sys.spawn([&, i](caf::event_based_actor* me) {
      me->request(store, caf::infinite,
                  save_snapshots{{snap("g" + std::to_string(i), 1, "s")}})
        .then([&, i](save_result& r) { outs[i] = std::move(r); },
              [&, i](caf::error& e) { outs[i] = std::move(e); });
    });
  }
  sched.run();
  for (auto& o : outs) {
    CAF_REQUIRE(o.has_value());
    CAF_REQUIRE(*o);
    CAF_CHECK_EQUAL((*o)->committed, (std::vector<uint8_t>{1}));
  }
  CAF_CHECK_EQUAL(batches.count(), transactions_before + 1);
  CAF_CHECK_EQUAL(batches.sum(), rows_before + 3);
  auto got = ask<snapshot_batch>(load_snapshots{"thing", {"g0", "g1", "g2"}});
  CAF_REQUIRE(got);
  for (auto& s : got->items) CAF_CHECK_EQUAL(s.version, 1);
}

CAF_TEST(a writer commits synchronously even where the database does not by default) {
  // A write is answered once its statement returned: that must mean on disk (a 2xx upstream),
  // also on a server tuned with synchronous_commit off. Such a commit is visible to others only
  // once flushed, so what readers find is durable too.
  {
    pqxx::connection admin{db.dsn()};
    pqxx::nontransaction{admin}.exec("ALTER DATABASE " + db.name()
                                     + " SET synchronous_commit TO off");
  }
  pqxx::connection writer{db.dsn()};
  CAF_REQUIRE_EQUAL(synchronous_commit(writer), "off"); // what a new session gets here
  pg::prepare_snapshot_writer(writer);
  CAF_CHECK_EQUAL(synchronous_commit(writer), "on");
  // And the writer's statement still writes what it was given.
  auto s = snap("sync", 1, "v1");
  auto committed = pg::save_snapshot_rows(writer, {&s});
  CAF_CHECK_EQUAL(committed, (std::vector<uint8_t>{1}));
  CAF_CHECK_EQUAL(stored_version("sync"), 1);
}

CAF_TEST(entities with work due are found by wake time earliest first) {
  const int64_t t = 1'800'000'000'000;
  auto due = snap("due", 1, "x");
  due.wake_at = t + 1000;
  auto soon = snap("soon", 1, "x");
  soon.wake_at = t + 2001;
  auto later = snap("later", 1, "x");
  later.wake_at = t + 60'000;
  CAF_REQUIRE(ask<save_result>(save_snapshots{{later, soon, due, snap("never", 1, "x")}}));
  auto found = ask<entity_ids>(find_due{"thing", t + 2000, 10});
  CAF_REQUIRE(found);
  CAF_CHECK_EQUAL(found->ids, (std::vector<std::string>{"due"}));
  found = ask<entity_ids>(find_due{"thing", t + 60'000, 10});
  CAF_REQUIRE(found);
  CAF_CHECK_EQUAL(found->ids, (std::vector<std::string>{"due", "soon", "later"}));
  found = ask<entity_ids>(find_due{"thing", t + 60'000, 2});
  CAF_REQUIRE(found);
  CAF_CHECK_EQUAL(found->ids, (std::vector<std::string>{"due", "soon"}));
}

CAF_TEST(a write after its connection was cut goes out again on a new connection) {
  CAF_REQUIRE(ask<save_result>(save_snapshots{{snap("a", 1, "v1")}}));
  {
    // PostgreSQL drops the writer's (and reader's) session, as on a restart or failover.
    pqxx::connection admin{db.dsn()};
    pqxx::nontransaction{admin}.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
      " WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  auto saved = ask<save_result>(save_snapshots{{snap("a", 2, "v2"), snap("b", 1, "new")}});
  CAF_REQUIRE(saved);
  CAF_CHECK_EQUAL(saved->committed, (std::vector<uint8_t>{save_committed, save_committed}));
  auto got = ask<snapshot_batch>(load_snapshots{"thing", {"a", "b"}});
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->items.size(), 2u);
  CAF_CHECK_EQUAL(got->items[0].version, 2);
  CAF_CHECK_EQUAL(got->items[0].state, "v2");
  CAF_CHECK_EQUAL(got->items[1].state, "new");
}

CAF_TEST(an unreachable database fails each write and is not a crash) {
  snapshot_store_settings s;
  s.dsn = "postgresql://nobody@127.0.0.1:1/none";
  s.detached = false;
  auto down = make_snapshot_store(sys, s);
  std::optional<caf::expected<save_result>> out;
  sys.spawn([&](caf::event_based_actor* me) {
    me->request(down, caf::infinite, save_snapshots{{snap("a", 1, "x")}})
      .then([&](save_result& r) { out = std::move(r); },
            [&](caf::error& e) { out = std::move(e); });
  });
  sched.run();
  CAF_REQUIRE(out.has_value());
  CAF_REQUIRE(*out);
  CAF_CHECK_EQUAL((*out)->committed, (std::vector<uint8_t>{save_failed}));
  caf::anon_send_exit(down, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST_FIXTURE_SCOPE_END()
