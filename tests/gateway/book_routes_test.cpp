#define CAF_SUITE book_routes
#include <caf/test/unit_test.hpp>

#include "gateway/http_api.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

using namespace bookstore;
using namespace bookstore::http;

namespace {

/// Records what the routes ask and answers with whatever the test set up.
struct fake_backend : backend {
  int calls = 0;
  std::optional<create_book> created;
  std::optional<update_book> updated;
  std::optional<change_stock> stocked;
  std::optional<list_books> listed;
  error_info fail_with; ///< when set (code != none), every call fails with it

  template <class T>
  void reply(callback<T>& cb, T value) {
    ++calls;
    if (fail_with.code != errc::none)
      cb(outcome<T>::fail(fail_with));
    else
      cb(outcome<T>::ok(std::move(value)));
  }
  static book_view view(const book& b) { return book_view{b, 3}; }

  void ask(get_book msg, callback<book_view> cb) override {
    book b;
    b.id = msg.book_id;
    reply(cb, view(b));
  }
  void ask(list_books msg, callback<book_page> cb) override {
    listed = msg;
    reply(cb, book_page{});
  }
  void ask(create_book msg, callback<book_view> cb) override {
    created = msg;
    auto b = msg.draft;
    b.id = "bk_new";
    reply(cb, view(b));
  }
  void ask(update_book msg, callback<book_view> cb) override {
    updated = msg;
    reply(cb, view(msg.patch.values));
  }
  void ask(change_stock msg, callback<stock_level> cb) override {
    stocked = msg;
    reply(cb, stock_level{msg.book_id, 5, 0, 5});
  }
  void ask(probe_health, int64_t, callback<health_report> cb) override {
    reply(cb, health_report{});
  }
  /// Whether the session entity says the caller's session is live.
  bool session_live = true;
  void ask(check_session msg, callback<session_view> cb) override {
    if (!session_live)
      return cb(outcome<session_view>::fail({errc::unauthenticated, "", "the session ended"}));
    session_view v;
    v.session_id = msg.session_id;
    v.user_id = msg.ctx.caller;
    cb(outcome<session_view>::ok(std::move(v)));
  }
};

struct fixture {
  fake_backend be;
  auth::revocations revoked{{}, std::chrono::seconds(900)};
  auth::gate gate{{"book-routes-test-secret-0123456789abcdef", std::chrono::seconds(900), {}},
                  revoked, nullptr};
  api routes{be, gate};
  /// Sent as the bearer token of every call ("" = none).
  std::string token = token_for({"admin", "customer"});

  std::string token_for(std::vector<std::string> roles) {
    return gate.issue(login_grant{"usr_aaaaaaaaaaaa", std::move(roles), "ses_aaaaaaaaaaaa", ""},
                      std::time(nullptr));
  }

  response call(std::string method, std::string target, std::string body = {},
                std::string type = "application/json") {
    request req;
    req.method = std::move(method);
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos)
      req.query = target.substr(q + 1);
    req.has_body = !body.empty();
    req.body = std::move(body);
    req.content_type = req.has_body ? std::move(type) : "";
    req.request_id = "rid-7";
    if (!token.empty())
      req.authorization = "Bearer " + token;
    std::optional<response> out;
    routes.handle(std::move(req), [&](response r) { out = std::move(r); });
    CAF_REQUIRE(out.has_value());
    bool has_rid = false;
    for (auto& [k, v] : out->headers) has_rid |= k == "X-Request-Id" && v == "rid-7";
    CAF_CHECK(has_rid);
    return *out;
  }

  /// A field of the error object as a string ("" if absent).
  static std::string error_field(const response& r, const char* name) {
    auto doc = nlohmann::json::parse(r.body);
    auto& err = doc["error"];
    return err.contains(name) ? err[name].get<std::string>() : std::string{};
  }

  /// Status and the field an error names ("" if none).
  std::pair<int, std::string> rejected(const std::string& method, const std::string& target,
                                       const std::string& body) {
    auto r = call(method, target, body);
    if (r.status < 400)
      return {r.status, ""};
    return {r.status, error_field(r, "field")};
  }
};

