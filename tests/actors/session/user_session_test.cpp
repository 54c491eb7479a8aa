#define CAF_SUITE user_session
#include <caf/test/dsl.hpp>

#include "actors/common/crypto.hpp"
#include "actors/entity/codec.hpp"
#include "actors/session/session_region.hpp"
#include "tests/fakes/fake_snapshot_store.hpp"

using namespace bookstore;
using namespace std::chrono_literals;

namespace {

/// One answer of the session region: an error, a session view or a cart.
struct reply {
  caf::error err;
  session_view view;
  cart_contents cart;
};
using answers = std::vector<reply>;

/// Forwards commands to the session region as requests and records each answer.
caf::behavior prober(caf::event_based_actor* self, session_actor region,
                     std::shared_ptr<answers> out) {
  auto fail = [out](caf::error& err) { out->push_back(reply{std::move(err), {}, {}}); };
  auto view = [=](auto msg) {
    self->request(region, caf::infinite, std::move(msg))
      .then([out](session_view& v) { out->push_back(reply{{}, std::move(v), {}}); }, fail);
  };
  auto cart = [=](auto msg) {
    self->request(region, caf::infinite, std::move(msg))
      .then([out](cart_contents& c) { out->push_back(reply{{}, {}, std::move(c)}); }, fail);
  };
  return {
    [view](open_session& m) { view(m); },    [view](refresh_session& m) { view(m); },
    [view](end_session& m) { view(m); },     [view](check_session& m) { view(m); },
    [cart](get_cart& m) { cart(m); },        [cart](set_cart_item& m) { cart(m); },
    [cart](remove_cart_item& m) { cart(m); }, [cart](clear_cart& m) { cart(m); },
  };
}

constexpr const char* sid = "ses_test0000001";
constexpr const char* user = "usr_alice";

const std::string h1 = crypto::sha256_hex("refresh-1");
const std::string h2 = crypto::sha256_hex("refresh-2");
const std::string h3 = crypto::sha256_hex("refresh-3");

struct fixture : test_coordinator_fixture<> {
  fakes::fake_store_actor store;
  session_actor region;
  caf::actor probe;
  std::shared_ptr<answers> got = std::make_shared<answers>();
  session_state saved; ///< the last decoded snapshot (checks refer to it, never to a temporary)
  const int64_t epoch_ms = 1'800'000'000'000;

  fixture() {
    store = sys.spawn(fakes::fake_snapshot_store);
    entity::runtime_settings rt;
    rt.shards = 4;
    rt.passivate_after = 60s;
    rt.wake_interval = 1h;
    rt.store_timeout = 10s;
    rt.clock = [this] { return now_ms(); };
    region = make_session_region(
      sys, service_ref<snapshot_store_actor>{caf::actor_cast<snapshot_store_actor>(store)}, rt,
      user_session::settings{});
    probe = sys.spawn(prober, region, got);
    sched.run();
  }

