#define CAF_SUITE order_saga
#include <caf/test/dsl.hpp>

// The checkout saga end to end on one simulated node: the real order entity and the real
// payment_intent entity in their real runtime (regions over tests/fakes/fake_snapshot_store.hpp),
// the real checkout service, and scripted fakes of what lies outside the node: the inventory, the
// order index and the payment provider. Time is the test coordinator's clock.

#include "actors/common/time.hpp"
#include "actors/entity/codec.hpp"
#include "actors/orders/checkout.hpp"
#include "actors/orders/order_region.hpp"
#include "actors/payments/payment_region.hpp"
#include "actors/protocol/names.hpp"
#include "tests/fakes/fake_snapshot_store.hpp"

#include <deque>
#include <map>
#include <set>

using namespace bookstore;
using namespace std::chrono_literals;

namespace {

// -- fake inventory: stock per book, reservations per order, scripted silence -----------------

struct fake_book {
  int64_t on_hand = 0;
  std::map<std::string, int64_t> held; ///< order -> quantity reserved
  std::set<std::string> sold;          ///< orders whose reservation became a sale
  std::set<std::string> returned;      ///< orders whose sale was undone
};

struct fake_inventory_state {
  std::map<std::string, fake_book> books;
  /// "reserve:<book>" / "commit:<book>" -> how many more such calls take effect but are never
  /// answered (the answer is lost).
  std::map<std::string, int> swallow;
  /// "commit:<book>" -> how many more sales fail (errc::unavailable) without taking effect.
  std::map<std::string, int> fail;
  /// Books whose holds vanish at the next sale while others buy the rest (an expired hold).
  std::set<std::string> gone;
  std::vector<caf::typed_response_promise<stock_level>> unanswered;
  /// Expiry of every hold given to book|order, in order (a repeat extends the hold).
  std::map<std::string, std::vector<int64_t>> holds;
  std::map<std::string, int> calls; ///< "reserve:<book>" etc. -> calls received
  std::function<int64_t()> clock;
  static inline const char* name = "fake_inventory";
};

using inventory_pointer = inventory_actor::stateful_pointer<fake_inventory_state>;

stock_level level_of(const std::string& id, const fake_book& b) {
  int64_t held = 0;
  for (auto& [order, qty] : b.held) held += qty;
  return stock_level{id, b.on_hand, held, b.on_hand - held};
}

/// Answers `lvl`, or nothing if the script swallows this call.
caf::result<stock_level> answer(inventory_pointer self, const std::string& call, stock_level lvl) {
  auto& st = self->state;
  ++st.calls[call];
  if (auto it = st.swallow.find(call); it != st.swallow.end() && it->second > 0) {
    --it->second;
    auto rp = self->make_response_promise<stock_level>();
    st.unanswered.push_back(rp);
    return rp;
  }
  return lvl;
}

inventory_actor::behavior_type fake_inventory(inventory_pointer self,
                                              std::function<int64_t()> clock) {
  self->state.clock = std::move(clock);
  return {
      [self](get_stock& m) -> caf::result<stock_level> {
        return level_of(m.book_id, self->state.books[m.book_id]);
      },
      [self](adjust_stock& m) -> caf::result<stock_level> {
        auto& b = self->state.books[m.book_id];
        b.on_hand += m.delta;
        return level_of(m.book_id, b);
      },
      [self](reserve_stock& m) -> caf::result<stock_level> {
        auto& st = self->state;
        auto& b = st.books[m.book_id];
        auto call = "reserve:" + m.book_id;
        if (b.returned.count(m.order_id) != 0) {
          ++st.calls[call];
          return make_error(errc::invalid_state, m.order_id, "the order's stock was returned");
        }
        if (b.sold.count(m.order_id) == 0) {
          auto it = b.held.find(m.order_id);
          if (it == b.held.end()) {
            if (level_of(m.book_id, b).available < m.quantity) {
              ++st.calls[call];
              return make_error(errc::insufficient_stock, m.book_id, "not enough stock available");
            }
            b.held.emplace(m.order_id, m.quantity);
          } else if (it->second != m.quantity) {
            ++st.calls[call];
            return make_error(errc::invalid_state, m.order_id, "another quantity is held");
          }
          st.holds[m.book_id + "|" + m.order_id].push_back(st.clock() + m.ttl_ms);
        }
        return answer(self, call, level_of(m.book_id, b));
      },
      [self](commit_reservation& m) -> caf::result<stock_level> {
        auto& st = self->state;
        auto& b = st.books[m.book_id];
        auto call = "commit:" + m.book_id;
        if (auto it = st.fail.find(call); it != st.fail.end() && it->second > 0) {
          --it->second;
          ++st.calls[call];
          return make_error(errc::unavailable, m.book_id, "inventory restarting");
        }
        if (b.returned.count(m.order_id) != 0) {
          ++st.calls[call];
          return make_error(errc::invalid_state, m.order_id, "the order's stock was returned");
        }
        if (st.gone.erase(m.book_id) != 0) {
          b.held.erase(m.order_id);
          b.on_hand = level_of(m.book_id, b).reserved;
        }
        if (b.sold.count(m.order_id) == 0) {
          auto it = b.held.find(m.order_id);
          if (it == b.held.end()) {
            ++st.calls[call];
            return make_error(errc::not_found, m.order_id, "the order holds no reservation here");
          }
          b.on_hand -= it->second;
          b.held.erase(it);
          b.sold.insert(m.order_id);
        }
        return answer(self, call, level_of(m.book_id, b));
      },
      [self](release_reservation& m) -> caf::result<stock_level> {
        auto& b = self->state.books[m.book_id];
        b.held.erase(m.order_id);
        return answer(self, "release:" + m.book_id, level_of(m.book_id, b));
      },
      [self](return_stock& m) -> caf::result<stock_level> {
        // The real item's rule (actors/protocol/inventory.hpp): a hold is dropped; a sale is put
        // back on hand once; the order cannot take stock here again.
        auto& b = self->state.books[m.book_id];
        if (b.returned.count(m.order_id) == 0 && b.held.erase(m.order_id) == 0 &&
            (m.sold || b.sold.count(m.order_id) != 0)) {
          b.on_hand += m.quantity;
          b.sold.erase(m.order_id);
        }
        b.returned.insert(m.order_id);
        return answer(self, "return:" + m.book_id, level_of(m.book_id, b));
      },
      [](wake_entity&) {},
  };
}

// -- fake order index: every IP is known unless the test says otherwise -----------------------

struct fake_index_state {
  bool known_ip = true;
  std::vector<std::string> asked; ///< orders whose IP was asked about
  static inline const char* name = "fake_order_index";
};

order_index_actor::behavior_type
fake_index(order_index_actor::stateful_pointer<fake_index_state> self) {
  return {
      [self](check_ip& m) {
        self->state.asked.push_back(m.order_id);
        return self->state.known_ip;
      },
      [](query_orders&) { return order_refs{}; },
  };
}

// -- fake payment provider: Stripe's test tokens, one intent per payment id, scripted faults ---

/// Answers every call the provider took but never answered, as the provider sees it now.
using answer_late_atom = caf::atom_constant<caf::atom("fplate")>;

using fake_provider_actor = provider_actor::extend<caf::reacts_to<answer_late_atom>>;

struct fake_provider_state {
  /// One entry per call, consumed in order: "ok" (the default when empty), "error" (refused,
  /// nothing happens), "lost" (nothing happens and nobody answers).
  std::deque<std::string> script;
  std::map<std::string, std::string> status; ///< payment id -> status at the provider
  std::map<std::string, int> charges;        ///< payment id -> times money was taken
  std::map<std::string, int> refunds;
  std::map<std::string, int> voids;
  std::vector<provider_call> calls; ///< every call received
  std::vector<provider_call> lost;
  static inline const char* name = "fake_payment_provider";
};

using provider_pointer = fake_provider_actor::stateful_pointer<fake_provider_state>;

provider_result simulate(fake_provider_state& st, const provider_call& c) {
  provider_result r;
  r.ctx.request_id = c.request_id;
  r.payment_id = c.payment_id;
  r.call = c.call;
  r.provider_ref = "sim_" + c.payment_id;
  auto& s = st.status[c.payment_id];
  auto refuse = [&] {
    r.outcome = "error";
    r.error = "payment intent is " + s + ", cannot " + c.op;
    return r;
  };
  if (c.op == "confirm") {
    if (s.empty() || s == "failed") {
      if (c.token == "tok_visa") {
        s = c.manual_capture ? "requires_capture" : "succeeded";
        if (!c.manual_capture) ++st.charges[c.payment_id];
      } else {
        s = "failed";
        r.decline_code = c.token == "tok_chargeDeclinedInsufficientFunds" ? "insufficient_funds"
                                                                          : "card_declined";
      }
    }
    r.outcome = s == "failed" ? "declined" : s;
  } else if (c.op == "capture" && (s == "requires_capture" || s == "succeeded")) {
    if (s == "requires_capture") ++st.charges[c.payment_id];
    r.outcome = s = "succeeded";
  } else if (c.op == "cancel" && (s == "requires_capture" || s == "canceled")) {
    if (s == "requires_capture") ++st.voids[c.payment_id];
    r.outcome = s = "canceled";
  } else if (c.op == "refund" && (s == "succeeded" || s == "refunded")) {
    if (s == "succeeded") ++st.refunds[c.payment_id];
    r.outcome = s = "refunded";
  } else {
    return refuse();
  }
  return r;
}

void reply_to_payments(provider_pointer self, provider_result r) {
  // Through the registry, as the real provider does: a restarted payments region is found.
  auto payments = self->system().registry().get<payment_actor>(names::payments);
  if (payments)
    self->request(payments, caf::infinite, std::move(r))
        .then([](payment_view&) {}, [](caf::error&) {});
}

fake_provider_actor::behavior_type fake_provider(provider_pointer self) {
  return {
      [self](provider_call& c) {
        auto& st = self->state;
        st.calls.push_back(c);
        std::string mode = "ok";
        if (!st.script.empty()) {
          mode = st.script.front();
          st.script.pop_front();
        }
        if (mode == "lost") {
          st.lost.push_back(c);
          return;
        }
        if (mode == "error") {
          provider_result r;
          r.ctx.request_id = c.request_id;
          r.payment_id = c.payment_id;
          r.call = c.call;
          r.outcome = "error";
          r.error = "connection refused";
          return reply_to_payments(self, std::move(r));
        }
        reply_to_payments(self, simulate(st, c));
      },
      [self](answer_late_atom) {
        for (auto& c : std::exchange(self->state.lost, {}))
          reply_to_payments(self, simulate(self->state, c));
      },
      [](list_provider_payments&) { return provider_payments{}; },
      [](set_provider_fault&) { return true; },
  };
}

// -- the client: sends commands and records each answer by request id -------------------------

struct reply {
  caf::error err;
  order_view order;
  payment_view payment;
};
using replies = std::map<std::string, reply>;

caf::behavior prober(caf::event_based_actor* self, std::shared_ptr<replies> out) {
  auto to_orders = [self, out](auto msg) {
    auto rid = msg.ctx.request_id;
    auto orders = self->system().registry().template get<order_actor>(names::orders);
    self->request(orders, caf::infinite, std::move(msg))
        .then(
            [out, rid](order_view& v) {
              (*out)[rid] = reply{{}, std::move(v), {}};
            },
            [out, rid](caf::error& e) {
              (*out)[rid] = reply{std::move(e), {}, {}};
            });
  };
  return {
      [to_orders](place_order& m) { to_orders(m); },
      [to_orders](get_order& m) { to_orders(m); },
      [to_orders](cancel_order& m) { to_orders(m); },
      [to_orders](ship_order& m) { to_orders(m); },
      [to_orders](review_order& m) { to_orders(m); },
      [to_orders](order_event& m) { to_orders(m); },
      [self, out](get_payment& m) {
        auto rid = m.ctx.request_id;
        auto payments = self->system().registry().get<payment_actor>(names::payments);
        self->request(payments, caf::infinite, std::move(m))
            .then(
                [out, rid](payment_view& v) {
                  (*out)[rid] = reply{{}, {}, std::move(v)};
                },
                [out, rid](caf::error& e) {
                  (*out)[rid] = reply{std::move(e), {}, {}};
                });
      },
  };
}

constexpr const char* user = "usr_alice";

order_line line(const std::string& book, int64_t quantity, int64_t unit_amount) {
  return order_line{book, "Title of " + book, quantity, money{unit_amount, "EUR"}};
}

std::string payment_of(const std::string& order_id) {
  return "pi_" + order_id.substr(order_id.find('_') + 1);
}

struct fixture : test_coordinator_fixture<> {
  fakes::fake_store_actor store;
  inventory_actor inventory;
  order_index_actor index;
  fake_provider_actor provider;
  order_actor orders;
  payment_actor payments;
  checkout_actor checkout;
  caf::actor probe;
  std::shared_ptr<replies> got = std::make_shared<replies>();
  // The checkout stamps its calls' deadlines with the wall clock (unix_ms_now), the entities
  // compare them with the runtime clock. A runtime clock an hour behind the wall keeps those
  // deadlines out of the way; the checkout's own request timeouts (test clock) bound each call,
  // as in production where both clocks are the same.
  const int64_t epoch_ms = unix_ms_now() - 3'600'000;
  const caf::actor_clock::time_point started = sched.clock().now();
  int next_request = 0;
  order_state saved_order; ///< the last decoded order snapshot (checks refer to it)

