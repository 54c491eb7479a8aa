#define CAF_SUITE catalog
#include <caf/test/dsl.hpp>

#include "actors/catalog/catalog.hpp"
#include "actors/catalog/cursor.hpp"
#include "actors/entity/codec.hpp"
#include "actors/inventory/inventory_state.hpp"
#include "tests/fakes/fake_book_store.hpp"

using namespace bookstore;

namespace {

struct fixture : test_coordinator_fixture<> {
  book_store_actor books;
  inventory_actor inventory;
  catalog_actor catalog;

  fixture() {
    books = sys.spawn(fakes::fake_book_store);
    inventory = sys.spawn(fakes::fake_inventory);
    for (auto id : {"bk_a", "bk_b", "bk_c"}) {
      book b;
      b.id = id;
      b.isbn = std::string{"isbn-"} + id;
      b.title = std::string{"Title "} + id;
      books_state().books[id] = b;
      inventory_state_().on_hand[id] = 7;
    }
    catalog = make_catalog(sys, service_ref<book_store_actor>{books},
                           service_ref<inventory_actor>{inventory}, catalog_settings{});
    sched.run();
  }

  fakes::fake_books_state& books_state() {
    return deref<book_store_actor::stateful_base<fakes::fake_books_state>>(books).state;
  }

  fakes::fake_inventory_state& inventory_state_() {
    return deref<inventory_actor::stateful_base<fakes::fake_inventory_state>>(inventory).state;
  }

  /// Sends every message from its own short-lived actor, runs, and returns the answers.
  template <class Reply, class Msg>
  std::vector<caf::expected<Reply>> ask_all(std::vector<Msg> msgs) {
    auto out = std::make_shared<std::vector<caf::expected<Reply>>>();
    for (auto& m : msgs)
      sys.spawn([this, out, m](caf::event_based_actor* me) {
        me->request(catalog, caf::infinite, m)
          .then([out](Reply& r) { out->emplace_back(std::move(r)); },
                [out](caf::error& e) { out->emplace_back(std::move(e)); });
      });
    sched.run();
    return *out;
  }

  template <class Reply, class Msg>
  caf::expected<Reply> ask(Msg msg) {
    auto all = ask_all<Reply>(std::vector<Msg>{std::move(msg)});
    CAF_REQUIRE_EQUAL(all.size(), 1u);
    return all.front();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(catalog_tests, fixture)

CAF_TEST(a book answer carries what its inventory item says is available) {
  auto got = ask<book_view>(get_book{{}, "bk_a"});
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->info.title, "Title bk_a");
  CAF_CHECK_EQUAL(got->available, 7);
}

CAF_TEST(a cart is priced in one call with unknown books marked as not found) {
  CAF_REQUIRE(ask<book_view>(get_book{{}, "bk_a"})); // bk_a cached, bk_b not yet
  auto got = ask<book_prices>(price_books{{}, {"bk_b", "bk_zz", "bk_a"}});
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->items.size(), 3u);
  auto first = got->items[0];
  auto unknown = got->items[1];
  auto third = got->items[2];
  CAF_CHECK(first.found);
  CAF_CHECK_EQUAL(first.title, "Title bk_b");
  CAF_CHECK(!unknown.found);
  CAF_CHECK_EQUAL(unknown.book_id, "bk_zz");
  CAF_CHECK_EQUAL(third.title, "Title bk_a");
  auto fetches = books_state().fetches;
  CAF_REQUIRE(ask<book_prices>(price_books{{}, {"bk_a", "bk_b"}}));
  CAF_CHECK_EQUAL(books_state().fetches, fetches); // both cached now: no fetch
}

CAF_TEST(reads after the first are served from the cache) {
  CAF_REQUIRE(ask<book_view>(get_book{{}, "bk_a"}));
  CAF_REQUIRE(ask<book_view>(get_book{{}, "bk_a"}));
  CAF_CHECK_EQUAL(books_state().fetches, 1u);
}

CAF_TEST(concurrent misses for one book share one fetch) {
  auto all = ask_all<book_view>(std::vector<get_book>(5, get_book{{}, "bk_b"}));
  CAF_REQUIRE_EQUAL(all.size(), 5u);
  for (auto& x : all) CAF_CHECK(x);
  CAF_CHECK_EQUAL(books_state().fetches, 1u);
}

CAF_TEST(unknown books are not found and never reach the inventory) {
  auto got = ask<book_view>(get_book{{}, "bk_nope"});
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(describe(got.error()).code, errc::not_found);
  auto stock = ask<stock_level>(change_stock{{}, "bk_nope", 5});
  CAF_REQUIRE(!stock);
  CAF_CHECK_EQUAL(describe(stock.error()).code, errc::not_found);
  CAF_CHECK(inventory_state_().touched.empty());
}

CAF_TEST(a new book and its initial stock are written together) {
  create_book msg;
  msg.draft.isbn = "9780306406157";
  msg.draft.title = "New";
  msg.stock = 12;
  auto got = ask<book_view>(msg);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->available, 12);
  CAF_CHECK_EQUAL(got->info.id.rfind("bk_", 0), 0u);
  CAF_REQUIRE_EQUAL(books_state().initial_stock.size(), 1u);
  auto& snap = books_state().initial_stock.front();
  CAF_CHECK_EQUAL(snap.entity_id, got->info.id);
  CAF_CHECK_EQUAL(snap.version, 1);
  CAF_CHECK_EQUAL(entity::decode<inventory_state>(snap.state).on_hand, 12);
  // Served from the cache afterwards.
  CAF_REQUIRE(ask<book_view>(get_book{{}, got->info.id}));
  CAF_CHECK_EQUAL(books_state().fetches, 0u);
}

