"""Checkout over HTTP: every outcome of POST /v1/orders, idempotency, concurrency, the order's life
after it is placed (cancel, ship, refund, review) and the payment webhook's signature checks."""

import hashlib
import hmac
import itertools
import json
import threading
import time
import unittest
import uuid

from harness import ApiAssertions, Database, Node, bearer, isbn13, new_book, wait_until

# Short waits and backoffs: the saga's background steps finish within a test's deadlines.
FAST = {"checkout.payment-wait": "500ms", "checkout.retry-base": "100ms",
        "checkout.retry-max": "500ms", "inventory.wake-interval": "500ms"}
WEBHOOK_SECRET = "whsec_test"
ADDRESS = {"name": "Ada Reader", "line1": "1 Library Lane", "line2": "Flat 2",
           "city": "Springfield", "postal_code": "12345", "country": "US"}
# Statuses an order leaves by itself (the saga is still working on it).
IN_FLIGHT = {"pending", "reserved", "payment_pending"}


def order_body(items=None, token="tok_visa", address=ADDRESS):
    """A POST /v1/orders body; `items` (book id -> quantity) omitted means the cart."""
    body = {"payment": {"token": token}, "shipping_address": dict(address)}
    if items is not None:
        body["items"] = [{"book_id": b, "quantity": q} for b, q in items.items()]
    return body


def stripe_signature(body, t=None, secret=WEBHOOK_SECRET):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class Checkout(ApiAssertions):
    """A node per test class (with the class's SETTINGS) and what its tests need of it."""

    SETTINGS = {}

    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.node = Node(cls.db.dsn, settings={**FAST, **cls.SETTINGS}).start().use_admin()
        cls.isbns = itertools.count(1)

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def book(self, stock, price=1999):
        r = self.node.post("/v1/books", new_book(isbn13(next(self.isbns)), stock=stock,
                                                 price={"amount": price, "currency": "USD"}))
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def customer(self):
        """(user id, access token) of a new customer."""
        email = f"buyer-{uuid.uuid4().hex[:10]}@example.com"
        r = self.node.register(email)
        self.assertEqual(r.status, 201, r)
        return r.json()["id"], self.node.token(email)

    def place(self, token, body=None, key=None, raw=None, headers=None, conn=None):
        hdrs = {**bearer(token), "Idempotency-Key": key or uuid.uuid4().hex}
        hdrs.update(headers or {})
        return self.node.post("/v1/orders", body, raw=raw, headers=hdrs, conn=conn)

    def order(self, order_id, token=None):
        """The order as its owner (`token`) or the admin sees it."""
        r = self.node.get(f"/v1/orders/{order_id}", headers=bearer(token) if token else None)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def stock(self, book_id):
        """(on hand, reserved, available), as the inventory has them now."""
        r = self.node.post(f"/v1/books/{book_id}/stock", {"delta": 0})
        self.assertEqual(r.status, 200, r)
        s = r.json()
        return s["on_hand"], s["reserved"], s["available"]

    def available(self, book_id):
        r = self.node.get(f"/v1/books/{book_id}")
        self.assertEqual(r.status, 200, r)
        return r.json()["available"]

    def assert_stock(self, book_id, on_hand, reserved=0):
        self.assertEqual(self.stock(book_id), (on_hand, reserved, on_hand - reserved))
        self.assertEqual(self.available(book_id), on_hand - reserved)

    def charges(self):
        """Money taken by the (simulated) provider so far."""
        r = self.node.get("/metrics")
        self.assertEqual(r.status, 200, r)
        for line in r.body.splitlines():
            if line.startswith("bookstore_provider_charges_total"):
                return int(float(line.split()[-1]))
        return 0

    def wait_status(self, order_id, status, timeout=30):
        """Polls the order until it leaves the saga's in-flight statuses; it must be `status`."""
        seen = {}

        def settled():
            seen["order"] = self.order(order_id)
            return seen["order"]["status"] not in IN_FLIGHT

        wait_until(settled, timeout, f"order {order_id} to settle")
        self.assertEqual(seen["order"]["status"], status, seen["order"])
        return seen["order"]

    def pages(self, path, token=None, limit=100):
        """Every item of a paginated list."""
        items, cursor = [], None
        while True:
            sep = "&" if "?" in path else "?"
            url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            r = self.node.get(url, headers=bearer(token) if token else None)
            self.assertEqual(r.status, 200, r)
            items += r.json()["items"]
            cursor = r.json()["next_cursor"]
            if not cursor:
                return items

    def history(self, order):
        return [h["status"] for h in order["status_history"]]