  fixture() {
    store = sys.spawn(fakes::fake_snapshot_store);
    inventory = sys.spawn(fake_inventory, std::function<int64_t()>{[this] { return now_ms(); }});
    index = sys.spawn(fake_index);
    provider = sys.spawn(fake_provider);
    start_node();
    probe = sys.spawn(prober, got);
    sched.run();
    stock("bk_a", 10);
    stock("bk_b", 10);
    stock("bk_c", 10);
  }

  ~fixture() override {
    // The regions and their shards re-arm timers forever: stop them before the base fixture
    // runs everything that is left.
    for (auto& a : {caf::actor_cast<caf::actor>(orders), caf::actor_cast<caf::actor>(payments),
                    caf::actor_cast<caf::actor>(checkout), caf::actor_cast<caf::actor>(inventory),
                    caf::actor_cast<caf::actor>(index), caf::actor_cast<caf::actor>(provider),
                    probe, caf::actor_cast<caf::actor>(store)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  int64_t now_ms() {
    using namespace std::chrono;
    return epoch_ms + duration_cast<milliseconds>(sched.clock().now() - started).count();
  }

  // -- the node: orders and payments regions, checkout service ---------------------------------

  void start_node() {
    service_ref<snapshot_store_actor> snapshots{caf::actor_cast<snapshot_store_actor>(store)};
    entity::runtime_settings rt;
    rt.shards = 4;
    rt.passivate_after = 60s;
    rt.wake_interval = 1h;
    rt.store_timeout = 10s;
    rt.clock = [this] { return now_ms(); };
    order::settings os;
    os.step_timeout_ms = 5000;
    os.retry_base_ms = 500;
    os.retry_max_ms = 4000;
    os.review_threshold = 50000;
    os.checkout = service_ref<checkout_actor>{sys, names::checkout};
    orders = make_order_region(sys, snapshots, rt, os);
    payment_intent::settings ps;
    ps.call_cap_ms = 2000;
    ps.provider = service_ref<provider_actor>{caf::actor_cast<provider_actor>(provider)};
    payments = make_payment_region(sys, snapshots, rt, ps);
    checkout_settings cs;
    cs.orders = service_ref<order_actor>{sys, names::orders};
    cs.inventory = inventory;
    cs.payments = service_ref<payment_actor>{sys, names::payments};
    cs.index = index;
    // Longer than the order's step timeout: a silent call is handed out again by the order
    // before the checkout gives up on it.
    cs.step_timeout = 20s;
    cs.payment_wait = 3s;
    checkout = make_checkout(sys, cs);
    // As the supervisor does: CAF's registry keeps an existing entry on put.
    for (auto name : {names::orders, names::payments, names::checkout}) sys.registry().erase(name);
    sys.registry().put(names::orders, orders);
    sys.registry().put(names::payments, payments);
    sys.registry().put(names::checkout, checkout);
    sched.run();
  }

  /// The node dies: its actors are killed, and the writes it had in flight either commit after
  /// all or fail. The store, the inventory and the provider live on.
  void crash_node(bool in_flight_writes_commit) {
    for (auto& a : {caf::actor_cast<caf::actor>(orders), caf::actor_cast<caf::actor>(payments),
                    caf::actor_cast<caf::actor>(checkout)})
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
    if (in_flight_writes_commit)
      self->send(store, fakes::commit_atom::value);
    else
      self->send(store, fakes::fail_atom::value);
    sched.run();
  }

  // -- driving the scheduler and the store ------------------------------------------------------

  fakes::fake_store_state& store_state() {
    return deref<fakes::fake_store_actor::stateful_base<fakes::fake_store_state>>(store).state;
  }

  /// Commits the writes waiting in the store (one round) and runs what follows.
  bool commit_one() {
    sched.run();
    if (store_state().pending.empty()) return false;
    self->send(store, fakes::commit_atom::value);
    sched.run();
    return true;
  }

  /// Runs messages and commits writes until nothing moves without the clock.
  void settle() {
    for (int round = 0; commit_one(); ++round)
      if (round > 1000) CAF_FAIL("the saga writes forever");
  }

  void advance(caf::timespan d) {
    settle();
    advance_time(d);
    settle();
  }

  /// Lets time pass in `step`s until `done` holds (at most `max_steps`).
  template <class Pred>
  bool wait_for(Pred done, caf::timespan step = 500ms, int max_steps = 120) {
    settle();
    for (int i = 0; i < max_steps && !done(); ++i) advance(step);
    return done();
  }

  // -- the client -------------------------------------------------------------------------------

  request_ctx ctx(const std::string& caller = user) {
    return request_ctx{"req-" + std::to_string(++next_request), now_ms() + 600'000, caller};
  }

  place_order order_for(const std::string& id, std::vector<order_line> items,
                        const std::string& token = "tok_visa") {
    place_order m;
    m.ctx = ctx();
    m.order_id = id;
    m.user_id = user;
    m.body_hash = "hash-of-" + id;
    m.items = std::move(items);
    m.address = shipping_address{"Alice", "1 Main St", "", "Berlin", "10115", "DE"};
    m.payment_token = token;
    m.client_ip = "198.51.100.7";
    return m;
  }

  /// Sends `msg` (with a fresh request id) without running anything; returns the request id.
  template <class Msg>
  std::string send_only(Msg msg) {
    msg.ctx.request_id = "req-" + std::to_string(++next_request);
    auto rid = msg.ctx.request_id;
    self->send(probe, std::move(msg));
    return rid;
  }

  template <class Msg>
  std::string send(Msg msg) {
    auto rid = send_only(std::move(msg));
    settle();
    return rid;
  }

  const reply* answer(const std::string& rid) {
    auto it = got->find(rid);
    return it == got->end() ? nullptr : &it->second;
  }

  /// The answer to `rid`, which must be there.
  const reply& answered(const std::string& rid) {
    auto r = answer(rid);
    CAF_REQUIRE(r != nullptr);
    if (r->err) CAF_MESSAGE(rid << " answered " << sys.render(r->err));
    return *r;
  }

  errc code_of(const reply& r) { return describe(r.err).code; }

  /// Places the order and waits (without the clock) for its first answer.
  order_view place(place_order msg) {
    auto& r = answered(send(std::move(msg)));
    CAF_REQUIRE(!r.err);
    return r.order;
  }

  order_view view(const std::string& id) {
    auto& r = answered(send(get_order{ctx(), id, true}));
    CAF_REQUIRE(!r.err);
    return r.order;
  }

  payment_view payment(const std::string& order_id) {
    auto& r = answered(send(get_payment{ctx(), payment_of(order_id)}));
    CAF_REQUIRE(!r.err);
    return r.payment;
  }

  order_event event(const std::string& id, const std::string& step, int64_t attempt,
                    const std::string& kind, const std::string& detail = {}, bool flag = false) {
    return order_event{ctx(""), id, step, attempt, kind, detail, flag};
  }

  // -- what the fakes and the store hold --------------------------------------------------------

  fake_inventory_state& inv() {
    return deref<inventory_actor::stateful_base<fake_inventory_state>>(inventory).state;
  }

  fake_index_state& idx() {
    return deref<order_index_actor::stateful_base<fake_index_state>>(index).state;
  }

  fake_provider_state& prov() {
    return deref<fake_provider_actor::stateful_base<fake_provider_state>>(provider).state;
  }

  void stock(const std::string& book, int64_t n) { inv().books[book].on_hand = n; }
  int64_t on_hand(const std::string& book) { return inv().books[book].on_hand; }
  bool holds(const std::string& book, const std::string& id) {
    return inv().books[book].held.count(id) != 0;
  }
  bool sold(const std::string& book, const std::string& id) {
    return inv().books[book].sold.count(id) != 0;
  }

  /// Money the provider kept for this order: charges minus refunds.
  int kept(const std::string& id) {
    auto pid = payment_of(id);
    return prov().charges[pid] - prov().refunds[pid];
  }

  bool stored(const std::string& id) {
    return store_state().rows.count({order::entity_type, id}) != 0;
  }

  const order_state& stored_order(const std::string& id) {
    auto it = store_state().rows.find({order::entity_type, id});
    CAF_REQUIRE(it != store_state().rows.end());
    saved_order = entity::decode<order_state>(it->second.state);
    return saved_order;
  }

  /// The order index row the order's last committed snapshot carried.
  const order_listing& stored_listing(const std::string& id) {
    return store_state().rows[{order::entity_type, id}].listing;
  }

  int64_t stored_version(const std::string& id) {
    return store_state().rows[{order::entity_type, id}].version;
  }

  /// Whether a write of the order waiting in the store holds `status`.
  bool pending_write_with(const std::string& id, const std::string& status) {
    for (auto& p : store_state().pending)
      for (auto& w : p.req.writes)
        if (w.entity_type == order::entity_type && w.entity_id == id &&
            entity::decode<order_state>(w.state).status == status)
          return true;
    return false;
  }

  bool settled_as(const std::string& id, const std::string& status) {
    return stored(id) && stored_order(id).status == status && saved_order.step == "done";
  }

  size_t count_status(const order_view& v, const std::string& status) {
    return std::count_if(v.history.begin(), v.history.end(),
                         [&](const status_change& h) { return h.status == status; });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(order_saga_tests, fixture)

CAF_TEST(an order is answered confirmed only once its confirmed snapshot is written) {
  const std::string id = "ord_happy0001";
  auto rid = send_only(order_for(id, {line("bk_a", 2, 1500), line("bk_b", 1, 2000)}));
  sched.run();
  // Each transition waits for its snapshot; the answer waits for the confirmed one.
  for (int i = 0; i < 20 && !pending_write_with(id, "confirmed"); ++i) {
    CAF_CHECK(answer(rid) == nullptr);
    commit_one();
  }
  CAF_REQUIRE(pending_write_with(id, "confirmed"));
  CAF_CHECK(answer(rid) == nullptr);
  CAF_CHECK_EQUAL(stored_order(id).status, "reserved"); // the durable state is not confirmed yet
  CAF_CHECK(stored_listing(id).status.empty());         // nor listed: it moves on in ms
  commit_one();
  auto& r = answered(rid);
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "confirmed");
  CAF_CHECK_EQUAL(r.order.answer, "confirmed");
  CAF_CHECK_EQUAL(r.order.payment_status, "succeeded");
  CAF_CHECK_EQUAL(r.order.total.amount, 5000);
  CAF_CHECK_EQUAL(stored_order(id).status, "confirmed");
  settle();
  // Stock sold, nothing left held; money taken exactly once.
  CAF_CHECK(sold("bk_a", id) && sold("bk_b", id));
  CAF_CHECK(!holds("bk_a", id) && !holds("bk_b", id));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 8);
  CAF_CHECK_EQUAL(on_hand("bk_b"), 9);
  CAF_CHECK_EQUAL(prov().calls.size(), 1u);
  CAF_CHECK_EQUAL(prov().charges[payment_of(id)], 1);
  CAF_CHECK_EQUAL(payment(id).status, "succeeded");
  // Listed with the confirmed snapshot; a small order never needs its IP looked up.
  CAF_CHECK_EQUAL(stored_listing(id).status, "confirmed");
  CAF_CHECK_EQUAL(stored_listing(id).user_id, user);
  CAF_CHECK_EQUAL(stored_listing(id).total, 5000);
  CAF_CHECK(idx().asked.empty());
  auto v = view(id);
  std::vector<std::string> history;
  for (auto& h : v.history) history.push_back(h.status);
  CAF_CHECK_EQUAL(history, (std::vector<std::string>{"pending", "reserved", "confirmed"}));
}

CAF_TEST(a short book rejects the order and releases every reservation) {
  stock("bk_b", 0);
  const std::string id = "ord_short0001";
  auto v =
      place(order_for(id, {line("bk_a", 1, 1500), line("bk_b", 1, 1500), line("bk_c", 2, 1500)}));
  CAF_CHECK_EQUAL(v.status, "rejected");
  CAF_CHECK_EQUAL(v.answer, "insufficient_stock");
  CAF_CHECK_EQUAL(v.short_book, "bk_b");
  // bk_a and bk_c were reserved before the shortage was known: both are free again.
  CAF_CHECK_EQUAL(inv().calls["reserve:bk_a"], 1);
  CAF_CHECK_EQUAL(inv().calls["reserve:bk_c"], 1);
  for (auto book : {"bk_a", "bk_b", "bk_c"}) {
    CAF_CHECK(!holds(book, id));
    CAF_CHECK(!sold(book, id));
  }
  CAF_CHECK_EQUAL(on_hand("bk_a"), 10);
  CAF_CHECK_EQUAL(on_hand("bk_c"), 10);
  CAF_CHECK_EQUAL(prov().calls.size(), 0u); // never paid
  CAF_CHECK(settled_as(id, "rejected"));
}

CAF_TEST(a declined card fails the payment and releases the stock) {
  const std::string id = "ord_decline01";
  auto v = place(order_for(id, {line("bk_a", 1, 1500), line("bk_b", 3, 1000)},
                           "tok_chargeDeclinedInsufficientFunds"));
  CAF_CHECK_EQUAL(v.status, "payment_failed");
  CAF_CHECK_EQUAL(v.answer, "payment_declined");
  CAF_CHECK_EQUAL(v.decline_code, "insufficient_funds");
  CAF_CHECK(!holds("bk_a", id) && !holds("bk_b", id));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 10);
  CAF_CHECK_EQUAL(on_hand("bk_b"), 10);
  CAF_CHECK_EQUAL(kept(id), 0);
  auto p = payment(id);
  CAF_CHECK_EQUAL(p.status, "failed");
  CAF_CHECK_EQUAL(p.decline_code, "insufficient_funds");
  // What the customer reads as the order's payment status is the payment's.
  CAF_CHECK_EQUAL(view(id).payment_status, p.status);
  CAF_CHECK(settled_as(id, "payment_failed"));
}

CAF_TEST(a provider error answers payment_pending and the retry confirms) {
  prov().script = {"error"};
  const std::string id = "ord_pending01";
  auto msg = order_for(id, {line("bk_a", 1, 1500), line("bk_b", 2, 1000)});
  auto v = place(msg);
  CAF_CHECK_EQUAL(v.status, "payment_pending");
  CAF_CHECK_EQUAL(v.answer, "payment_pending");
  CAF_CHECK(holds("bk_a", id) && holds("bk_b", id)); // the stock waits with the order
  auto first_hold = inv().holds["bk_a|" + id].back();
  CAF_REQUIRE(wait_for([&] { return settled_as(id, "confirmed"); }, 250ms, 40));
  // The retry held the stock for another reservation period before paying again.
  CAF_CHECK_EQUAL(inv().calls["reserve:bk_a"], 2);
  CAF_CHECK_GREATER(inv().holds["bk_a|" + id].back(), first_hold);
  CAF_CHECK(sold("bk_a", id) && sold("bk_b", id));
  CAF_CHECK_EQUAL(prov().calls.size(), 2u);
  CAF_CHECK_EQUAL(kept(id), 1);
  CAF_CHECK_EQUAL(payment(id).status, "succeeded");
  // The client asking again gets the first answer, and the order as it is now.
  auto& again = answered(send(msg));
  CAF_REQUIRE(!again.err);
  CAF_CHECK_EQUAL(again.order.answer, "payment_pending");
  CAF_CHECK_EQUAL(again.order.status, "confirmed");
}

CAF_TEST(a provider that never answers leaves the order pending until a retry confirms it) {
  prov().script = {"lost"};
  const std::string id = "ord_slow00001";
  auto rid = send(order_for(id, {line("bk_a", 1, 1500)}));
  CAF_CHECK(answer(rid) == nullptr); // the checkout waits payment_wait for the outcome
  advance(2900ms);
  CAF_CHECK(answer(rid) == nullptr); // not given up early
  advance(100ms);
  auto& r = answered(rid);
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "payment_pending");
  CAF_CHECK_EQUAL(r.order.answer, "payment_pending");
  CAF_CHECK(holds("bk_a", id));
  CAF_REQUIRE(wait_for([&] { return settled_as(id, "confirmed"); }, 500ms, 60));
  CAF_CHECK_GREATER_OR_EQUAL(inv().calls["reserve:bk_a"], 2);
  CAF_CHECK(sold("bk_a", id));
  CAF_CHECK_EQUAL(prov().calls.size(), 2u); // the lost call, then one after the payment gave up
  CAF_CHECK_EQUAL(kept(id), 1);
  // The lost call's answer arriving now changes nothing.
  auto version = stored_version(id);
  self->send(provider, answer_late_atom::value);
  settle();
  CAF_CHECK_EQUAL(payment(id).status, "succeeded");
  CAF_CHECK_EQUAL(kept(id), 1);
  CAF_CHECK_EQUAL(stored_version(id), version);
}

CAF_TEST(a large order from a new IP waits for review and approval captures it) {
  idx().known_ip = false;
  const std::string id = "ord_review001";
  auto v = place(order_for(id, {line("bk_a", 1, 60000)}));
  CAF_CHECK_EQUAL(idx().asked, std::vector<std::string>{id}); // over the threshold: asked
  CAF_CHECK_EQUAL(v.status, "manual_review");
  CAF_CHECK_EQUAL(v.answer, "manual_review");
  CAF_CHECK_EQUAL(stored_listing(id).status, "manual_review");
  CAF_CHECK_EQUAL(v.payment_status, "requires_capture");
  CAF_CHECK_EQUAL(payment(id).status, "requires_capture");
  CAF_CHECK_EQUAL(prov().charges[payment_of(id)], 0); // authorised, not taken
  CAF_CHECK(holds("bk_a", id));
  auto& r = answered(send(review_order{ctx("usr_operator"), id, true}));
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "confirmed");
  CAF_CHECK_EQUAL(r.order.payment_status, "succeeded");
  CAF_CHECK_EQUAL(prov().calls.back().op, "capture");
  CAF_CHECK_EQUAL(kept(id), 1);
  CAF_CHECK_EQUAL(payment(id).status, "succeeded");
  CAF_CHECK(sold("bk_a", id));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
  CAF_CHECK(settled_as(id, "confirmed"));
  // Approving again answers the same order; rejecting now is too late.
  auto& again = answered(send(review_order{ctx("usr_operator"), id, true}));
  CAF_CHECK(!again.err);
  CAF_CHECK_EQUAL(again.order.status, "confirmed");
  CAF_CHECK_EQUAL(code_of(answered(send(review_order{ctx("usr_operator"), id, false}))),
                  errc::invalid_state);
  CAF_CHECK_EQUAL(kept(id), 1);
}

CAF_TEST(rejecting a reviewed order voids the authorisation and releases the stock) {
  idx().known_ip = false;
  const std::string id = "ord_review002";
  auto v = place(order_for(id, {line("bk_a", 2, 30000)}));
  CAF_REQUIRE_EQUAL(v.status, "manual_review");
  auto& r = answered(send(review_order{ctx("usr_operator"), id, false}));
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "rejected");
  CAF_CHECK_EQUAL(r.order.payment_status, "canceled");
  CAF_CHECK_EQUAL(r.order.answer, "manual_review"); // the first answer stays
  CAF_CHECK_EQUAL(prov().voids[payment_of(id)], 1);
  CAF_CHECK_EQUAL(kept(id), 0);
  CAF_CHECK_EQUAL(payment(id).status, "canceled");
  CAF_CHECK(!holds("bk_a", id) && !sold("bk_a", id));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 10);
  CAF_CHECK(settled_as(id, "rejected"));
}

