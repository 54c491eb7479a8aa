"""Payments through Stripe's HTTP API: a node with `payments.provider=stripe` against a fake of
Stripe (tests/fakes/fake_stripe.py, same wire format: Bearer key, form bodies, Idempotency-Key,
JSON answers). Orders are paid, declined, or outlast a slow or failing provider, and whatever
happens a card is charged at most once; Stripe's signed webhooks reach the order."""

import atexit
import http.client
import itertools
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

from harness import ApiAssertions, Database, Node, bearer, isbn13, new_book, wait_until

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes", "fake_stripe.py")
SECRET_KEY = "sk_test_" + uuid.uuid4().hex
WEBHOOK_SECRET = "whsec_test"
CALL_CAP_S = 3
# Later than half the call cap: a call makes the intent in time, then its confirmation charges the
# card but answers after the cap (the node sees a timeout while Stripe has the money).
SLOW_MS = 2000
ADDRESS = {"name": "Ada Reader", "line1": "1 Library Lane", "city": "Springfield",
           "postal_code": "12345", "country": "US"}
PRICE = 1999


class FakeStripe:
    """The fake as a child process on a port of its own; killed at exit whatever happens."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fake-stripe-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "fake.log"), "ab")
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--secret", SECRET_KEY,
                                      "--port-file", port_file],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError(f"fake_stripe exited with {self.proc.returncode}")
            return os.path.exists(port_file)

        wait_until(listening, 30, "the fake Stripe to start")
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log.close()

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body))
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError(f"fake_stripe {path}: {r.status} {data[:300]!r}")
            return json.loads(data)
        finally:
            conn.close()

    def control(self, **cmd):
        return self.call("POST", "/_control", cmd)

    def state(self):
        return self.call("GET", "/_state")

    def charges(self, payment_id):
        """How many times Stripe took money for our payment `payment_id`."""
        return self.state()["charged"].get(payment_id, 0)

    def intents(self, payment_id):
        return [pi for pi in self.state()["intents"].values()
                if pi["metadata"].get("payment_id") == payment_id]


class StripeCheckout(ApiAssertions):
    """A fake Stripe and a node paying through it, per test class (with the class's SETTINGS)."""

    SETTINGS = {}

    @classmethod
    def setUpClass(cls):
        cls.stripe = FakeStripe()
        cls.db = Database()
        cls.node = Node(cls.db.dsn, settings={
            "payments.provider": "stripe",
            "payments.stripe-base-url": cls.stripe.url,
            "payments.stripe-secret-key": SECRET_KEY,
            "payments.call-cap": f"{CALL_CAP_S}s",
            "payments.breaker-failures": "50",  # these tests fail calls on purpose
            "payments.webhook-secret": WEBHOOK_SECRET,
            "checkout.payment-wait": "1s",
            "checkout.retry-base": "100ms",
            "checkout.retry-max": "500ms",
            **cls.SETTINGS,
        }).start().use_admin()
        cls.isbns = itertools.count(9001)
        r = cls.node.post("/v1/books", new_book(isbn13(next(cls.isbns)), stock=10000,
                                                 price={"amount": PRICE, "currency": "USD"}))
        assert r.status == 201, r
        cls.book = r.json()["id"]
        cls.customer = cls.new_customer()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()
        cls.stripe.stop()

    @classmethod
    def new_customer(cls):
        email = f"stripe-{uuid.uuid4().hex[:10]}@example.com"
        assert cls.node.register(email).status == 201
        return bearer(cls.node.token(email))

    def setUp(self):
        self.stripe.control(delay_ms=0, fail_next=0)

    def tearDown(self):
        self.stripe.control(delay_ms=0, fail_next=0)

    def place(self, token="tok_visa", key=None, quantity=1, book=None, customer=None):
        """(response, key) of POST /v1/orders for `quantity` of the test book."""
        key = key or uuid.uuid4().hex
        body = {"items": [{"book_id": book or self.book, "quantity": quantity}],
                "payment": {"token": token}, "shipping_address": ADDRESS}
        r = self.node.post("/v1/orders", body,
                           headers={**(customer or self.customer), "Idempotency-Key": key})
        return r, key

    def order(self, order_id):
        r = self.node.get(f"/v1/orders/{order_id}")  # as the admin: any customer's order
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_for_status(self, order_id, status, timeout=30):
        seen = {}

        def reached():
            seen.update(self.order(order_id))
            return seen["status"] == status

        try:
            wait_until(reached, timeout, f"order {order_id} to be {status}")
        except TimeoutError:
            self.fail(f"order {order_id} is {seen.get('status')}, not {status}, after {timeout} s")
        return seen

    def stock(self, book):
        r = self.node.post(f"/v1/books/{book}/stock", {"delta": 0})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def new_book(self, stock):
        r = self.node.post("/v1/books", new_book(isbn13(next(self.isbns)), stock=stock))
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def refunded_at_stripe(self, payment_id):
        """Stripe's word: the intent's charge is refunded in full."""
        [intent] = self.stripe.intents(payment_id)
        charge = intent["latest_charge"]
        return bool(charge) and charge["refunded"]


class Stripe(StripeCheckout, unittest.TestCase):
    # -- paid, declined ---------------------------------------------------------------------------

    def test_a_good_card_is_charged_once_and_the_order_is_confirmed(self):
        r, key = self.place(quantity=2)
        self.assertEqual(r.status, 201, r)
        order = r.json()
        self.assertEqual(order["status"], "confirmed")
        self.assertEqual(order["total"], {"amount": 2 * PRICE, "currency": "USD"})
        payment_id = order["payment"]["id"]
        self.assertEqual(order["payment"]["status"], "succeeded")
        self.assertEqual(self.stripe.charges(payment_id), 1)
        # Stripe holds one intent for it, for the order's total, in Stripe's words.
        [intent] = self.stripe.intents(payment_id)
        self.assertEqual((intent["status"], intent["amount"], intent["currency"],
                          intent["capture_method"]), ("succeeded", 2 * PRICE, "usd", "automatic"))
        # The same request again is the same order, and Stripe is not asked to charge again.
        again, _ = self.place(quantity=2, key=key)
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.json()["id"], order["id"])
        self.assertEqual(self.stripe.charges(payment_id), 1)
        self.assertEqual(len(self.stripe.intents(payment_id)), 1)

    def test_a_declined_card_fails_the_order_with_stripes_decline_code(self):
        book = self.new_book(stock=5)
        for token, code in (("tok_chargeDeclined", "card_declined"),
                            ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds")):
            with self.subTest(token=token):
                r, _ = self.place(token=token, quantity=2, book=book)
                self.assert_error(r, 402, "payment_declined", decline_code=code)
                order = self.order(r.error()["order_id"])
                self.assertEqual(order["status"], "payment_failed")
                self.assertEqual(self.stripe.charges(order["payment"]["id"]), 0)
        # Nothing stays held for the failed orders: all five copies can still be bought.
        level = self.stock(book)
        self.assertEqual((level["on_hand"], level["reserved"]), (5, 0), level)
        r, _ = self.place(quantity=5, book=book)
        self.assertEqual(r.status, 201, r)

    def test_cancelling_a_paid_order_refunds_it_at_stripe_once(self):
        r, _ = self.place()
        self.assertEqual(r.status, 201, r)
        order = r.json()
        payment_id = order["payment"]["id"]
        r = self.node.post(f"/v1/orders/{order['id']}/cancel", headers=self.customer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "cancelled")
        self.assertTrue(self.refunded_at_stripe(payment_id))
        self.assertEqual(self.stripe.state()["refunded"].get(payment_id), 1)
        # Cancelling again is answered like the first time and gives no money back twice.
        r = self.node.post(f"/v1/orders/{order['id']}/cancel", headers=self.customer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "cancelled")
        self.assertEqual(self.order(order["id"])["status"], "cancelled")
        self.assertEqual(self.stripe.state()["refunded"].get(payment_id), 1)
        self.assertEqual(self.stripe.charges(payment_id), 1)

    def test_a_held_order_is_captured_on_approval_and_released_on_rejection(self):
        # Over the review threshold (500.00) in a first order: authorised only, then decided.
        quantity = 50000 // PRICE + 1
        held = {}
        for decision in ("approve", "reject"):
            r, _ = self.place(quantity=quantity, customer=self.new_customer())
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.json()["status"], "manual_review")
            held[decision] = r.json()
            payment_id = r.json()["payment"]["id"]
            [intent] = self.stripe.intents(payment_id)
            self.assertEqual((intent["status"], intent["capture_method"]),
                             ("requires_capture", "manual"))
            self.assertEqual(self.stripe.charges(payment_id), 0)
        r = self.node.post(f"/v1/admin/orders/{held['approve']['id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "confirmed")
        payment_id = held["approve"]["payment"]["id"]
        self.assertEqual(self.stripe.intents(payment_id)[0]["status"], "succeeded")
        self.assertEqual(self.stripe.charges(payment_id), 1)
        r = self.node.post(f"/v1/admin/orders/{held['reject']['id']}/reject")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "rejected")
        payment_id = held["reject"]["payment"]["id"]
        self.assertEqual(self.stripe.intents(payment_id)[0]["status"], "canceled")
        self.assertEqual(self.stripe.charges(payment_id), 0)

    # -- a slow or failing provider -----------------------------------------------------------

    def test_a_slow_stripe_gets_payment_pending_then_the_order_confirms_with_one_charge(self):
        # Stripe answers SLOW_MS late: the node answers 202, its call times out after the charge.
        self.stripe.control(delay_ms=SLOW_MS)
        r, key = self.place()
        self.assertEqual(r.status, 202, r)
        order = r.json()
        self.assertEqual(order["status"], "payment_pending")
        payment_id = order["payment"]["id"]
        wait_until(lambda: self.stripe.charges(payment_id) == 1, 15,
                   "Stripe to charge the card of the pending order")
        self.assertEqual(self.order(order["id"])["status"], "payment_pending")
        # Stripe answers in time again: the retried confirmation finds the charge, makes none.
        self.stripe.control(delay_ms=0)
        done = self.wait_for_status(order["id"], "confirmed")
        self.assertEqual(done["payment"]["status"], "succeeded")
        self.assertEqual(self.stripe.charges(payment_id), 1)
        self.assertEqual(len(self.stripe.intents(payment_id)), 1)
        # The client's retry: the first answer again, for the same order, and still one charge.
        again, _ = self.place(key=key)
        self.assertEqual(again.status, 202, again)
        self.assertEqual(again.json()["id"], order["id"])
        self.assertEqual(self.stripe.charges(payment_id), 1)

    def test_stripe_errors_are_retried_and_charge_once(self):
        for status in (500, 429):
            with self.subTest(status=status):
                self.stripe.control(fail_next=2, status=status)
                r, _ = self.place()
                self.assertIn(r.status, (201, 202), r)
                order = r.json()
                done = self.wait_for_status(order["id"], "confirmed")
                self.assertEqual(self.stripe.charges(done["payment"]["id"]), 1)

    # -- webhooks ---------------------------------------------------------------------------------

    def webhook(self, **spec):
        spec.setdefault("url", f"http://127.0.0.1:{self.node.port}/v1/webhooks/payments")
        spec.setdefault("secret", WEBHOOK_SECRET)
        return self.stripe.control(send_webhook=spec)

    def test_a_signed_webhook_from_stripe_confirms_an_order_whose_answer_was_lost(self):
        # SLOW_MS late: the confirmation charges but its answer misses the call cap, and so does
        # every retry's (two requests each): only the webhook can tell the node.
        self.stripe.control(delay_ms=SLOW_MS)
        r, _ = self.place()
        self.assertEqual(r.status, 202, r)
        order = r.json()
        payment_id = order["payment"]["id"]
        wait_until(lambda: self.stripe.charges(payment_id) == 1, 20,
                   "Stripe to charge the card of the pending order")
        [intent] = self.stripe.intents(payment_id)
        forged = self.webhook(type="payment_intent.succeeded", intent=intent["id"],
                              bad_signature=True)
        self.assertEqual(forged["status"], 400, forged)
        self.assertEqual(self.order(order["id"])["status"], "payment_pending")
        sent = self.webhook(type="payment_intent.succeeded", intent=intent["id"])
        self.assertEqual(sent["status"], 200, sent)
        self.assertEqual(json.loads(sent["body"]), {"received": True})
        self.wait_for_status(order["id"], "confirmed", timeout=10)
        # Stripe delivers events at least once: the same event again changes nothing.
        self.stripe.control(delay_ms=0)
        again = self.webhook(event=sent["event"])
        self.assertEqual(again["status"], 200, again)
        self.assertEqual(self.order(order["id"])["status"], "confirmed")
        self.assertEqual(self.stripe.charges(payment_id), 1)


