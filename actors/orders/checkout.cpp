#include "actors/orders/checkout.hpp"

#include "actors/catalog/cursor.hpp"
#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "actors/protocol/errc.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <vector>

namespace bookstore {

namespace {

// Timeouts: calls go out without a CAF timeout. Each CAF request timeout is two wakes of CAF's
// clock thread (set, then fire); a checkout makes about ten calls. Entities and the index always
// answer (they fail their own calls to PostgreSQL in time), and a step whose answer is lost
// anyway is handed out again by its order (step timeout). Payment calls have a deadline of their
// own, `payment-wait`, which turns a slow provider into 202: the checkout keeps those deadlines
// and one sweep timer fails the late calls (one CAF timeout per order was still about 30 µs of
// clock-thread CPU per order at 1,700 orders/s on this 2-core machine).

/// A payment call waiting for its answer: settled once, by the answer or by the sweep.
struct payment_wait {
  caf::actor_clock::time_point deadline;
  bool done = false;
  std::function<void()> expire; ///< the call's error path with a timeout
};

struct checkout_state {
  checkout_settings cfg;
  std::set<std::string> in_flight; ///< order id | step | attempt
  std::vector<std::shared_ptr<payment_wait>> waits;
  bool sweeping = false;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "checkout";
};

using pointer = checkout_actor::stateful_pointer<checkout_state>;

constexpr auto sweep_interval = std::chrono::milliseconds(50);

/// Sends `msg` to the payments region; `on_ok` gets the answer, `on_error` the error or, after
/// `payment-wait`, a timeout. A late answer finds the call settled and changes nothing.
template <class Msg, class OnOk, class OnError>
void ask_payments(pointer self, const payment_actor& payments, Msg msg, OnOk on_ok,
                  OnError on_error) {
  auto& st = self->state;
  auto w = std::make_shared<payment_wait>();
  w->deadline = self->clock().now() + st.cfg.payment_wait;
  w->expire = [on_error]() mutable {
    caf::error err
      = make_error(errc::timeout, "", "the payment did not answer within payment-wait");
    on_error(err);
  };
  st.waits.push_back(w);
  if (!st.sweeping) {
    st.sweeping = true;
    self->delayed_send(self, sweep_interval, checkout_sweep_atom::value);
  }
  self->request(payments, caf::infinite, std::move(msg))
    .then(
      [w, on_ok](payment_view& p) mutable {
        if (w->done)
          return;
        w->done = true;
        w->expire = nullptr;
        on_ok(p);
      },
      [w, on_error](caf::error& err) mutable {
        if (w->done)
          return;
        w->done = true;
        w->expire = nullptr;
        on_error(err);
      });
}

/// Fails the payment calls past their deadline and forgets the settled ones.
void sweep(pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  // Expiring reports to the order, which may start another call: collect first.
  std::vector<std::shared_ptr<payment_wait>> late;
  st.waits.erase(std::remove_if(st.waits.begin(), st.waits.end(),
                                [&](const std::shared_ptr<payment_wait>& w) {
                                  if (!w->done && w->deadline <= now) {
                                    w->done = true;
                                    late.push_back(w);
                                  }
                                  return w->done;
                                }),
                 st.waits.end());
  for (auto& w : late) {
    auto expire = std::move(w->expire);
    w->expire = nullptr;
    expire();
  }
  st.sweeping = !st.waits.empty();
  if (st.sweeping)
    self->delayed_send(self, sweep_interval, checkout_sweep_atom::value);
}

/// The outcome of a step being gathered from several parallel calls.
struct gather {
  size_t left = 0;
  std::string short_book;
  std::string error;
  bool flag = false;
  std::string payment_status; ///< as the payment ended (undo steps)
  std::function<void(gather&)> done;

