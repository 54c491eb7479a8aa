// bookstore-seed: applies the migrations and writes the deterministic demo catalog.
//   bookstore-seed --dsn=postgresql://… [--books=10000] [--if-empty]

#include "actors/common/log.hpp"
#include "persistence/postgres/migrations.hpp"
#include "persistence/postgres/pg.hpp"
#include "persistence/seed/demo_catalog.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  std::string dsn;
  uint64_t books = 10000;
  bool if_empty = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--dsn=", 0) == 0) {
      dsn = arg.substr(6);
    } else if (arg.rfind("--books=", 0) == 0) {
      try {
        books = std::stoull(arg.substr(8));
      } catch (...) {
        std::fprintf(stderr, "bookstore-seed: --books needs a number\n");
        return 2;
      }
    } else if (arg == "--if-empty") {
      if_empty = true;
    } else {
      std::fprintf(stderr, "usage: bookstore-seed --dsn=URI [--books=N] [--if-empty]\n");
      return 2;
    }
  }
  if (dsn.empty()) {
    std::fprintf(stderr, "bookstore-seed: --dsn is required\n");
    return 2;
  }
  bookstore::log::init("seed", "warn");
  if (auto err = bookstore::pg::apply_migrations(dsn, bookstore::pg::embedded_migrations());
      !err.empty()) {
    std::fprintf(stderr, "bookstore-seed: %s\n", err.c_str());
    return 1;
  }
  try {
    pqxx::connection conn{bookstore::pg::with_connect_timeout(dsn)};
    if (if_empty) {
      pqxx::read_transaction tx{conn};
      if (tx.exec1("SELECT EXISTS (SELECT 1 FROM books)")[0].as<bool>()) {
        std::printf("catalog already seeded\n");
        return 0;
      }
    }
    auto started = std::chrono::steady_clock::now();
    bookstore::demo::seed(conn, books);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    std::printf("seeded %llu demo books in %.1f s\n", static_cast<unsigned long long>(books),
                took.count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bookstore-seed: %s\n", e.what());
    return 1;
  }
}
