#include "actors/catalog/catalog.hpp"

#include "actors/catalog/book_cache.hpp"
#include "actors/catalog/cursor.hpp"
#include "actors/common/deadline.hpp"
#include "actors/common/ids.hpp"
#include "actors/entity/codec.hpp"
#include "actors/inventory/inventory_item.hpp"
#include "actors/protocol/errc.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <unordered_map>

namespace bookstore {

namespace {

struct catalog_state {
  std::unique_ptr<book_cache> cache;
  service_ref<book_store_actor> books;
  service_ref<inventory_actor> inventory;
  catalog_settings settings;
  /// Cache misses being fetched: later askers for the same book wait for the same fetch.
  std::unordered_map<std::string, std::vector<std::function<void(caf::expected<book>)>>> fetching;
  static inline const char* name = "catalog";
};

using catalog_pointer = catalog_actor::stateful_pointer<catalog_state>;

/// Sends `msg` to the service behind `ref` with the request's remaining time; `on_error` also
/// gets "unavailable" while the service restarts.
template <class Handle, class Msg, class OnOk, class OnError>
void ask(catalog_pointer self, const service_ref<Handle>& ref, const request_ctx& ctx, Msg msg,
         OnOk on_ok, OnError on_error) {
  auto target = ref.get();
  if (!target) {
    caf::error err = make_error(errc::unavailable, "", "a service is restarting");
    on_error(err);
    return;
  }
  self->request(target, time_left(ctx, self->state.settings.timeout), std::move(msg))
    .then(std::move(on_ok), std::move(on_error));
}

/// Calls `then` with the book (from the cache, or fetched and cached) or the fetch's error.
void with_book(catalog_pointer self, const request_ctx& ctx, const std::string& id,
               std::function<void(caf::expected<book>)> then) {
  auto& st = self->state;
  if (auto* hit = st.cache->find(id)) {
    then(hit->info);
    return;
  }
  auto& waiting = st.fetching[id];
  waiting.push_back(std::move(then));
  if (waiting.size() > 1)
    return;
  ask(
    self, st.books, ctx, fetch_book{ctx, id},
    [self, id](book& b) {
        self->state.cache->put(b);
        auto waiters = std::move(self->state.fetching[id]);
        self->state.fetching.erase(id);
        for (auto& w : waiters) w(b);
    },
    [self, id](caf::error& err) {
      auto waiters = std::move(self->state.fetching[id]);
      self->state.fetching.erase(id);
      for (auto& w : waiters) w(err);
    });
}

/// Answers `rp` with the book and what its inventory item says is available: the level it last
/// published if the cache has one, else asked for (which activates the item).
void deliver_view(catalog_pointer self, const request_ctx& ctx, book b,
                  caf::typed_response_promise<book_view> rp) {
  if (auto* hit = self->state.cache->find(b.id); hit && hit->available) {
    rp.deliver(book_view{std::move(b), *hit->available});
    return;
  }
  auto id = b.id;
  ask(
    self, self->state.inventory, ctx, get_stock{ctx, id},
    [self, rp, b = std::move(b)](stock_level& lvl) mutable {
      self->state.cache->set_available_if_unknown(lvl.book_id, lvl.available);
      rp.deliver(book_view{b, lvl.available});
    },
    [rp](caf::error& err) mutable { rp.deliver(err); });
}

/// Fills in `available` for every book of a page, then answers.
void deliver_page(catalog_pointer self, const request_ctx& ctx, std::vector<book> books,
                  std::string next_cursor, caf::typed_response_promise<book_page> rp) {
  struct join {
    book_page page;
    size_t pending = 0;
    bool failed = false;
    caf::typed_response_promise<book_page> rp;
  };
  auto j = std::make_shared<join>();
  j->rp = rp;
  j->page.next_cursor = std::move(next_cursor);
  j->pending = books.size();
  if (books.empty()) {
    rp.deliver(std::move(j->page));
    return;
  }
  j->page.items.reserve(books.size());
  for (auto& b : books) j->page.items.push_back(book_view{std::move(b), 0});
  // Books whose level is known need no question.
  std::vector<bool> known(j->page.items.size(), false);
  for (size_t i = 0; i < j->page.items.size(); ++i) {
    if (auto* hit = self->state.cache->find(j->page.items[i].info.id); hit && hit->available) {
      j->page.items[i].available = *hit->available;
      known[i] = true;
      --j->pending;
    }
  }
  if (j->pending == 0) {
    rp.deliver(std::move(j->page));
    return;
  }
  for (size_t i = 0; i < j->page.items.size(); ++i) {
    if (known[i])
      continue;
    ask(
      self, self->state.inventory, ctx, get_stock{ctx, j->page.items[i].info.id},
      [self, j, i](stock_level& lvl) {
          self->state.cache->set_available_if_unknown(lvl.book_id, lvl.available);
          j->page.items[i].available = lvl.available;
          if (--j->pending == 0 && !j->failed)
            j->rp.deliver(std::move(j->page));
      },
      [j](caf::error& err) {
        if (!j->failed) {
          j->failed = true;
          j->rp.deliver(err);
        }
      });
  }
}

} // namespace

catalog_actor::behavior_type catalog_impl(catalog_pointer self, service_ref<book_store_actor> books,
                                          service_ref<inventory_actor> inventory,
                                          catalog_settings settings) {
  auto& st = self->state;
  st.cache = std::make_unique<book_cache>(settings.cache_size);
  st.books = std::move(books);
  st.inventory = std::move(inventory);
  st.settings = settings;
  return {
    [self](get_book& msg) -> caf::result<book_view> {
      // Warm path: the book and its published level are both in memory.
      if (auto* hit = self->state.cache->find(msg.book_id); hit && hit->available)
        return book_view{hit->info, *hit->available};
      auto rp = self->make_response_promise<book_view>();
      auto ctx = msg.ctx;
      with_book(self, ctx, msg.book_id, [self, ctx, rp](caf::expected<book> b) mutable {
        if (!b)
          rp.deliver(b.error());
        else
          deliver_view(self, ctx, std::move(*b), rp);
      });
      return rp;
    },
    [self](price_books& msg) -> caf::result<book_prices> {
      // Warm path: every book is in the cache; else fetch the missing ones, then answer.
      auto out = std::make_shared<book_prices>();
      auto missing = std::make_shared<size_t>(0);
      for (auto& id : msg.book_ids) {
        book_price p{id, false, {}, {}};
        if (auto* hit = self->state.cache->find(id))
          p = book_price{id, true, hit->info.title, hit->info.price};
        else
          ++*missing;
        out->items.push_back(std::move(p));
      }
      if (*missing == 0)
        return std::move(*out);
      auto rp = self->make_response_promise<book_prices>();
      auto failed = std::make_shared<caf::error>();
      for (size_t i = 0; i < out->items.size(); ++i) {
        if (out->items[i].found)
          continue;
        with_book(self, msg.ctx, out->items[i].book_id,
                  [out, missing, failed, i, rp](caf::expected<book> b) mutable {
                    if (b)
                      out->items[i] = book_price{b->id, true, b->title, b->price};
                    else if (describe(b.error()).code != errc::not_found && !*failed)
                      *failed = b.error();
                    if (--*missing != 0)
                      return;
                    if (*failed)
                      rp.deliver(*failed);
                    else
                      rp.deliver(std::move(*out));
                  });
      }
      return rp;
    },
    [self](list_books& msg) -> caf::result<book_page> {
      std::string after;
      if (!msg.cursor.empty()) {
        auto key = cursor::decode(msg.cursor);
        if (!key || !ids::well_formed(*key, "bk"))
          return make_error(errc::invalid_request, "cursor", "cursor is not one this API issued");
        after = std::move(*key);
      }
      auto rp = self->make_response_promise<book_page>();
      auto ctx = msg.ctx;
      auto limit = msg.limit;
      query_books q{ctx, msg.genre, msg.author, after, limit + 1};
      ask(
        self, self->state.books, ctx, std::move(q),
        [self, ctx, rp, limit](book_list& list) mutable {
            std::string next;
            if (list.items.size() > static_cast<size_t>(limit)) {
              list.items.resize(static_cast<size_t>(limit));
              next = cursor::encode(list.items.back().id);
            }
            for (auto& b : list.items) self->state.cache->put(b);
            deliver_page(self, ctx, std::move(list.items), std::move(next), rp);
        },
        [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](create_book& msg) -> caf::result<book_view> {
      auto rp = self->make_response_promise<book_view>();
      msg.draft.id = ids::make("bk");
      inventory_state initial;
      initial.on_hand = msg.stock;
      snapshot snap{inventory_item::entity_type, msg.draft.id, 1, entity::encode(initial),
                    inventory_item::schema_version, 0, {}};
      auto stock = msg.stock;
      auto ctx = msg.ctx;
      insert_book req{ctx, std::move(msg.draft), std::move(snap)};
      ask(
        self, self->state.books, ctx, std::move(req),
        [self, rp, stock](book& b) mutable {
            self->state.cache->put(b).available = stock;
            rp.deliver(book_view{std::move(b), stock});
        },
        [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](update_book& msg) -> caf::result<book_view> {
      auto rp = self->make_response_promise<book_view>();
      auto ctx = msg.ctx;
      patch_book req{ctx, msg.book_id, std::move(msg.patch)};
      ask(
        self, self->state.books, ctx, std::move(req),
        [self, ctx, rp](book& b) mutable {
          self->state.cache->put(b);
          deliver_view(self, ctx, std::move(b), rp);
        },
        [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](change_stock& msg) -> caf::result<stock_level> {
      auto rp = self->make_response_promise<stock_level>();
      auto ctx = msg.ctx;
      auto delta = msg.delta;
      // Only books that exist get an inventory item: unknown ids never reach an entity.
      with_book(self, ctx, msg.book_id, [self, ctx, delta, rp](caf::expected<book> b) mutable {
        if (!b) {
          rp.deliver(b.error());
          return;
        }
        // The item answers the requester itself (and publishes its new level to us).
        if (auto inventory = self->state.inventory.get())
          rp.delegate(inventory, adjust_stock{ctx, b->id, delta});
        else
          rp.deliver(make_error(errc::unavailable, "", "the inventory is restarting"));
      });
      return rp;
    },
    [self](stock_level& lvl) { self->state.cache->set_available(lvl.book_id, lvl.available); },
    [self](stock_forgotten& msg) { self->state.cache->forget_available(msg.book_id); },
  };
}

catalog_actor make_catalog(caf::actor_system& sys, service_ref<book_store_actor> books,
                           service_ref<inventory_actor> inventory, catalog_settings settings) {
  return sys.spawn(catalog_impl, std::move(books), std::move(inventory), settings);
}

catalog_actor spawn_catalog(caf::event_based_actor* parent, service_ref<book_store_actor> books,
                            service_ref<inventory_actor> inventory, catalog_settings settings) {
  return parent->spawn<caf::linked>(catalog_impl, std::move(books), std::move(inventory),
                                    settings);
}

} // namespace bookstore
