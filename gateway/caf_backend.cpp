#include "gateway/caf_backend.hpp"

#include "actors/common/log.hpp"
#include "actors/common/time.hpp"
#include "actors/protocol/names.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>

namespace bookstore::http {

namespace {

/// One call in flight: answered once, by the reply or by the bridge's deadline sweep.
struct call_base {
  bool done = false;
  virtual ~call_base() = default;
  virtual void expire() = 0;
};

template <class Reply>
struct call final : call_base {
  explicit call(callback<Reply> c) : cb(std::move(c)) {}
  void finish(outcome<Reply> o) {
    if (done)
      return;
    done = true;
    // Let go of the callback (and the connection it holds) even if CAF keeps this call's
    // response handler until an answer that may never come.
    auto f = std::move(cb);
    cb = nullptr;
    // A throwing callback must not take the bridge (and every request it carries) down.
    try {
      f(std::move(o));
    } catch (const std::exception& e) {
      log::error(*log::get("gateway"), "-", "a reply callback threw: {}", e.what());
    }
  }
  void expire() override {
    finish(outcome<Reply>::fail(
      {errc::timeout, "", "the operation did not finish within its deadline"}));
  }
  callback<Reply> cb;
};

/// Work for a bridge actor: runs inside it, so it can send requests and get answers.
struct bridge_job {
  int64_t deadline_ms = 0;
  std::shared_ptr<call_base> pending;
  std::function<void(caf::event_based_actor*)> run;
};

} // namespace
} // namespace bookstore::http

// Jobs carry closures: they never leave this process (bridges are local), so no inspect().
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bookstore::http::bridge_job)

namespace bookstore::http {

namespace {

using sweep_atom = caf::atom_constant<caf::atom("bsweep")>;
constexpr auto sweep_interval = std::chrono::milliseconds(50);

// Deadlines: a bridge's requests go out without a CAF timeout and the bridge enforces each
// request's deadline itself, with one sweep timer per bridge. A CAF request timeout costs two
// events on CAF's clock thread (set and cancel); at 20k requests/s that thread alone took 16% of
// a core on this 2-core machine. Everything behind the bridge keeps its own finite timeouts, so
// a late answer still arrives and frees the request's handler.
struct bridge_state {
  std::vector<std::pair<int64_t, std::shared_ptr<call_base>>> pending;
  bool sweeping = false;
  static inline const char* name = "gateway_bridge";
};

caf::behavior bridge(caf::stateful_actor<bridge_state>* self) {
  return {
    [self](bridge_job& job) {
      auto& st = self->state;
      st.pending.emplace_back(job.deadline_ms, std::move(job.pending));
      if (!st.sweeping) {
        st.sweeping = true;
        self->delayed_send(self, sweep_interval, sweep_atom::value);
      }
      job.run(self);
    },
    [self](sweep_atom) {
      auto& st = self->state;
      auto now = unix_ms_now();
      auto& p = st.pending;
      p.erase(std::remove_if(p.begin(), p.end(),
                             [now](auto& entry) {
                               if (!entry.second->done && entry.first <= now)
                                 entry.second->expire();
                               return entry.second->done;
                             }),
              p.end());
      st.sweeping = !p.empty();
      if (st.sweeping)
        self->delayed_send(self, sweep_interval, sweep_atom::value);
    },
  };
}

constexpr auto fallback_timeout_ms = 5000;

int64_t deadline_of(const request_ctx& ctx) {
  return ctx.deadline_ms > 0 ? ctx.deadline_ms : unix_ms_now() + fallback_timeout_ms;
}

} // namespace

struct caf_backend::impl {
  caf::actor_system& sys;
  std::vector<caf::actor> bridges;
  std::atomic<size_t> next{0};

  impl(caf::actor_system& s, size_t n) : sys(s) {
    for (size_t i = 0; i < std::max<size_t>(1, n); ++i)
      bridges.push_back(sys.spawn(bridge));
  }

  ~impl() { shutdown(); }

  void shutdown() {
    for (auto& b : bridges) caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  }

