"""The cart over HTTP: held by the caller's session, priced when read, durable across restarts."""

import unittest
import uuid

from harness import (ADMIN_EMAIL, ADMIN_PASSWORD, ApiAssertions, Database, Node, bearer,
                     demo_book_ids, isbn13, new_book)

EMPTY = {"items": [], "total": {"amount": 0, "currency": "USD"}}


class Cart(ApiAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.db.seed(20)
        cls.node = Node(cls.db.dsn).start()
        cls.books = demo_book_ids(cls.db, 5)
        cls.title, cls.price = {}, {}
        for book_id in cls.books:
            r = cls.node.get(f"/v1/books/{book_id}")
            assert r.status == 200, r
            cls.title[book_id] = r.json()["title"]
            cls.price[book_id] = r.json()["price"]

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def login(self, email=None):
        """(email, tokens) of a new customer's new session, or of another session of `email`."""
        if email is None:
            email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
            r = self.node.register(email)
            self.assertEqual(r.status, 201, r)
        r = self.node.login(email)
        self.assertEqual(r.status, 200, r)
        return email, r.json()

    def cart(self, token):
        r = self.node.get("/v1/cart", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def put(self, token, book_id, quantity):
        return self.node.put(f"/v1/cart/items/{book_id}", {"quantity": quantity},
                             headers=bearer(token))

    def assert_cart(self, cart, quantities):
        """`cart` holds exactly `quantities` (book id -> quantity) at the catalog's prices."""
        got = {i["book_id"]: i for i in cart["items"]}
        self.assertEqual(set(got), set(quantities), cart)
        for book_id, quantity in quantities.items():
            item = got[book_id]
            self.assertEqual((item["title"], item["quantity"], item["unit_price"]),
                             (self.title[book_id], quantity, self.price[book_id]), item)
        total = sum(self.price[b]["amount"] * q for b, q in quantities.items())
        self.assertEqual(cart["total"], {"amount": total, "currency": "USD"})

    def test_the_cart_needs_a_token(self):
        self.assert_error(self.node.get("/v1/cart"), 401, "unauthenticated")
        r = self.node.put(f"/v1/cart/items/{self.books[0]}", {"quantity": 1})
        self.assert_error(r, 401, "unauthenticated")
        self.assert_error(self.node.delete("/v1/cart"), 401, "unauthenticated")

    def test_a_new_session_has_an_empty_cart(self):
        _, t = self.login()
        self.assertEqual(self.cart(t["access_token"]), EMPTY)

    def test_items_are_added_replaced_and_removed(self):
        _, t = self.login()
        token = t["access_token"]
        first, second = self.books[0], self.books[1]
        r = self.put(token, first, 2)
        self.assertEqual(r.status, 200, r)
        self.assert_cart(r.json(), {first: 2})
        r = self.put(token, second, 1)
        self.assertEqual(r.status, 200, r)
        self.assert_cart(r.json(), {first: 2, second: 1})
        r = self.put(token, first, 5)
        self.assertEqual(r.status, 200, r)
        self.assert_cart(r.json(), {first: 5, second: 1})
        self.assert_cart(self.cart(token), {first: 5, second: 1})
        r = self.node.delete(f"/v1/cart/items/{first}", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assert_cart(r.json(), {second: 1})
        self.assert_cart(self.cart(token), {second: 1})
        r = self.node.delete("/v1/cart", headers=bearer(token))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, "")
        self.assertEqual(self.cart(token), EMPTY)

    def test_bad_quantities_are_400_and_change_nothing(self):
        _, t = self.login()
        token = t["access_token"]
        self.assertEqual(self.put(token, self.books[2], 3).status, 200)
        path = f"/v1/cart/items/{self.books[2]}"
        for body in ({"quantity": 0}, {"quantity": 101}, {"quantity": "2"}, {"quantity": 2.5},
                     {"quantity": None}, {}):
            with self.subTest(body=body):
                r = self.node.put(path, body, headers=bearer(token))
                self.assert_error(r, 400, "invalid_request", field="quantity")
        r = self.node.put(path, {"quantity": 100}, headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assert_cart(self.cart(token), {self.books[2]: 100})

    def test_unknown_and_hostile_books_are_404(self):
        _, t = self.login()
        token = t["access_token"]
        books = self.db.sql("SELECT count(*) FROM books")
        for book_id in ("bk_" + "z" * 12, "../../etc", "..%2F..%2Fetc",
                        "%27%3B%20DROP%20TABLE%20books%3B--"):
            with self.subTest(book_id=book_id):
                self.assert_error(self.put(token, book_id, 1), 404, "not_found")
        self.assertEqual(self.cart(token), EMPTY)
        self.assertEqual(self.db.sql("SELECT count(*) FROM books"), books)

    def test_the_cart_survives_a_restart(self):
        _, t = self.login()
        token = t["access_token"]
        self.assertEqual(self.put(token, self.books[3], 4).status, 200)
        self.assertEqual(self.put(token, self.books[4], 1).status, 200)
        self.assertEqual(self.node.stop(), 0)
        self.node.start()
        self.assert_cart(self.cart(token), {self.books[3]: 4, self.books[4]: 1})

    def test_the_cart_belongs_to_the_session(self):
        email, one = self.login()
        _, two = self.login(email)
        self.assertEqual(self.put(one["access_token"], self.books[0], 1).status, 200)
        self.assertEqual(self.cart(two["access_token"]), EMPTY)
        r = self.node.post("/v1/auth/logout", headers=bearer(one["access_token"]))
        self.assertEqual(r.status, 204, r)
        r = self.node.get("/v1/cart", headers=bearer(one["access_token"]))
        self.assert_error(r, 401, "unauthenticated")
        r = self.put(one["access_token"], self.books[1], 1)
        self.assert_error(r, 401, "unauthenticated")
        self.assertEqual(self.cart(two["access_token"]), EMPTY)

    def test_prices_are_those_of_the_catalog_when_the_cart_is_read(self):
        admin = bearer(self.node.token(ADMIN_EMAIL, ADMIN_PASSWORD))
        r = self.node.post("/v1/books", new_book(isbn13(701), stock=10), headers=admin)
        self.assertEqual(r.status, 201, r)
        book_id = r.json()["id"]
        _, t = self.login()
        token = t["access_token"]
        r = self.put(token, book_id, 3)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["items"][0]["unit_price"], {"amount": 1999, "currency": "USD"})
        self.assertEqual(r.json()["total"], {"amount": 3 * 1999, "currency": "USD"})
        r = self.node.patch(f"/v1/books/{book_id}",
                            {"price": {"amount": 4242, "currency": "USD"}}, headers=admin)
        self.assertEqual(r.status, 200, r)
        cart = self.cart(token)
        self.assertEqual(cart["items"][0]["unit_price"], {"amount": 4242, "currency": "USD"})
        self.assertEqual(cart["items"][0]["title"], "Integration Test Book")
        self.assertEqual(cart["total"], {"amount": 3 * 4242, "currency": "USD"})


if __name__ == "__main__":
    unittest.main()
