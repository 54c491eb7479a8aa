#define CAF_SUITE inventory_item
#include <caf/test/dsl.hpp>

#include "actors/entity/codec.hpp"
#include "actors/entity/entity_shard.hpp"
#include "actors/entity/shard_region.hpp"
#include "actors/inventory/inventory_region.hpp"
#include "tests/fakes/fake_snapshot_store.hpp"

#include <algorithm>

using namespace bookstore;
using namespace std::chrono_literals;

namespace {

/// Every answer the probe got, in order.
struct answers {
  std::vector<caf::expected<stock_level>> list;
};

/// Forwards commands to the inventory region as requests and records each answer.
caf::behavior prober(caf::event_based_actor* self, inventory_actor inv,
                     std::shared_ptr<answers> out) {
  auto ask = [self, inv, out](auto msg) {
    self->request(inv, caf::infinite, std::move(msg))
      .then([out](stock_level& lvl) { out->list.emplace_back(std::move(lvl)); },
            [out](caf::error& err) { out->list.emplace_back(std::move(err)); });
  };
  return {
    [ask](get_stock& m) { ask(m); },
    [ask](adjust_stock& m) { ask(m); },
    [ask](reserve_stock& m) { ask(m); },
    [ask](commit_reservation& m) { ask(m); },
    [ask](release_reservation& m) { ask(m); },
  };
}

constexpr const char* book = "bk_test00000001";

struct fixture : test_coordinator_fixture<> {
  fakes::fake_store_actor store;
  inventory_actor inv;
  caf::actor probe;
  std::shared_ptr<answers> got = std::make_shared<answers>();
  const int64_t epoch_ms = 1'800'000'000'000;

  fixture() {
    store = sys.spawn(fakes::fake_snapshot_store);
    entity::runtime_settings rt;
    rt.shards = 4;
    rt.passivate_after = 60s;
    rt.wake_interval = 1h;
    rt.store_timeout = 10s;
    rt.clock = [this] { return now_ms(); };
    inventory_item::settings items;
    items.default_ttl_ms = 60'000;
    inv = make_inventory_region(
      sys, service_ref<snapshot_store_actor>{caf::actor_cast<snapshot_store_actor>(store)}, rt,
      items);
    probe = sys.spawn(prober, inv, got);
    sched.run();
  }

  ~fixture() override {
    // The region and its shards re-arm timers forever; stop them before the base fixture runs
    // everything that is left.
    for (auto& a : {caf::actor_cast<caf::actor>(inv), probe, caf::actor_cast<caf::actor>(store)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  int64_t now_ms() {
    using namespace std::chrono;
    return epoch_ms + duration_cast<milliseconds>(sched.clock().now().time_since_epoch()).count();
  }

  fakes::fake_store_state& store_state() {
    return deref<fakes::fake_store_actor::stateful_base<fakes::fake_store_state>>(store).state;
  }

  template <class Msg>
  void send(Msg msg) {
    self->send(probe, std::move(msg));
    sched.run();
  }

  void commit() {
    self->send(store, fakes::commit_atom::value);
    sched.run();
  }

  /// The latest answer (a reference into the list, so checks never hold a dead temporary).
  const caf::expected<stock_level>& last() {
    CAF_REQUIRE(!got->list.empty());
    return got->list.back();
  }

  const stock_level& level_now() {
    auto before = got->list.size();
    send(get_stock{{}, book});
    CAF_REQUIRE_EQUAL(got->list.size(), before + 1);
    CAF_REQUIRE(got->list.back());
    return *got->list.back();
  }

  void stock(int64_t n) {
    send(adjust_stock{{}, book, n});
    commit();
    CAF_REQUIRE(last());
  }

  snapshot& stored_row() {
    return store_state().rows[{inventory_item::entity_type, book}];
  }

  inventory_state stored_state() {
    return entity::decode<inventory_state>(stored_row().state);
  }

  errc code_of(const caf::expected<stock_level>& x) {
    return x ? errc::none : describe(x.error()).code;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(inventory_item_tests, fixture)

CAF_TEST(restock is answered only once its snapshot is committed) {
  send(adjust_stock{{}, book, 10});
  CAF_CHECK_EQUAL(got->list.size(), 0u); // parked in the store: nothing answered yet
  CAF_CHECK_EQUAL(store_state().pending.size(), 1u);
  commit();
  CAF_REQUIRE_EQUAL(got->list.size(), 1u);
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->on_hand, 10);
  CAF_CHECK_EQUAL(last()->available, 10);
  CAF_CHECK_EQUAL(stored_row().version, 1);
  CAF_CHECK_EQUAL(stored_state().on_hand, 10);
}

CAF_TEST(over reservation is refused and changes nothing) {
  stock(5);
  send(reserve_stock{{}, book, "ord_a", 6, 0});
  CAF_CHECK_EQUAL(code_of(last()), errc::insufficient_stock);
  CAF_CHECK_EQUAL(describe(last().error()).detail, book);
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u);
  send(reserve_stock{{}, book, "ord_a", 5, 0});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->reserved, 5);
  CAF_CHECK_EQUAL(last()->available, 0);
  send(reserve_stock{{}, book, "ord_b", 1, 0});
  CAF_CHECK_EQUAL(code_of(last()), errc::insufficient_stock);
}

CAF_TEST(repeating a reserve with the same order is harmless) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 3, 0});
  commit();
  send(reserve_stock{{}, book, "ord_a", 3, 0});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->reserved, 3);
  CAF_CHECK_EQUAL(last()->available, 7);
  send(reserve_stock{{}, book, "ord_a", 4, 0});
  CAF_CHECK_EQUAL(code_of(last()), errc::invalid_state);
  CAF_CHECK_EQUAL(level_now().reserved, 3);
}