CAF_TEST(approving a review after its books sold out voids the authorisation) {
  idx().known_ip = false;
  const std::string id = "ord_review003";
  auto v = place(order_for(id, {line("bk_a", 1, 60000)}));
  CAF_REQUIRE_EQUAL(v.status, "manual_review");
  // The review took longer than the hold: it expired and others bought the rest.
  inv().books["bk_a"].held.erase(id);
  stock("bk_a", 0);
  auto& r = answered(send(review_order{ctx("usr_operator"), id, true}));
  CAF_CHECK(settled_as(id, "rejected"));
  CAF_CHECK_EQUAL(saved_order.short_book, "bk_a");
  CAF_CHECK_EQUAL(prov().charges[payment_of(id)], 0); // never taken, so nothing to refund
  CAF_CHECK_EQUAL(prov().voids[payment_of(id)], 1);
  CAF_CHECK_EQUAL(payment(id).status, "canceled");
  // The operator learns what became of the order.
  CAF_CHECK(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "rejected");
  CAF_CHECK_EQUAL(r.order.short_book, "bk_a");
}

CAF_TEST(a step whose answer never comes is handed out again and the saga completes) {
  // The first reserve of bk_a and the first sale of bk_b (in the pay step) take effect, but their
  // answers are lost: the checkout would wait 20 s, the order hands the step out again after 5 s.
  inv().swallow = {{"reserve:bk_a", 1}, {"commit:bk_b", 1}};
  const std::string id = "ord_timeout01";
  auto rid = send(order_for(id, {line("bk_a", 1, 1500), line("bk_b", 1, 1500)}));
  CAF_CHECK(answer(rid) == nullptr);
  CAF_CHECK_EQUAL(stored_order(id).attempt, 1);
  advance(4s);
  CAF_CHECK_EQUAL(stored_order(id).status, "pending"); // not yet timed out
  CAF_REQUIRE(wait_for([&] { return answer(rid) != nullptr; }, 1s, 20));
  auto& r = answered(rid);
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "confirmed");
  // Reserve attempts 1 and 2, then pay attempt 2 holds the stock again before it pays (and
  // finds bk_a sold already); pay attempts 1 and 2 each sell bk_b.
  CAF_CHECK_EQUAL(inv().calls["reserve:bk_a"], 3);
  CAF_CHECK_EQUAL(inv().calls["commit:bk_b"], 2);
  CAF_CHECK_EQUAL(stored_order(id).history.size(), 3u); // pending, reserved, confirmed
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);                  // sold once, however many attempts
  CAF_CHECK_EQUAL(on_hand("bk_b"), 9);
  CAF_CHECK_EQUAL(kept(id), 1);
  // The first attempts fail late in the checkout (20 s); their reports change nothing.
  auto version = stored_version(id);
  advance(25s);
  CAF_CHECK_EQUAL(stored_version(id), version);
  CAF_CHECK(settled_as(id, "confirmed"));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
  CAF_CHECK_EQUAL(kept(id), 1);
}

