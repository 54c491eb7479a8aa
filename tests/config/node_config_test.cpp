#define CAF_SUITE node_config
#include <caf/test/unit_test.hpp>

#include "config/node_config.hpp"

#include <cstdio>
#include <unistd.h>
#include <fstream>
#include <vector>

using namespace bookstore;

namespace {

/// Parses `ini` (written to a temp file) plus `flags`; returns the check's one line.
std::string check(const std::string& ini, std::vector<std::string> flags = {}) {
  char path[] = "/tmp/bookstore_cfg_XXXXXX";
  int fd = mkstemp(path);
  CAF_REQUIRE(fd >= 0);
  std::ofstream{path} << ini;
  std::vector<std::string> args{"bookstore-node", std::string{"--config-file="} + path};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  node_config cfg;
  auto out = cfg.parse_and_check(static_cast<int>(argv.size()), argv.data());
  ::close(fd);
  std::remove(path);
  return out;
}

bool names(const std::string& line, const std::string& key) {
  return line.find(key) != std::string::npos && line.find('\n') == std::string::npos;
}

} // namespace

CAF_TEST(a good file and flags pass) {
  CAF_CHECK_EQUAL(check("[node]\nmode=\"local\"\n[gateway]\nport=9000\n[inventory]\n"
                        "passivate-after=30s\n"),
                  "");
  CAF_CHECK_EQUAL(check("", {"--postgres.writers=3", "--scheduler.max-threads=2",
                             "--node.mode=local"}),
                  "");
}

CAF_TEST(outside local mode the secrets are required) {
  CAF_CHECK(names(check(""), "auth.jwt-secret"));
  auto secret = std::string{"--auth.jwt-secret="} + std::string(40, 'x');
  CAF_CHECK(names(check("", {secret}), "auth.mfa-key"));
  CAF_CHECK(names(check("", {secret, "--auth.mfa-key=abc"}), "auth.mfa-key"));
  CAF_CHECK_EQUAL(check("", {secret, "--auth.mfa-key=" + std::string(64, 'a')}), "");
  CAF_CHECK(names(check("", {"--node.mode=local", "--auth.jwt-secret=short"}), "auth.jwt-secret"));
  CAF_CHECK(names(check("", {"--node.mode=local", "--auth.bcrypt-cost=3"}), "auth.bcrypt-cost"));
  CAF_CHECK(names(check("", {"--node.mode=local", "--auth.bootstrap-admin-email=a@b.c"}),
                  "auth.bootstrap-admin-password"));
}

CAF_TEST(a typo in a key is named instead of ignored) {
  CAF_CHECK(names(check("[gateway]\nprot=9000\n"), "gateway.prot"));
  CAF_CHECK(names(check("[gatewy]\nport=9000\n"), "gatewy.port"));
}

CAF_TEST(a value of the wrong type is named instead of ignored) {
  CAF_CHECK(names(check("[postgres]\nwriters=\"two\"\n"), "postgres.writers"));
  CAF_CHECK(names(check("[inventory]\npassivate-after=\"soon\"\n"), "inventory.passivate-after"));
}

CAF_TEST(out of range values are named) {
  CAF_CHECK(names(check("[postgres]\nwriters=0\n"), "postgres.writers"));
  CAF_CHECK(names(check("[log]\nlevel=\"loud\"\n"), "log.level"));
  CAF_CHECK(names(check("", {"--inventory.shards=0"}), "inventory.shards"));
}

CAF_TEST(unknown and malformed flags are refused) {
  CAF_CHECK(names(check("", {"--gateway.prot=1"}), "gateway.prot"));
  CAF_CHECK(names(check("", {"--gateway.port=abc"}), "gateway.port"));
}
