#include "actors/common/crypto.hpp"
#include "actors/common/ids.hpp"
#include "gateway/errors.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"
#include "gateway/views.hpp"

#include <algorithm>
#include <set>

namespace bookstore::http {

namespace {

bool has_role(const request& req, const char* role) {
  auto& roles = req.who.roles;
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

/// Admins and operators see every order; customers their own.
bool privileged(const request& req) {
  return has_role(req, "admin") || has_role(req, "operator");
}

response no_such_order(const request& req) {
  return error_response(404, "not_found", "no such order", req.request_id);
}

response order_answer(int status, const order_view& o) {
  auto res = json(status, order_json(o));
  res.headers.emplace_back("Location", "/v1/orders/" + o.id);
  return res;
}

/// POST /v1/orders answers by the order's first outcome (the same for every repeat of the key).
response placed(const order_view& o, const std::string& rid) {
  if (o.answer == "confirmed")
    return order_answer(201, o);
  if (o.answer == "payment_pending" || o.answer == "manual_review")
    return order_answer(202, o);
  if (o.answer == "payment_declined")
    return error_response(402, "payment_declined", "the card was declined", rid,
                          {{"order_id", o.id}, {"decline_code", o.decline_code}});
  if (o.answer == "insufficient_stock")
    return error_response(409, "insufficient_stock", "not enough stock for this order", rid,
                          {{"book_id", o.short_book}, {"order_id", o.id}});
  return error_response(409, "invalid_state", "the order was " + o.status + " before it completed",
                        rid, {{"order_id", o.id}});
}

callback<order_view> answer_order(const request& req, responder done, int status = 200) {
  return [rid = req.request_id, done = std::move(done), status](outcome<order_view> o) {
    if (!o)
      return done(from_error(o.error, rid));
    done(json(status, order_json(*o.value)));
  };
}

/// What a client sent to POST /v1/orders, checked.
struct order_request {
  bool from_cart = true;
  std::vector<cart_line> items;
  std::string token;
  shipping_address address;
};

std::optional<std::string> text_field(const nlohmann::json& obj, const char* field,
                                      const std::string& path, size_t min, size_t max,
                                      body_error& err) {
  auto v = read_string(obj, field, min, max, err);
  if (!err.message.empty()) {
    err.field = path;
    return std::nullopt;
  }
  if (!v) {
    if (min > 0) {
      err.field = path;
      err.message = path + " is required";
    }
    return std::nullopt;
  }
  if (!clean_text(*v)) {
    err.field = path;
    err.message = path + " must be text without control characters";
    return std::nullopt;
  }
  return v;
}

std::optional<order_request> read_order(const std::string& body, body_error& err) {
  auto obj = parse_object(body, err);
  if (!obj)
    return std::nullopt;
  order_request out;
  if (obj->contains("items")) {
    auto& items = (*obj)["items"];
    if (!items.is_array() || items.empty() || items.size() > 100) {
      err = {"items", "items must be an array of 1..100 {book_id, quantity}"};
      return std::nullopt;
    }
    out.from_cart = false;
    std::set<std::string> seen;
    for (auto& item : items) {
      if (!item.is_object()) {
        err = {"items", "each item must be an object {book_id, quantity}"};
        return std::nullopt;
      }
      auto id = read_string(item, "book_id", 1, 64, err);
      if (!id || !ids::well_formed(*id, "bk")) {
        err = {"items.book_id", "book_id must be a book id (bk_…)"};
        return std::nullopt;
      }
      auto qty = read_integer(item, "quantity", 1, 100, err);
      if (!qty) {
        err = {"items.quantity", "quantity must be an integer in 1..100"};
        return std::nullopt;
      }
      if (!seen.insert(*id).second) {
        err = {"items", "a book may appear once in items"};
        return std::nullopt;
      }
      out.items.push_back(cart_line{*id, *qty});
    }
  }
  if (!obj->contains("payment") || !(*obj)["payment"].is_object()) {
    err = {"payment", "payment must be an object {token}"};
    return std::nullopt;
  }
  auto token = text_field((*obj)["payment"], "token", "payment.token", 1, 255, err);
  if (!token)
    return std::nullopt;
  if (token->rfind("tok_", 0) != 0) {
    err = {"payment.token", "payment.token must be a card token (tok_…)"};
    return std::nullopt;
  }
  out.token = *token;
  if (!obj->contains("shipping_address") || !(*obj)["shipping_address"].is_object()) {
    err = {"shipping_address", "shipping_address must be an object"};
    return std::nullopt;
  }
  auto& a = (*obj)["shipping_address"];
  struct field {
    const char* name;
    size_t min, max;
    std::string* out;
  };
  for (auto f : {field{"name", 1, 200, &out.address.name}, field{"line1", 1, 200, &out.address.line1},
                 field{"line2", 0, 200, &out.address.line2}, field{"city", 1, 100, &out.address.city},
                 field{"postal_code", 1, 20, &out.address.postal_code},
                 field{"country", 2, 56, &out.address.country}}) {
    auto v = text_field(a, f.name, std::string{"shipping_address."} + f.name, f.min, f.max, err);
    if (!err.message.empty())
      return std::nullopt;
    if (v)
      *f.out = std::move(*v);
  }
  return out;
}

/// Identifies the request, not its bytes: the same fields give the same hash however the JSON
/// is spaced or ordered.
/// An order from the cart is identified by what was sent, not by the cart (which the order
/// empties, so a repeat would otherwise look like another request).
std::string body_hash(const order_request& o) {
  std::string canon = o.from_cart ? "cart\n" : "items\n";
  if (!o.from_cart)
    for (auto& i : o.items) canon += i.book_id + ":" + std::to_string(i.quantity) + "\n";
  canon += o.token + "\n";
  auto& a = o.address;
  for (auto* f : {&a.name, &a.line1, &a.line2, &a.city, &a.postal_code, &a.country})
    canon += std::to_string(f->size()) + ":" + *f;
  return crypto::sha256_hex(canon);
}

/// Prices the lines, then places the order.
void place(backend& be, const request& req, order_request o, std::vector<cart_line> lines,
           responder done) {
  auto order_id = "ord_" + crypto::sha256_hex(req.who.user_id + "\n" + req.idempotency_key).substr(0, 20);
  place_order msg;
  msg.ctx = context_of(req);
  msg.order_id = order_id;
  msg.user_id = req.who.user_id;
  msg.body_hash = body_hash(o);
  msg.address = o.address;
  msg.payment_token = o.token;
  msg.client_ip = req.client_ip;
  if (o.from_cart)
    msg.session_id = req.who.session_id;
  auto send = [&be, rid = req.request_id, done](place_order msg) mutable {
    be.ask(std::move(msg), [rid, done](outcome<order_view> r) {
      if (!r)
        return done(from_error(r.error, rid));
      done(placed(*r.value, rid));
    });
  };
  if (lines.empty())
    return send(std::move(msg)); // an empty cart: only a repeat of an earlier order can succeed
  price_books prices{context_of(req), {}};
  for (auto& l : lines) prices.book_ids.push_back(l.book_id);
  be.ask(std::move(prices), [msg = std::move(msg), lines, rid = req.request_id, done,
                             send](outcome<book_prices> p) mutable {
    if (!p)
      return done(from_error(p.error, rid));
    auto& found = p.value->items;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i >= found.size() || !found[i].found)
        return done(error_response(404, "not_found", "no such book", rid,
                                   {{"book_id", lines[i].book_id}}));
      msg.items.push_back(
        order_line{lines[i].book_id, found[i].title, lines[i].quantity, found[i].price});
    }
    send(std::move(msg));
  });
}

void create(backend& be, const request& req, responder done) {
  if (!req.has_idempotency_key)
    return done(error_response(400, "idempotency_key_required",
                               "POST /v1/orders needs an Idempotency-Key header", req.request_id));
  if (req.idempotency_key.empty() || req.idempotency_key.size() > 255)
    return done(invalid("Idempotency-Key", "Idempotency-Key must be 1..255 characters",
                        req.request_id));
  body_error err;
  auto o = read_order(req.body, err);
  if (!o)
    return done(invalid_body(err, req.request_id));
  if (!o->from_cart)
    return place(be, req, *o, o->items, std::move(done));
  be.ask(get_cart{context_of(req), req.who.session_id},
         [&be, req, o = *o, done = std::move(done)](outcome<cart_contents> c) mutable {
           if (!c)
             return done(from_error(c.error, req.request_id));
           o.items = c.value->items;
           place(be, req, o, o.items, std::move(done));
         });
}

void list(backend& be, const request& req, const std::string& user_id, responder done) {
  list_orders msg;
  msg.ctx = context_of(req);
  msg.user_id = user_id;
  if (auto limit = query_param(req.query, "limit")) {
    bool digits = !limit->empty() && limit->size() <= 3
                  && std::all_of(limit->begin(), limit->end(), ::isdigit);
    auto n = digits ? std::stoi(*limit) : 0;
    if (n < 1 || n > 100)
      return done(invalid("limit", "limit must be an integer in 1..100", req.request_id));
    msg.limit = n;
  }
  if (auto cursor = query_param(req.query, "cursor"))
    msg.cursor = std::move(*cursor);
  if (user_id.empty()) {
    if (auto status = query_param(req.query, "status")) {
      static const std::set<std::string> known{
        "pending",   "reserved", "payment_pending", "manual_review",  "confirmed", "shipped",
        "delivered", "rejected", "payment_failed",  "cancelled",      "refunded"};
      if (known.count(*status) == 0)
        return done(invalid("status", "status must be an order status", req.request_id));
      msg.status = *status;
    }
  }
  be.ask(std::move(msg), [rid = req.request_id, done = std::move(done)](outcome<order_page> p) {
    if (!p)
      return done(from_error(p.error, rid));
    done(json(200, order_page_json(*p.value)));
  });
}

/// The order id of the path, or a 404 for anything that cannot be one.
const std::string* order_id(const request& req, const params& ps, responder& done) {
  auto& id = param(ps, "id");
  if (!ids::well_formed(id, "ord")) {
    done(no_such_order(req));
    return nullptr;
  }
  return &id;
}

void ship(backend& be, const request& req, const std::string& id, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto carrier = text_field(*obj, "carrier", "carrier", 1, 100, err);
  if (!carrier)
    return done(invalid_body(err, req.request_id));
  auto tracking = text_field(*obj, "tracking_number", "tracking_number", 1, 100, err);
  if (!tracking)
    return done(invalid_body(err, req.request_id));
  audit(be, req, "order.shipped", id);
  be.ask(ship_order{context_of(req), id, *carrier, *tracking}, answer_order(req, std::move(done)));
}

} // namespace