CAF_TEST(commit turns a reservation into a sale and is safe to repeat) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 3, 0});
  commit();
  send(commit_reservation{{}, book, "ord_a"});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->on_hand, 7);
  CAF_CHECK_EQUAL(last()->reserved, 0);
  send(commit_reservation{{}, book, "ord_a"});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->on_hand, 7);
  // A repeated reserve of an order already sold does not hold stock again.
  send(reserve_stock{{}, book, "ord_a", 3, 0});
  commit();
  CAF_CHECK_EQUAL(last()->reserved, 0);
  send(commit_reservation{{}, book, "ord_unknown"});
  CAF_CHECK_EQUAL(code_of(last()), errc::not_found);
  CAF_CHECK_EQUAL(stored_state().on_hand, 7);
}

CAF_TEST(release frees the hold and may be repeated) {
  stock(4);
  send(reserve_stock{{}, book, "ord_a", 4, 0});
  commit();
  send(release_reservation{{}, book, "ord_a"});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->available, 4);
  send(release_reservation{{}, book, "ord_a"});
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->available, 4);
}

CAF_TEST(a reservation that is not committed expires on its own) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 4, 1000});
  commit();
  CAF_CHECK_EQUAL(last()->available, 6);
  CAF_CHECK_EQUAL(stored_state().reservations.size(), 1u);
  CAF_CHECK_NOT_EQUAL(stored_row().wake_at, 0);
  advance_time(999ms);
  sched.run();
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u); // not yet due
  advance_time(2ms);
  sched.run();
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u); // the item wrote its own release
  commit();
  CAF_CHECK_EQUAL(stored_state().reservations.size(), 0u);
  CAF_CHECK_EQUAL(stored_row().wake_at, 0);
  CAF_CHECK_EQUAL(level_now().available, 10);
}

CAF_TEST(a sale is forgotten with the next change and not by a wake and a write of its own) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 3, 0});
  commit();
  send(commit_reservation{{}, book, "ord_a"});
  commit();
  CAF_CHECK_EQUAL(stored_state().committed.size(), 1u);
  CAF_CHECK_EQUAL(stored_row().wake_at, 0); // nothing held: nothing to wake for
  auto saves = store_state().saves;
  advance_time(11min); // past the ten minutes a sale is remembered
  sched.run();
  CAF_CHECK_EQUAL(store_state().saves, saves);
  CAF_CHECK_EQUAL(stored_state().committed.size(), 1u);
  send(reserve_stock{{}, book, "ord_b", 1, 0});
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u);
  commit();
  CAF_CHECK_EQUAL(stored_state().committed.size(), 0u);
  CAF_CHECK_EQUAL(stored_state().reservations.size(), 1u);
  CAF_CHECK_EQUAL(stored_state().on_hand, 7);
  // Forgotten: a commit of the old order now finds nothing to sell.
  send(commit_reservation{{}, book, "ord_a"});
  CAF_CHECK_EQUAL(code_of(last()), errc::not_found);
}

