// bookstore-node: one node of the bookstore cluster.
//   bookstore-node --config-file=config/local.ini [--section.key=value ...]

#include "actors/protocol/type_registry.hpp"
#include "config/node_config.hpp"
#include "supervision/node.hpp"

#include <caf/io/middleman.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  bookstore::block_stop_signals();
  bookstore::node_config cfg;
  bookstore::register_types(cfg);
  cfg.load<caf::io::middleman>();
  if (auto err = cfg.parse_and_check(argc, argv); !err.empty()) {
    std::fprintf(stderr, "bookstore-node: %s\n", err.c_str());
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  return bookstore::run_node(cfg);
}
