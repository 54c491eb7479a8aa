#include "actors/common/ids.hpp"
#include "gateway/errors.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"
#include "gateway/views.hpp"

namespace bookstore::http {

namespace {

constexpr int64_t max_amount = 100'000'000'00; // 100 million in minor units
constexpr int64_t max_stock = 1'000'000'000;

/// Reads every book field present in `obj` into `patch`. False (with `err`) on the first bad one.
bool read_book_fields(const nlohmann::json& obj, book_patch& patch, body_error& err) {
  auto& v = patch.values;
  if (auto isbn = read_string(obj, "isbn", 1, 32, err)) {
    auto normal = normalize_isbn(*isbn);
    if (!normal) {
      err = {"isbn", "isbn must be a valid ISBN-10 or ISBN-13"};
      return false;
    }
    v.isbn = *normal;
    patch.fields |= bf_isbn;
  }
  if (!err.field.empty())
    return false;
  if (auto title = read_string(obj, "title", 1, 500, err)) {
    if (title->find_first_not_of(" \t\r\n") == std::string::npos) {
      err = {"title", "title must not be blank"};
      return false;
    }
    v.title = std::move(*title);
    patch.fields |= bf_title;
  }
  if (!err.field.empty())
    return false;
  if (auto authors = read_strings(obj, "authors", 1, 20, 200, err)) {
    v.authors = std::move(*authors);
    patch.fields |= bf_authors;
  }
  if (!err.field.empty())
    return false;
  if (auto genres = read_strings(obj, "genres", 0, 20, 100, err)) {
    v.genres = std::move(*genres);
    patch.fields |= bf_genres;
  }
  if (!err.field.empty())
    return false;
  if (auto description = read_string(obj, "description", 0, 10000, err)) {
    v.description = std::move(*description);
    patch.fields |= bf_description;
  }
  if (!err.field.empty())
    return false;
  if (auto it = obj.find("price"); it != obj.end()) {
    if (!it->is_object()) {
      err = {"price", "price must be {\"amount\": minor units, \"currency\": \"USD\"}"};
      return false;
    }
    auto amount = read_integer(*it, "amount", 0, max_amount, err);
    if (!amount) {
      err = {"price.amount", "price.amount must be an integer number of minor units (cents), "
                             "0.."
                               + std::to_string(max_amount)};
      return false;
    }
    auto currency = read_string(*it, "currency", 3, 3, err);
    if (!currency || !std::all_of(currency->begin(), currency->end(),
                                  [](char c) { return c >= 'A' && c <= 'Z'; })) {
      err = {"price.currency", "price.currency must be an ISO 4217 code such as \"USD\""};
      return false;
    }
    v.price = money{*amount, *currency};
    patch.fields |= bf_price;
  }
  if (auto it = obj.find("published_year"); it != obj.end()) {
    if (it->is_null()) {
      v.published_year = 0;
    } else if (auto year = read_integer(obj, "published_year", 1, 2100, err)) {
      v.published_year = static_cast<int32_t>(*year);
    } else {
      return false;
    }
    patch.fields |= bf_published_year;
  }
  return true;
}

/// Well-formed book id from the path, or nothing (then it cannot exist: 404).
bool known_shape(const std::string& id) {
  return ids::well_formed(id, "bk");
}

response not_found(const request& req) {
  return error_response(404, "not_found", "no such book", req.request_id);
}

template <class T, class Render>
callback<T> answer(responder done, std::string rid, int status, Render render) {
  return [done = std::move(done), rid = std::move(rid), status, render](outcome<T> o) {
    if (!o)
      return done(from_error(o.error, rid));
    done(json(status, render(*o.value)));
  };
}

void list(backend& be, const request& req, responder done) {
  list_books msg;
  msg.ctx = context_of(req);
  for (auto [name, out] : {std::pair{"genre", &msg.genre}, std::pair{"author", &msg.author}}) {
    if (auto v = query_param(req.query, name)) {
      if (v->empty() || v->size() > 200 || !clean_text(*v))
        return done(invalid(name, std::string{name} + " must be 1..200 characters of text",
                            req.request_id));
      *out = std::move(*v);
    }
  }
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
  be.ask(std::move(msg), answer<book_page>(std::move(done), req.request_id, 200, book_page_json));
}

void get(backend& be, const request& req, const params& ps, responder done) {
  auto& id = param(ps, "id");
  if (!known_shape(id))
    return done(not_found(req));
  be.ask(get_book{context_of(req), id},
         answer<book_view>(std::move(done), req.request_id, 200, book_json));
}

void create(backend& be, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  book_patch fields;
  if (!obj || !read_book_fields(*obj, fields, err))
    return done(invalid_body(err, req.request_id));
  for (auto [bit, name] : {std::pair{bf_isbn, "isbn"}, std::pair{bf_title, "title"},
                           std::pair{bf_authors, "authors"}, std::pair{bf_price, "price"}})
    if ((fields.fields & bit) == 0)
      return done(invalid(name, std::string{name} + " is required", req.request_id));
  auto stock = read_integer(*obj, "stock", 0, max_stock, err);
  if (!err.field.empty())
    return done(invalid(err.field, err.message, req.request_id));
  create_book msg{context_of(req), std::move(fields.values), stock.value_or(0)};
  be.ask(std::move(msg), [&be, req, done = std::move(done)](outcome<book_view> o) {
    if (!o)
      return done(from_error(o.error, req.request_id));
    audit(be, req, "admin.book_created", o.value->info.id);
    auto res = json(201, book_json(*o.value));
    res.headers.emplace_back("Location", "/v1/books/" + o.value->info.id);
    done(std::move(res));
  });
}

void update(backend& be, const request& req, const params& ps, responder done) {
  auto& id = param(ps, "id");
  if (!known_shape(id))
    return done(not_found(req));
  body_error err;
  auto obj = parse_object(req.body, err);
  book_patch patch;
  if (!obj || !read_book_fields(*obj, patch, err))
    return done(invalid_body(err, req.request_id));
  if (obj->contains("stock"))
    return done(invalid("stock", "stock changes go through POST /v1/books/{id}/stock",
                        req.request_id));
  be.ask(update_book{context_of(req), id, std::move(patch)},
         [&be, req, done = std::move(done)](outcome<book_view> o) {
           if (!o)
             return done(from_error(o.error, req.request_id));
           audit(be, req, "admin.book_updated", o.value->info.id);
           done(json(200, book_json(*o.value)));
         });
}

void restock(backend& be, const request& req, const params& ps, responder done) {
  auto& id = param(ps, "id");
  if (!known_shape(id))
    return done(not_found(req));
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(error_response(400, "invalid_request", err.message, req.request_id));
  auto delta = read_integer(*obj, "delta", -max_stock, max_stock, err);
  if (!delta)
    return done(invalid("delta",
                        err.field.empty() ? "delta is required" : err.message,
                        req.request_id));
  be.ask(change_stock{context_of(req), id, *delta},
         [&be, req, delta = *delta, done = std::move(done)](outcome<stock_level> o) {
           if (!o)
             return done(from_error(o.error, req.request_id));
           audit(be, req, "admin.stock_changed", o.value->book_id,
                 "{\"delta\":" + std::to_string(delta) + "}");
           done(json(200, stock_json(*o.value)));
         });
}

} // namespace

void add_book_routes(router& r, backend& be) {
  r.add("GET", "/v1/books",
        {"listBooks", "List books, optionally by genre and/or author (case-insensitive)",
         {200, 400}, "", "BookList", {"genre", "author", "limit", "cursor"}},
        [&be](const request& req, const params&, responder done) {
          list(be, req, std::move(done));
        });
  r.add("GET", "/v1/books/{id}", {"getBook", "One book", {200, 404}, "", "Book", {}},
        [&be](const request& req, const params& ps, responder done) {
          get(be, req, ps, std::move(done));
        });
  r.add("POST", "/v1/books",
        {"createBook", "Create a book (admin), with its initial stock",
         {201, 400, 401, 403, 409, 413, 415}, "BookCreate", "Book", {}, "admin"},
        [&be](const request& req, const params&, responder done) {
          create(be, req, std::move(done));
        });
  r.add("PATCH", "/v1/books/{id}",
        {"updateBook", "Change book fields (admin)", {200, 400, 401, 403, 404, 409, 413, 415},
         "BookPatch", "Book", {}, "admin"},
        [&be](const request& req, const params& ps, responder done) {
          update(be, req, ps, std::move(done));
        });
  r.add("POST", "/v1/books/{id}/stock",
        {"changeStock", "Add to or take from stock on hand (admin)",
         {200, 400, 401, 403, 404, 409, 413, 415}, "StockDelta", "StockLevel", {}, "admin"},
        [&be](const request& req, const params& ps, responder done) {
          restock(be, req, ps, std::move(done));
        });
}

} // namespace bookstore::http