CAF_TEST(stock below what is reserved is refused) {
  stock(5);
  send(reserve_stock{{}, book, "ord_a", 4, 0});
  commit();
  send(adjust_stock{{}, book, -2});
  CAF_CHECK_EQUAL(code_of(last()), errc::insufficient_stock);
  send(adjust_stock{{}, book, -1});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->on_hand, 4);
  CAF_CHECK_EQUAL(last()->available, 0);
}

CAF_TEST(changes made while a write is in flight share the next write) {
  stock(1);
  send(adjust_stock{{}, book, 1}); // write #2 in flight
  send(adjust_stock{{}, book, 1}); // waits
  send(adjust_stock{{}, book, 1}); // waits, same next write
  send(get_stock{{}, book});       // saw unwritten state: answered after it is durable
  CAF_CHECK_EQUAL(store_state().saves, 2u);
  CAF_CHECK_EQUAL(got->list.size(), 1u);
  commit(); // write #2 commits, write #3 (both waiting changes) goes out
  CAF_CHECK_EQUAL(got->list.size(), 2u);
  CAF_CHECK_EQUAL(store_state().saves, 3u);
  commit();
  CAF_REQUIRE_EQUAL(got->list.size(), 5u);
  CAF_CHECK_EQUAL(got->list[2]->on_hand, 3);
  CAF_CHECK_EQUAL(got->list[3]->on_hand, 4);
  CAF_CHECK_EQUAL(got->list[4]->on_hand, 4);
  CAF_CHECK_EQUAL(stored_state().on_hand, 4);
}

CAF_TEST(changes to items of one shard that queue up together go out as one write) {
  // A second book in the first one's shard.
  std::string other;
  for (int i = 2; other.empty(); ++i) {
    auto id = "bk_test" + std::string(8 - std::to_string(i).size(), '0') + std::to_string(i);
    if (entity::shard_of(id, 4) == entity::shard_of(book, 4))
      other = id;
  }
  stock(1);
  send(adjust_stock{{}, other, 1});
  commit();
  auto saves = store_state().saves;
  // Both changes wait in the shard's mailbox at once: one write carries them.
  self->send(probe, adjust_stock{{}, book, 1});
  self->send(probe, adjust_stock{{}, other, 1});
  sched.run();
  CAF_CHECK_EQUAL(store_state().saves, saves + 1);
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u);
  CAF_CHECK_EQUAL(store_state().pending[0].req.writes.size(), 2u);
  commit();
  CAF_REQUIRE_EQUAL(got->list.size(), 4u);
  CAF_CHECK_EQUAL(got->list[2]->on_hand, 2);
  CAF_CHECK_EQUAL(got->list[3]->on_hand, 2);
  // Alone, a change goes out by itself.
  send(adjust_stock{{}, book, 1});
  CAF_CHECK_EQUAL(store_state().saves, saves + 2);
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u);
  CAF_CHECK_EQUAL(store_state().pending[0].req.writes.size(), 1u);
}

CAF_TEST(writes go to the writer the store names and through the store once it stopped) {
  auto forwarded = std::make_shared<size_t>(0);
  auto writer = sys.spawn(fakes::forwarding_writer,
                          caf::actor_cast<snapshot_store_actor>(store), forwarded);
  store_state().writer = writer;
  stock(10); // the shard's first write goes through the store, which names the writer
  CAF_CHECK_EQUAL(*forwarded, 0u);
  stock(5);
  CAF_CHECK_EQUAL(*forwarded, 1u);
  CAF_CHECK_EQUAL(last()->on_hand, 15);
  // The writer stops (its connection broke, say): the next change is still written, through
  // the store, not sent to the stopped writer and answered with an error.
  caf::anon_send_exit(writer, caf::exit_reason::kill);
  sched.run();
  store_state().writer = nullptr;
  stock(1);
  CAF_CHECK_EQUAL(*forwarded, 1u);
  CAF_CHECK_EQUAL(last()->on_hand, 16);
  CAF_CHECK_EQUAL(stored_state().on_hand, 16);
}

CAF_TEST(commands that change nothing during a write are answered by that write) {
  stock(2);
  send(adjust_stock{{}, book, 3});              // in flight; nothing changes after it
  send(get_stock{{}, book});                    // saw the state the write holds
  send(reserve_stock{{}, book, "ord_a", 99, 0}); // refused, having seen that state
  CAF_CHECK_EQUAL(got->list.size(), 1u);
  commit();
  CAF_REQUIRE_EQUAL(got->list.size(), 4u);
  CAF_CHECK_EQUAL(got->list[2]->on_hand, 5);
  CAF_CHECK_EQUAL(code_of(got->list[3]), errc::insufficient_stock);
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u); // and no write is left to wait for
  // With nothing in flight, answers come at once.
  send(get_stock{{}, book});
  CAF_CHECK_EQUAL(got->list.size(), 5u);
}

