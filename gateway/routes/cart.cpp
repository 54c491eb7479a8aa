#include "actors/common/ids.hpp"
#include "gateway/errors.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"
#include "gateway/views.hpp"


namespace bookstore::http {

namespace {

/// Prices every line from the catalog (one call for the whole cart) and answers the cart. A book
/// that left the catalog is left out of the answer.
void price(backend& be, const request& req, cart_contents cart, responder done) {
  if (cart.items.empty())
    return done(json(200, cart_json({})));
  price_books msg{context_of(req), {}};
  for (auto& item : cart.items) msg.book_ids.push_back(item.book_id);
  be.ask(std::move(msg), [cart = std::move(cart), rid = req.request_id,
                          done = std::move(done)](outcome<book_prices> o) {
    if (!o)
      return done(from_error(o.error, rid));
    std::vector<priced_line> lines;
    auto& prices = o.value->items;
    for (size_t i = 0; i < cart.items.size() && i < prices.size(); ++i)
      if (prices[i].found)
        lines.push_back(priced_line{cart.items[i].book_id, prices[i].title,
                                    cart.items[i].quantity, prices[i].price});
    done(json(200, cart_json(lines)));
  });
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
