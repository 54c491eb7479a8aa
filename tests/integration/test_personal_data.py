"""Personal data over HTTP: the avatar, the export of everything held, deletion and the purge."""

import datetime
import os
import re
import unittest
import uuid

from harness import ApiAssertions, Database, Node, bearer, demo_book_ids, wait_until

PASSWORD = "correct horse battery"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
MiB = 1024 * 1024


def parse_rfc3339(text):
    return datetime.datetime.strptime(text.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S") \
        .replace(tzinfo=datetime.timezone.utc)


def get_bytes(node, path):
    """(status, Content-Type, body bytes): the harness decodes bodies as text."""
    conn = node.connection()
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


class PersonalDataBase(ApiAssertions, unittest.TestCase):
    settings = None

    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.db.seed(3)
        cls.node = Node(cls.db.dsn, settings=cls.settings).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def customer(self):
        """(email, user, tokens) of a new customer's session."""
        email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        r = self.node.register(email)
        self.assertEqual(r.status, 201, r)
        login = self.node.login(email)
        self.assertEqual(login.status, 200, login)
        return email, r.json(), login.json()

    def upload(self, token, data, content_type):
        return self.node.request("PUT", "/v1/me/avatar", raw=data,
                                 headers={"Content-Type": content_type, **bearer(token)})

    def actions(self, user_id):
        return self.db.sql(f"SELECT action FROM audit_log WHERE actor_id = '{user_id}'").split("\n")


class PersonalData(PersonalDataBase):
    def test_an_avatar_is_stored_and_served_as_uploaded(self):
        _, user, t = self.customer()
        token, path = t["access_token"], f"/v1/users/{user['id']}/avatar"
        self.assertEqual(get_bytes(self.node, path)[0], 404)
        png = PNG + os.urandom(3000)
        self.assert_error(self.node.request("PUT", "/v1/me/avatar", raw=png,
                                            headers={"Content-Type": "image/png"}),
                          401, "unauthenticated")
        r = self.upload(token, png, "image/png")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(get_bytes(self.node, path), (200, "image/png", png))
        jpeg = JPEG + os.urandom(2000)
        r = self.upload(token, jpeg, "image/jpeg")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(get_bytes(self.node, path), (200, "image/jpeg", jpeg))

    def test_bad_avatars_are_refused_and_keep_the_old_one(self):
        _, user, t = self.customer()
        token, path = t["access_token"], f"/v1/users/{user['id']}/avatar"
        png = PNG + os.urandom(1000)
        self.assertEqual(self.upload(token, png, "image/png").status, 204)
        self.assert_error(self.upload(token, b"GIF89a" + os.urandom(100), "image/png"), 400,
                          "invalid_request")
        self.assert_error(self.upload(token, PNG + os.urandom(100), "image/jpeg"), 400,
                          "invalid_request")
        self.assert_error(self.upload(token, b"GIF89a" + os.urandom(100), "image/gif"), 415,
                          "unsupported_media_type")
        too_big = PNG + b"\0" * (2 * MiB + 1 - len(PNG))
        self.assert_error(self.upload(token, too_big, "image/png"), 413, "payload_too_large")
        self.assertEqual(get_bytes(self.node, path), (200, "image/png", png))
        largest = PNG + os.urandom(2 * MiB - len(PNG))
        self.assertEqual(self.upload(token, largest, "image/png").status, 204)
        self.assertEqual(get_bytes(self.node, path), (200, "image/png", largest))

    def test_avatars_of_unknown_users_are_404(self):
        for user_id in ("usr_" + "z" * 12, "nope", "..%2F..%2Fetc%2Fpasswd"):
            r = self.node.get(f"/v1/users/{user_id}/avatar")
            self.assert_error(r, 404, "not_found")

    def test_the_export_holds_everything_and_no_secret(self):
        _, user, t = self.customer()
        token = t["access_token"]
        self.assert_error(self.node.get("/v1/me/export"), 401, "unauthenticated")
        r = self.node.get("/v1/me/export", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("$2b$", r.body)
        self.assertNotIn(PASSWORD, r.body)
        export = r.json()
        self.assertEqual(export["profile"]["id"], user["id"])
        self.assertEqual(export["profile"]["email"], user["email"])
        self.assertEqual(export["orders"], [])
        self.assertIn(t["session_id"], [s["id"] for s in export["sessions"]])
        # The cart lives in the session entity: it is part of the export too.
        book = self.db.sql("SELECT id FROM books ORDER BY id LIMIT 1")
        r = self.node.put(f"/v1/cart/items/{book}", {"quantity": 3}, headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        export = self.node.get("/v1/me/export", headers=bearer(token)).json()
        session = next(s for s in export["sessions"] if s["id"] == t["session_id"])
        self.assertEqual(session["cart"], [{"book_id": book, "quantity": 3}])
        self.assertIn("user.registered", [e["action"] for e in export["audit"]])
        self.assertRegex(export["exported_at"], RFC3339)
        self.assertIn("user.exported", self.actions(user["id"]))

    def test_deletion_needs_the_password_and_then_locks_the_account(self):
        email, user, t = self.customer()
        token = t["access_token"]
        r = self.node.delete("/v1/me", {"password": "not the password"}, headers=bearer(token))
        self.assert_error(r, 401, "invalid_credentials")
        r = self.node.delete("/v1/me", {}, headers=bearer(token))
        self.assert_error(r, 400, "invalid_request", field="password")
        self.assertEqual(self.node.get("/v1/me", headers=bearer(token)).status, 200)
        self.assertEqual(self.node.login(email).status, 200)

        r = self.node.delete("/v1/me", {"password": PASSWORD}, headers=bearer(token))
        self.assertEqual(r.status, 202, r)
        body = r.json()
        self.assertEqual(body["status"], "deletion_scheduled")
        self.assertRegex(body["purge_after"], RFC3339)
        grace = parse_rfc3339(body["purge_after"]) - datetime.datetime.now(datetime.timezone.utc)
        self.assertGreater(grace, datetime.timedelta(days=29))  # the default grace is 30 days
        self.assert_error(self.node.login(email), 401, "invalid_credentials")
        self.assert_error(self.node.get("/v1/me", headers=bearer(token)), 401, "unauthenticated")
        self.assert_error(self.node.register(email), 409, "email_taken")
        # The session's refresh token cannot mint new access tokens either.
        r = self.node.post("/v1/auth/refresh", {"refresh_token": t["refresh_token"]}, auth=False)
        self.assert_error(r, 401, "unauthenticated")


class Purge(PersonalDataBase):
    settings = {"auth.deletion-grace": "1s", "auth.purge-interval": "200ms"}

    def test_after_the_grace_period_personal_data_is_erased(self):
        email, user, t = self.customer()
        uid, token = user["id"], t["access_token"]
        avatar = PNG + os.urandom(4000)
        self.assertEqual(self.upload(token, avatar, "image/png").status, 204)
        r = self.node.delete("/v1/me", {"password": PASSWORD}, headers=bearer(token))
        self.assertEqual(r.status, 202, r)
        mine = f"actor_id = '{uid}' OR subject_id = '{uid}'"
        rows = self.db.sql(f"SELECT id FROM audit_log WHERE {mine} ORDER BY id").split("\n")
        self.assertGreaterEqual(len(rows), 2)  # registered, logged in, ...
        before = int(self.db.sql("SELECT count(*) FROM audit_log"))

        wait_until(lambda: self.db.sql(f"SELECT count(*) FROM users WHERE id = '{uid}'") == "0",
                   30, "the purge of the deleted user")
        self.assertEqual(self.db.sql(f"SELECT count(*) FROM audit_log WHERE {mine}"), "0")
        self.assertGreaterEqual(int(self.db.sql("SELECT count(*) FROM audit_log")), before)
        kept = self.db.sql("SELECT count(*) FROM audit_log WHERE actor_id IS NULL AND "
                           f"subject_id IS NULL AND ip IS NULL AND id IN ({','.join(rows)})")
        self.assertEqual(int(kept), len(rows))  # anonymised, not deleted
        self.assertEqual(self.db.sql("SELECT count(*) FROM audit_log "
                                     f"WHERE detail::text ILIKE '%{email}%'"), "0")
        self.assertEqual(get_bytes(self.node, f"/v1/users/{uid}/avatar")[0], 404)
        for folder, _, files in os.walk(self.node.settings["avatars.dir"]):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    self.assertNotEqual(f.read(), avatar, "the avatar file outlived the purge")
        r = self.node.register(email)
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json()["id"], uid)
        self.assertEqual(self.node.login(email).status, 200)

    def test_orders_outlive_the_purge_anonymised(self):
        email, user, t = self.customer()
        uid, token = user["id"], t["access_token"]
        address = {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "Flat 3",
                   "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}
        book = demo_book_ids(self.db, 1)[0]
        r = self.node.post("/v1/orders", {"items": [{"book_id": book, "quantity": 1}],
                                          "payment": {"token": "tok_visa"},
                                          "shipping_address": address},
                           headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex})
        self.assertEqual(r.status, 201, r)
        order = r.json()
        r = self.node.get("/v1/me/export", headers=bearer(token))
        self.assertEqual([o["id"] for o in r.json()["orders"]], [order["id"]])
        self.assertEqual(r.json()["orders"][0]["shipping_address"]["name"], "Ada Lovelace")
        self.assertEqual(self.node.delete("/v1/me", {"password": PASSWORD},
                                          headers=bearer(token)).status, 202)

        wait_until(lambda: self.db.sql(f"SELECT count(*) FROM users WHERE id = '{uid}'") == "0",
                   30, "the purge of the deleted user")
        self.node.use_admin()
        r = self.node.get(f"/v1/orders/{order['id']}")
        self.assertEqual(r.status, 200, r)
        kept = r.json()
        self.assertEqual(kept["user_id"], "usr_deleted")
        self.assertEqual((kept["status"], kept["total"], kept["items"]),
                         (order["status"], order["total"], order["items"]))
        for field in ("name", "line1", "city", "postal_code"):
            self.assertEqual(kept["shipping_address"][field], "", field)
        self.assertIsNone(kept["shipping_address"]["line2"])
        self.assertEqual(self.db.sql(f"SELECT user_id, coalesce(ip, '-') FROM orders "
                                     f"WHERE id = '{order['id']}'"), "usr_deleted|-")
        snapshot = self.db.sql("SELECT encode(state, 'escape') FROM entity_snapshots WHERE "
                               f"entity_type = 'order' AND entity_id = '{order['id']}'")
        for secret in ("Ada Lovelace", "St James", "SW1Y", uid):
            self.assertNotIn(secret, snapshot)


if __name__ == "__main__":
    unittest.main()