CAF_TEST(a lost version race drops the entity and the next message reloads it) {
  stock(3);
  // Another activation wrote version 2 behind our back.
  inventory_state other;
  other.on_hand = 42;
  stored_row() = snapshot{inventory_item::entity_type, book, 2, entity::encode(other), 1, 0, {}};
  send(adjust_stock{{}, book, 1});
  commit(); // our version 2 over 1 conflicts
  CAF_CHECK_EQUAL(code_of(last()), errc::version_conflict);
  auto loads = store_state().loads;
  CAF_CHECK_EQUAL(level_now().on_hand, 42);
  CAF_CHECK_EQUAL(store_state().loads, loads + 1);
}

CAF_TEST(a failed write answers an error and keeps only what was durable) {
  stock(3);
  send(adjust_stock{{}, book, 5});
  send(adjust_stock{{}, book, 5}); // waits behind the first
  self->send(store, fakes::fail_atom::value);
  sched.run();
  CAF_REQUIRE_EQUAL(got->list.size(), 3u);
  CAF_CHECK_EQUAL(code_of(got->list[1]), errc::storage_unavailable);
  CAF_CHECK_EQUAL(code_of(got->list[2]), errc::storage_unavailable);
  CAF_CHECK_EQUAL(level_now().on_hand, 3);
}

CAF_TEST(a store that does not answer in time fails the command and a late answer is ignored) {
  stock(3);
  send(adjust_stock{{}, book, 4});
  advance_time(9s);
  sched.run();
  CAF_CHECK_EQUAL(got->list.size(), 1u); // still waiting
  advance_time(2s);
  sched.run();
  CAF_REQUIRE_EQUAL(got->list.size(), 2u);
  CAF_CHECK_EQUAL(code_of(last()), errc::timeout); // "it may still complete"
  // The store commits after all: the answer is ignored, the next activation sees the write.
  commit();
  CAF_CHECK_EQUAL(got->list.size(), 2u);
  CAF_CHECK_EQUAL(level_now().on_hand, 7);
  send(adjust_stock{{}, book, 1});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->on_hand, 8);
}

CAF_TEST(a write the store did not answer is in doubt and the next message reloads) {
  stock(3);
  send(adjust_stock{{}, book, 5});
  self->send(store, fakes::bounce_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(code_of(last()), errc::timeout); // may or may not have committed
  auto loads = store_state().loads;
  CAF_CHECK_EQUAL(level_now().on_hand, 3); // what is durable: the write never was
  CAF_CHECK_EQUAL(store_state().loads, loads + 1);
}

CAF_TEST(activation starts from the latest snapshot) {
  inventory_state saved;
  saved.on_hand = 17;
  saved.reservations["ord_x"] = reservation{2, now_ms() + 60'000};
  stored_row() = snapshot{inventory_item::entity_type, book, 9, entity::encode(saved), 1, 0, {}};
  auto lvl = level_now();
  CAF_CHECK_EQUAL(lvl.on_hand, 17);
  CAF_CHECK_EQUAL(lvl.reserved, 2);
  CAF_CHECK_EQUAL(lvl.available, 15);
  send(adjust_stock{{}, book, 1});
  commit();
  CAF_CHECK_EQUAL(stored_row().version, 10);
}

CAF_TEST(reservations that expired while the item was away do not count) {
  inventory_state saved;
  saved.on_hand = 5;
  saved.reservations["ord_x"] = reservation{5, now_ms() - 1};
  stored_row() =
      snapshot{inventory_item::entity_type, book, 1, entity::encode(saved), 1, now_ms() - 1, {}};
  send(reserve_stock{{}, book, "ord_y", 5, 0});
  commit();
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->reserved, 5);
  CAF_CHECK_EQUAL(stored_state().reservations.count("ord_x"), 0u);
}

CAF_TEST(a row that asks for a wake its state no longer has is rewritten once) {
  // Written when remembered sales still counted for wake_at.
  inventory_state saved;
  saved.on_hand = 6;
  saved.committed["ord_x"] = now_ms() - 1;
  stored_row() =
    snapshot{inventory_item::entity_type, book, 3, entity::encode(saved), 1, now_ms() - 1, {}};
  auto answers = got->list.size();
  send(get_stock{{}, book});
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u);
  commit();
  // The read is answered from the state as rewritten.
  CAF_REQUIRE_EQUAL(got->list.size(), answers + 1);
  CAF_REQUIRE(last());
  CAF_CHECK_EQUAL(last()->on_hand, 6);
  CAF_CHECK_EQUAL(stored_row().version, 4);
  CAF_CHECK_EQUAL(stored_row().wake_at, 0);
  CAF_CHECK_EQUAL(stored_state().committed.size(), 0u);
  CAF_CHECK_EQUAL(stored_state().on_hand, 6);
  // Once is enough: reading it again writes nothing.
  auto saves = store_state().saves;
  CAF_CHECK_EQUAL(level_now().on_hand, 6);
  CAF_CHECK_EQUAL(store_state().saves, saves);
}