CAF_TEST(an order stuck in its reserve step is listed as pending) {
  inv().swallow = {{"reserve:bk_a", 2}}; // the first two reserve answers never come
  const std::string id = "ord_stuck0001";
  auto rid = send(order_for(id, {line("bk_a", 1, 1500)}));
  CAF_CHECK_EQUAL(stored_order(id).status, "pending");
  CAF_CHECK(stored_listing(id).status.empty()); // its first attempt is under way
  CAF_REQUIRE(wait_for([&] { return stored_order(id).attempt == 2; }, 1s, 10));
  CAF_CHECK_EQUAL(stored_listing(id).status, "pending"); // the user sees it, the purge finds it
  CAF_CHECK_EQUAL(stored_listing(id).user_id, user);
  CAF_REQUIRE(wait_for([&] { return answer(rid) != nullptr; }, 1s, 30));
  CAF_CHECK_EQUAL(stored_listing(id).status, "confirmed");
}

CAF_TEST(a sale that fails after paying is retried without charging again) {
  inv().fail = {{"commit:bk_b", 1}};
  const std::string id = "ord_sale00001";
  auto rid = send(order_for(id, {line("bk_a", 1, 1500), line("bk_b", 1, 1500)}));
  CAF_CHECK(answer(rid) == nullptr); // paid, not sold: no outcome a client can act on yet
  CAF_CHECK_EQUAL(stored_order(id).payment_status, "succeeded");
  CAF_CHECK_EQUAL(stored_listing(id).status, "reserved"); // paid but stuck: listed
  CAF_REQUIRE(wait_for([&] { return answer(rid) != nullptr; }, 250ms, 40));
  auto& r = answered(rid);
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "confirmed");
  CAF_CHECK_EQUAL(r.order.answer, "confirmed");
  CAF_CHECK(sold("bk_a", id) && sold("bk_b", id));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
  CAF_CHECK_EQUAL(on_hand("bk_b"), 9);
  CAF_CHECK_EQUAL(prov().calls.size(), 1u); // the retry found the payment done
  CAF_CHECK_EQUAL(kept(id), 1);
  CAF_CHECK(settled_as(id, "confirmed"));
}

