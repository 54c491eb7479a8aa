"""Operations endpoints, dependency failures, configuration errors and connection limits."""

import os
import socket
import subprocess
import time
import unittest

from harness import Database, Node, env, isbn13, new_book


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.db.seed(20)
        cls.node = Node(cls.db.dsn, "--gateway.idle-timeout=1s").start().use_admin()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def test_healthz_and_readyz(self):
        r = self.node.get("/healthz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
        r = self.node.get("/readyz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"status": "ready",
                                    "checks": {"postgres": "ok", "redis": "ok", "cluster": "ok"}})

    def test_metrics_report_requests_entities_and_commits(self):
        book = self.node.post("/v1/books", new_book(isbn13(500), stock=1)).json()["id"]
        self.assertEqual(self.node.post(f"/v1/books/{book}/stock", {"delta": 2}).status, 200)
        self.assertEqual(self.node.get(f"/v1/books/{book}").status, 200)
        r = self.node.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        text = r.body
        self.assertIn('bookstore_http_requests_total{route="/v1/books/{id}",method="GET",'
                      'status="200"}', text)
        self.assertIn('bookstore_http_request_duration_seconds_bucket{route="/v1/books/{id}",'
                      'le="+Inf"}', text)
        self.assertRegex(text, r'bookstore_entities_active\{type="inventory_item"\} [1-9]')
        self.assertRegex(text, r"bookstore_snapshot_batch_size_count [1-9]")
        self.assertRegex(text, r"bookstore_snapshot_commit_seconds_count [1-9]")

    def test_openapi_describes_the_served_routes(self):
        doc = self.node.get("/openapi.json").json()
        self.assertTrue(doc["openapi"].startswith("3."))
        for path, method in (("/v1/books", "get"), ("/v1/books", "post"),
                             ("/v1/books/{id}", "get"), ("/v1/books/{id}", "patch"),
                             ("/v1/books/{id}/stock", "post"), ("/readyz", "get")):
            self.assertIn(method, doc["paths"][path])
        self.assertIn("Book", doc["components"]["schemas"])

    def test_idle_keep_alive_connections_are_closed(self):
        with socket.create_connection(("127.0.0.1", self.node.port), timeout=15) as s:
            started = time.monotonic()
            self.assertEqual(s.recv(1), b"")  # the server closes the silent connection
            self.assertLess(time.monotonic() - started, 10)


class Dependencies(unittest.TestCase):
    def test_redis_down_is_not_ready_but_still_serves(self):
        db = Database()
        try:
            db.seed(5)
            node = Node(db.dsn, redis=f"127.0.0.1:{closed_port()}").start()
            try:
                r = node.get("/readyz")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json()["checks"]["postgres"], "ok")
                self.assertNotEqual(r.json()["checks"]["redis"], "ok")
                book = db.sql("SELECT id FROM books LIMIT 1")
                self.assertEqual(node.get(f"/v1/books/{book}").status, 200)
            finally:
                node.stop()
        finally:
            db.close()

    def test_postgres_gone_is_503_and_never_a_crash(self):
        db = Database()
        node = Node(db.dsn).start().use_admin()
        try:
            book = node.post("/v1/books", new_book(isbn13(510), stock=4)).json()["id"]
            db.close()  # drops the database under the running node
            r = node.get("/readyz")
            self.assertEqual(r.status, 503, r)
            self.assertNotEqual(r.json()["checks"]["postgres"], "ok")
            r = node.post(f"/v1/books/{book}/stock", {"delta": 1})
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.error()["code"], "unavailable")
            self.assertIsNotNone(r.header("Retry-After"))
            r = node.post("/v1/books", new_book(isbn13(511)))
            self.assertEqual(r.status, 503, r)
            self.assertEqual(node.get("/healthz").status, 200)
        finally:
            node.stop()


class Configuration(unittest.TestCase):
    def run_node(self, *args):
        binary = os.path.join(env("BOOKSTORE_BIN"), "bookstore-node")
        return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)

    def test_a_bad_key_stops_the_node_with_one_line(self):
        for args, key in ((["--gateway.prot=1"], "gateway.prot"),
                          (["--postgres.writers=0"], "postgres.writers"),
                          (["--log.level=loud"], "log.level")):
            out = self.run_node(*args)
            self.assertEqual(out.returncode, 2)
            lines = out.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, out.stderr)
            self.assertIn(key, lines[0])

    def test_a_typo_in_the_file_stops_the_node(self):
        path = os.path.join(os.path.dirname(__file__), "..", "..", "config", "local.ini")
        original = open(path).read()
        text = original.replace("\nthreads=", "\nthread=", 1)
        self.assertNotEqual(text, original)
        bad = os.path.join(Node("x").dir, "bad.ini")
        with open(bad, "w") as f:
            f.write(text)
        out = self.run_node(f"--config-file={bad}")
        self.assertEqual(out.returncode, 2)
        self.assertIn("gateway.thread", out.stderr)

    def test_sigterm_stops_the_node_cleanly(self):
        db = Database()
        try:
            node = Node(db.dsn).start()
            self.assertEqual(node.stop(timeout=30), 0)
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()
