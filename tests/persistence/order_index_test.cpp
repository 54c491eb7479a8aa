#define CAF_SUITE order_index
#include <caf/test/dsl.hpp>

#include "persistence/postgres/order_index.hpp"
#include "tests/support/scratch_database.hpp"

#include <optional>
#include <string>

#include <pqxx/pqxx>

using namespace bookstore;

namespace {

/// The order index against a real PostgreSQL, on the deterministic scheduler.
struct fixture : test_coordinator_fixture<> {
  testing::scratch_database db;
  order_index_actor index;

  fixture() {
    order_index_settings s;
    s.dsn = db.dsn();
    s.detached = false;
    index = make_order_index(sys, s);
    sched.run();
  }

  ~fixture() override {
    caf::anon_send_exit(index, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// An order row as the snapshot writers leave it.
  void listed(const std::string& id, const std::string& user, const std::string& ip,
              const std::string& status) {
    pqxx::connection c{db.dsn()};
    pqxx::nontransaction{c}.exec_params(
      "INSERT INTO orders (id, user_id, status, total, currency, ip, created_at, updated_at)"
      " VALUES ($1, $2, $3, 1500, 'EUR', $4, now(), now())",
      id, user, status, ip);
  }

  bool known(check_ip q) {
    std::optional<caf::expected<bool>> out;
    sys.spawn([&out, this, q](caf::event_based_actor* me) {
      me->request(index, caf::infinite, q)
        .then([&out](bool b) { out = b; }, [&out](caf::error& err) { out = std::move(err); });
    });
    sched.run();
    CAF_REQUIRE(out.has_value());
    CAF_REQUIRE(*out);
    return **out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(order_index_tests, fixture)

CAF_TEST(an IP is known from another order of the user that went through) {
  listed("ord_a", "usr_1", "203.0.113.7", "confirmed");
  listed("ord_b", "usr_2", "198.51.100.9", "rejected");
  CAF_CHECK(known(check_ip{"usr_1", "203.0.113.7", "ord_new"}));
  CAF_CHECK(!known(check_ip{"usr_1", "192.0.2.1", "ord_new"}));   // another IP
  CAF_CHECK(!known(check_ip{"usr_3", "203.0.113.7", "ord_new"})); // another user's
  CAF_CHECK(!known(check_ip{"usr_1", "203.0.113.7", "ord_a"}));   // the order itself
  CAF_CHECK(!known(check_ip{"usr_2", "198.51.100.9", "ord_new"})); // it did not go through
}

CAF_TEST_FIXTURE_SCOPE_END()