const std::string good_book = R"({"isbn":"978-0-306-40615-7","title":"T","authors":["A"],)"
                              R"("price":{"amount":1299,"currency":"USD"},"stock":4,)"
                              R"("genres":["Poetry"],"published_year":2001,"extra":"ignored"})";

std::string with(const std::string& field, const std::string& value) {
  auto doc = nlohmann::json::parse(good_book);
  doc[field] = nlohmann::json::parse(value);
  return doc.dump();
}

using status_field = std::pair<int, std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(book_routes_tests, fixture)

CAF_TEST(a valid book is created with normalised fields) {
  auto r = call("POST", "/v1/books", good_book);
  CAF_CHECK_EQUAL(r.status, 201);
  CAF_REQUIRE(be.created.has_value());
  CAF_CHECK_EQUAL(be.created->draft.isbn, "9780306406157");
  CAF_CHECK_EQUAL(be.created->draft.price.amount, 1299);
  CAF_CHECK_EQUAL(be.created->stock, 4);
  CAF_CHECK_EQUAL(be.created->draft.published_year, 2001);
  CAF_CHECK_EQUAL(be.created->ctx.request_id, "rid-7");
  bool location = false;
  for (auto& [k, v] : r.headers) location |= k == "Location" && v == "/v1/books/bk_new";
  CAF_CHECK(location);
  auto body = nlohmann::json::parse(r.body);
  CAF_CHECK_EQUAL(body["price"]["amount"], 1299);
  CAF_CHECK_EQUAL(body["available"], 3);
}

CAF_TEST(wrong types and out of range fields name the field and reach no actor) {
  auto bad = [&](const std::string& field, const std::string& value) {
    return rejected("POST", "/v1/books", with(field, value));
  };
  CAF_CHECK_EQUAL(bad("title", "5"), (status_field{400, "title"}));
  CAF_CHECK_EQUAL(bad("title", R"("")"), (status_field{400, "title"}));
  CAF_CHECK_EQUAL(bad("title", R"("   ")"), (status_field{400, "title"}));
  CAF_CHECK_EQUAL(bad("title", R"("a\u0000b")"), (status_field{400, "title"}));
  CAF_CHECK_EQUAL(bad("authors", R"("Ann")"), (status_field{400, "authors"}));
  CAF_CHECK_EQUAL(bad("authors", "[]"), (status_field{400, "authors"}));
  CAF_CHECK_EQUAL(bad("authors", "[1]"), (status_field{400, "authors"}));
  CAF_CHECK_EQUAL(bad("isbn", R"("978-0-306-40615-8")"), (status_field{400, "isbn"}));
  CAF_CHECK_EQUAL(bad("isbn", "9780306406157"), (status_field{400, "isbn"}));
  CAF_CHECK_EQUAL(bad("price", "12.99"), (status_field{400, "price"}));
  CAF_CHECK_EQUAL(bad("price", R"({"amount":12.99,"currency":"USD"})"),
                  (status_field{400, "price.amount"}));
  CAF_CHECK_EQUAL(bad("price", R"({"amount":-1,"currency":"USD"})"),
                  (status_field{400, "price.amount"}));
  CAF_CHECK_EQUAL(bad("price", R"({"amount":100,"currency":"usd"})"),
                  (status_field{400, "price.currency"}));
  CAF_CHECK_EQUAL(bad("stock", "-1"), (status_field{400, "stock"}));
  CAF_CHECK_EQUAL(bad("stock", "1e3"), (status_field{400, "stock"}));
  CAF_CHECK_EQUAL(bad("stock", "18446744073709551615"), (status_field{400, "stock"}));
  CAF_CHECK_EQUAL(bad("published_year", R"("1999")"), (status_field{400, "published_year"}));
  CAF_CHECK_EQUAL(bad("genres", R"(["ok", ""])"), (status_field{400, "genres"}));
  CAF_CHECK_EQUAL(bad("description", std::string{"\""} + std::string(10001, 'd') + "\""),
                  (status_field{400, "description"}));
  CAF_CHECK_EQUAL(be.calls, 0);
}

CAF_TEST(missing required fields are named) {
  for (auto field : {"isbn", "title", "authors", "price"}) {
    auto doc = nlohmann::json::parse(good_book);
    doc.erase(field);
    CAF_CHECK_EQUAL(rejected("POST", "/v1/books", doc.dump()), (status_field{400, field}));
  }
  CAF_CHECK_EQUAL(be.calls, 0);
}

