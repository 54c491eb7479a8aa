#define CAF_SUITE router
#include <caf/test/unit_test.hpp>

#include "gateway/router.hpp"

using namespace bookstore::http;

namespace {

struct fixture {
  router r;
  std::string hit;

  fixture() {
    auto mark = [this](std::string name) {
      return [this, name](const request&, const params& ps, responder) {
        hit = name;
        for (auto& [k, v] : ps) hit += " " + k + "=" + v;
      };
    };
    r.add("GET", "/v1/books", {}, mark("list"));
    r.add("POST", "/v1/books", {}, mark("create"));
    r.add("GET", "/v1/books/{id}", {}, mark("get"));
    r.add("PATCH", "/v1/books/{id}", {}, mark("patch"));
    r.add("POST", "/v1/books/{id}/stock", {}, mark("stock"));
    r.add("GET", "/v1/books/trending", {}, mark("trending"));
  }

  std::string run(const std::string& method, const std::string& path) {
    auto m = r.match(method, path);
    if (m.kind != router::outcome::found)
      return m.kind == router::outcome::not_found ? "404" : "405 " + m.allow;
    hit.clear();
    m.found->fn(request{}, m.values, nullptr);
    return hit;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(router_tests, fixture)

CAF_TEST(literal and parameter segments) {
  CAF_CHECK_EQUAL(run("GET", "/v1/books"), "list");
  CAF_CHECK_EQUAL(run("POST", "/v1/books"), "create");
  CAF_CHECK_EQUAL(run("GET", "/v1/books/bk_1"), "get id=bk_1");
  CAF_CHECK_EQUAL(run("POST", "/v1/books/bk_1/stock"), "stock id=bk_1");
}

CAF_TEST(the most literal route wins whatever the order) {
  CAF_CHECK_EQUAL(run("GET", "/v1/books/trending"), "trending");
}

CAF_TEST(parameters are percent decoded) {
  CAF_CHECK_EQUAL(run("GET", "/v1/books/a%20b"), "get id=a b");
}

CAF_TEST(unknown paths are not found) {
  CAF_CHECK_EQUAL(run("GET", "/v1/nothing"), "404");
  CAF_CHECK_EQUAL(run("GET", "/v1/books/bk_1/stock/extra"), "404");
  CAF_CHECK_EQUAL(run("GET", "/"), "404");
  CAF_CHECK_EQUAL(run("GET", "/v1/books//stock"), "404"); // empty parameter
  CAF_CHECK_EQUAL(run("GET", "/v1/books/%zz"), "404");    // malformed escape
}

CAF_TEST(a known path with another method is 405 with the allowed methods) {
  CAF_CHECK_EQUAL(run("DELETE", "/v1/books/bk_1"), "405 GET, PATCH");
  CAF_CHECK_EQUAL(run("PUT", "/v1/books"), "405 GET, POST");
  CAF_CHECK_EQUAL(run("GET", "/v1/books/bk_1/stock"), "405 POST");
}

CAF_TEST_FIXTURE_SCOPE_END()