CAF_TEST(stock gone by the time of the sale rejects the paid order and refunds it) {
  inv().gone = {"bk_a"};
  const std::string id = "ord_gone00001";
  auto v = place(order_for(id, {line("bk_a", 1, 1500), line("bk_b", 2, 1500)}));
  CAF_CHECK_EQUAL(v.status, "rejected");
  CAF_CHECK_EQUAL(v.answer, "insufficient_stock");
  CAF_CHECK_EQUAL(v.short_book, "bk_a");
  CAF_CHECK_EQUAL(v.payment_status, "refunded");
  CAF_CHECK_EQUAL(prov().charges[payment_of(id)], 1);
  CAF_CHECK_EQUAL(prov().refunds[payment_of(id)], 1);
  CAF_CHECK_EQUAL(payment(id).status, "refunded");
  // bk_b was sold in the same step before bk_a's shortage was known: it is back on hand.
  CAF_CHECK(!holds("bk_b", id) && !sold("bk_b", id));
  CAF_CHECK_EQUAL(on_hand("bk_b"), 10);
  CAF_CHECK(!holds("bk_a", id) && !sold("bk_a", id));
  CAF_CHECK(settled_as(id, "rejected"));
}

CAF_TEST(repeated and late order events change nothing) {
  // Holds the reserve step: bk_a's hold is taken but its answer lost.
  inv().swallow = {{"reserve:bk_a", 1}};
  const std::string id = "ord_dupes0001";
  auto rid = send(order_for(id, {line("bk_a", 1, 1500)}));
  CAF_REQUIRE_EQUAL(stored_order(id).step, "reserve");
  // An event for an attempt not under way.
  auto& wrong = answered(send(event(id, "reserve", 2, "reserved", {}, true)));
  CAF_CHECK_EQUAL(wrong.order.status, "pending");
  CAF_CHECK_EQUAL(stored_order(id).status, "pending");
  // The same report twice (a redelivery): one transition.
  send_only(event(id, "reserve", 1, "reserved", {}, true));
  send_only(event(id, "reserve", 1, "reserved", {}, true));
  settle();
  auto& r = answered(rid);
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "confirmed");
  CAF_CHECK_EQUAL(count_status(r.order, "reserved"), 1u);
  CAF_CHECK_EQUAL(prov().calls.size(), 1u);
  CAF_CHECK_EQUAL(kept(id), 1);
  // Reports for steps that are over, in any order, with any outcome.
  auto version = stored_version(id);
  auto saves = store_state().saves;
  for (auto ev : {event(id, "reserve", 1, "short", "bk_a"), event(id, "pay", 1, "declined"),
                  event(id, "pay", 1, "failed", "boom"), event(id, "commit", 1, "short", "bk_a"),
                  event(id, "release", 1, "done"), event(id, "done", 1, "done")}) {
    auto& late = answered(send(ev));
    CAF_CHECK(!late.err);
    CAF_CHECK_EQUAL(late.order.status, "confirmed");
  }
  // The checkout's own late failure of the first reserve attempt (its 20 s timeout).
  advance(25s);
  CAF_CHECK_EQUAL(store_state().saves, saves);
  CAF_CHECK_EQUAL(stored_version(id), version);
  CAF_CHECK(settled_as(id, "confirmed"));
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
  CAF_CHECK_EQUAL(kept(id), 1);
}