  void one_done() {
    if (--left == 0)
      done(*this);
  }
  void failed(const caf::error& err) {
    auto info = describe(err);
    if (info.code == errc::insufficient_stock && short_book.empty())
      short_book = info.detail;
    else if (error.empty())
      error = info.message.empty() ? to_string(info.code) : info.message;
  }
};

/// A step shared by the calls it makes: their callbacks keep it alive, none copies it.
using step = std::shared_ptr<const order_step>;

std::string key_of(const step& s) {
  return s->order_id + "|" + s->step + "|" + std::to_string(s->attempt);
}

request_ctx ctx_of(const step& s, std::chrono::milliseconds wait) {
  return request_ctx{s->request_id, unix_ms_now() + wait.count(), s->user_id};
}

/// Reports the step's outcome to its order, and lets the step be handed out again.
void report(pointer self, const step& s, std::string kind, std::string detail = {},
            bool flag = false) {
  self->state.in_flight.erase(key_of(s));
  if (kind == "failed")
    log::warn(*self->state.log, s->request_id, "order {} step {} attempt {} failed: {}",
              s->order_id, s->step, s->attempt, detail);
  auto orders = self->state.cfg.orders.get();
  if (!orders)
    return; // the order hands the step out again when it times out
  // One way: the order's answer would change nothing here (a lost report is handed out again),
  // and not asking for it spares the reply message and a response handler per report.
  caf::anon_send(orders, order_event{request_ctx{s->request_id, 0, s->user_id}, s->order_id,
                                     s->step, s->attempt, std::move(kind), std::move(detail),
                                     flag});
}

std::shared_ptr<gather> gathering(size_t n, std::function<void(gather&)> done) {
  auto g = std::make_shared<gather>();
  g->left = n;
  g->done = std::move(done);
  return g;
}

/// Sends `make(item)` to the inventory for every item of the order; each answer counts into `g`.
template <class Make>
void each_item(pointer self, const inventory_actor& inventory, const step& s,
               const std::shared_ptr<gather>& g, Make make) {
  for (auto& item : s->items)
    self->request(inventory, caf::infinite, make(item))
      .then([g](stock_level&) { g->one_done(); },
            [g](caf::error& err) {
              g->failed(err);
              g->one_done();
            });
}

/// Holds every item of the order (again: a repeat extends the hold).
void hold_items(pointer self, const inventory_actor& inventory, const step& s,
                const std::shared_ptr<gather>& g) {
  auto& cfg = self->state.cfg;
  each_item(self, inventory, s, g, [&](const order_line& item) {
    return reserve_stock{ctx_of(s, cfg.step_timeout), item.book_id, s->order_id, item.quantity,
                         cfg.reservation_ttl_ms};
  });
}

void reserve(pointer self, const step& s) {
  auto& cfg = self->state.cfg;
  auto inventory = cfg.inventory.get();
  if (!inventory)
    return report(self, s, "failed", "inventory restarting");
  auto index = s->needs_ip_check ? cfg.index.get() : order_index_actor{};
  if (s->needs_ip_check && !index)
    return report(self, s, "failed", "order index restarting");
  auto g = gathering(s->items.size() + (index ? 1 : 0), [self, s](gather& g) {
    if (!g.short_book.empty())
      report(self, s, "short", g.short_book);
    else if (!g.error.empty())
      report(self, s, "failed", g.error);
    else
      report(self, s, "reserved", {}, g.flag);
  });
  hold_items(self, inventory, s, g);
  if (!index)
    return;
  self->request(index, caf::infinite, check_ip{s->user_id, s->client_ip, s->order_id})
    .then(
      [g](bool known) {
        g->flag = known;
        g->one_done();
      },
      [g](caf::error& err) {
        g->failed(err);
        g->one_done();
      });
}

void commit(pointer self, const step& s);

void authorize(pointer self, const step& s) {
  auto& cfg = self->state.cfg;
  auto payments = cfg.payments.get();
  if (!payments)
    return report(self, s, "failed", "payments restarting");
  authorize_payment msg{ctx_of(s, cfg.payment_wait), s->payment_id, s->order_id, s->total,
                        s->payment_token, s->manual_capture, s->attempt};
  ask_payments(
    self, payments, std::move(msg),
    [self, s](payment_view& p) {
      // Paid: the stock is sold in the same step (the order's next durable state is
      // confirmed; a crash before it repeats both, each idempotent).
      if (p.status == "succeeded")
        commit(self, s);
      else if (p.status == "requires_capture")
        report(self, s, "authorised");
      else if (p.status == "failed")
        report(self, s, "declined", p.decline_code);
      else if (p.status == "canceled" || p.status == "refunded")
        report(self, s, "declined", "canceled");
      else
        report(self, s, "failed", "payment is " + p.status);
    },
    [self, s](caf::error& err) {
      auto info = describe(err);
      report(self, s, "failed", info.message.empty() ? to_string(info.code) : info.message);
    });
}

void pay(pointer self, const step& s) {
  if (s->attempt <= 1)
    return authorize(self, s);
  // Waiting for the provider: hold the stock for another reservation period first.
  auto& cfg = self->state.cfg;
  auto inventory = cfg.inventory.get();
  if (!inventory)
    return report(self, s, "failed", "inventory restarting");
  auto g = gathering(s->items.size(), [self, s](gather& g) {
    if (!g.short_book.empty())
      report(self, s, "short", g.short_book);
    else if (!g.error.empty())
      report(self, s, "failed", g.error);
    else
      authorize(self, s);
  });
  hold_items(self, inventory, s, g);
}

void commit(pointer self, const step& s) {
  auto& cfg = self->state.cfg;
  auto inventory = cfg.inventory.get();
  if (!inventory)
    return report(self, s, "failed", "inventory restarting");
  auto g = gathering(s->items.size(), [self, s](gather& g) {
    if (!g.short_book.empty()) {
      report(self, s, "short", g.short_book);
    } else if (!g.error.empty()) {
      report(self, s, s->step == "pay" ? "commit_failed" : "failed", g.error);
    } else {
      // Orders from the cart empty it; a session that ended meanwhile has no cart to empty.
      if (auto sessions = self->state.cfg.sessions.get(); sessions && !s->session_id.empty())
        self->request(sessions, std::chrono::seconds(10),
                      clear_cart{request_ctx{s->request_id, 0, s->user_id}, s->session_id})
          .then([](cart_contents&) {}, [](caf::error&) {});
      report(self, s, "committed");
    }
  });
  for (auto& item : s->items) {
    auto step_ctx = ctx_of(s, cfg.step_timeout);
    commit_reservation c{step_ctx, item.book_id, s->order_id};
    self->request(inventory, caf::infinite, c)
      .then([g](stock_level&) { g->one_done(); },
            [self, g, inventory, item, s, step_ctx](caf::error& err) {
              auto& cfg = self->state.cfg;
              if (describe(err).code != errc::not_found) {
                g->failed(err);
                return g->one_done();
              }
              // The hold ran out while the payment waited: take the stock again, then sell it.
              self->request(inventory, caf::infinite,
                            reserve_stock{step_ctx, item.book_id, s->order_id, item.quantity,
                                          cfg.reservation_ttl_ms})
                .then(
                  [self, g, inventory, item, s, step_ctx](stock_level&) {
                    self->request(inventory, caf::infinite,
                                  commit_reservation{step_ctx, item.book_id, s->order_id})
                      .then([g](stock_level&) { g->one_done(); },
                            [g](caf::error& err) {
                              g->failed(err);
                              g->one_done();
                            });
                  },
                  [g](caf::error& err) {
                    g->failed(err);
                    g->one_done();
                  });
            });
  }
}

void capture(pointer self, const step& s) {
  auto& cfg = self->state.cfg;
  auto payments = cfg.payments.get();
  auto inventory = cfg.inventory.get();
  if (!payments || !inventory)
    return report(self, s, "failed", "payments or inventory restarting");
  // A review may take longer than a hold lasts: take the stock again before taking the money,
  // so that an order whose books sold out meanwhile is voided, not charged and refunded.
  auto g = gathering(s->items.size(), [self, s](gather& g) {
    if (!g.short_book.empty())
      return report(self, s, "short", g.short_book);
    if (!g.error.empty())
      return report(self, s, "failed", g.error);
    auto& cfg = self->state.cfg;
    auto payments = cfg.payments.get();
    if (!payments)
      return report(self, s, "failed", "payments restarting");
    ask_payments(
      self, payments, capture_payment{ctx_of(s, cfg.payment_wait), s->payment_id, s->attempt},
      [self, s](payment_view& p) {
        if (p.status == "succeeded")
          report(self, s, "captured");
        else
          report(self, s, "failed", "payment is " + p.status);
      },
      [self, s](caf::error& err) { report(self, s, "failed", describe(err).message); });
  });
  hold_items(self, inventory, s, g);
}

/// release, cancel, refund: undo the payment and the stock.
void unwind(pointer self, const step& s) {
  auto& cfg = self->state.cfg;
  auto inventory = cfg.inventory.get();
  auto payments = cfg.payments.get();
  if (!inventory || !payments)
    return report(self, s, "failed", "inventory or payments restarting");
  bool stock = s->step != "refund" || s->restock;
  size_t n = (stock ? s->items.size() : 0) + (s->payment_started ? 1 : 0);
  auto g = gathering(n + 1, [self, s](gather& g) {
    if (!g.error.empty() || !g.short_book.empty())
      report(self, s, "failed", g.error.empty() ? "stock" : g.error);
    else
      report(self, s, "done", g.payment_status);
  });
  if (stock)
    each_item(self, inventory, s, g, [&](const order_line& item) {
      return return_stock{ctx_of(s, cfg.step_timeout), item.book_id, s->order_id, item.quantity,
                          s->stock_committed};
    });
  if (s->payment_started)
    ask_payments(
      self, payments, cancel_payment{ctx_of(s, cfg.payment_wait), s->payment_id, s->attempt},
      [g](payment_view& p) {
        if (p.status != "canceled" && p.status != "refunded" && p.status != "failed")
          g->error = "payment is " + p.status;
        g->payment_status = p.status;
        g->one_done();
      },
      [g](caf::error& err) {
        g->failed(err);
        g->one_done();
      });
  g->one_done(); // the gathering's own share: done even when there is nothing to undo
}

void on_step(pointer self, order_step& msg) {
  auto& st = self->state;
  if (msg.step.empty())
    return;
  auto s = std::make_shared<const order_step>(std::move(msg));
  if (!st.in_flight.insert(key_of(s)).second)
    return; // already under way
  if (s->step == "reserve")
    reserve(self, s);
  else if (s->step == "pay")
    pay(self, s);
  else if (s->step == "commit")
    commit(self, s);
  else if (s->step == "capture")
    capture(self, s);
  else if (s->step == "release" || s->step == "cancel" || s->step == "refund")
    unwind(self, s);
  else
    st.in_flight.erase(key_of(s));
}

caf::result<order_page> list(pointer self, list_orders& q) {
  auto& cfg = self->state.cfg;
  auto index = cfg.index.get();
  auto orders = cfg.orders.get();
  if (!index || !orders)
    return make_error(errc::unavailable, "", "orders are restarting");
  // A row may hold the status before the entity's latest (order_index.hpp): the page keeps the
  // orders whose status (the entity's) is the one asked for.
  query_orders query{q.user_id, q.status, 0, {}, q.limit + 1};
  if (!q.cursor.empty()) {
    auto key = cursor::decode(q.cursor);
    auto colon = key ? key->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return make_error(errc::invalid_request, "cursor", "the cursor is not valid");
    try {
      query.before_ms = std::stoll(key->substr(0, colon));
      if (query.before_ms <= 0 || query.before_ms > 32503680000000) // year 3000
        throw std::out_of_range("cursor time");
    } catch (...) {
      return make_error(errc::invalid_request, "cursor", "the cursor is not valid");
    }
    query.before_id = key->substr(colon + 1);
  }
  auto rp = self->make_response_promise<order_page>();
  auto timeout = std::chrono::milliseconds(
    std::max<int64_t>(100, q.ctx.deadline_ms > 0 ? q.ctx.deadline_ms - unix_ms_now() : 5000));
  self->request(index, timeout, query)
    .then(
      [self, rp, q, orders, timeout](order_refs& refs) mutable {
        auto page = std::make_shared<order_page>();
        size_t n = std::min<size_t>(refs.ids.size(), static_cast<size_t>(q.limit));
        if (refs.ids.size() > n)
          page->next_cursor
            = cursor::encode(std::to_string(refs.created[n - 1]) + ":" + refs.ids[n - 1]);
        if (n == 0) {
          rp.deliver(std::move(*page));
          return;
        }
        page->items.resize(n);
        auto left = std::make_shared<size_t>(n);
        auto failed = std::make_shared<bool>(false);
        for (size_t i = 0; i < n; ++i)
          self->request(orders, timeout, get_order{q.ctx, refs.ids[i], true})
            .then(
              [rp, page, left, failed, i, status = q.status](order_view& v) mutable {
                page->items[i] = std::move(v);
                if (--*left != 0 || *failed)
                  return;
                if (!status.empty())
                  page->items.erase(std::remove_if(page->items.begin(), page->items.end(),
                                                   [&](const order_view& o) {
                                                     return o.status != status;
                                                   }),
                                    page->items.end());
                rp.deliver(std::move(*page));
              },
              [rp, left, failed](caf::error& err) mutable {
                if (!*failed)
                  rp.deliver(err);
                *failed = true;
                --*left;
              });
      },
      [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

checkout_actor::behavior_type checkout(pointer self, checkout_settings cfg) {
  self->state.cfg = std::move(cfg);
  self->state.log = log::get("order");
  return {
    [self](order_step& s) { on_step(self, s); },
    [self](list_orders& q) -> caf::result<order_page> { return list(self, q); },
    [self](checkout_sweep_atom) { sweep(self); },
  };
}

} // namespace

checkout_actor spawn_checkout(caf::event_based_actor* parent, checkout_settings settings) {
  return caf::actor_cast<checkout_actor>(parent->spawn<caf::linked>(checkout, std::move(settings)));
}

checkout_actor make_checkout(caf::actor_system& sys, checkout_settings settings) {
  return caf::actor_cast<checkout_actor>(sys.spawn(checkout, std::move(settings)));
}

} // namespace bookstore
