// The one translation unit with CAF's test runner; every suite lives in its own file.
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>

#include "actors/protocol/type_registry.hpp"

int main(int argc, char** argv) {
  return caf::test::main(argc, argv);
}
