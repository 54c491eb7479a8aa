"""Checkout survives a SIGKILL: after a restart every order finishes, a 201 stays confirmed, and
each book's stock is exactly what its confirmed orders left of it, with nothing held any more."""

import random
import threading
import unittest
import uuid

from harness import Database, Node, bearer, isbn13, new_book, wait_until

SETTINGS = {"checkout.payment-wait": "500ms", "checkout.retry-base": "100ms",
            "checkout.retry-max": "500ms", "checkout.step-timeout": "2s",
            "inventory.wake-interval": "500ms"}
ADDRESS = {"name": "Ada Reader", "line1": "1 Library Lane", "city": "Springfield",
           "postal_code": "12345", "country": "US"}
IN_FLIGHT = {"pending", "reserved", "payment_pending"}
STOCK = 20        # of each book
BOOKS = 4
BUYERS = 8        # threads, each a customer of its own
KILL_AFTER = 30   # answers before the SIGKILL: stock is left, and orders are under way


class CheckoutRecovery(unittest.TestCase):
    def setUp(self):
        self.db = Database()
        self.node = Node(self.db.dsn, settings=SETTINGS).start().use_admin()
        self.books = []
        for i in range(BOOKS):
            r = self.node.post("/v1/books", new_book(isbn13(500 + i), stock=STOCK))
            self.assertEqual(r.status, 201, r)
            self.books.append(r.json()["id"])
        self.tokens = []
        for _ in range(BUYERS):
            email = f"buyer-{uuid.uuid4().hex[:10]}@example.com"
            self.assertEqual(self.node.register(email).status, 201)
            self.tokens.append(self.node.token(email))

    def tearDown(self):
        self.node.kill()
        self.db.close()

    def order_stream_until_sigkill(self):
        """Buyers place orders (1..2 books, 1..3 each) until the node is killed under them.
        Returns [(token, key, body, response or None when no answer came)]."""
        sent, lock = [], threading.Lock()
        answered = [0]
        enough, stop = threading.Event(), threading.Event()

        def buyer(token, seed):
            rng = random.Random(seed)
            conn = self.node.connection(timeout=30)
            while not stop.is_set():
                books = rng.sample(self.books, rng.randint(1, 2))
                body = {"items": [{"book_id": b, "quantity": rng.randint(1, 3)} for b in books],
                        "payment": {"token": "tok_visa"}, "shipping_address": ADDRESS}
                key = uuid.uuid4().hex
                headers = {**bearer(token), "Idempotency-Key": key}
                try:
                    r = self.node.post("/v1/orders", body, headers=headers, conn=conn)
                except OSError:
                    r = None  # killed while we waited: this order may or may not exist
                with lock:
                    sent.append((token, key, body, r))
                    if r is None:
                        return
                    answered[0] += 1
                    if answered[0] >= KILL_AFTER:
                        enough.set()

        threads = [threading.Thread(target=buyer, args=(t, i)) for i, t in enumerate(self.tokens)]
        for t in threads:
            t.start()
        self.assertTrue(enough.wait(timeout=120), "the node answered too few orders")
        self.node.kill()
        stop.set()
        for t in threads:
            t.join()
        for _, _, _, r in sent:
            if r is not None:
                self.assertIn(r.status, (201, 409), r)
        return sent

    def settled_orders(self, timeout=120):
        """Every order the database holds, once none of them is under way any more."""
        ids = self.db.sql("SELECT entity_id FROM entity_snapshots WHERE entity_type = 'order'")
        ids = ids.split("\n") if ids else []
        orders = {}

        def all_settled():
            for order_id in ids:
                if order_id in orders and orders[order_id]["status"] not in IN_FLIGHT:
                    continue
                r = self.node.get(f"/v1/orders/{order_id}")
                self.assertEqual(r.status, 200, r)
                orders[order_id] = r.json()
            return all(o["status"] not in IN_FLIGHT for o in orders.values())

        try:
            wait_until(all_settled, timeout, "every order to finish after the restart")
        except TimeoutError:
            stuck = {i: o["status"] for i, o in orders.items() if o["status"] in IN_FLIGHT}
            self.fail(f"orders still under way after {timeout} s: {stuck}")
        return orders

    def assert_stock_matches(self, orders):
        sold = {b: 0 for b in self.books}
        for o in orders.values():
            if o["status"] == "confirmed":
                for item in o["items"]:
                    sold[item["book_id"]] += item["quantity"]
        for book in self.books:
            with self.subTest(book=book):
                r = self.node.post(f"/v1/books/{book}/stock", {"delta": 0})
                self.assertEqual(r.status, 200, r)
                level = r.json()
                self.assertEqual(level["on_hand"] + sold[book], STOCK, level)
                self.assertEqual(level["reserved"], 0, level)
                self.assertEqual(level["available"], level["on_hand"], level)
                r = self.node.get(f"/v1/books/{book}")
                self.assertEqual(r.json()["available"], level["on_hand"], r)

    def assert_answers_kept(self, sent, orders):
        """A 201 is still confirmed; a 409 names an order that was rejected."""
        for _, _, _, r in sent:
            if r is None:
                continue
            if r.status == 201:
                self.assertEqual(orders[r.json()["id"]]["status"], "confirmed", r)
            else:
                self.assertEqual(r.error()["code"], "insufficient_stock", r)
                self.assertEqual(orders[r.error()["order_id"]]["status"], "rejected", r)

    def test_sigkill_mid_stream_loses_no_order_and_no_stock(self):
        sent = self.order_stream_until_sigkill()
        self.node.start()
        orders = self.settled_orders()
        self.assertGreaterEqual(len(orders), sum(1 for s in sent if s[3] is not None))
        self.assert_answers_kept(sent, orders)
        self.assert_stock_matches(orders)

    def test_retries_after_a_sigkill_get_the_first_answer_or_finish_the_order(self):
        sent = self.order_stream_until_sigkill()
        self.node.start()
        # A client retries every request with its key: answered ones are answered again the
        # same way, unanswered ones get their order (made now, or found from before the kill).
        retried = []
        for token, key, body, first in sent:
            r = self.node.post("/v1/orders", body,
                               headers={**bearer(token), "Idempotency-Key": key})
            self.assertIn(r.status, (201, 202, 409), r)
            order_id = r.json()["id"] if r.status != 409 else r.error()["order_id"]
            if first is not None:
                self.assertEqual(r.status, first.status, (first, r))
                first_id = (first.json()["id"] if first.status == 201
                            else first.error()["order_id"])
                self.assertEqual(order_id, first_id)
            retried.append(order_id)
        orders = self.settled_orders()
        self.assertEqual(len(set(retried)), len(sent))   # one order per key
        self.assertEqual(set(orders), set(retried))      # and no other
        self.assert_answers_kept(sent, orders)
        for order_id in retried:
            self.assertIn(orders[order_id]["status"], ("confirmed", "rejected"), orders[order_id])
        self.assert_stock_matches(orders)


if __name__ == "__main__":
    unittest.main()
