#define CAF_SUITE error_mapper
#include <caf/test/unit_test.hpp>

#include "gateway/errors.hpp"

#include <caf/sec.hpp>

#include <nlohmann/json.hpp>

using namespace bookstore;
using namespace bookstore::http;

namespace {

std::pair<int, nlohmann::json> mapped(errc code, std::string detail = {}) {
  auto res = from_error(error_info{code, std::move(detail), "why"}, "rid-1");
  return {res.status, nlohmann::json::parse(res.body)["error"]};
}

} // namespace

CAF_TEST(every error code maps to the status and code of API.md) {
  struct row {
    errc in;
    int status;
    const char* code;
  };
  for (auto r : {row{errc::invalid_request, 400, "invalid_request"},
                 row{errc::not_found, 404, "not_found"},
                 row{errc::insufficient_stock, 409, "insufficient_stock"},
                 row{errc::invalid_state, 409, "invalid_state"},
                 row{errc::isbn_taken, 409, "isbn_taken"},
                 row{errc::version_conflict, 503, "unavailable"},
                 row{errc::storage_unavailable, 503, "unavailable"},
                 row{errc::unavailable, 503, "unavailable"},
                 row{errc::timeout, 504, "timeout"},
                 row{errc::internal, 500, "internal"}}) {
    auto [status, body] = mapped(r.in);
    CAF_CHECK_EQUAL(status, r.status);
    CAF_CHECK_EQUAL(body["code"].get<std::string>(), r.code);
    CAF_CHECK_EQUAL(body["request_id"].get<std::string>(), "rid-1");
    CAF_CHECK(body["message"].is_string());
  }
}

CAF_TEST(details travel in the named fields) {
  auto stock = mapped(errc::insufficient_stock, "bk_1").second;
  CAF_CHECK_EQUAL(stock["book_id"], "bk_1");
  auto bad = mapped(errc::invalid_request, "limit").second;
  CAF_CHECK_EQUAL(bad["field"], "limit");
  auto isbn = mapped(errc::isbn_taken).second;
  CAF_CHECK_EQUAL(isbn["field"], "isbn");
}

CAF_TEST(unavailable answers say when to retry and internal errors leak nothing) {
  auto res = from_error(error_info{errc::storage_unavailable, "", "db down at 10.0.0.5"}, "r");
  bool retry_after = false;
  for (auto& [k, v] : res.headers) retry_after |= k == "Retry-After";
  CAF_CHECK(retry_after);
  CAF_CHECK_EQUAL(res.body.find("10.0.0.5"), std::string::npos);
  auto bug = from_error(error_info{errc::internal, "", "std::bad_alloc at foo.cpp:12"}, "r");
  CAF_CHECK_EQUAL(bug.body.find("foo.cpp"), std::string::npos);
}

CAF_TEST(caf errors are described in our terms) {
  CAF_CHECK_EQUAL(describe(caf::make_error(caf::sec::request_timeout)).code, errc::timeout);
  CAF_CHECK_EQUAL(describe(caf::make_error(caf::sec::request_receiver_down)).code,
                  errc::unavailable);
  auto ours = describe(make_error(errc::insufficient_stock, "bk_9", "short"));
  CAF_CHECK_EQUAL(ours.code, errc::insufficient_stock);
  CAF_CHECK_EQUAL(ours.detail, "bk_9");
  CAF_CHECK_EQUAL(ours.message, "short");
}
