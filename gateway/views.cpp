#include "gateway/views.hpp"

#include "actors/common/time.hpp"

namespace bookstore::http {

void write_book(json_writer& w, const book_view& v) {
  auto& b = v.info;
  w.begin_object();
  w.key("id").value(b.id);
  w.key("isbn").value(b.isbn);
  w.key("title").value(b.title);
  w.key("authors").strings(b.authors);
  w.key("genres").strings(b.genres);
  w.key("description").value(b.description);
  w.key("price").begin_object().key("amount").value(b.price.amount);
  w.key("currency").value(b.price.currency).end_object();
  w.key("published_year");
  if (b.published_year > 0)
    w.value(static_cast<int64_t>(b.published_year));
  else
    w.null();
  w.key("available").value(v.available);
  w.key("created_at").value(rfc3339(b.created_at));
  w.key("updated_at").value(rfc3339(b.updated_at));
  w.end_object();
}

std::string book_json(const book_view& b) {
  json_writer w;
  write_book(w, b);
  return w.take();
}

namespace {

/// {"items":[…],"next_cursor": "…" | null}, each item written by `write`.
template <class Items, class Write>
std::string page_json(const Items& items, const std::string& next_cursor, Write write) {
  json_writer w;
  w.begin_object().key("items").begin_array();
  for (auto& x : items) write(w, x);
  w.end_array().key("next_cursor");
  if (next_cursor.empty())
    w.null();
  else
    w.value(next_cursor);
  w.end_object();
  return w.take();
}

} // namespace

std::string book_page_json(const book_page& page) {
  return page_json(page.items, page.next_cursor, write_book);
}

std::string stock_json(const stock_level& lvl) {
  json_writer w;
  w.begin_object();
  w.key("book_id").value(lvl.book_id);
  w.key("on_hand").value(lvl.on_hand);
  w.key("reserved").value(lvl.reserved);
  w.key("available").value(lvl.available);
  w.end_object();
  return w.take();
}

void write_user(json_writer& w, const user_view& u) {
  w.begin_object();
  w.key("id").value(u.id);
  w.key("email").value(u.email);
  w.key("name").value(u.name);
  w.key("roles").strings(u.roles);
  w.key("mfa_enabled").value(u.mfa_enabled);
  w.key("created_at").value(rfc3339(u.created_at));
  w.end_object();
}

std::string user_json(const user_view& u) {
  json_writer w;
  write_user(w, u);
  return w.take();
}

std::string tokens_json(const login_grant& g, const std::string& access_token,
                        int64_t expires_in_s) {
  json_writer w;
  w.begin_object();
  w.key("access_token").value(access_token);
  w.key("refresh_token").value(g.refresh_token);
  w.key("token_type").value("Bearer");
  w.key("expires_in").value(expires_in_s);
  w.key("session_id").value(g.session_id);
  w.end_object();
  return w.take();
}

std::string cart_json(const std::vector<priced_line>& lines) {
  json_writer w;
  int64_t total = 0;
  std::string currency = "USD";
  w.begin_object().key("items").begin_array();
  for (auto& l : lines) {
    w.begin_object();
    w.key("book_id").value(l.book_id);
    w.key("title").value(l.title);
    w.key("quantity").value(l.quantity);
    w.key("unit_price").begin_object().key("amount").value(l.unit_price.amount);
    w.key("currency").value(l.unit_price.currency).end_object();
    w.end_object();
    total += l.unit_price.amount * l.quantity;
    currency = l.unit_price.currency;
  }
  w.end_array();
  w.key("total").begin_object().key("amount").value(total).key("currency").value(currency);
  w.end_object().end_object();
  return w.take();
}

namespace {

void write_money(json_writer& w, const money& m) {
  w.begin_object().key("amount").value(m.amount).key("currency").value(m.currency).end_object();
}

} // namespace

void write_order(json_writer& w, const order_view& o) {
  w.begin_object();
  w.key("id").value(o.id);
  w.key("user_id").value(o.user_id);
  w.key("status").value(o.status);
  w.key("items").begin_array();
  for (auto& l : o.items) {
    w.begin_object().key("book_id").value(l.book_id).key("title").value(l.title);
    w.key("quantity").value(l.quantity).key("unit_price");
    write_money(w, l.unit_price);
    w.end_object();
  }
  w.end_array();
  w.key("total");
  write_money(w, o.total);
  auto& a = o.address;
  w.key("shipping_address").begin_object().key("name").value(a.name).key("line1").value(a.line1);
  w.key("line2");
  if (a.line2.empty())
    w.null();
  else
    w.value(a.line2);
  w.key("city").value(a.city).key("postal_code").value(a.postal_code);
  w.key("country").value(a.country).end_object();
  w.key("payment").begin_object().key("id").value(o.payment_id);
  w.key("status").value(o.payment_status);
  if (!o.decline_code.empty())
    w.key("decline_code").value(o.decline_code);
  w.end_object();
  w.key("shipment");
  if (o.shipment_status.empty())
    w.null();
  else
    w.begin_object().key("status").value(o.shipment_status).key("carrier").value(o.carrier)
      .key("tracking_number").value(o.tracking_number).end_object();
  w.key("status_history").begin_array();
  for (auto& h : o.history)
    w.begin_object().key("status").value(h.status).key("at").value(rfc3339(h.at)).end_object();
  w.end_array();
  w.key("created_at").value(rfc3339(o.created_at));
  w.key("updated_at").value(rfc3339(o.updated_at));
  w.end_object();
}

std::string order_json(const order_view& o) {
  json_writer w;
  write_order(w, o);
  return w.take();
}

std::string order_page_json(const order_page& page) {
  return page_json(page.items, page.next_cursor, write_order);
}

std::string export_json(const user_export& x,
                        const std::vector<std::pair<std::string, cart_contents>>& carts,
                        const std::vector<order_view>& orders, int64_t now_ms) {
  json_writer w;
  w.begin_object();
  w.key("profile");
  write_user(w, x.profile);
  w.key("orders").begin_array();
  for (auto& o : orders) write_order(w, o);
  w.end_array();
  w.key("sessions").begin_array();
  for (auto& s : x.sessions) {
    w.begin_object().key("id").value(s.id).key("created_at").value(rfc3339(s.created_at));
    w.key("ip").value(s.ip);
    for (auto& [sid, cart] : carts) {
      if (sid != s.id)
        continue;
      w.key("cart").begin_array();
      for (auto& line : cart.items)
        w.begin_object().key("book_id").value(line.book_id).key("quantity").value(line.quantity)
          .end_object();
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.key("audit").begin_array();
  for (auto& a : x.audit) {
    w.begin_object().key("at").value(rfc3339(a.at)).key("action").value(a.action);
    w.key("subject_id").value(a.subject_id).key("ip").value(a.ip);
    w.key("request_id").value(a.request_id).end_object();
  }
  w.end_array();
  w.key("exported_at").value(rfc3339(now_ms));
  w.end_object();
  return w.take();
}

} // namespace bookstore::http
