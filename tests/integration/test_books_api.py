"""The catalog and stock endpoints over HTTP, good and bad input, with the exact codes of API.md."""

import re
import threading
import unittest

import time

from harness import (ApiAssertions, Database, Node, demo_book_ids, isbn13, new_book,
                     plant_reservation, wait_until)

def bad_check_digit(isbn):
    return isbn[:-1] + str((int(isbn[-1]) + 1) % 10)


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class BooksApi(ApiAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.db.seed(60)
        cls.node = Node(cls.db.dsn).start().use_admin()
        cls.ids = demo_book_ids(cls.db)

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def book_count(self):
        return int(self.db.sql("SELECT count(*) FROM books"))

    # -- reads ---------------------------------------------------------------------------------

    def test_a_book_has_every_field_of_the_contract(self):
        book_id = self.ids[0]
        r = self.node.get(f"/v1/books/{book_id}")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        b = r.json()
        self.assertEqual(b["id"], book_id)
        for key in ("isbn", "title", "description"):
            self.assertIsInstance(b[key], str)
        self.assertTrue(b["authors"] and all(isinstance(a, str) for a in b["authors"]))
        self.assertIsInstance(b["genres"], list)
        self.assertEqual(set(b["price"]), {"amount", "currency"})
        self.assertIsInstance(b["price"]["amount"], int)
        self.assertEqual(b["price"]["currency"], "USD")
        self.assertIsInstance(b["available"], int)
        self.assertRegex(b["created_at"], RFC3339)
        self.assertRegex(b["updated_at"], RFC3339)
        self.assertTrue(b["published_year"] is None or isinstance(b["published_year"], int))

    def test_unknown_and_hostile_ids_are_404_and_change_nothing(self):
        before = self.book_count()
        for path in ("/v1/books/bk_000000000000", "/v1/books/nope",
                     "/v1/books/%27%3B%20DROP%20TABLE%20books%3B--",
                     "/v1/books/" + "a" * 5000, "/v1/books/bk_%00"):
            self.assert_error(self.node.get(path), 404, "not_found")
        self.assert_error(self.node.post("/v1/books/bk_000000000000/stock", {"delta": 1}),
                          404, "not_found")
        self.assert_error(self.node.patch("/v1/books/bk_000000000000", {"title": "x"}),
                          404, "not_found")
        self.assertEqual(self.book_count(), before)

    def test_pages_walk_the_whole_catalog_once(self):
        seen, cursor, pages = [], None, 0
        while True:
            path = "/v1/books?limit=7" + (f"&cursor={cursor}" if cursor else "")
            r = self.node.get(path)
            self.assertEqual(r.status, 200, r)
            page = r.json()
            self.assertLessEqual(len(page["items"]), 7)
            seen += [b["id"] for b in page["items"]]
            cursor = page["next_cursor"]
            pages += 1
            if cursor is None:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(self.ids) <= set(seen), True)
        self.assertEqual(len(seen), self.book_count())
        self.assertEqual(self.node.get("/v1/books").json()["next_cursor"] is None,
                         self.book_count() <= 20)

    def test_filters_match_genre_and_author_case_insensitively(self):
        sample = self.node.get(f"/v1/books/{self.ids[3]}").json()
        genre, author = sample["genres"][0], sample["authors"][0]
        r = self.node.get("/v1/books?limit=100&genre=" + genre.lower().replace(" ", "+"))
        self.assertEqual(r.status, 200, r)
        items = r.json()["items"]
        self.assertIn(sample["id"], [b["id"] for b in items])
        self.assertTrue(all(genre in b["genres"] for b in items))
        r = self.node.get("/v1/books?limit=100&author=" + author.upper().replace(" ", "%20"))
        items = r.json()["items"]
        self.assertIn(sample["id"], [b["id"] for b in items])
        self.assertTrue(all(author in b["authors"] for b in items))
        r = self.node.get("/v1/books?genre=No+Such+Genre")
        self.assertEqual(r.json(), {"items": [], "next_cursor": None})

    def test_bad_list_parameters_are_400(self):
        for q in ("limit=0", "limit=101", "limit=ten", "cursor=not-ours", "genre="):
            r = self.node.get("/v1/books?" + q)
            self.assert_error(r, 400, "invalid_request")
            self.assertIn(r.error()["field"], ("limit", "cursor", "genre"))

    # -- writes --------------------------------------------------------------------------------

    def test_a_created_book_is_readable_with_its_stock(self):
        r = self.node.post("/v1/books", new_book(isbn13(101), stock=12, published_year=2020))
        self.assertEqual(r.status, 201, r)
        b = r.json()
        self.assertEqual(r.header("Location"), f"/v1/books/{b['id']}")
        self.assertEqual(b["available"], 12)
        self.assertEqual(b["published_year"], 2020)
        got = self.node.get(f"/v1/books/{b['id']}").json()
        self.assertEqual(got["title"], "Integration Test Book")
        self.assertEqual(got["available"], 12)

    def test_the_same_isbn_twice_is_409_isbn_taken(self):
        isbn = isbn13(102)
        self.assertEqual(self.node.post("/v1/books", new_book(isbn)).status, 201)
        hyphenated = f"{isbn[:3]}-{isbn[3:5]}-{isbn[5:9]}-{isbn[9:12]}-{isbn[12]}"
        before = self.book_count()
        self.assert_error(self.node.post("/v1/books", new_book(hyphenated)), 409, "isbn_taken")
        self.assertEqual(self.book_count(), before)

    def test_bad_book_bodies_are_400_naming_the_field_and_change_nothing(self):
        before = self.book_count()
        cases = [
            ({"title": 42}, "title"), ({"title": ""}, "title"), ({"authors": "Ann"}, "authors"),
            ({"authors": []}, "authors"), ({"isbn": "123"}, "isbn"),
            ({"isbn": bad_check_digit(isbn13(300))}, "isbn"), ({"price": 12.99}, "price"),
            ({"price": {"amount": 12.99, "currency": "USD"}}, "price.amount"),
            ({"price": {"amount": 100, "currency": "dollars"}}, "price.currency"),
            ({"stock": -5}, "stock"), ({"stock": "5"}, "stock"), ({"genres": [None]}, "genres"),
            ({"published_year": "1999"}, "published_year"),
            ({"title": "nul\u0000byte"}, "title"),
        ]
        for change, field in cases:
            body = new_book(isbn13(200))
            body.update(change)
            r = self.node.post("/v1/books", body)
            self.assert_error(r, 400, "invalid_request", field=field)
        body = new_book(isbn13(201))
        del body["title"]
        self.assert_error(self.node.post("/v1/books", body), 400, "invalid_request",
                          field="title")
        self.assertEqual(self.book_count(), before)

    def test_hostile_strings_are_stored_and_returned_verbatim(self):
        title = "Robert'); DROP TABLE books;-- <script>alert(1)</script> \u201cq\u201d \U0001F4DA \\ \""
        r = self.node.post("/v1/books", new_book(isbn13(103), title=title,
                                                 authors=["O'Brien", "{\"x\":1}"]))
        self.assertEqual(r.status, 201, r)
        got = self.node.get(f"/v1/books/{r.json()['id']}").json()
        self.assertEqual(got["title"], title)
        self.assertEqual(got["authors"], ["O'Brien", "{\"x\":1}"])

    def test_malformed_json_and_non_objects_are_400(self):
        for raw in (b'{"isbn":', b"[1,2]", b"null", b'{"a":1}{"b":2}', b"\xff\xfe\x00",
                    b"[" * 100000):
            r = self.node.post("/v1/books", raw=raw)
            self.assert_error(r, 400, "invalid_request")

    def test_a_body_needs_the_json_content_type(self):
        body = new_book(isbn13(104))
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
            r = self.node.post("/v1/books", body, headers={"Content-Type": ct})
            self.assert_error(r, 415, "unsupported_media_type")
        r = self.node.post("/v1/books", body,
                           headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 201, r)

    def test_an_over_limit_body_is_413_and_changes_nothing(self):
        before = self.book_count()
        big = b'{"title":"' + b"x" * (1024 * 1024) + b'"}'
        r = self.node.post("/v1/books", raw=big)
        self.assert_error(r, 413, "payload_too_large")
        self.assertEqual(self.book_count(), before)

    def test_patch_changes_only_the_given_fields(self):
        book_id = self.node.post("/v1/books", new_book(isbn13(105), stock=3)).json()["id"]
        r = self.node.patch(f"/v1/books/{book_id}", {"title": "Renamed", "genres": ["A", "B"]})
        self.assertEqual(r.status, 200, r)
        b = r.json()
        self.assertEqual((b["title"], b["genres"], b["authors"], b["available"]),
                         ("Renamed", ["A", "B"], ["Test Author"], 3))
        self.assertEqual(self.node.get(f"/v1/books/{book_id}").json()["title"], "Renamed")
        self.assert_error(self.node.patch(f"/v1/books/{book_id}", {"stock": 9}), 400,
                          "invalid_request", field="stock")
        self.assert_error(self.node.patch(f"/v1/books/{book_id}", {"title": 7}), 400,
                          "invalid_request", field="title")
        other = self.node.get(f"/v1/books/{self.ids[0]}").json()["isbn"]
        self.assert_error(self.node.patch(f"/v1/books/{book_id}", {"isbn": other}), 409,
                          "isbn_taken")
        self.assertEqual(self.node.get(f"/v1/books/{book_id}").json()["title"], "Renamed")

    def test_stock_changes_and_the_floor_of_what_is_reserved(self):
        book_id = self.node.post("/v1/books", new_book(isbn13(106), stock=5)).json()["id"]
        r = self.node.post(f"/v1/books/{book_id}/stock", {"delta": 7})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"book_id": book_id, "on_hand": 12, "reserved": 0,
                                    "available": 12})
        r = self.node.post(f"/v1/books/{book_id}/stock", {"delta": -13})
        self.assert_error(r, 409, "insufficient_stock", book_id=book_id)
        self.assertEqual(self.node.get(f"/v1/books/{book_id}").json()["available"], 12)
        for bad in ({"delta": 1.5}, {"delta": "3"}, {}, {"delta": None}, {"delta": 10 ** 12}):
            self.assert_error(self.node.post(f"/v1/books/{book_id}/stock", bad), 400,
                              "invalid_request", field="delta")
        self.assertEqual(self.node.get(f"/v1/books/{book_id}").json()["available"], 12)

    def test_stock_cannot_drop_below_what_is_reserved(self):
        book_id = self.node.post("/v1/books", new_book(isbn13(108), stock=5)).json()["id"]
        an_hour = int(time.time() * 1000) + 3_600_000
        plant_reservation(self.db, book_id, on_hand=5, order_id="ord_it", quantity=4,
                          expires_ms=an_hour)
        r = self.node.post(f"/v1/books/{book_id}/stock", {"delta": -2})
        self.assert_error(r, 409, "insufficient_stock", book_id=book_id)
        r = self.node.post(f"/v1/books/{book_id}/stock", {"delta": -1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"book_id": book_id, "on_hand": 4, "reserved": 4,
                                    "available": 0})
        self.assertEqual(self.node.get(f"/v1/books/{book_id}").json()["available"], 0)

    def test_a_reservation_expires_on_its_own(self):
        book_id = self.node.post("/v1/books", new_book(isbn13(109), stock=5)).json()["id"]
        soon = int(time.time() * 1000) + 1500
        plant_reservation(self.db, book_id, on_hand=5, order_id="ord_it", quantity=3,
                          expires_ms=soon)
        r = self.node.post(f"/v1/books/{book_id}/stock", {"delta": 0})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["reserved"], 3)
        wait_until(lambda: self.node.get(f"/v1/books/{book_id}").json()["available"] == 5,
                   timeout=20, what="the reservation to expire")
        state = self.db.sql("SELECT wake_at IS NULL FROM entity_snapshots "
                            f"WHERE entity_id = '{book_id}'")
        self.assertEqual(state, "t")  # the release is durable, nothing left to wake for

    def test_concurrent_stock_changes_all_count(self):
        book_id = self.node.post("/v1/books", new_book(isbn13(107))).json()["id"]
        statuses = []

        def worker():
            conn = self.node.connection()
            for _ in range(15):
                statuses.append(self.node.post(f"/v1/books/{book_id}/stock", {"delta": 1},
                                               conn=conn).status)
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(statuses, [200] * 240)
        self.assertEqual(self.node.get(f"/v1/books/{book_id}").json()["available"], 240)

    # -- protocol ------------------------------------------------------------------------------

    def test_a_known_path_with_a_wrong_method_is_405(self):
        r = self.node.request("DELETE", f"/v1/books/{self.ids[0]}")
        self.assert_error(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "GET, PATCH")
        self.assert_error(self.node.request("PUT", "/v1/books"), 405, "method_not_allowed")
        self.assert_error(self.node.get("/v1/nothing-here"), 404, "not_found")

    def test_request_ids_are_echoed_when_valid_and_made_otherwise(self):
        r = self.node.get("/healthz", headers={"X-Request-Id": "client-id_1.2"})
        self.assertEqual(r.header("X-Request-Id"), "client-id_1.2")
        for bad in ("has space", "x" * 129, "semi;colon"):
            r = self.node.get("/healthz", headers={"X-Request-Id": bad})
            self.assertNotEqual(r.header("X-Request-Id"), bad)
            self.assertRegex(r.header("X-Request-Id"), r"^[A-Za-z0-9._-]{1,128}$")
        r = self.node.get("/v1/books/nope", headers={"X-Request-Id": "trace-404"})
        self.assertEqual(r.error()["request_id"], "trace-404")

    def test_an_over_limit_head_is_refused(self):
        answer = self.node.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
                               + b"a" * (17 * 1024) + b"\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 431"), answer[:80])
        self.assertIn(b'"code":"invalid_request"', answer)

    def test_garbage_on_the_wire_is_400(self):
        answer = self.node.raw(b"NOT HTTP AT ALL\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:80])
        self.assertEqual(self.node.get("/healthz").status, 200)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = self.node.connection()
        for _ in range(20):
            self.assertEqual(self.node.get(f"/v1/books/{self.ids[1]}", conn=conn).status, 200)
        conn.close()


if __name__ == "__main__":
    unittest.main()
