"""The reconciler: money the provider took for an order that did not get it back is refunded.

The simulated provider acts on a call even when its answer comes too late: with the `slow` fault
and an answer time over `payments.call-cap`, a confirmation charges the card while the node only
sees a timeout. The order then waits (payment_pending); cancelling it voids the payment as far as
the node knows, yet the provider holds the charge. Only the reconciler, comparing the provider's
payments with the orders, can find it and refund it.
"""

import re
import unittest
import uuid

from harness import ApiAssertions, Database, Node, bearer, demo_book_ids, wait_until

ADDRESS = {"name": "Ada Reader", "line1": "1 Main St", "city": "Springfield",
           "postal_code": "12345", "country": "US"}


class Reconciler(ApiAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.db.seed(20)
        cls.node = Node(cls.db.dsn, settings={
            "faults.enabled": True,
            "payments.call-cap": "300ms",
            "payments.slow-latency": "1s",
            "payments.breaker-failures": "1000",
            "checkout.payment-wait": "200ms",
            "checkout.retry-base": "100ms",
            "checkout.retry-max": "200ms",
            "payments.reconcile-interval": "300ms",
            # Long enough for the checkout below to give up and be cancelled first.
            "payments.reconcile-grace": "2s",
        }).start()
        cls.node.use_admin()
        cls.book = demo_book_ids(cls.db, 1)[0]

    @classmethod
    def tearDownClass(cls):
        cls.node.post("/v1/admin/faults", {"payment_provider": "ok"})
        cls.node.stop()
        cls.db.close()

    def metric(self, name, **labels):
        text = self.node.get("/metrics").body
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_for_runs(self, n):
        """Until the reconciler finished `n` more runs (each lists the provider's payments)."""
        start = self.metric("bookstore_reconciler_runs_total")
        wait_until(lambda: self.metric("bookstore_reconciler_runs_total") >= start + n, 20,
                   f"{n} reconciler runs")

    def audited(self, action, subject):
        return self.db.sql("SELECT count(*) FROM audit_log "
                           f"WHERE action = '{action}' AND subject_id = '{subject}'")

    def test_a_charge_the_node_never_saw_is_refunded(self):
        email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        self.assertEqual(self.node.register(email).status, 201)
        token = self.node.token(email)
        refunds = self.metric("bookstore_provider_calls_total", op="refund", outcome="refunded")

        self.assertEqual(self.node.post("/v1/admin/faults", {"payment_provider": "slow"}).status, 200)
        body = {"items": [{"book_id": self.book, "quantity": 1}], "payment": {"token": "tok_visa"},
                "shipping_address": ADDRESS}
        r = self.node.post("/v1/orders", body,
                           headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex})
        self.assertEqual(r.status, 202, r)
        order = r.json()
        self.assertEqual(order["status"], "payment_pending")

        r = self.node.post(f"/v1/orders/{order['id']}/cancel", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "cancelled")
        # As far as the node knows nothing was taken; the provider charged the card.
        self.assertEqual(r.json()["payment"]["status"], "canceled")
        self.assertEqual(self.audited("payment.reconciled_refund", order["payment"]["id"]), "0")

        self.assertEqual(self.node.post("/v1/admin/faults", {"payment_provider": "ok"}).status, 200)
        wait_until(lambda: self.audited("payment.reconciled_refund",
                                        order["payment"]["id"]) == "1",
                   20, "the reconciler to refund the orphaned charge")
        self.assertEqual(
            self.metric("bookstore_provider_calls_total", op="refund", outcome="refunded"),
            refunds + 1)
        # Settled once: later runs leave it alone.
        self.wait_for_runs(2)
        self.assertEqual(
            self.metric("bookstore_provider_calls_total", op="refund", outcome="refunded"),
            refunds + 1)
        self.assertEqual(self.audited("payment.reconciled_refund", order["payment"]["id"]), "1")

    def test_a_confirmed_order_is_left_alone(self):
        email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        self.assertEqual(self.node.register(email).status, 201)
        token = self.node.token(email)
        refunds = self.metric("bookstore_provider_calls_total", op="refund")
        body = {"items": [{"book_id": self.book, "quantity": 1}], "payment": {"token": "tok_visa"},
                "shipping_address": ADDRESS}
        r = self.node.post("/v1/orders", body,
                           headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex})
        self.assertEqual(r.status, 201, r)
        payment = r.json()["payment"]["id"]
        self.assertTrue(re.fullmatch(r"pi_[0-9a-f]{20}", payment), payment)
        # Runs 300 ms apart: after nine of them the payment is past the 2 s grace, so the last
        # ones looked at it and found its confirmed order.
        before = self.metric("bookstore_provider_calls_total", op="confirm")
        self.wait_for_runs(9)
        r = self.node.get(f"/v1/orders/{r.json()['id']}", headers=bearer(token))
        self.assertEqual(r.json()["status"], "confirmed")
        self.assertEqual(self.metric("bookstore_provider_calls_total", op="refund"), refunds)
        self.assertEqual(self.metric("bookstore_provider_calls_total", op="confirm"), before)
        self.assertEqual(self.audited("payment.reconciled_refund", payment), "0")


if __name__ == "__main__":
    unittest.main()