CAF_TEST(pages link with opaque cursors and refuse forged ones) {
  auto first = ask<book_page>(list_books{{}, "", "", "", 2});
  CAF_REQUIRE(first);
  CAF_REQUIRE_EQUAL(first->items.size(), 2u);
  CAF_CHECK_EQUAL(first->items[0].available, 7);
  CAF_REQUIRE(!first->next_cursor.empty());
  auto second = ask<book_page>(list_books{{}, "", "", first->next_cursor, 2});
  CAF_REQUIRE(second);
  CAF_REQUIRE_EQUAL(second->items.size(), 1u);
  CAF_CHECK_EQUAL(second->items[0].info.id, "bk_c");
  CAF_CHECK(second->next_cursor.empty());
  // "YzE6_w" is the cursor encoding of "c1:\xff": our prefix, but not a book id.
  for (auto forged : {"bk_b", "!!!", "YWJj", "YzE6_w"}) {
    auto bad = ask<book_page>(list_books{{}, "", "", forged, 2});
    CAF_REQUIRE(!bad);
    CAF_CHECK_EQUAL(describe(bad.error()).code, errc::invalid_request);
  }
  CAF_CHECK_EQUAL(cursor::decode(cursor::encode("bk_x")).value_or(""), "bk_x");
}

CAF_TEST(published levels answer reads until the item is dropped) {
  CAF_REQUIRE(ask<book_view>(get_book{{}, "bk_a"}));
  auto asked = inventory_state_().touched.size();
  self->send(catalog, stock_level{"bk_a", 40, 0, 40}); // published after a commit
  sched.run();
  auto got = ask<book_view>(get_book{{}, "bk_a"});
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->available, 40);
  CAF_CHECK_EQUAL(inventory_state_().touched.size(), asked); // nobody asked the item
  self->send(catalog, stock_forgotten{"bk_a"});
  sched.run();
  got = ask<book_view>(get_book{{}, "bk_a"});
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->available, 7); // asked the item again
  CAF_CHECK_EQUAL(inventory_state_().touched.size(), asked + 1);
}

CAF_TEST(stock changes go to the inventory item of an existing book) {
  auto got = ask<stock_level>(change_stock{{}, "bk_c", 3});
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->on_hand, 10);
}

CAF_TEST_FIXTURE_SCOPE_END()