void add_order_routes(router& r, backend& be) {
  r.add("POST", "/v1/orders",
        {"placeOrder", "Place an order (checkout): reserve, pay, confirm",
         {201, 202, 400, 401, 402, 404, 409, 413, 415, 429, 503, 504}, "OrderRequest", "Order",
         {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          create(be, req, std::move(done));
        });
  r.add("GET", "/v1/orders",
        {"listOrders", "The caller's orders, newest first", {200, 400, 401, 429}, "", "OrderList",
         {"limit", "cursor"}, "customer"},
        [&be](const request& req, const params&, responder done) {
          list(be, req, req.who.user_id, std::move(done));
        });
  r.add("GET", "/v1/orders/{id}",
        {"getOrder", "One order with its status history", {200, 401, 404, 429}, "", "Order", {},
         "customer"},
        [&be](const request& req, const params& ps, responder done) {
          if (auto id = order_id(req, ps, done))
            be.ask(get_order{context_of(req), *id, privileged(req)},
                   answer_order(req, std::move(done)));
        });
  r.add("POST", "/v1/orders/{id}/cancel",
        {"cancelOrder", "Cancel an order not yet shipped (refund, stock returned)",
         {200, 401, 404, 409, 429, 503, 504}, "", "Order", {}, "customer"},
        [&be](const request& req, const params& ps, responder done) {
          if (auto id = order_id(req, ps, done)) {
            bool admin = has_role(req, "admin");
            if (admin)
              audit(be, req, "order.cancelled", *id);
            be.ask(cancel_order{context_of(req), *id, admin}, answer_order(req, std::move(done)));
          }
        });
  r.add("POST", "/v1/orders/{id}/refund",
        {"refundOrder", "Refund a paid order", {200, 401, 403, 404, 409, 429, 503, 504}, "",
         "Order", {}, "admin"},
        [&be](const request& req, const params& ps, responder done) {
          if (auto id = order_id(req, ps, done)) {
            audit(be, req, "order.refunded", *id);
            be.ask(refund_order{context_of(req), *id}, answer_order(req, std::move(done)));
          }
        });
  r.add("POST", "/v1/admin/orders/{id}/ship",
        {"shipOrder", "Mark a confirmed order shipped", {200, 400, 401, 403, 404, 409, 415, 429},
         "Shipment", "Order", {}, "admin"},
        [&be](const request& req, const params& ps, responder done) {
          if (auto id = order_id(req, ps, done))
            ship(be, req, *id, std::move(done));
        });
  r.add("GET", "/v1/admin/orders",
        {"adminListOrders", "All orders, newest first, optionally of one status",
         {200, 400, 401, 403, 429}, "", "OrderList", {"status", "limit", "cursor"},
         "admin|operator"},
        [&be](const request& req, const params&, responder done) {
          list(be, req, "", std::move(done));
        });
  for (auto [verb, approve] : {std::pair{"approve", true}, std::pair{"reject", false}}) {
    r.add("POST", std::string{"/v1/admin/orders/{id}/"} + verb,
          {std::string{approve ? "approveOrder" : "rejectOrder"},
           approve ? "Approve an order held for review (capture)"
                   : "Reject an order held for review (void, release)",
           {200, 401, 403, 404, 409, 429, 503, 504}, "", "Order", {}, "operator"},
          [&be, approve = approve](const request& req, const params& ps, responder done) {
            if (auto id = order_id(req, ps, done)) {
              audit(be, req, approve ? "order.approved" : "order.rejected", *id);
              be.ask(review_order{context_of(req), *id, approve},
                     answer_order(req, std::move(done)));
            }
          });
  }
}

} // namespace bookstore::http