class Orders(Checkout, unittest.TestCase):
    SETTINGS = {"payments.webhook-secret": WEBHOOK_SECRET}

    # -- outcomes of POST /v1/orders -------------------------------------------------------------

    def test_a_paid_order_is_201_confirmed_and_sells_the_stock(self):
        book = self.book(stock=10)
        user_id, token = self.customer()
        before = self.charges()
        r = self.place(token, order_body({book: 3}))
        self.assertEqual(r.status, 201, r)
        o = r.json()
        self.assertEqual(r.header("Location"), f"/v1/orders/{o['id']}")
        self.assertTrue(o["id"].startswith("ord_"), o)
        self.assertEqual((o["user_id"], o["status"]), (user_id, "confirmed"))
        self.assertEqual([(i["book_id"], i["quantity"], i["unit_price"]) for i in o["items"]],
                         [(book, 3, {"amount": 1999, "currency": "USD"})])
        self.assertEqual(o["total"], {"amount": 3 * 1999, "currency": "USD"})
        self.assertEqual(o["shipping_address"], ADDRESS)
        self.assertEqual(o["payment"]["status"], "succeeded")
        self.assertTrue(o["payment"]["id"].startswith("pi_"), o)
        self.assertIsNone(o["shipment"])
        self.assertEqual(self.history(o)[-1], "confirmed")
        self.assertEqual(self.order(o["id"], token), o)
        self.assert_stock(book, on_hand=7)
        self.assertEqual(self.charges() - before, 1)
        self.assertEqual([x["id"] for x in self.pages("/v1/orders", token)], [o["id"]])

    def test_not_enough_stock_is_409_and_nothing_stays_reserved(self):
        plenty, scarce = self.book(stock=10), self.book(stock=2)
        _, token = self.customer()
        before = self.charges()
        r = self.place(token, order_body({plenty: 4, scarce: 3}))
        self.assert_error(r, 409, "insufficient_stock", book_id=scarce)
        order_id = r.error()["order_id"]
        o = self.order(order_id, token)
        self.assertEqual(o["status"], "rejected")
        self.assertNotIn("confirmed", self.history(o))
        self.assert_stock(plenty, on_hand=10)
        self.assert_stock(scarce, on_hand=2)
        self.assertEqual(self.charges(), before)
        # What is there can still be bought.
        r = self.place(token, order_body({plenty: 4, scarce: 2}))
        self.assertEqual(r.status, 201, r)
        self.assert_stock(plenty, on_hand=6)
        self.assert_stock(scarce, on_hand=0)

    def test_a_declined_card_is_402_and_releases_the_stock(self):
        book = self.book(stock=5)
        _, token = self.customer()
        before = self.charges()
        for card, code in (("tok_chargeDeclined", "card_declined"),
                           ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds")):
            with self.subTest(card=card):
                r = self.place(token, order_body({book: 2}, token=card))
                self.assert_error(r, 402, "payment_declined", decline_code=code)
                o = self.order(r.error()["order_id"], token)
                self.assertEqual(o["status"], "payment_failed")
                self.assertNotEqual(o["payment"]["status"], "succeeded")
                self.assert_stock(book, on_hand=5)
        self.assertEqual(self.charges(), before)

    def test_faults_cannot_be_injected_where_they_are_not_enabled(self):
        r = self.node.post("/v1/admin/faults", {"payment_provider": "down"})
        self.assert_error(r, 404, "not_found")
        book = self.book(stock=1)
        _, token = self.customer()
        self.assertEqual(self.place(token, order_body({book: 1})).status, 201)

    # -- idempotency ---------------------------------------------------------------------------

    def test_the_same_key_and_body_answer_the_first_answer_again(self):
        book = self.book(stock=10)
        _, token = self.customer()
        before = self.charges()
        body = order_body({book: 2})
        first = self.place(token, body, key="replay-201")
        self.assertEqual(first.status, 201, first)
        # The same request, differently spelled (key order, spacing), is the same request.
        respelled = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
        for again in (self.place(token, body, key="replay-201"),
                      self.place(token, raw=respelled, key="replay-201")):
            self.assertEqual(again.status, 201, again)
            self.assertEqual(again.json()["id"], first.json()["id"])
            self.assertEqual(again.json()["status"], "confirmed")
        self.assert_stock(book, on_hand=8)
        self.assertEqual(self.charges() - before, 1)
        # A failure is answered again too, with the same order.
        short = order_body({book: 9})
        r = self.place(token, short, key="replay-409")
        self.assert_error(r, 409, "insufficient_stock", book_id=book)
        again = self.place(token, short, key="replay-409")
        self.assert_error(again, 409, "insufficient_stock", book_id=book,
                          order_id=r.error()["order_id"])
        declined = order_body({book: 1}, token="tok_chargeDeclined")
        r = self.place(token, declined, key="replay-402")
        self.assert_error(r, 402, "payment_declined", decline_code="card_declined")
        again = self.place(token, declined, key="replay-402")
        self.assert_error(again, 402, "payment_declined", decline_code="card_declined",
                          order_id=r.error()["order_id"])
        self.assertEqual(len(self.pages("/v1/orders", token)), 3)
        self.assert_stock(book, on_hand=8)

    def test_the_same_key_with_another_body_is_409_idempotency_conflict(self):
        book = self.book(stock=10)
        _, token = self.customer()
        first = self.place(token, order_body({book: 1}), key="conflict")
        self.assertEqual(first.status, 201, first)
        for other in (order_body({book: 2}), order_body({book: 1}, token="tok_mastercard"),
                      order_body({book: 1}, address=dict(ADDRESS, city="Shelbyville"))):
            with self.subTest(body=other):
                r = self.place(token, other, key="conflict")
                self.assert_error(r, 409, "idempotency_conflict")
        self.assertEqual(self.order(first.json()["id"], token), first.json())
        self.assert_stock(book, on_hand=9)
        self.assertEqual(len(self.pages("/v1/orders", token)), 1)

    def test_a_key_belongs_to_its_user(self):
        book = self.book(stock=10)
        (_, one), (_, two) = self.customer(), self.customer()
        a = self.place(one, order_body({book: 1}), key="shared-key")
        b = self.place(two, order_body({book: 1}), key="shared-key")
        self.assertEqual((a.status, b.status), (201, 201), (a, b))
        self.assertNotEqual(a.json()["id"], b.json()["id"])
        self.assert_stock(book, on_hand=8)

    def test_twenty_concurrent_requests_with_one_key_make_one_order_and_one_charge(self):
        book = self.book(stock=10)
        _, token = self.customer()
        before = self.charges()
        body = order_body({book: 3})
        answers = [None] * 20
        start = threading.Barrier(len(answers))

        def send(i):
            conn = self.node.connection(timeout=60)
            start.wait()
            answers[i] = self.place(token, body, key="twenty-at-once", conn=conn)
            conn.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(answers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual({r.status for r in answers}, {201}, answers)
        self.assertEqual(len({r.json()["id"] for r in answers}), 1, answers)
        self.assertEqual(self.charges() - before, 1)
        self.assert_stock(book, on_hand=7)
        self.assertEqual([o["id"] for o in self.pages("/v1/orders", token)],
                         [answers[0].json()["id"]])

    def test_two_hundred_buyers_of_fifty_books_get_exactly_fifty(self):
        book = self.book(stock=50)
        tokens = [self.customer()[1] for _ in range(10)]
        answers = [None] * 200
        start = threading.Barrier(len(answers))

        def buy(i):
            conn = self.node.connection(timeout=120)
            start.wait()
            answers[i] = self.place(tokens[i % len(tokens)], order_body({book: 1}), conn=conn)
            conn.close()

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(len(answers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sold = [r for r in answers if r.status == 201]
        refused = [r for r in answers if r.status != 201]
        self.assertEqual(len(sold), 50, [r for r in answers if r.status not in (201, 409)][:5])
        for r in refused:
            self.assert_error(r, 409, "insufficient_stock", book_id=book)
        self.assertTrue(all(r.json()["status"] == "confirmed" for r in sold))
        self.assertEqual(len({r.json()["id"] for r in sold}), 50)
        self.assert_stock(book, on_hand=0)
        # What the buyers see in their order lists: the 50 orders sold, confirmed.
        confirmed = [o["id"] for t in tokens for o in self.pages("/v1/orders", t)
                     if o["status"] == "confirmed" and o["items"][0]["book_id"] == book]
        self.assertEqual(sorted(confirmed), sorted(r.json()["id"] for r in sold))

    # -- from the cart -------------------------------------------------------------------------

    def test_an_order_from_the_cart_buys_the_cart_and_empties_it(self):
        one, two = self.book(stock=5), self.book(stock=5, price=750)
        _, token = self.customer()
        for book, quantity in ((one, 2), (two, 1)):
            r = self.node.put(f"/v1/cart/items/{book}", {"quantity": quantity},
                              headers=bearer(token))
            self.assertEqual(r.status, 200, r)
        r = self.place(token, order_body())
        self.assertEqual(r.status, 201, r)
        o = r.json()
        self.assertEqual(sorted((i["book_id"], i["quantity"]) for i in o["items"]),
                         sorted([(one, 2), (two, 1)]))
        self.assertEqual(o["total"], {"amount": 2 * 1999 + 750, "currency": "USD"})

        def cart_is_empty():
            r = self.node.get("/v1/cart", headers=bearer(token))
            self.assertEqual(r.status, 200, r)
            return r.json()["items"] == []

        wait_until(cart_is_empty, 10, "the cart to be emptied")
        self.assert_stock(one, on_hand=3)
        self.assert_stock(two, on_hand=4)
        # Nothing in the cart: nothing to order.
        r = self.place(token, order_body())
        self.assert_error(r, 400, "invalid_request", field="items")
        self.assertEqual(len(self.pages("/v1/orders", token)), 1)

    def test_a_retried_order_from_the_cart_gets_the_first_answer(self):
        # A client that lost the 201 sends the very same request again: API.md promises the
        # first answer, not a conflict, although the order has emptied the cart meanwhile.
        book = self.book(stock=5)
        _, token = self.customer()
        r = self.node.put(f"/v1/cart/items/{book}", {"quantity": 1}, headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        first = self.place(token, order_body(), key="cart-retry")
        self.assertEqual(first.status, 201, first)
        again = self.place(token, order_body(), key="cart-retry")
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.json()["id"], first.json()["id"])
        self.assert_stock(book, on_hand=4)

    # -- after the order -------------------------------------------------------------------------

    def test_cancelling_before_shipping_refunds_and_returns_the_stock(self):
        book = self.book(stock=5)
        _, token = self.customer()
        o = self.place(token, order_body({book: 2})).json()
        self.assert_stock(book, on_hand=3)
        r = self.node.post(f"/v1/orders/{o['id']}/cancel", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "cancelled")
        self.assertEqual(r.json()["payment"]["status"], "refunded")
        self.assertEqual(self.history(r.json())[-2:], ["confirmed", "cancelled"])
        self.assert_stock(book, on_hand=5)
        # Cancelling again returns nothing twice.
        r = self.node.post(f"/v1/orders/{o['id']}/cancel", headers=bearer(token))
        self.assertIn(r.status, (200, 409), r)
        self.assertEqual(self.order(o["id"], token)["status"], "cancelled")
        self.assert_stock(book, on_hand=5)

    def test_a_shipped_order_cannot_be_cancelled_but_an_admin_can_refund_it(self):
        book = self.book(stock=5)
        _, token = self.customer()
        o = self.place(token, order_body({book: 1})).json()
        path = f"/v1/admin/orders/{o['id']}/ship"
        self.assert_error(self.node.post(path, {"carrier": "UPS", "tracking_number": "1Z"},
                                         headers=bearer(token)), 403, "forbidden")
        self.assert_error(self.node.post(path, {"tracking_number": "1Z"}), 400,
                          "invalid_request", field="carrier")
        self.assert_error(self.node.post(path, {"carrier": "UPS", "tracking_number": 7}), 400,
                          "invalid_request", field="tracking_number")
        r = self.node.post(path, {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "shipped")
        self.assertEqual(r.json()["shipment"]["carrier"], "UPS")
        self.assertEqual(r.json()["shipment"]["tracking_number"], "1Z999AA10123456784")
        self.assertEqual(self.order(o["id"], token)["status"], "shipped")
        r = self.node.post(f"/v1/orders/{o['id']}/cancel", headers=bearer(token))
        self.assert_error(r, 409, "invalid_state")
        self.assertEqual(self.order(o["id"], token)["status"], "shipped")
        r = self.node.post(f"/v1/orders/{o['id']}/refund", headers=bearer(token))
        self.assert_error(r, 403, "forbidden")
        r = self.node.post(f"/v1/orders/{o['id']}/refund")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "refunded")
        self.assertEqual(r.json()["payment"]["status"], "refunded")
        self.assertEqual(self.order(o["id"], token)["status"], "refunded")

    def test_an_admin_refunds_a_confirmed_order(self):
        book = self.book(stock=5)
        _, token = self.customer()
        o = self.place(token, order_body({book: 1})).json()
        r = self.node.post(f"/v1/orders/{o['id']}/refund")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "refunded")
        self.assertEqual(r.json()["payment"]["status"], "refunded")
        self.assertEqual(self.history(r.json())[-1], "refunded")
        r = self.node.post(f"/v1/orders/{o['id']}/cancel", headers=bearer(token))
        self.assert_error(r, 409, "invalid_state")
        self.assertEqual(self.order(o["id"], token)["status"], "refunded")

    # -- who sees what ---------------------------------------------------------------------------

    def test_other_users_orders_are_404(self):
        book = self.book(stock=5)
        _, owner = self.customer()
        _, stranger = self.customer()
        o = self.place(owner, order_body({book: 1})).json()
        for method, path in (("GET", f"/v1/orders/{o['id']}"),
                             ("POST", f"/v1/orders/{o['id']}/cancel")):
            with self.subTest(path=path):
                r = self.node.request(method, path, headers=bearer(stranger))
                self.assert_error(r, 404, "not_found")
        self.assertEqual(self.pages("/v1/orders", stranger), [])
        self.assertEqual(self.order(o["id"], owner)["status"], "confirmed")
        self.assertEqual(self.order(o["id"])["id"], o["id"])  # the admin (and operator) sees it
        for order_id in ("ord_" + "0" * 20, "nope", "ord_ABC", "ord_%27%3B--", "ord_" + "a" * 40):
            with self.subTest(order_id=order_id):
                self.assert_error(self.node.get(f"/v1/orders/{order_id}", headers=bearer(owner)),
                                  404, "not_found")
        self.assert_error(self.node.get(f"/v1/orders/{o['id']}", auth=False), 401,
                          "unauthenticated")
        self.assert_error(self.node.get("/v1/admin/orders", headers=bearer(owner)), 403,
                          "forbidden")

    def test_a_customer_lists_their_orders_newest_first(self):
        book = self.book(stock=10)
        _, token = self.customer()
        placed = []
        for _ in range(3):
            r = self.place(token, order_body({book: 1}))
            self.assertEqual(r.status, 201, r)
            placed.append(r.json()["id"])
        r = self.node.get("/v1/orders?limit=2", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        page = r.json()
        self.assertEqual([o["id"] for o in page["items"]], placed[:0:-1])
        self.assertTrue(page["next_cursor"])
        r = self.node.get(f"/v1/orders?limit=2&cursor={page['next_cursor']}",
                          headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([o["id"] for o in r.json()["items"]], placed[:1])
        self.assertIsNone(r.json()["next_cursor"])
        for limit in ("0", "101", "x"):
            self.assert_error(self.node.get(f"/v1/orders?limit={limit}", headers=bearer(token)),
                              400, "invalid_request", field="limit")

    def test_admins_list_orders_of_every_user_by_status(self):
        book = self.book(stock=10)
        (one, t1), (two, t2) = self.customer(), self.customer()
        ok = [self.place(t, order_body({book: 1})).json()["id"] for t in (t1, t2)]
        r = self.place(t1, order_body({book: 1}, token="tok_chargeDeclined"))
        declined = r.error()["order_id"]
        confirmed = self.pages("/v1/admin/orders?status=confirmed")
        self.assertTrue(all(o["status"] == "confirmed" for o in confirmed))
        ids = {o["id"] for o in confirmed}
        self.assertTrue(set(ok) <= ids)
        self.assertNotIn(declined, ids)
        failed = {o["id"] for o in self.pages("/v1/admin/orders?status=payment_failed")}
        self.assertIn(declined, failed)
        self.assertTrue({one, two} <= {o["user_id"] for o in confirmed})
        self.assert_error(self.node.get("/v1/admin/orders?status=lost"), 400, "invalid_request",
                          field="status")

    # -- bad input -------------------------------------------------------------------------------

    def test_bad_orders_are_400_with_the_field_and_change_nothing(self):
        book = self.book(stock=5)
        _, token = self.customer()
        good = order_body({book: 1})
        item = {"book_id": book, "quantity": 1}

        def without(key):
            return {k: v for k, v in good.items() if k != key}

        def address(**fields):
            a = {k: v for k, v in dict(ADDRESS, **fields).items() if v is not None}
            return dict(good, shipping_address=a)

        cases = [
            (dict(good, items="all"), "items"),
            (dict(good, items=[]), "items"),
            (dict(good, items=[item, item]), "items"),
            (dict(good, items=[dict(item, quantity=0)]), "items.quantity"),
            (dict(good, items=[dict(item, quantity=101)]), "items.quantity"),
            (dict(good, items=[dict(item, quantity="1")]), "items.quantity"),
            (dict(good, items=[dict(item, quantity=1.5)]), "items.quantity"),
            (dict(good, items=[{"book_id": book}]), "items.quantity"),
            (dict(good, items=[dict(item, book_id=42)]), "items.book_id"),
            (dict(good, items=[{"quantity": 1}]), "items.book_id"),
            (without("payment"), "payment"),
            (dict(good, payment="tok_visa"), "payment"),
            (dict(good, payment={}), "payment.token"),
            (dict(good, payment={"token": 4242}), "payment.token"),
            (dict(good, payment={"token": "4242424242424242"}), "payment.token"),
            (without("shipping_address"), "shipping_address"),
            (dict(good, shipping_address="1 Library Lane"), "shipping_address"),
            (address(name=None), "shipping_address.name"),
            (address(line1=""), "shipping_address.line1"),
            (address(city=7), "shipping_address.city"),
            (address(postal_code=None), "shipping_address.postal_code"),
            (address(country="U"), "shipping_address.country"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                self.assert_error(self.place(token, body), 400, "invalid_request", field=field)
        for raw in (b'{"items": [', b"[]", b"null", b'"order"'):
            with self.subTest(raw=raw):
                self.assert_error(self.place(token, raw=raw), 400, "invalid_request")
        r = self.node.post("/v1/orders", good, headers=bearer(token))
        self.assert_error(r, 400, "idempotency_key_required")
        r = self.place(token, good, key="k" * 256)
        self.assert_error(r, 400, "invalid_request", field="Idempotency-Key")
        r = self.place(token, raw=json.dumps(good).encode(),
                       headers={"Content-Type": "text/plain"})
        self.assert_error(r, 415, "unsupported_media_type")
        r = self.node.post("/v1/orders", good, headers={"Idempotency-Key": "anon"}, auth=False)
        self.assert_error(r, 401, "unauthenticated")
        r = self.place(token, order_body({book: 1, "bk_zzzzzzzzzzzz": 1}))
        self.assert_error(r, 404, "not_found", book_id="bk_zzzzzzzzzzzz")
        self.assertEqual(self.pages("/v1/orders", token), [])
        self.assert_stock(book, on_hand=5)
        # The longest key is fine.
        self.assertEqual(self.place(token, good, key="k" * 255).status, 201)

    # -- payment webhooks ------------------------------------------------------------------------

    def test_webhooks_need_a_fresh_valid_signature(self):
        event = json.dumps({"id": "evt_test_1", "type": "payment_intent.succeeded",
                            "data": {"object": {"id": "pi_elsewhere", "metadata": {}}}}).encode()
        now = int(time.time())

        def deliver(signature):
            headers = {} if signature is None else {"Stripe-Signature": signature}
            return self.node.post("/v1/webhooks/payments", raw=event, headers=headers, auth=False)

        good_mac = stripe_signature(event, now).split("v1=")[1]
        for signature in (None, "", "garbage", f"t={now}", f"v1={good_mac}",
                          stripe_signature(event, now, secret="whsec_other"),
                          stripe_signature(event + b" ", now),
                          f"t={now},v1={good_mac[:-1]}0" if good_mac[-1] != "0"
                          else f"t={now},v1={good_mac[:-1]}1",
                          stripe_signature(event, now - 600), stripe_signature(event, now + 600)):
            with self.subTest(signature=signature):
                self.assert_error(deliver(signature), 400, "invalid_request",
                                  field="Stripe-Signature")
        for signature in (stripe_signature(event, now), stripe_signature(event, now - 240),
                          f"t={now},v1={'0' * 64},v1={good_mac}"):
            with self.subTest(signature=signature):
                r = deliver(signature)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json(), {"received": True})


class OrdersWhenTheProviderFails(Checkout, unittest.TestCase):
    SETTINGS = {"faults.enabled": True, "payments.breaker-cooldown": "500ms",
                "payments.slow-latency": "2s"}

    def fault(self, mode):
        r = self.node.post("/v1/admin/faults", {"payment_provider": mode})
        self.assertEqual(r.status, 200, r)

    def tearDown(self):
        self.fault("ok")

    def test_provider_down_is_202_payment_pending_then_confirmed(self):
        book = self.book(stock=5)
        _, token = self.customer()
        before = self.charges()
        self.fault("down")
        body = order_body({book: 2})
        r = self.place(token, body, key="while-down")
        self.assertEqual(r.status, 202, r)
        o = r.json()
        self.assertEqual(o["status"], "payment_pending")
        self.assertEqual(r.header("Location"), f"/v1/orders/{o['id']}")
        self.assertEqual(self.order(o["id"], token)["status"], "payment_pending")
        self.assert_stock(book, on_hand=5, reserved=2)  # held for the order meanwhile
        self.fault("ok")
        o = self.wait_status(o["id"], "confirmed")
        self.assertEqual(o["payment"]["status"], "succeeded")
        steps = self.history(o)
        self.assertLess(steps.index("payment_pending"), steps.index("confirmed"))
        self.assert_stock(book, on_hand=3)
        self.assertEqual(self.charges() - before, 1)
        again = self.place(token, body, key="while-down")
        self.assertEqual(again.status, 202, again)
        self.assertEqual(again.json()["id"], o["id"])
        self.assertEqual(self.charges() - before, 1)

    def test_a_slow_provider_is_202_payment_pending_and_charges_once(self):
        book = self.book(stock=5)
        _, token = self.customer()
        before = self.charges()
        self.fault("slow")
        r = self.place(token, order_body({book: 1}))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["status"], "payment_pending")
        o = self.wait_status(r.json()["id"], "confirmed")
        self.fault("ok")
        self.assertEqual(o["payment"]["status"], "succeeded")
        self.assert_stock(book, on_hand=4)
        self.assertEqual(self.charges() - before, 1)

    def test_a_declined_card_while_down_ends_payment_failed_and_releases_the_stock(self):
        book = self.book(stock=5)
        _, token = self.customer()
        self.fault("down")
        r = self.place(token, order_body({book: 3}, token="tok_chargeDeclined"))
        self.assertEqual(r.status, 202, r)
        self.assert_stock(book, on_hand=5, reserved=3)
        self.fault("ok")
        self.wait_status(r.json()["id"], "payment_failed")
        self.assert_stock(book, on_hand=5)

    def test_only_operators_set_faults_and_only_known_ones(self):
        _, token = self.customer()
        r = self.node.post("/v1/admin/faults", {"payment_provider": "down"}, headers=bearer(token))
        self.assert_error(r, 403, "forbidden")
        for body in ({"payment_provider": "broken"}, {"payment_provider": 1}, {}):
            with self.subTest(body=body):
                self.assert_error(self.node.post("/v1/admin/faults", body), 400,
                                  "invalid_request", field="payment_provider")
        book = self.book(stock=1)
        self.assertEqual(self.place(token, order_body({book: 1})).status, 201)


class OrdersUnderReview(Checkout, unittest.TestCase):
    # Above 10.00 from an IP the user never ordered from: held (every first order is from a new IP).
    SETTINGS = {"checkout.review-threshold": "1000"}

    def held(self, book, quantity=1):
        """(order, customer token) of a first order that the fraud rule holds."""
        _, token = self.customer()
        r = self.place(token, order_body({book: quantity}))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["status"], "manual_review")
        self.assertEqual(r.json()["payment"]["status"], "requires_capture")
        return r.json(), token

    def test_a_held_order_is_charged_only_when_approved(self):
        book = self.book(stock=5)
        before = self.charges()
        o, token = self.held(book, 2)
        self.assert_stock(book, on_hand=5, reserved=2)
        self.assertEqual(self.charges(), before)
        queue = {x["id"] for x in self.pages("/v1/admin/orders?status=manual_review")}
        self.assertIn(o["id"], queue)
        r = self.node.post(f"/v1/admin/orders/{o['id']}/approve", headers=bearer(token))
        self.assert_error(r, 403, "forbidden")
        r = self.node.post(f"/v1/admin/orders/{o['id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "confirmed")
        self.assertEqual(r.json()["payment"]["status"], "succeeded")
        self.assertEqual(self.history(r.json())[-2:], ["manual_review", "confirmed"])
        self.assertEqual(self.order(o["id"], token)["status"], "confirmed")
        self.assert_stock(book, on_hand=3)
        self.assertEqual(self.charges() - before, 1)
        # Approving again answers the decision taken; rejecting now is too late.
        r = self.node.post(f"/v1/admin/orders/{o['id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "confirmed")
        r = self.node.post(f"/v1/admin/orders/{o['id']}/reject")
        self.assert_error(r, 409, "invalid_state")
        self.assertEqual(self.order(o["id"], token)["status"], "confirmed")
        self.assert_stock(book, on_hand=3)
        self.assertEqual(self.charges() - before, 1)

    def test_a_rejected_order_takes_no_money_and_returns_the_stock(self):
        book = self.book(stock=5)
        before = self.charges()
        o, token = self.held(book, 3)
        self.assert_stock(book, on_hand=5, reserved=3)
        r = self.node.post(f"/v1/admin/orders/{o['id']}/reject")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "rejected")
        self.assertNotEqual(r.json()["payment"]["status"], "succeeded")
        self.assertEqual(self.order(o["id"], token)["status"], "rejected")
        self.assert_stock(book, on_hand=5)
        self.assertEqual(self.charges(), before)
        self.assert_error(self.node.post(f"/v1/admin/orders/{o['id']}/approve"), 409,
                          "invalid_state")
        self.assert_stock(book, on_hand=5)

    def test_small_orders_and_known_ips_are_not_held(self):
        cheap, dear = self.book(stock=5, price=1000), self.book(stock=5, price=5000)
        _, token = self.customer()
        r = self.place(token, order_body({cheap: 1}))  # at the threshold, not over it
        self.assertEqual(r.status, 201, r)
        r = self.place(token, order_body({dear: 1}))  # over it, but from an IP seen before
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "confirmed")
        self.assert_stock(dear, on_hand=4)


if __name__ == "__main__":
    unittest.main()
