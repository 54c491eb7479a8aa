#include "supervision/supervisor.hpp"

#include "actors/common/log.hpp"
#include "actors/common/metrics.hpp"
#include "actors/common/restart_budget.hpp"

#include <caf/all.hpp>

namespace bookstore {

namespace {

struct supervisor_state {
  supervisor_spec spec;
  std::vector<caf::actor> children; ///< by position in spec.children
  std::unique_ptr<restart_budget> budget;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "supervisor";
};

using supervisor_pointer = caf::stateful_actor<supervisor_state>*;

void start_child(supervisor_pointer self, size_t i) {
  auto& spec = self->state.spec.children[i];
  auto child = spec.start(self);
  self->state.children[i] = child;
  if (spec.name != caf::atom("")) {
    // CAF 0.17's registry keeps the first entry for a name: drop the dead one first.
    self->system().registry().erase(spec.name);
    self->system().registry().put(spec.name, child);
  }
}

caf::behavior supervisor_impl(supervisor_pointer self, supervisor_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.budget = std::make_unique<restart_budget>(
    st.spec.max_restarts, std::chrono::duration_cast<restart_budget::clock::duration>(st.spec.window));
  st.log = log::get("supervision");
  st.children.resize(st.spec.children.size());
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (size_t i = 0; i < st.children.size(); ++i) {
      if (st.children[i].address() != msg.source)
        continue;
      auto& child = st.spec.children[i];
      if (!msg.reason) {
        log::info(*st.log, "-", "{}/{} stopped", st.spec.label, child.label);
        st.children[i] = nullptr;
        return;
      }
      metrics::global()
        .get_counter("bookstore_supervisor_restarts_total", "Children restarted by supervisors",
                     {{"supervisor", st.spec.label}, {"child", child.label}})
        .inc();
      if (!st.budget->spend(self->clock().now())) {
        log::error(*st.log, "-", "{}/{} failed ({}); restart intensity exceeded, failing upward",
                   st.spec.label, child.label, to_string(msg.reason));
        self->quit(msg.reason);
        return;
      }
      log::warn(*st.log, "-", "{}/{} failed ({}); restarting", st.spec.label, child.label,
                to_string(msg.reason));
      start_child(self, i);
      return;
    }
    // Our own supervisor (or the node) stops us: take the children along.
    self->quit(msg.reason);
  });
  // Registry entries are not erased when we stop: a restart replaces them, and until then a dead
  // handle answers "unavailable", which is what callers should see.
  for (size_t i = 0; i < st.children.size(); ++i) start_child(self, i);
  return {
    [](caf::get_atom) { return caf::atom("ok"); },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_spec spec) {
  return sys.spawn(supervisor_impl, std::move(spec));
}

caf::actor spawn_child_supervisor(caf::event_based_actor* parent, supervisor_spec spec) {
  return parent->spawn<caf::linked>(supervisor_impl, std::move(spec));
}

} // namespace bookstore
