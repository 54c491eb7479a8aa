#pragma once

// The catalog service: books cached in memory (reads), written through to PostgreSQL via the
// book store, joined with `available` from each book's inventory item.

#include "actors/protocol/book_store.hpp"
#include "actors/protocol/catalog.hpp"
#include "actors/protocol/inventory.hpp"

#include "actors/common/service_ref.hpp"

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <chrono>

namespace bookstore {

struct catalog_settings {
  size_t cache_size = 200000;
  caf::timespan timeout = std::chrono::seconds(5); ///< for requests without a deadline
};

catalog_actor make_catalog(caf::actor_system& sys, service_ref<book_store_actor> books,
                           service_ref<inventory_actor> inventory, catalog_settings settings);

/// The same, as a linked child of `parent`.
catalog_actor spawn_catalog(caf::event_based_actor* parent, service_ref<book_store_actor> books,
                            service_ref<inventory_actor> inventory, catalog_settings settings);

} // namespace bookstore