CAF_TEST(a repeated place_order answers the same order and another body conflicts) {
  const std::string id = "ord_idem00001";
  auto msg = order_for(id, {line("bk_a", 1, 1500)});
  // Twice before the first is answered: both wait for the same outcome.
  auto r1 = send_only(msg);
  auto r2 = send_only(msg);
  settle();
  CAF_REQUIRE(!answered(r1).err && !answered(r2).err);
  CAF_CHECK_EQUAL(answered(r1).order.status, "confirmed");
  CAF_CHECK_EQUAL(answered(r2).order.status, "confirmed");
  auto saves = store_state().saves;
  auto reserves = inv().calls["reserve:bk_a"];
  // Again once it is settled: the same order, nothing done twice.
  auto& r3 = answered(send(msg));
  CAF_REQUIRE(!r3.err);
  CAF_CHECK_EQUAL(r3.order.id, id);
  CAF_CHECK_EQUAL(r3.order.answer, "confirmed");
  CAF_CHECK_EQUAL(r3.order.created_at, answered(r1).order.created_at);
  CAF_CHECK_EQUAL(store_state().saves, saves);
  CAF_CHECK_EQUAL(inv().calls["reserve:bk_a"], reserves);
  CAF_CHECK_EQUAL(prov().calls.size(), 1u);
  CAF_CHECK_EQUAL(kept(id), 1);
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
  // The same key with another body, or by another user: a conflict, nothing changes.
  auto other = msg;
  other.body_hash = "hash-of-another-body";
  other.items = {line("bk_a", 5, 1500)};
  CAF_CHECK_EQUAL(code_of(answered(send(other))), errc::idempotency_conflict);
  auto stranger = msg;
  stranger.user_id = "usr_mallory";
  CAF_CHECK_EQUAL(code_of(answered(send(stranger))), errc::idempotency_conflict);
  CAF_CHECK_EQUAL(store_state().saves, saves);
  CAF_CHECK_EQUAL(view(id).items.front().quantity, 1);
}

