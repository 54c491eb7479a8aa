#include "actors/common/ids.hpp"
#include "gateway/errors.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"
#include "gateway/views.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace bookstore::http {

namespace {

/// Prices every line from the catalog (all books asked at once) and answers the cart. A book that
/// left the catalog is left out of the answer.
void price(backend& be, const request& req, cart_contents cart, responder done) {
  if (cart.items.empty())
    return done(json(200, cart_json({})));
  struct join {
    std::mutex mtx;
    std::vector<priced_line> lines;
    std::vector<bool> present;
    error_info failure;
    std::atomic<size_t> left{0};
    responder done;
  };
  auto j = std::make_shared<join>();
  j->lines.resize(cart.items.size());
  j->present.resize(cart.items.size());
  j->left = cart.items.size();
  j->done = std::move(done);
  for (size_t i = 0; i < cart.items.size(); ++i) {
    auto& item = cart.items[i];
    be.ask(get_book{context_of(req), item.book_id},
           [j, i, item, rid = req.request_id](outcome<book_view> o) {
             {
               std::lock_guard<std::mutex> guard{j->mtx};
               if (o) {
                 j->lines[i] = priced_line{item.book_id, o.value->info.title, item.quantity,
                                           o.value->info.price};
                 j->present[i] = true;
               } else if (o.error.code != errc::not_found && j->failure.code == errc::none) {
                 j->failure = o.error;
               }
             }
             if (j->left.fetch_sub(1) != 1)
               return;
             if (j->failure.code != errc::none)
               return j->done(from_error(j->failure, rid));
             std::vector<priced_line> out;
             for (size_t k = 0; k < j->lines.size(); ++k)
               if (j->present[k])
                 out.push_back(std::move(j->lines[k]));
             j->done(json(200, cart_json(out)));
           });
  }
}

callback<cart_contents> priced(backend& be, const request& req, responder done) {
  return [&be, req, done = std::move(done)](outcome<cart_contents> o) mutable {
    if (!o)
      return done(from_error(o.error, req.request_id));
    price(be, req, std::move(*o.value), std::move(done));
  };
}

void get(backend& be, const request& req, responder done) {
  be.ask(get_cart{context_of(req), req.who.session_id}, priced(be, req, std::move(done)));
}

void put_item(backend& be, const request& req, const params& ps, responder done) {
  auto& book = param(ps, "book_id");
  if (!ids::well_formed(book, "bk"))
    return done(error_response(404, "not_found", "no such book", req.request_id));
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(error_response(400, "invalid_request", err.message, req.request_id));
  auto qty = read_integer(*obj, "quantity", 1, 100, err);
  if (!qty)
    return done(invalid("quantity", "quantity must be an integer in 1..100", req.request_id));
  // The book must exist now; its price is read again whenever the cart is.
  be.ask(get_book{context_of(req), book},
         [&be, req, book, qty = *qty, done = std::move(done)](outcome<book_view> o) mutable {
           if (!o)
             return done(from_error(o.error, req.request_id));
           be.ask(set_cart_item{context_of(req), req.who.session_id, book, qty},
                  priced(be, req, std::move(done)));
         });
}

void delete_item(backend& be, const request& req, const params& ps, responder done) {
  auto& book = param(ps, "book_id");
  if (!ids::well_formed(book, "bk"))
    return done(error_response(404, "not_found", "no such book", req.request_id));
  be.ask(remove_cart_item{context_of(req), req.who.session_id, book},
         priced(be, req, std::move(done)));
}

void clear(backend& be, const request& req, responder done) {
  be.ask(clear_cart{context_of(req), req.who.session_id},
         [rid = req.request_id, done = std::move(done)](outcome<cart_contents> o) {
           if (!o)
             return done(from_error(o.error, rid));
           response res;
           res.status = 204;
           done(std::move(res));
         });
}

} // namespace

void add_cart_routes(router& r, backend& be) {
  r.add("GET", "/v1/cart",
        {"getCart", "The session's cart, priced now", {200, 401, 429}, "", "Cart", {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          get(be, req, std::move(done));
        });
  r.add("PUT", "/v1/cart/items/{book_id}",
        {"putCartItem", "Set the quantity of a book in the cart",
         {200, 400, 401, 404, 413, 415, 429}, "CartQuantity", "Cart", {}, "customer"},
        [&be](const request& req, const params& ps, responder done) {
          put_item(be, req, ps, std::move(done));
        });
  r.add("DELETE", "/v1/cart/items/{book_id}",
        {"deleteCartItem", "Take a book out of the cart", {200, 401, 404, 429}, "", "Cart", {},
         "customer"},
        [&be](const request& req, const params& ps, responder done) {
          delete_item(be, req, ps, std::move(done));
        });
  r.add("DELETE", "/v1/cart",
        {"clearCart", "Empty the cart", {204, 401, 429}, "", "", {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          clear(be, req, std::move(done));
        });
}

} // namespace bookstore::http