CAF_TEST(bodies that are not a JSON object are 400) {
  for (std::string body : {R"({"isbn":)", "[]", "42", "\"s\"", "null", "{} {}", "\xff\xfe"}) {
    auto r = call("POST", "/v1/books", body);
    CAF_CHECK_EQUAL(r.status, 400);
    CAF_CHECK_EQUAL(error_field(r, "code"), "invalid_request");
  }
  // Hostile nesting is refused without exhausting the stack.
  auto r = call("POST", "/v1/books", std::string(200000, '[') + std::string(200000, ']'));
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK_EQUAL(be.calls, 0);
}

CAF_TEST(request bodies must be JSON) {
  CAF_CHECK_EQUAL(call("POST", "/v1/books", good_book, "text/plain").status, 415);
  CAF_CHECK_EQUAL(call("POST", "/v1/books", good_book, "").status, 415);
  CAF_CHECK_EQUAL(call("POST", "/v1/books", good_book, "application/json; charset=utf-8").status,
                  201);
  CAF_CHECK_EQUAL(call("POST", "/v1/books", good_book, "Application/JSON").status, 201);
}

CAF_TEST(patch applies only the fields present and refuses stock) {
  auto r = call("PATCH", "/v1/books/bk_1", R"({"title":"New","published_year":null})");
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_REQUIRE(be.updated.has_value());
  CAF_CHECK_EQUAL(be.updated->patch.fields, static_cast<uint32_t>(bf_title | bf_published_year));
  CAF_CHECK_EQUAL(be.updated->patch.values.published_year, 0);
  CAF_CHECK_EQUAL(rejected("PATCH", "/v1/books/bk_1", R"({"stock":3})"),
                  (status_field{400, "stock"}));
  CAF_CHECK_EQUAL(rejected("PATCH", "/v1/books/bk_1", R"({"title":null})"),
                  (status_field{400, "title"}));
  CAF_CHECK_EQUAL(call("PATCH", "/v1/books/bk_1", "{}").status, 200);
}

CAF_TEST(stock deltas must be integers) {
  CAF_CHECK_EQUAL(call("POST", "/v1/books/bk_1/stock", R"({"delta":-2})").status, 200);
  CAF_REQUIRE(be.stocked.has_value());
  CAF_CHECK_EQUAL(be.stocked->delta, -2);
  be.calls = 0;
  for (auto body : {R"({})", R"({"delta":"5"})", R"({"delta":1.5})", R"({"delta":true})",
                    R"({"delta":1000000000001})", R"({"delta":null})"})
    CAF_CHECK_EQUAL(rejected("POST", "/v1/books/bk_1/stock", body), (status_field{400, "delta"}));
  CAF_CHECK_EQUAL(be.calls, 0);
}

CAF_TEST(ids that cannot exist are 404 without asking anyone) {
  for (auto path : {"/v1/books/nope", "/v1/books/bk_", "/v1/books/bk_UPPER",
                    "/v1/books/bk_%27%3Bdrop", "/v1/books/usr_abc"})
    CAF_CHECK_EQUAL(call("GET", path).status, 404);
  CAF_CHECK_EQUAL(call("POST", "/v1/books/nope/stock", R"({"delta":1})").status, 404);
  CAF_CHECK_EQUAL(be.calls, 0);
}

CAF_TEST(list parameters are checked) {
  CAF_CHECK_EQUAL(call("GET", "/v1/books?limit=100&genre=Science+Fiction&author=A%20B").status,
                  200);
  CAF_REQUIRE(be.listed.has_value());
  CAF_CHECK_EQUAL(be.listed->genre, "Science Fiction");
  CAF_CHECK_EQUAL(be.listed->author, "A B");
  CAF_CHECK_EQUAL(be.listed->limit, 100);
  for (auto q : {"limit=0", "limit=101", "limit=abc", "limit=-1", "limit=", "genre=",
                 "genre=%FF", "author=%C3", "author=a%00b", "genre=%ED%A0%80"})
    CAF_CHECK_EQUAL(error_field(call("GET", std::string{"/v1/books?"} + q), "code"),
                    "invalid_request");
  CAF_CHECK_EQUAL(call("GET", "/v1/books").status, 200);
  CAF_CHECK_EQUAL(be.listed->limit, 20);
}

