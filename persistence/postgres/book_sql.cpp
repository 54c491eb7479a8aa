#include "persistence/postgres/book_sql.hpp"

#include "persistence/postgres/pg.hpp"

namespace bookstore::pg {

namespace {

#define BOOK_COLUMNS                                                                          \
  "id, isbn, title, authors, genres, description, price_amount, price_currency,"              \
  " coalesce(published_year, 0), (extract(epoch FROM created_at) * 1000)::bigint,"           \
  " (extract(epoch FROM updated_at) * 1000)::bigint"

constexpr const char* fetch_sql = "SELECT " BOOK_COLUMNS " FROM books WHERE id = $1";

constexpr const char* page_sql
  = "SELECT " BOOK_COLUMNS " FROM books WHERE id > $1 ORDER BY id LIMIT $2";
constexpr const char* page_genre_sql
  = "SELECT " BOOK_COLUMNS " FROM books WHERE lower_array(genres) @> ARRAY[lower($3)]"
    " AND id > $1 ORDER BY id LIMIT $2";
constexpr const char* page_author_sql
  = "SELECT " BOOK_COLUMNS " FROM books WHERE lower_array(authors) @> ARRAY[lower($3)]"
    " AND id > $1 ORDER BY id LIMIT $2";
constexpr const char* page_both_sql
  = "SELECT " BOOK_COLUMNS " FROM books WHERE lower_array(genres) @> ARRAY[lower($3)]"
    " AND lower_array(authors) @> ARRAY[lower($4)] AND id > $1 ORDER BY id LIMIT $2";

constexpr const char* insert_sql
  = "INSERT INTO books (id, isbn, title, authors, genres, description, price_amount,"
    " price_currency, published_year)"
    " VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7, $8, nullif($9, 0))"
    " RETURNING " BOOK_COLUMNS;

constexpr const char* insert_stock_sql
  = "INSERT INTO entity_snapshots (entity_type, entity_id, version, state, schema_version)"
    " VALUES ($1, $2, $3, $4, $5)";

constexpr const char* patch_sql
  = "UPDATE books SET"
    " isbn = CASE WHEN $2 THEN $3 ELSE isbn END,"
    " title = CASE WHEN $4 THEN $5 ELSE title END,"
    " authors = CASE WHEN $6 THEN $7::text[] ELSE authors END,"
    " genres = CASE WHEN $8 THEN $9::text[] ELSE genres END,"
    " description = CASE WHEN $10 THEN $11 ELSE description END,"
    " price_amount = CASE WHEN $12 THEN $13 ELSE price_amount END,"
    " price_currency = CASE WHEN $12 THEN $14 ELSE price_currency END,"
    " published_year = CASE WHEN $15 THEN nullif($16, 0) ELSE published_year END,"
    " updated_at = now()"
    " WHERE id = $1 RETURNING " BOOK_COLUMNS;

#undef BOOK_COLUMNS

book to_book(const pqxx::row& row) {
  book b;
  b.id = row[0].as<std::string>();
  b.isbn = row[1].as<std::string>();
  b.title = row[2].as<std::string>();
  b.authors = text_array(row[3]);
  b.genres = text_array(row[4]);
  b.description = row[5].as<std::string>();
  b.price.amount = row[6].as<int64_t>();
  b.price.currency = row[7].as<std::string>();
  b.published_year = row[8].as<int32_t>();
  b.created_at = row[9].as<int64_t>();
  b.updated_at = row[10].as<int64_t>();
  return b;
}

[[noreturn]] void rethrow_unique(const pqxx::unique_violation& e) {
  if (std::string{e.what()}.find("isbn") != std::string::npos)
    throw failure{make_error(errc::isbn_taken, "isbn", "another book has this ISBN")};
  throw;
}

} // namespace

void prepare_book_statements(pqxx::connection& conn) {
  conn.prepare("book_fetch", fetch_sql);
  conn.prepare("book_page", page_sql);
  conn.prepare("book_page_genre", page_genre_sql);
  conn.prepare("book_page_author", page_author_sql);
  conn.prepare("book_page_both", page_both_sql);
  conn.prepare("book_insert", insert_sql);
  conn.prepare("book_insert_stock", insert_stock_sql);
  conn.prepare("book_patch", patch_sql);
}

std::optional<book> fetch_book_row(pqxx::connection& conn, const std::string& id) {
  pqxx::read_transaction tx{conn};
  auto rows = tx.exec_prepared("book_fetch", id);
  if (rows.empty())
    return std::nullopt;
  return to_book(rows[0]);
}

std::vector<book> query_book_rows(pqxx::connection& conn, const query_books& q) {
  pqxx::read_transaction tx{conn};
  pqxx::result rows;
  if (!q.genre.empty() && !q.author.empty())
    rows = tx.exec_prepared("book_page_both", q.after_id, q.limit, q.genre, q.author);
  else if (!q.genre.empty())
    rows = tx.exec_prepared("book_page_genre", q.after_id, q.limit, q.genre);
  else if (!q.author.empty())
    rows = tx.exec_prepared("book_page_author", q.after_id, q.limit, q.author);
  else
    rows = tx.exec_prepared("book_page", q.after_id, q.limit);
  std::vector<book> out;
  out.reserve(rows.size());
  for (auto row : rows) out.push_back(to_book(row));
  return out;
}

book insert_book_row(pqxx::connection& conn, const book& b, const snapshot& initial_stock) {
  try {
    pqxx::work tx{conn};
    auto rows = tx.exec_prepared("book_insert", b.id, b.isbn, b.title, array_literal(b.authors),
                                 array_literal(b.genres), b.description, b.price.amount,
                                 b.price.currency, b.published_year);
    tx.exec_prepared("book_insert_stock", initial_stock.entity_type, initial_stock.entity_id,
                     initial_stock.version, pqxx::binarystring{initial_stock.state},
                     initial_stock.schema_version);
    auto out = to_book(rows[0]);
    tx.commit();
    return out;
  } catch (const pqxx::unique_violation& e) {
    rethrow_unique(e);
  }
}

std::optional<book> patch_book_row(pqxx::connection& conn, const std::string& id,
                                   const book_patch& p) {
  auto has = [&](book_field f) { return (p.fields & f) != 0; };
  auto& v = p.values;
  try {
    pqxx::work tx{conn};
    auto rows = tx.exec_prepared("book_patch", id, has(bf_isbn), v.isbn, has(bf_title), v.title,
                                 has(bf_authors), array_literal(v.authors), has(bf_genres),
                                 array_literal(v.genres), has(bf_description), v.description,
                                 has(bf_price), v.price.amount, v.price.currency,
                                 has(bf_published_year), v.published_year);
    if (rows.empty())
      return std::nullopt;
    auto out = to_book(rows[0]);
    tx.commit();
    return out;
  } catch (const pqxx::unique_violation& e) {
    rethrow_unique(e);
  }
}

} // namespace bookstore::pg
