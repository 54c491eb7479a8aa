"""A 2xx means durable: stock changes survive a restart and a SIGKILL right after the answer."""

import threading
import unittest

from harness import Database, Node, isbn13, new_book


class Durability(unittest.TestCase):
    def setUp(self):
        self.db = Database()
        self.node = Node(self.db.dsn).start().use_admin()

    def tearDown(self):
        self.node.kill()
        self.db.close()

    def available(self, book_id):
        r = self.node.get(f"/v1/books/{book_id}")
        self.assertEqual(r.status, 200, r)
        return r.json()["available"]

    def test_a_restart_keeps_every_stock_change(self):
        books = [self.node.post("/v1/books", new_book(isbn13(400 + i), stock=i)).json()["id"]
                 for i in range(5)]
        expected = {b: i for i, b in enumerate(books)}
        for step in range(40):
            book = books[step % 5]
            delta = (step % 7) - 2
            r = self.node.post(f"/v1/books/{book}/stock", {"delta": delta})
            if r.status == 200:
                expected[book] += delta
            else:
                self.assertEqual(r.error()["code"], "insufficient_stock", r)
        self.assertEqual(self.node.stop(), 0)
        self.node.start()
        for book, stock in expected.items():
            self.assertEqual(self.available(book), stock)

    def test_sigkill_right_after_a_200_keeps_that_change(self):
        book = self.node.post("/v1/books", new_book(isbn13(410), stock=1)).json()["id"]
        for round_ in range(3):
            r = self.node.post(f"/v1/books/{book}/stock", {"delta": 10})
            self.assertEqual(r.status, 200, r)
            acked = r.json()["on_hand"]
            self.node.kill()  # at once: no chance to flush anything after the answer
            self.node.start()
            self.assertEqual(self.available(book), acked)

    def test_sigkill_under_load_loses_no_acknowledged_change(self):
        book = self.node.post("/v1/books", new_book(isbn13(420))).json()["id"]
        lock = threading.Lock()
        acked, sent = [0], [0]
        stop = threading.Event()
        enough = threading.Event()

        def worker():
            conn = self.node.connection(timeout=10)
            while not stop.is_set():
                with lock:
                    sent[0] += 1
                try:
                    r = self.node.post(f"/v1/books/{book}/stock", {"delta": 1}, conn=conn)
                except OSError:
                    return  # the node is gone
                if r.status == 200:
                    with lock:
                        acked[0] += 1
                        if acked[0] >= 300:
                            enough.set()

        threads = [threading.Thread(target=worker) for _ in range(12)]
        for t in threads:
            t.start()
        self.assertTrue(enough.wait(timeout=120), "the node acknowledged too few writes")
        self.node.kill()
        stop.set()
        for t in threads:
            t.join()
        self.node.start()
        final = self.available(book)
        self.assertGreaterEqual(final, acked[0])  # every acknowledged +1 is there
        self.assertLessEqual(final, sent[0])      # and nothing was applied twice

    def test_a_created_book_survives_sigkill_with_its_stock(self):
        r = self.node.post("/v1/books", new_book(isbn13(430), stock=33))
        self.assertEqual(r.status, 201, r)
        self.node.kill()
        self.node.start()
        self.assertEqual(self.available(r.json()["id"]), 33)


if __name__ == "__main__":
    unittest.main()