class StripeReconciler(StripeCheckout, unittest.TestCase):
    # Payments younger than the grace are left to their checkout.
    SETTINGS = {"payments.reconcile-interval": "300ms", "payments.reconcile-grace": "2s"}

    def list_requests(self):
        return sum(1 for r in self.stripe.state()["requests"]
                   if r["method"] == "GET" and r["path"] == "/v1/payment_intents")

    def test_money_stripe_took_for_a_cancelled_order_is_refunded_once(self):
        # The confirmation charges the card but its answer misses the call cap; the customer
        # cancels the waiting order. Only the reconciler, reading Stripe's list of intents, can
        # tell the node that money was taken for it, and so get it refunded.
        self.stripe.control(delay_ms=SLOW_MS)
        r, _ = self.place()
        self.assertEqual(r.status, 202, r)
        order = r.json()
        payment_id = order["payment"]["id"]
        wait_until(lambda: self.stripe.charges(payment_id) == 1, 15,
                   "Stripe to charge the card of the pending order")
        r = self.node.post(f"/v1/orders/{order['id']}/cancel", headers=self.customer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "cancelled")
        # Still slow: no retried call of the node's own learns of the charge in time.
        wait_until(lambda: self.refunded_at_stripe(payment_id), 30,
                   "the reconciler to refund the charge of the cancelled order")
        # Later runs see it refunded and leave it alone.
        self.stripe.control(delay_ms=0)
        runs = self.list_requests()
        wait_until(lambda: self.list_requests() >= runs + 3, 20, "three more reconciler runs")
        self.assertEqual(self.stripe.state()["refunded"].get(payment_id), 1)
        self.assertEqual(self.stripe.charges(payment_id), 1)
        self.assertEqual(self.order(order["id"])["status"], "cancelled")


if __name__ == "__main__":
    unittest.main()