  /// Sends `msg` to the service registered as `name`; `cb` gets the answer, the error, or a
  /// timeout at `deadline_ms`.
  template <class Handle, class Reply, class Msg>
  void call(caf::atom_value name, Msg msg, int64_t deadline_ms, callback<Reply> cb) {
    auto target = sys.registry().get<Handle>(name);
    if (!target) {
      cb(outcome<Reply>::fail({errc::unavailable, "", "service is starting or restarting"}));
      return;
    }
    auto pending = std::make_shared<struct call<Reply>>(std::move(cb));
    auto& b = bridges[next.fetch_add(1, std::memory_order_relaxed) % bridges.size()];
    caf::anon_send(b, bridge_job{deadline_ms, pending,
                                 [target, msg = std::move(msg),
                                  pending](caf::event_based_actor* self) mutable {
                                   self->request(target, caf::infinite, std::move(msg))
                                     .then(
                                       [pending](Reply& r) {
                                         pending->finish(outcome<Reply>::ok(std::move(r)));
                                       },
                                       [pending](caf::error& err) {
                                         pending->finish(outcome<Reply>::fail(describe(err)));
                                       });
                                 }});
  }
};

caf_backend::caf_backend(caf::actor_system& sys, size_t bridges)
  : impl_(std::make_unique<impl>(sys, bridges)) {}

caf_backend::~caf_backend() = default;

void caf_backend::shutdown() {
  impl_->shutdown();
}

void caf_backend::ask(get_book msg, callback<book_view> cb) {
  auto deadline = deadline_of(msg.ctx);
  impl_->call<catalog_actor, book_view>(names::catalog, std::move(msg), deadline, std::move(cb));
}

void caf_backend::ask(list_books msg, callback<book_page> cb) {
  auto deadline = deadline_of(msg.ctx);
  impl_->call<catalog_actor, book_page>(names::catalog, std::move(msg), deadline, std::move(cb));
}

void caf_backend::ask(create_book msg, callback<book_view> cb) {
  auto deadline = deadline_of(msg.ctx);
  impl_->call<catalog_actor, book_view>(names::catalog, std::move(msg), deadline, std::move(cb));
}

void caf_backend::ask(update_book msg, callback<book_view> cb) {
  auto deadline = deadline_of(msg.ctx);
  impl_->call<catalog_actor, book_view>(names::catalog, std::move(msg), deadline, std::move(cb));
}

void caf_backend::ask(change_stock msg, callback<stock_level> cb) {
  auto deadline = deadline_of(msg.ctx);
  impl_->call<catalog_actor, stock_level>(names::catalog, std::move(msg), deadline, std::move(cb));
}

#define BOOKSTORE_ASK(Msg, Reply, Handle, Name)                                              \
  void caf_backend::ask(Msg msg, callback<Reply> cb) {                                         \
    auto deadline = deadline_of(msg.ctx);                                                      \
    impl_->call<Handle, Reply>(Name, std::move(msg), deadline, std::move(cb));                 \
  }

BOOKSTORE_ASK(price_books, book_prices, catalog_actor, names::catalog)
BOOKSTORE_ASK(register_user, user_view, accounts_actor, names::accounts)
BOOKSTORE_ASK(login_user, login_grant, accounts_actor, names::accounts)
BOOKSTORE_ASK(refresh_login, login_grant, accounts_actor, names::accounts)
BOOKSTORE_ASK(get_user, user_view, accounts_actor, names::accounts)
BOOKSTORE_ASK(update_user, user_view, accounts_actor, names::accounts)
BOOKSTORE_ASK(setup_mfa, mfa_enrollment, accounts_actor, names::accounts)
BOOKSTORE_ASK(enable_mfa, user_view, accounts_actor, names::accounts)
BOOKSTORE_ASK(delete_user, deletion_receipt, accounts_actor, names::accounts)
BOOKSTORE_ASK(export_user, user_export, accounts_actor, names::accounts)
BOOKSTORE_ASK(put_avatar, avatar, accounts_actor, names::accounts)
BOOKSTORE_ASK(get_avatar, avatar, accounts_actor, names::accounts)
BOOKSTORE_ASK(end_session, session_view, session_actor, names::sessions)
BOOKSTORE_ASK(check_session, session_view, session_actor, names::sessions)
BOOKSTORE_ASK(get_cart, cart_contents, session_actor, names::sessions)
BOOKSTORE_ASK(set_cart_item, cart_contents, session_actor, names::sessions)
BOOKSTORE_ASK(remove_cart_item, cart_contents, session_actor, names::sessions)
BOOKSTORE_ASK(clear_cart, cart_contents, session_actor, names::sessions)

BOOKSTORE_ASK(place_order, order_view, order_actor, names::orders)
BOOKSTORE_ASK(get_order, order_view, order_actor, names::orders)
BOOKSTORE_ASK(cancel_order, order_view, order_actor, names::orders)
BOOKSTORE_ASK(refund_order, order_view, order_actor, names::orders)
BOOKSTORE_ASK(ship_order, order_view, order_actor, names::orders)
BOOKSTORE_ASK(review_order, order_view, order_actor, names::orders)
BOOKSTORE_ASK(list_orders, order_page, checkout_actor, names::checkout)
BOOKSTORE_ASK(provider_event, payment_view, payment_actor, names::payments)

#undef BOOKSTORE_ASK

void caf_backend::ask(set_provider_fault msg, callback<bool> cb) {
  impl_->call<provider_actor, bool>(names::provider, std::move(msg), unix_ms_now() + 5000,
                                    std::move(cb));
}

void caf_backend::tell(audit_entry entry) {
  if (auto target = impl_->sys.registry().get<accounts_actor>(names::accounts))
    caf::anon_send(target, std::move(entry));
}

void caf_backend::ask(probe_health msg, int64_t deadline_ms, callback<health_report> cb) {
  impl_->call<health_actor, health_report>(names::health, msg, deadline_ms, std::move(cb));
}

} // namespace bookstore::http