  ~fixture() override {
    // The region and its shards re-arm timers forever: stop them before the base fixture runs.
    for (auto& a : {caf::actor_cast<caf::actor>(region), probe, caf::actor_cast<caf::actor>(store)})
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
  const reply& last() {
    CAF_REQUIRE(!got->empty());
    return got->back();
  }

  errc code_of(const reply& r) { return describe(r.err).code; }
  std::string detail_of(const reply& r) { return describe(r.err).detail; }
  request_ctx as(const std::string& caller) { return request_ctx{"req-test", 0, caller}; }

  /// Sends `msg` and returns the error code it was answered with at once.
  template <class Msg>
  errc code_after(Msg msg) {
    auto before = got->size();
    send(std::move(msg));
    CAF_REQUIRE_EQUAL(got->size(), before + 1);
    return code_of(last());
  }

  /// Opens the test session for `user` with refresh hash h1, committed.
  void open(int64_t expires_at = 0) {
    if (expires_at == 0) expires_at = now_ms() + 3'600'000;
    send(open_session{as(""), sid, user, {"customer"}, h1, "198.51.100.4", expires_at});
    commit();
    CAF_REQUIRE(!last().err);
  }

  refresh_session refresh(const std::string& presented, const std::string& next) {
    return refresh_session{as(""), sid, presented, next, "198.51.100.5", 0};
  }

  void set_item(const std::string& book, int64_t qty) {
    send(set_cart_item{as(user), sid, book, qty});
    commit();
  }

  /// The cart as a map, from a fresh get_cart.
  std::map<std::string, int64_t> cart_now() {
    send(get_cart{as(user), sid});
    CAF_REQUIRE(!last().err);
    std::map<std::string, int64_t> out;
    for (auto& line : last().cart.items) out[line.book_id] = line.quantity;
    return out;
  }

  bool live() { return code_after(check_session{as(user), sid}) == errc::none; }

  const session_state& stored() {
    saved =
        entity::decode<session_state>(store_state().rows[{user_session::entity_type, sid}].state);
    return saved;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_session_tests, fixture)

CAF_TEST(an opened session is answered once durable and its id cannot be opened again) {
  auto expires = now_ms() + 3'600'000;
  send(open_session{as(""), sid, user, {"customer"}, h1, "198.51.100.4", expires});
  CAF_CHECK_EQUAL(got->size(), 0u); // parked in the store: nothing answered yet
  commit();
  CAF_REQUIRE_EQUAL(got->size(), 1u);
  CAF_CHECK_EQUAL(stored().refresh_hash, h1);
  CAF_REQUIRE(live());
  auto view = last().view;
  CAF_CHECK_EQUAL(view.session_id, sid);
  CAF_CHECK_EQUAL(view.user_id, user);
  CAF_CHECK_EQUAL(view.roles, std::vector<std::string>{"customer"});
  CAF_CHECK_EQUAL(view.generation, 0);
  CAF_CHECK_EQUAL(view.revoked, false);
  CAF_CHECK_EQUAL(view.created_at, now_ms());
  CAF_CHECK_EQUAL(view.expires_at, expires);
  CAF_CHECK_EQUAL(view.last_ip, "198.51.100.4");
  // The id is taken: opening it again (for anyone) is refused and changes nothing.
  CAF_CHECK_EQUAL(code_after(open_session{as(""), sid, "usr_mallory", {"admin"}, h2, "", expires}),
                  errc::invalid_state);
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u);
  CAF_REQUIRE(live());
  CAF_CHECK_EQUAL(last().view.user_id, user);
}

CAF_TEST(refresh rotates the current token once durable and a guess changes nothing) {
  open();
  CAF_CHECK_EQUAL(code_after(refresh(crypto::sha256_hex("a guess"), h2)), errc::unauthenticated);
  CAF_CHECK_NOT_EQUAL(detail_of(last()), "refresh_reuse");
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u); // a stranger cannot end the session
  auto answered = got->size();
  send(refresh(h1, h2));
  CAF_CHECK_EQUAL(got->size(), answered); // the rotation waits for its snapshot
  commit();
  CAF_REQUIRE(!last().err);
  CAF_CHECK_EQUAL(last().view.generation, 1);
  CAF_CHECK_EQUAL(last().view.last_ip, "198.51.100.5");
  CAF_CHECK_EQUAL(stored().refresh_hash, h2);
  send(refresh(h2, h3));
  commit();
  CAF_REQUIRE(!last().err);
  CAF_CHECK_EQUAL(last().view.generation, 2);
}

CAF_TEST(a spent refresh token revokes the whole session) {
  open();
  send(refresh(h1, h2));
  commit();
  send(refresh(h1, h3)); // the old token again: someone holds a copy
  auto answered = got->size();
  commit();
  CAF_REQUIRE_EQUAL(got->size(), answered + 1); // answered once the revocation is durable
  CAF_CHECK_EQUAL(code_of(last()), errc::unauthenticated);
  CAF_CHECK_EQUAL(detail_of(last()), "refresh_reuse");
  CAF_CHECK_EQUAL(stored().revoked, true);
  // Even the legitimate holder's new token is dead now.
  CAF_CHECK_EQUAL(code_after(refresh(h2, h3)), errc::unauthenticated);
  CAF_CHECK(!live());
}

CAF_TEST(ending a session revokes it and empties its cart and may be repeated) {
  open();
  set_item("bk_a", 2);
  send(end_session{as(user), sid});
  commit();
  CAF_REQUIRE(!last().err);
  CAF_CHECK_EQUAL(last().view.revoked, true);
  CAF_CHECK_EQUAL(stored().revoked, true);
  CAF_CHECK_EQUAL(saved.cart.size(), 0u);
  CAF_CHECK(!live());
  CAF_CHECK_EQUAL(code_after(get_cart{as(user), sid}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(refresh(h1, h2)), errc::unauthenticated);
  auto saves = store_state().saves;
  // Logging out twice is no error and writes nothing.
  CAF_CHECK_EQUAL(code_after(end_session{as(user), sid}), errc::none);
  CAF_CHECK_EQUAL(last().view.revoked, true);
  CAF_CHECK_EQUAL(store_state().saves, saves);
}

CAF_TEST(every command on an unknown session is unauthenticated) {
  const std::string nobody = "ses_nobody00001";
  const auto ctx = as(user);
  auto unauthenticated = errc::unauthenticated;
  CAF_CHECK_EQUAL(code_after(refresh_session{ctx, nobody, h1, h2, "", 0}), unauthenticated);
  CAF_CHECK_EQUAL(code_after(end_session{ctx, nobody}), unauthenticated);
  CAF_CHECK_EQUAL(code_after(check_session{ctx, nobody}), unauthenticated);
  CAF_CHECK_EQUAL(code_after(get_cart{ctx, nobody}), unauthenticated);
  CAF_CHECK_EQUAL(code_after(set_cart_item{ctx, nobody, "bk_a", 1}), unauthenticated);
  CAF_CHECK_EQUAL(code_after(remove_cart_item{ctx, nobody, "bk_a"}), unauthenticated);
  CAF_CHECK_EQUAL(code_after(clear_cart{ctx, nobody}), unauthenticated);
  CAF_CHECK_EQUAL(store_state().saves, 0u); // and nothing was created for it
}

CAF_TEST(another user cannot use or end the session) {
  open();
  set_item("bk_a", 1);
  auto other = as("usr_mallory");
  CAF_CHECK_EQUAL(code_after(check_session{other, sid}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(get_cart{other, sid}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(set_cart_item{other, sid, "bk_b", 3}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(remove_cart_item{other, sid, "bk_a"}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(clear_cart{other, sid}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(end_session{other, sid}), errc::unauthenticated);
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u);
  CAF_CHECK(live());
  auto cart = cart_now();
  CAF_CHECK_EQUAL(cart.size(), 1u);
  CAF_CHECK_EQUAL(cart["bk_a"], 1);
}

CAF_TEST(the cart holds one quantity per book) {
  open();
  set_item("bk_a", 2);
  set_item("bk_b", 1);
  set_item("bk_a", 5); // replaces, does not add
  auto cart = cart_now();
  CAF_CHECK_EQUAL(cart.size(), 2u);
  CAF_CHECK_EQUAL(cart["bk_a"], 5);
  CAF_CHECK_EQUAL(cart["bk_b"], 1);
  send(remove_cart_item{as(user), sid, "bk_b"});
  commit();
  // Removing a book that is not there is not an error.
  CAF_CHECK_EQUAL(code_after(remove_cart_item{as(user), sid, "bk_never"}), errc::none);
  cart = cart_now();
  CAF_CHECK_EQUAL(cart.size(), 1u);
  CAF_CHECK_EQUAL(cart.count("bk_b"), 0u);
  send(clear_cart{as(user), sid});
  commit();
  CAF_REQUIRE(!last().err);
  CAF_CHECK_EQUAL(last().cart.items.size(), 0u);
  CAF_CHECK_EQUAL(stored().cart.size(), 0u);
  CAF_CHECK(live()); // clearing the cart is not a logout
}

CAF_TEST(quantities outside 1 to 100 and a fifty first book are refused) {
  open();
  for (int64_t bad : {int64_t{0}, int64_t{101}, int64_t{-1}}) {
    CAF_CHECK_EQUAL(code_after(set_cart_item{as(user), sid, "bk_a", bad}), errc::invalid_request);
    CAF_CHECK_EQUAL(detail_of(last()), "quantity");
  }
  CAF_CHECK_EQUAL(store_state().pending.size(), 0u);
  set_item("bk_0", 100);
  for (int i = 1; i < 50; ++i) set_item("bk_" + std::to_string(i), 1);
  CAF_REQUIRE_EQUAL(last().cart.items.size(), 50u);
  CAF_CHECK_EQUAL(code_after(set_cart_item{as(user), sid, "bk_50", 1}), errc::invalid_request);
  CAF_CHECK_EQUAL(detail_of(last()), "quantity");
  set_item("bk_7", 3); // a book already in the cart may change
  CAF_CHECK(!last().err);
  send(remove_cart_item{as(user), sid, "bk_1"});
  commit();
  set_item("bk_50", 1); // room again
  auto cart = cart_now();
  CAF_CHECK_EQUAL(cart.size(), 50u);
  CAF_CHECK_EQUAL(cart["bk_0"], 100);
  CAF_CHECK_EQUAL(cart["bk_7"], 3);
  CAF_CHECK_EQUAL(cart["bk_50"], 1);
}

CAF_TEST(an expired session is unauthenticated) {
  open(now_ms() + 1000);
  set_item("bk_a", 1);
  CAF_CHECK(live());
  advance_time(1s); // now == expires_at
  sched.run();
  CAF_CHECK(!live());
  CAF_CHECK_EQUAL(code_after(refresh(h1, h2)), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(get_cart{as(user), sid}), errc::unauthenticated);
  CAF_CHECK_EQUAL(code_after(set_cart_item{as(user), sid, "bk_b", 1}), errc::unauthenticated);
}

CAF_TEST(a failed write does not spend the refresh token) {
  open();
  send(refresh(h1, h2));
  self->send(store, fakes::fail_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(code_of(last()), errc::storage_unavailable);
  send(refresh(h1, h2)); // the rotation never became durable: the same token still works
  commit();
  CAF_REQUIRE(!last().err);
  CAF_CHECK_EQUAL(last().view.generation, 1);
}

CAF_TEST(a session comes back from its snapshot after leaving memory) {
  open();
  send(refresh(h1, h2));
  commit();
  set_item("bk_a", 4);
  auto loads = store_state().loads;
  advance_time(61s);
  sched.run();
  advance_time(16s); // the next sweep finds it idle past 60 s
  sched.run();
  auto cart = cart_now();
  CAF_CHECK_EQUAL(store_state().loads, loads + 1); // reloaded
  CAF_CHECK_EQUAL(cart["bk_a"], 4);
  CAF_REQUIRE(live());
  CAF_CHECK_EQUAL(last().view.generation, 1);
  send(refresh(h1, h3)); // the spent token is remembered across activations
  commit();
  CAF_CHECK_EQUAL(detail_of(last()), "refresh_reuse");
  CAF_CHECK_EQUAL(stored().revoked, true);
}

CAF_TEST_FIXTURE_SCOPE_END()