CAF_TEST(idle items leave memory and come back from their snapshot) {
  stock(8);
  auto loads = store_state().loads;
  level_now();
  CAF_CHECK_EQUAL(store_state().loads, loads); // still in memory
  advance_time(61s);
  sched.run();
  advance_time(16s); // the next sweep finds it idle past 60 s
  sched.run();
  CAF_CHECK_EQUAL(level_now().on_hand, 8);
  CAF_CHECK_EQUAL(store_state().loads, loads + 1);
}

CAF_TEST(an idle item with a hold stays in memory and releases the hold on time) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 4, 20 * 60'000});
  commit();
  auto loads = store_state().loads;
  advance_time(61s);
  sched.run();
  advance_time(16s); // a sweep finds it idle past 60 s, but its timer lives in memory
  sched.run();
  advance_time(20min);
  sched.run();
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u); // its own release, with no lookup
  commit();
  CAF_CHECK_EQUAL(stored_state().reservations.size(), 0u);
  CAF_CHECK_EQUAL(store_state().loads, loads);
  CAF_CHECK_EQUAL(level_now().available, 10);
}

CAF_TEST(an item dropped while it held a hold is loaded by each sweep until a load succeeds) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 4, 1000});
  commit();
  send(adjust_stock{{}, book, 1});
  store_state().down = true;
  self->send(store, fakes::fail_atom::value); // the write fails: the item is dropped
  sched.run();
  CAF_CHECK_EQUAL(code_of(last()), errc::storage_unavailable);
  auto loads = store_state().loads;
  advance_time(16s); // the next sweep loads it, but the database is still down
  sched.run();
  CAF_CHECK_EQUAL(store_state().loads, loads + 1);
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u);
  store_state().down = false;
  advance_time(16s); // and the one after succeeds: the hold has expired meanwhile
  sched.run();
  CAF_CHECK_EQUAL(store_state().loads, loads + 2);
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u);
  commit();
  CAF_CHECK_EQUAL(stored_state().reservations.size(), 0u);
  CAF_CHECK_EQUAL(stored_state().on_hand, 10);
  advance_time(16s); // found: no more loads
  sched.run();
  CAF_CHECK_EQUAL(store_state().loads, loads + 2);
}

CAF_TEST(when a shard fails the region looks up the entities with work due at once) {
  stock(10);
  send(reserve_stock{{}, book, "ord_a", 4, 1000});
  commit();
  auto lookups = store_state().due_lookups;
  using region_base = entity::region_actor<inventory_item>::stateful_base<
    entity::region_state<inventory_item>>;
  auto& shards = deref<region_base>(inv).state.shards;
  auto it = std::find_if(shards.begin(), shards.end(), [](auto& s) { return s != nullptr; });
  CAF_REQUIRE(it != shards.end());
  // As a shard fails (kill would be fatal to the linked region too: CAF 0.17 never lets it be
  // trapped).
  caf::anon_send_exit(*it, caf::exit_reason::unhandled_exception); // its timers go with it
  sched.run();
  CAF_CHECK_EQUAL(store_state().due_lookups, lookups + 1);
  advance_time(1001ms); // the item, loaded again by that lookup, releases its hold on time
  sched.run();
  CAF_REQUIRE_EQUAL(store_state().pending.size(), 1u);
  commit();
  CAF_CHECK_EQUAL(stored_state().reservations.size(), 0u);
  CAF_CHECK_EQUAL(level_now().available, 10);
}

CAF_TEST_FIXTURE_SCOPE_END()