CAF_TEST(a new order and its payment are not looked up and a key used before a restart is) {
  const std::string id = "ord_fresh0001";
  auto msg = order_for(id, {line("bk_a", 1, 1500)});
  auto loads = store_state().loaded_ids;
  auto first = place(msg);
  CAF_CHECK_EQUAL(first.status, "confirmed");
  // Neither the order under its fresh key nor its first payment was read before being written.
  CAF_CHECK_EQUAL(store_state().loaded_ids, loads);
  CAF_CHECK_EQUAL(view(id).status, "confirmed");
  // After a restart the key is not new: the first write says so, the stored order answers, and
  // nothing is reserved or charged again; another body is still a conflict.
  crash_node(true);
  start_node();
  auto writes = store_state().rows_written;
  auto saves = store_state().saves;
  auto loads_before = store_state().loaded_ids;
  auto reserves = inv().calls["reserve:bk_a"];
  auto& again = answered(send(msg));
  CAF_REQUIRE(!again.err);
  // The guess went out as a write, was refused, and the order was loaded instead.
  CAF_CHECK_EQUAL(store_state().saves, saves + 1);
  CAF_CHECK_EQUAL(store_state().loaded_ids, loads_before + 1);
  CAF_CHECK_EQUAL(again.order.status, "confirmed");
  CAF_CHECK_EQUAL(again.order.created_at, first.created_at);
  CAF_CHECK_EQUAL(count_status(again.order, "confirmed"), 1u);
  CAF_CHECK_EQUAL(store_state().rows_written, writes);
  CAF_CHECK_EQUAL(inv().calls["reserve:bk_a"], reserves);
  CAF_CHECK_EQUAL(prov().charges[payment_of(id)], 1);
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
  crash_node(true);
  start_node();
  auto other = msg;
  other.body_hash = "hash-of-another-body";
  CAF_CHECK_EQUAL(code_of(answered(send(other))), errc::idempotency_conflict);
  CAF_CHECK_EQUAL(store_state().rows_written, writes);
  // A repeat that would write nothing (here: unreadable as a new order) proves nothing new: it
  // is looked up after all and answered as the stored order, not refused as a new one would be.
  crash_node(true);
  start_node();
  auto empty = msg;
  empty.items.clear();
  auto& looked_up = answered(send(empty));
  CAF_REQUIRE(!looked_up.err);
  CAF_CHECK_EQUAL(looked_up.order.status, "confirmed");
  CAF_CHECK_EQUAL(looked_up.order.created_at, first.created_at);
}

