#define CAF_SUITE crypto
#include <caf/test/unit_test.hpp>

#include "actors/common/crypto.hpp"

#include <thread>

using namespace bookstore;

CAF_TEST(sha256 matches the FIPS 180-2 vectors again and again and on any thread) {
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  CAF_CHECK_EQUAL(crypto::sha256_hex("abc"), abc);
  CAF_CHECK_EQUAL(crypto::sha256_hex(""), empty);
  CAF_CHECK_EQUAL(crypto::sha256_hex("abc"), abc); // the kept context starts over each time
  std::string other;
  std::thread t{[&other] { other = crypto::sha256_hex("abc"); }};
  t.join();
  CAF_CHECK_EQUAL(other, abc);
}