CAF_TEST(errors from actors become the statuses of API.md) {
  be.fail_with = error_info{errc::insufficient_stock, "bk_1", "short"};
  auto r = call("POST", "/v1/books/bk_1/stock", R"({"delta":-9})");
  CAF_CHECK_EQUAL(r.status, 409);
  CAF_CHECK_EQUAL(error_field(r, "book_id"), "bk_1");
  be.fail_with = error_info{errc::not_found, "bk_1", ""};
  CAF_CHECK_EQUAL(call("GET", "/v1/books/bk_1").status, 404);
  be.fail_with = error_info{errc::timeout, "", ""};
  CAF_CHECK_EQUAL(call("GET", "/v1/books/bk_1").status, 504);
}

CAF_TEST(catalog writes need an admin token and reads need none) {
  auto valid = R"({"isbn":"9780306406157","title":"T","authors":["A"],"price":{"amount":1,"currency":"USD"}})";
  token = "";
  auto r = call("POST", "/v1/books", valid);
  CAF_CHECK_EQUAL(r.status, 401);
  CAF_CHECK_EQUAL(error_field(r, "code"), "unauthenticated");
  CAF_CHECK_EQUAL(call("GET", "/v1/books/bk_aaaaaaaaaaaa").status, 200);
  token = token_for({"customer"});
  r = call("POST", "/v1/books", valid);
  CAF_CHECK_EQUAL(r.status, 403);
  CAF_CHECK_EQUAL(error_field(r, "code"), "forbidden");
  CAF_CHECK_EQUAL(call("POST", "/v1/books/bk_aaaaaaaaaaaa/stock", R"({"delta":1})").status, 403);
  CAF_CHECK_EQUAL(call("PATCH", "/v1/books/bk_aaaaaaaaaaaa", R"({"title":"X"})").status, 403);
  token = "not.a.token";
  CAF_CHECK_EQUAL(call("POST", "/v1/books", valid).status, 401);
  CAF_CHECK_EQUAL(be.calls, 1); // only the public read reached the backend
  token = token_for({"admin"});
  CAF_CHECK_EQUAL(call("POST", "/v1/books", valid).status, 201);
}

CAF_TEST(admin routes ask the session entity too) {
  be.session_live = false; // ended on another node, and Redis did not say so
  auto r = call("POST", "/v1/books/bk_aaaaaaaaaaaa/stock", R"({"delta":1})");
  CAF_CHECK_EQUAL(r.status, 401);
  CAF_CHECK_EQUAL(error_field(r, "code"), "unauthenticated");
  CAF_CHECK(!be.stocked.has_value());
}

CAF_TEST(a revoked session is refused at once) {
  revoked.revoke("ses_aaaaaaaaaaaa", "", std::time(nullptr) + 900);
  auto r = call("POST", "/v1/books/bk_aaaaaaaaaaaa/stock", R"({"delta":1})");
  CAF_CHECK_EQUAL(r.status, 401);
  CAF_CHECK_EQUAL(be.calls, 0);
}

CAF_TEST(unknown routes and methods) {
  CAF_CHECK_EQUAL(call("GET", "/v2/books").status, 404);
  auto r = call("DELETE", "/v1/books/bk_1");
  CAF_CHECK_EQUAL(r.status, 405);
  CAF_CHECK_EQUAL(error_field(r, "code"), "method_not_allowed");
}

CAF_TEST(the openapi document lists exactly the served routes) {
  auto doc = nlohmann::json::parse(call("GET", "/openapi.json").body);
  size_t operations = 0;
  for (auto& [path, methods] : doc["paths"].items()) operations += methods.size();
  CAF_CHECK_EQUAL(operations, routes.table().routes().size());
  CAF_CHECK(doc["paths"]["/v1/books/{id}/stock"].contains("post"));
  CAF_CHECK_EQUAL(doc["openapi"], "3.0.3");
}

CAF_TEST_FIXTURE_SCOPE_END()
