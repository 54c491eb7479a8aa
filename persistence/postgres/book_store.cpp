#include "persistence/postgres/book_store.hpp"

#include "actors/common/log.hpp"
#include "actors/common/restart_budget.hpp"
#include "persistence/postgres/book_sql.hpp"
#include "persistence/postgres/pg.hpp"

#include <caf/all.hpp>

namespace bookstore {

namespace {

struct worker_state {
  std::unique_ptr<pg::lazy_connection> conn;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "book_store_worker";
};

using worker_pointer = book_store_actor::stateful_pointer<worker_state>;

/// Runs `body` on the worker's connection; database failures become errors, not exceptions.
template <class T, class F>
caf::result<T> guarded(worker_pointer self, const request_ctx& ctx, const char* what, F body) {
  try {
    return pg::run(*self->state.conn, body);
  } catch (const pg::failure& f) {
    return f.err;
  } catch (const std::exception& e) {
    log::warn(*self->state.log, ctx.request_id, "{} failed: {}", what, e.what());
    return make_error(errc::storage_unavailable, "", "database failure");
  }
}

book_store_actor::behavior_type worker_impl(worker_pointer self, std::string dsn) {
  self->state.conn = std::make_unique<pg::lazy_connection>(dsn, pg::prepare_book_statements);
  self->state.log = log::get("persistence");
  return {
    [self](fetch_book& req) -> caf::result<book> {
      return guarded<book>(self, req.ctx, "fetch book", [&](pqxx::connection& c) -> book {
        auto b = pg::fetch_book_row(c, req.book_id);
        if (!b)
          throw pg::failure{make_error(errc::not_found, req.book_id, "no such book")};
        return std::move(*b);
      });
    },
    [self](query_books& req) -> caf::result<book_list> {
      return guarded<book_list>(self, req.ctx, "list books", [&](pqxx::connection& c) {
        return book_list{pg::query_book_rows(c, req)};
      });
    },
    [self](insert_book& req) -> caf::result<book> {
      return guarded<book>(self, req.ctx, "insert book", [&](pqxx::connection& c) {
        return pg::insert_book_row(c, req.info, req.initial_stock);
      });
    },
    [self](patch_book& req) -> caf::result<book> {
      return guarded<book>(self, req.ctx, "patch book", [&](pqxx::connection& c) -> book {
        auto b = pg::patch_book_row(c, req.book_id, req.patch);
        if (!b)
          throw pg::failure{make_error(errc::not_found, req.book_id, "no such book")};
        return std::move(*b);
      });
    },
  };
}

struct front_state {
  book_store_settings settings;
  std::vector<book_store_actor> workers;
  size_t next = 0;
  restart_budget restarts;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "book_store";
};

using front_pointer = book_store_actor::stateful_pointer<front_state>;

book_store_actor start_worker(front_pointer self) {
  auto& s = self->state.settings;
  if (s.detached)
    return self->spawn<caf::detached + caf::linked>(worker_impl, s.dsn);
  return self->spawn<caf::linked>(worker_impl, s.dsn);
}

template <class Msg>
auto forward(front_pointer self) {
  return [self](Msg& msg) {
    auto& st = self->state;
    return self->delegate(st.workers[st.next++ % st.workers.size()], std::move(msg));
  };
}

book_store_actor::behavior_type front_impl(front_pointer self, book_store_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.log = log::get("persistence");
  for (size_t i = 0; i < std::max<size_t>(1, st.settings.workers); ++i)
    st.workers.push_back(start_worker(self));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& w : st.workers) {
      if (w.address() != msg.source)
        continue;
      log::warn(*st.log, "-", "book store worker stopped ({})", to_string(msg.reason));
      if (!st.restarts.spend(self->clock().now()))
        return self->quit(make_error(errc::storage_unavailable, "", "book workers keep failing"));
      w = start_worker(self);
      return;
    }
    self->quit(msg.reason);
  });
  return {forward<fetch_book>(self), forward<query_books>(self), forward<insert_book>(self),
          forward<patch_book>(self)};
}

} // namespace

book_store_actor spawn_book_store(caf::event_based_actor* parent, book_store_settings settings) {
  return parent->spawn<caf::linked>(front_impl, std::move(settings));
}

book_store_actor make_book_store(caf::actor_system& sys, book_store_settings settings) {
  return sys.spawn(front_impl, std::move(settings));
}

} // namespace bookstore
