#define CAF_SUITE supervisor
#include <caf/test/dsl.hpp>

#include "supervision/supervisor.hpp"

using namespace bookstore;
using namespace std::chrono_literals;

namespace {

/// Answers its number; a negative number makes it throw (a bug in a child).
caf::behavior flaky(caf::event_based_actor*) {
  return {
    [](int32_t x) -> int32_t {
      if (x < 0)
        throw std::runtime_error("boom");
      return x;
    },
  };
}

constexpr auto child_name = caf::atom("flaky");

struct fixture : test_coordinator_fixture<> {
  caf::actor sup;

  fixture() {
    supervisor_spec spec{"test", 2, 10s,
                         {{"flaky", child_name, [](caf::event_based_actor* parent) {
                             return parent->spawn<caf::linked>(flaky);
                           }}}};
    sup = spawn_supervisor(sys, spec);
    sched.run();
  }

  caf::actor child() { return sys.registry().get<caf::actor>(child_name); }

  void crash_child() {
    caf::anon_send(child(), int32_t{-1});
    sched.run();
  }

  bool alive(const caf::actor& who) {
    bool ok = false;
    sys.spawn([&](caf::event_based_actor* me) {
      me->request(who, caf::infinite, int32_t{7})
        .then([&](int32_t x) { ok = x == 7; }, [&](caf::error&) { ok = false; });
    });
    sched.run();
    return ok;
  }

  bool supervisor_alive() {
    bool ok = false;
    sys.spawn([&](caf::event_based_actor* me) {
      me->request(sup, caf::infinite, caf::get_atom::value)
        .then([&](caf::atom_value) { ok = true; }, [&](caf::error&) { ok = false; });
    });
    sched.run();
    return ok;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervisor_tests, fixture)

CAF_TEST(a started child is registered under its name) {
  CAF_REQUIRE(child());
  CAF_CHECK(alive(child()));
}

CAF_TEST(a failed child is replaced and found under its name) {
  auto first = child();
  crash_child();
  auto second = child();
  CAF_REQUIRE(second);
  CAF_CHECK_NOT_EQUAL(first.address(), second.address());
  CAF_CHECK(!alive(first));
  CAF_CHECK(alive(second));
  CAF_CHECK(supervisor_alive());
}

CAF_TEST(too many failures within the window fail the supervisor upward) {
  crash_child();
  crash_child();
  CAF_CHECK(supervisor_alive());
  crash_child(); // the third within 10 s is over the intensity of 2
  CAF_CHECK(!supervisor_alive());
}

CAF_TEST(failures spread out beyond the window are restarted) {
  crash_child();
  crash_child();
  advance_time(11s);
  sched.run();
  crash_child();
  CAF_CHECK(supervisor_alive());
  CAF_CHECK(alive(child()));
}

CAF_TEST_FIXTURE_SCOPE_END()
