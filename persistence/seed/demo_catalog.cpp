#include "persistence/seed/demo_catalog.hpp"

#include "actors/common/ids.hpp"
#include "actors/entity/codec.hpp"
#include "actors/inventory/inventory_item.hpp"
#include "persistence/postgres/pg.hpp"

#include <array>
#include <string>
#include <unordered_map>

namespace bookstore::demo {

namespace {

constexpr std::array adjectives{"Silent", "Crimson", "Hidden",  "Last",    "Broken", "Golden",
                                "Distant", "Secret", "Burning", "Forgotten", "Quiet", "Wild",
                                "Hollow",  "Iron",   "Glass",   "Northern", "Endless", "Little",
                                "Bright",  "Winter"};
constexpr std::array nouns{"River",  "Garden",  "Empire", "Lighthouse", "Orchard", "Kingdom",
                           "Letter", "Harbor",  "Forest", "Mirror",     "Station", "Library",
                           "Voyage", "Promise", "Storm",  "Island",     "Archive", "Bridge",
                           "Clock",  "Shadow",  "Map",    "Tide",       "Crown",   "Signal"};
constexpr std::array places{"Avalon", "the North", "Lisbon",  "the Marsh", "Kyoto",
                            "Prague", "the Coast", "Nairobi", "the Valley", "Odessa",
                            "Lima",   "the Moon",  "Dublin",  "the Desert", "Samarkand"};
constexpr std::array first_names{"Ada",   "Bruno",  "Clara", "Dmitri", "Elena", "Farid",
                                 "Greta", "Hiro",   "Ines",  "Jonas",  "Keiko", "Lucas",
                                 "Maya",  "Nikolai", "Olga", "Pablo",  "Quinn", "Rosa",
                                 "Samir", "Tove",   "Uma",   "Victor", "Wen",   "Yara"};
constexpr std::array last_names{"Abara",  "Berg",     "Castillo", "Dubois",  "Eriksen",
                                "Fischer", "Garcia",  "Haddad",   "Ivanova", "Jensen",
                                "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor",
                                "Petrov", "Quintero", "Rossi",    "Sato",    "Takahashi",
                                "Underwood", "Varga", "Weber",    "Xu",      "Yilmaz",
                                "Zielinski"};
constexpr std::array genres{"Fiction",  "Mystery",   "Science Fiction", "Fantasy",  "Romance",
                            "Thriller", "History",   "Biography",       "Poetry",   "Science",
                            "Travel",   "Philosophy", "Children",       "Horror",   "Cooking",
                            "Economics", "Art",      "Psychology",      "Classics", "Humor"};

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A small deterministic stream of numbers for book n.
struct dice {
  uint64_t state;
  uint64_t next() { return state = mix(state); }
  template <class Array>
  const char* pick(const Array& a) {
    return a[next() % a.size()];
  }
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
};

std::string isbn13(uint64_t n) {
  auto body = std::to_string(n % 1000000000ULL);
  body = "978" + std::string(9 - body.size(), '0') + body;
  int sum = 0;
  for (size_t i = 0; i < 12; ++i) sum += (body[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return body + static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string title(dice& d) {
  switch (d.next() % 4) {
    case 0: return std::string{"The "} + d.pick(adjectives) + " " + d.pick(nouns);
    case 1: return std::string{"The "} + d.pick(nouns) + " of " + d.pick(places);
    case 2: return std::string{"A "} + d.pick(nouns) + " in " + d.pick(places);
    default: return std::string{d.pick(adjectives)} + " " + d.pick(nouns) + "s";
  }
}

} // namespace

demo_book book_at(uint64_t n) {
  dice d{n * 7919 + 17};
  demo_book out;
  auto& b = out.info;
  b.id = ids::make_deterministic("bk", n);
  b.isbn = isbn13(n);
  b.title = title(d);
  b.authors.push_back(std::string{d.pick(first_names)} + " " + d.pick(last_names));
  if (d.next() % 5 == 0)
    b.authors.push_back(std::string{d.pick(first_names)} + " " + d.pick(last_names));
  b.genres.push_back(d.pick(genres));
  if (d.next() % 3 == 0) {
    std::string second = d.pick(genres);
    if (second != b.genres.front())
      b.genres.push_back(second);
  }
  b.description = "A " + std::string{d.pick(adjectives)} + " story of " + d.pick(nouns) + " and "
                  + d.pick(nouns) + ", set in " + d.pick(places) + ".";
  b.price = money{d.between(4, 59) * 100 + 99, "USD"};
  b.published_year = static_cast<int32_t>(d.between(1950, 2026));
  out.stock = d.next() % 10 == 0 ? 0 : d.between(1, 200);
  return out;
}

void seed(pqxx::connection& conn, uint64_t count,
          const std::function<void(uint64_t)>& progress) {
  constexpr uint64_t batch = 1000;
  constexpr char sep = '\x1f'; // never in demo names: splits list columns inside SQL
  conn.prepare("demo_books",
               "INSERT INTO books (id, isbn, title, authors, genres, description, price_amount,"
               " price_currency, published_year)"
               " SELECT u.id, u.isbn, u.title, string_to_array(u.authors, chr(31)),"
               "        string_to_array(u.genres, chr(31)), u.description, u.price, 'USD', u.year"
               " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
               "             $6::text[], $7::bigint[], $8::bigint[])"
               "      AS u(id, isbn, title, authors, genres, description, price, year)"
               " ON CONFLICT DO NOTHING RETURNING id");
  conn.prepare("demo_stock",
               "INSERT INTO entity_snapshots (entity_type, entity_id, version, state,"
               " schema_version)"
               " SELECT $1, u.id, 1, u.state, $2"
               " FROM unnest($3::text[], $4::bytea[]) AS u(id, state)"
               " ON CONFLICT DO NOTHING");
  auto join = [&](const std::vector<std::string>& xs) {
    std::string out;
    for (auto& x : xs) out += (out.empty() ? "" : std::string(1, sep)) + x;
    return out;
  };
  for (uint64_t first = 0; first < count; first += batch) {
    std::vector<std::string> id, isbn, ttl, authors, gen, desc, stock_ids, states;
    std::vector<int64_t> price, year;
    std::unordered_map<std::string, std::string> state_of;
    for (uint64_t n = first; n < std::min(count, first + batch); ++n) {
      auto d = book_at(n);
      id.push_back(d.info.id);
      isbn.push_back(d.info.isbn);
      ttl.push_back(d.info.title);
      authors.push_back(join(d.info.authors));
      gen.push_back(join(d.info.genres));
      desc.push_back(d.info.description);
      price.push_back(d.info.price.amount);
      year.push_back(d.info.published_year);
      inventory_state st;
      st.on_hand = d.stock;
      state_of.emplace(d.info.id, pg::bytea_hex(entity::encode(st)));
    }
    pqxx::work tx{conn};
    auto added = tx.exec_prepared("demo_books", pg::array_literal(id), pg::array_literal(isbn),
                                  pg::array_literal(ttl), pg::array_literal(authors),
                                  pg::array_literal(gen), pg::array_literal(desc),
                                  pg::array_literal(price), pg::array_literal(year));
    // Only books written now get their first stock: never overwrite a live inventory item.
    for (auto row : added) {
      auto book_id = row[0].as<std::string>();
      stock_ids.push_back(book_id);
      states.push_back(state_of[book_id]);
    }
    if (!stock_ids.empty())
      tx.exec_prepared("demo_stock", inventory_item::entity_type, inventory_item::schema_version,
                       pg::array_literal(stock_ids), pg::array_literal(states));
    tx.commit();
    if (progress)
      progress(std::min(count, first + batch));
  }
}

} // namespace bookstore::demo