CAF_TEST(a crash after any transition resumes from the last durable status) {
  stock("bk_a", 100);
  stock("bk_b", 100);
  // Crash after 0..7 rounds of committed writes (the happy path takes 6), with the writes in
  // flight at the crash failing or committing after all.
  for (int commits_in_flight = 0; commits_in_flight < 2; ++commits_in_flight) {
    for (int k = 0; k <= 7; ++k) {
      const std::string id = "ord_crash" + std::to_string(commits_in_flight) + std::to_string(k);
      CAF_MESSAGE("crash after " << k << " commits; writes in flight "
                                 << (commits_in_flight ? "commit" : "fail"));
      auto a_before = on_hand("bk_a");
      auto b_before = on_hand("bk_b");
      auto msg = order_for(id, {line("bk_a", 1, 1500), line("bk_b", 2, 1000)});
      send_only(msg);
      sched.run();
      for (int i = 0; i < k; ++i) commit_one();
      crash_node(commits_in_flight == 1);
      start_node();
      if (stored(id)) {
        // The restarted node wakes the order (and its payment) and finishes on its own.
        CAF_CHECK(wait_for([&] { return settled_as(id, "confirmed"); }, 1s, 30));
      }
      // The client, never answered, asks again.
      auto& r = answered(send(msg));
      CAF_REQUIRE(!r.err);
      CAF_CHECK_EQUAL(r.order.status, "confirmed");
      CAF_CHECK_EQUAL(r.order.answer, "confirmed");
      CAF_CHECK_EQUAL(count_status(r.order, "confirmed"), 1u);
      CAF_CHECK(settled_as(id, "confirmed"));
      // Order, stock and payment agree.
      CAF_CHECK(sold("bk_a", id) && sold("bk_b", id));
      CAF_CHECK(!holds("bk_a", id) && !holds("bk_b", id));
      CAF_CHECK_EQUAL(on_hand("bk_a"), a_before - 1);
      CAF_CHECK_EQUAL(on_hand("bk_b"), b_before - 2);
      CAF_CHECK_EQUAL(prov().charges[payment_of(id)], 1);
      CAF_CHECK_EQUAL(kept(id), 1);
      CAF_CHECK_EQUAL(payment(id).status, "succeeded");
      CAF_CHECK_EQUAL(r.order.payment_status, "succeeded");
    }
  }
}

CAF_TEST(cancel before shipping refunds and returns the stock and after shipping is refused) {
  const std::string id = "ord_cancel001";
  CAF_REQUIRE_EQUAL(place(order_for(id, {line("bk_a", 2, 1500)})).status, "confirmed");
  CAF_REQUIRE_EQUAL(on_hand("bk_a"), 8);
  // Only the owner (or an admin) may cancel.
  CAF_CHECK_EQUAL(code_of(answered(send(cancel_order{ctx("usr_mallory"), id, false}))),
                  errc::not_found);
  auto& r = answered(send(cancel_order{ctx(), id, false}));
  CAF_REQUIRE(!r.err);
  CAF_CHECK_EQUAL(r.order.status, "cancelled");
  CAF_CHECK_EQUAL(r.order.payment_status, "refunded");
  CAF_CHECK_EQUAL(prov().refunds[payment_of(id)], 1);
  CAF_CHECK_EQUAL(kept(id), 0);
  CAF_CHECK_EQUAL(payment(id).status, "refunded");
  CAF_CHECK_EQUAL(on_hand("bk_a"), 10);
  CAF_CHECK(settled_as(id, "cancelled"));
  // Cancelling again answers the same, and neither refunds nor restocks twice.
  auto& again = answered(send(cancel_order{ctx(), id, false}));
  CAF_CHECK(!again.err);
  CAF_CHECK_EQUAL(again.order.status, "cancelled");
  CAF_CHECK_EQUAL(prov().refunds[payment_of(id)], 1);
  CAF_CHECK_EQUAL(on_hand("bk_a"), 10);
  // A shipped order can no longer be cancelled.
  const std::string shipped = "ord_cancel002";
  CAF_REQUIRE_EQUAL(place(order_for(shipped, {line("bk_a", 1, 1500)})).status, "confirmed");
  auto& s = answered(send(ship_order{ctx("usr_admin"), shipped, "DHL", "00340434161094042557"}));
  CAF_REQUIRE(!s.err);
  CAF_CHECK_EQUAL(s.order.status, "shipped");
  CAF_CHECK_EQUAL(code_of(answered(send(cancel_order{ctx(), shipped, false}))),
                  errc::invalid_state);
  CAF_CHECK_EQUAL(view(shipped).status, "shipped");
  CAF_CHECK_EQUAL(kept(shipped), 1);
  CAF_CHECK_EQUAL(on_hand("bk_a"), 9);
}

CAF_TEST_FIXTURE_SCOPE_END()
