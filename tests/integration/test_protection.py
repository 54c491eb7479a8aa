"""The per-IP rate limit (shared through Redis, local without it) and trusted proxies."""

import json
import socket
import time
import unittest
import uuid

from harness import Database, Node, wait_until

WINDOW = 60


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def limited(requests, **more):
    """Settings of a node allowing `requests` per minute, counted under a key prefix of its own
    (so that no other test's counts, in the shared Redis, can interfere)."""
    settings = {"rate-limit.requests": str(requests), "rate-limit.window": f"{WINDOW}s",
                "redis.prefix": "rl-test-" + uuid.uuid4().hex}
    settings.update(more)
    return settings


def inside_one_window():
    """A fixed window starting again mid-test would refill the budget: begin well inside one."""
    wait_until(lambda: time.time() % WINDOW < WINDOW - 8, 10, "the start of a fresh window")


class RateLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()

    @classmethod
    def tearDownClass(cls):
        cls.db.close()

    def start(self, settings, **kw):
        node = Node(self.db.dsn, settings=settings, **kw).start()
        self.addCleanup(node.stop)
        return node

    def assert_limited(self, r):
        self.assertEqual(r.status, 429, r)
        err = r.error()
        self.assertEqual(err["code"], "rate_limited", r)
        self.assertEqual(err["request_id"], r.header("X-Request-Id"))
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, r.headers)
        self.assertRegex(retry, r"^\d+$")
        self.assertTrue(1 <= int(retry) <= WINDOW, retry)

    def test_a_client_over_its_budget_gets_429_with_retry_after(self):
        node = self.start(limited(5))
        inside_one_window()
        for remaining in ("4", "3", "2", "1", "0"):
            r = node.get("/v1/books")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("RateLimit-Limit"), "5")
            self.assertEqual(r.header("RateLimit-Remaining"), remaining)
        r = node.get("/v1/books")
        self.assert_limited(r)
        self.assertEqual(r.header("RateLimit-Limit"), "5")
        self.assertEqual(r.header("RateLimit-Remaining"), "0")
        self.assert_limited(node.post("/v1/auth/login", {"email": "x@example.com",
                                                         "password": "whatever!"}))
        r = node.get("/healthz")
        self.assertEqual(r.status, 200, r)

    def test_the_budget_is_shared_through_redis(self):
        settings = limited(6)
        a = self.start(settings)
        b = self.start({**settings, "node.id": "it-node-b"})
        inside_one_window()
        for _ in range(6):
            r = a.get("/v1/books")
            self.assertEqual(r.status, 200, r)
        wait_until(lambda: b.get("/v1/books").status == 429, 2,
                   "node B to count node A's requests")
        self.assert_limited(b.get("/v1/books"))
        self.assert_limited(a.get("/v1/books"))

    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self):
        node = self.start(limited(3))
        inside_one_window()
        for i in range(3):
            r = node.get("/v1/books", headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})
            self.assertEqual(r.status, 200, r)
        self.assert_limited(node.get("/v1/books", headers={"X-Forwarded-For": "198.51.100.9"}))
        self.assert_limited(node.get("/v1/books"))

    def test_a_trusted_proxy_passes_on_the_client_address(self):
        node = self.start(limited(3, **{"rate-limit.trusted-proxies": "127.0.0.1"}))
        inside_one_window()
        first = {"X-Forwarded-For": "203.0.113.7"}
        for _ in range(3):
            r = node.get("/v1/books", headers=first)
            self.assertEqual(r.status, 200, r)
        self.assert_limited(node.get("/v1/books", headers=first))
        r = node.get("/v1/books", headers={"X-Forwarded-For": "203.0.113.8"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("RateLimit-Remaining"), "2")

        through = {"X-Forwarded-For": "203.0.113.9"}
        email = f"proxied-{uuid.uuid4().hex[:8]}@example.com"
        password = "correct horse battery"
        r = node.post("/v1/auth/register", {"email": email, "password": password,
                                            "name": "Proxied"}, headers=through)
        self.assertEqual(r.status, 201, r)
        user_id = r.json()["id"]
        r = node.post("/v1/auth/login", {"email": email, "password": password}, headers=through)
        self.assertEqual(r.status, 200, r)
        ip = self.db.sql("SELECT ip FROM audit_log WHERE action = 'auth.login' "
                         f"AND actor_id = '{user_id}'")
        self.assertEqual(ip, "203.0.113.9")

    def test_a_proxy_line_after_the_clients_own_line_wins(self):
        # HAProxy appends its own X-Forwarded-For line after whatever the client sent.
        node = self.start(limited(100, **{"rate-limit.trusted-proxies": "127.0.0.1"}))
        email = f"lines-{uuid.uuid4().hex[:8]}@example.com"
        password = "correct horse battery"
        r = node.post("/v1/auth/register", {"email": email, "password": password, "name": "L"})
        self.assertEqual(r.status, 201, r)
        body = json.dumps({"email": email, "password": password}).encode()
        raw = (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"Content-Type: application/json\r\n"
               b"X-Forwarded-For: 198.51.100.66\r\n"      # made up by the client
               b"X-Forwarded-For: 203.0.113.50\r\n"       # added by the proxy
               + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.assertIn(b" 200 ", node.raw(raw).split(b"\r\n", 1)[0])
        ip = self.db.sql("SELECT ip FROM audit_log WHERE action = 'auth.login' "
                         f"AND actor_id = '{r.json()['id']}'")
        self.assertEqual(ip, "203.0.113.50")

    def test_answers_that_are_not_counted_still_say_the_budget(self):
        node = self.start(limited(5))
        inside_one_window()
        self.assertEqual(node.get("/v1/books").status, 200)
        r = node.get("/healthz")
        self.assertEqual((r.header("RateLimit-Limit"), r.header("RateLimit-Remaining")), ("5", "4"))
        self.assertEqual(node.get("/v1/books").header("RateLimit-Remaining"), "3")

    def test_without_redis_each_node_still_limits(self):
        node = self.start(limited(3), redis=f"127.0.0.1:{closed_port()}")
        inside_one_window()
        statuses = [node.get("/v1/books").status for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])
        self.assert_limited(node.get("/v1/books"))
        self.assertEqual(node.get("/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
