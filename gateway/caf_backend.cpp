#include "gateway/caf_backend.hpp"

#include "actors/common/deadline.hpp"
#include "actors/protocol/names.hpp"

#include <caf/all.hpp>

#include <atomic>

namespace bookstore::http {

namespace {

/// Work for a bridge actor: runs inside it, so it can send requests and get answers.
struct bridge_job {
  std::function<void(caf::event_based_actor*)> run;
};

} // namespace
} // namespace bookstore::http

// Jobs carry closures: they never leave this process (bridges are local), so no inspect().
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bookstore::http::bridge_job)

namespace bookstore::http {

namespace {

caf::behavior bridge(caf::event_based_actor* self) {
  return {
    [self](bridge_job& job) { job.run(self); },
  };
}

constexpr auto fallback_timeout = std::chrono::seconds(5);

} // namespace

struct caf_backend::impl {
  caf::actor_system& sys;
  std::vector<caf::actor> bridges;
  std::atomic<size_t> next{0};

  impl(caf::actor_system& s, size_t n) : sys(s) {
    for (size_t i = 0; i < std::max<size_t>(1, n); ++i)
      bridges.push_back(sys.spawn(bridge));
  }

  ~impl() {
    for (auto& b : bridges) caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  }

  /// Sends `msg` to the service registered as `name`; `cb` gets the answer or the error.
  template <class Handle, class Reply, class Msg>
  void call(caf::atom_value name, Msg msg, caf::timespan timeout, callback<Reply> cb) {
    auto target = sys.registry().get<Handle>(name);
    if (!target) {
      cb(outcome<Reply>::fail({errc::unavailable, "", "service is starting or restarting"}));
      return;
    }
    auto& b = bridges[next.fetch_add(1, std::memory_order_relaxed) % bridges.size()];
    caf::anon_send(b, bridge_job{[target, msg = std::move(msg), timeout,
                                  cb = std::move(cb)](caf::event_based_actor* self) mutable {
      self->request(target, timeout, std::move(msg))
        .then([cb](Reply& r) { cb(outcome<Reply>::ok(std::move(r))); },
              [cb](caf::error& err) { cb(outcome<Reply>::fail(describe(err))); });
    }});
  }
};

caf_backend::caf_backend(caf::actor_system& sys, size_t bridges)
  : impl_(std::make_unique<impl>(sys, bridges)) {}

caf_backend::~caf_backend() = default;

void caf_backend::ask(get_book msg, callback<book_view> cb) {
  auto t = time_left(msg.ctx, fallback_timeout);
  impl_->call<catalog_actor, book_view>(names::catalog, std::move(msg), t, std::move(cb));
}

void caf_backend::ask(list_books msg, callback<book_page> cb) {
  auto t = time_left(msg.ctx, fallback_timeout);
  impl_->call<catalog_actor, book_page>(names::catalog, std::move(msg), t, std::move(cb));
}

void caf_backend::ask(create_book msg, callback<book_view> cb) {
  auto t = time_left(msg.ctx, fallback_timeout);
  impl_->call<catalog_actor, book_view>(names::catalog, std::move(msg), t, std::move(cb));
}

void caf_backend::ask(update_book msg, callback<book_view> cb) {
  auto t = time_left(msg.ctx, fallback_timeout);
  impl_->call<catalog_actor, book_view>(names::catalog, std::move(msg), t, std::move(cb));
}

void caf_backend::ask(change_stock msg, callback<stock_level> cb) {
  auto t = time_left(msg.ctx, fallback_timeout);
  impl_->call<catalog_actor, stock_level>(names::catalog, std::move(msg), t, std::move(cb));
}

void caf_backend::ask(probe_health msg, int64_t deadline_ms, callback<health_report> cb) {
  auto t = time_left(request_ctx{{}, deadline_ms, {}}, fallback_timeout);
  impl_->call<health_actor, health_report>(names::health, msg, t, std::move(cb));
}

} // namespace bookstore::http
