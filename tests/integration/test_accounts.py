"""Accounts, sessions and tokens over HTTP: registration, login, JWTs, refresh, logout, roles and
the audit log, with the exact codes of API.md."""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import time
import unittest
import uuid

from harness import (ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, REDIS_PREFIX, ApiAssertions,
                     Database, Node, bearer, env, isbn13, new_book, redis_cli, wait_until)

PASSWORD = "correct horse battery"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def unique_email(kind="reader"):
    return f"{kind}-{uuid.uuid4().hex[:8]}@example.com"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_decode(token):
    """(header, claims) of a JWT, signature not checked."""
    header, claims, _ = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(claims))


def jwt_sign(claims, secret, header=None):
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


class Accounts(ApiAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.node = Node(cls.db.dsn).start()
        cls.admin_token = cls.node.token(ADMIN_EMAIL, ADMIN_PASSWORD)
        r = cls.node.post("/v1/books", new_book(isbn13(601), stock=50),
                          headers=bearer(cls.admin_token))
        assert r.status == 201, r
        cls.book = r.json()["id"]

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def new_user(self, kind="reader"):
        email = unique_email(kind)
        r = self.node.register(email)
        self.assertEqual(r.status, 201, r)
        return email, r.json()

    def session(self, kind="reader"):
        email, user = self.new_user(kind)
        r = self.node.login(email)
        self.assertEqual(r.status, 200, r)
        return email, user, r.json()

    def me(self, token, node=None):
        return (node or self.node).get("/v1/me", headers=bearer(token))

    def refresh(self, refresh_token):
        return self.node.post("/v1/auth/refresh", {"refresh_token": refresh_token}, auth=False)

    def actions(self, user_id):
        out = self.db.sql(f"SELECT action FROM audit_log WHERE actor_id = '{user_id}' ORDER BY id")
        return out.split("\n") if out else []

    # -- registration and login ----------------------------------------------------------------

    def test_register_returns_the_user_with_a_lower_cased_email(self):
        tag = uuid.uuid4().hex[:8]
        r = self.node.register(f"Mixed-{tag}@Example.COM", name="Ada Reader")
        self.assertEqual(r.status, 201, r)
        user = r.json()
        self.assertTrue(user["id"].startswith("usr_"), user)
        self.assertEqual(user["email"], f"mixed-{tag}@example.com")
        self.assertEqual(user["name"], "Ada Reader")
        self.assertIn("customer", user["roles"])
        self.assertIs(user["mfa_enabled"], False)
        self.assertRegex(user["created_at"], RFC3339)
        self.assert_error(self.node.register(f"MIXED-{tag}@example.com"), 409, "email_taken")
        self.assertEqual(self.node.login(f"mixed-{tag}@EXAMPLE.com").status, 200)

    def test_bad_registrations_are_400_naming_the_field_and_create_nobody(self):
        email = unique_email()
        good = {"email": email, "password": PASSWORD, "name": "Reader"}
        cases = [({"password": None}, "password"), ({"password": "seven77"}, "password"),
                 ({"password": "p" * 129}, "password"), ({"password": 12345678}, "password"),
                 ({"email": "no-at-sign"}, "email"), ({"email": ""}, "email"),
                 ({"email": "a" * 64 + "@" + "b" * 186 + ".com"}, "email"),
                 ({"email": 5}, "email"), ({"name": None}, "name"), ({"name": ""}, "name"),
                 ({"name": "n" * 101}, "name"), ({"name": ["Reader"]}, "name")]
        for change, field in cases:  # None: the field is left out
            body = {k: v for k, v in {**good, **change}.items() if v is not None}
            with self.subTest(change=str(change)[:40]):
                r = self.node.post("/v1/auth/register", body, auth=False)
                self.assert_error(r, 400, "invalid_request", field=field)
        for raw in (b'{"email": "x@example.com",', b"[]"):
            r = self.node.post("/v1/auth/register", raw=raw, auth=False)
            self.assert_error(r, 400, "invalid_request")
        r = self.node.post("/v1/auth/register", good, auth=False,
                           headers={"Content-Type": "text/plain"})
        self.assert_error(r, 415, "unsupported_media_type")
        self.assertEqual(self.db.sql(f"SELECT count(*) FROM users WHERE email = '{email}'"), "0")
        # the limits themselves are fine
        r = self.node.register(unique_email(), password="eight888", name="n" * 100)
        self.assertEqual(r.status, 201, r)
        r = self.node.register(unique_email(), password="p" * 128, name="N")
        self.assertEqual(r.status, 201, r)

    def test_login_gives_a_signed_token_for_the_session(self):
        email, user = self.new_user()
        r = self.node.login(email)
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual((t["token_type"], t["expires_in"]), ("Bearer", 900))
        self.assertTrue(t["session_id"].startswith("ses_"), t)
        self.assertTrue(t["refresh_token"])
        header, claims = jwt_decode(t["access_token"])
        self.assertEqual(header["alg"], "HS256")
        self.assertEqual(claims["sub"], user["id"])
        self.assertEqual(claims["sid"], t["session_id"])
        self.assertIn("customer", claims["roles"])
        self.assertTrue(claims["jti"])
        self.assertEqual(claims["exp"] - claims["iat"], 900)
        self.assertLess(abs(claims["iat"] - time.time()), 60)
        r = self.me(t["access_token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], user["id"])
        self.assertEqual(r.json()["email"], email)

    def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(self):
        email, _ = self.new_user()
        wrong = self.node.login(email, "not the password")
        unknown = self.node.login(unique_email("nobody"))
        self.assert_error(wrong, 401, "invalid_credentials")
        self.assert_error(unknown, 401, "invalid_credentials")
        a, b = wrong.json(), unknown.json()
        del a["error"]["request_id"], b["error"]["request_id"]
        self.assertEqual(a, b)

    # -- tokens --------------------------------------------------------------------------------

    def test_me_refuses_every_bad_token(self):
        _, user, t = self.session()
        _, other = self.new_user("other")
        head, body, sig = t["access_token"].split(".")
        _, claims = jwt_decode(t["access_token"])
        now = int(time.time())
        other_body = b64url(json.dumps({**claims, "sub": other["id"]}).encode())
        bad = {
            "garbage": "garbage",
            "tampered": f"{head}.{other_body}.{sig}",
            "other secret": jwt_sign(claims, "wrong-secret"),
            "alg none": f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{body}.",
            "expired": jwt_sign({**claims, "iat": now - 3600, "exp": now - 1800}, JWT_SECRET),
        }
        r = self.node.get("/v1/me")
        self.assert_error(r, 401, "unauthenticated")
        self.assertTrue((r.header("WWW-Authenticate") or "").startswith("Bearer"), r.headers)
        for name, token in bad.items():
            with self.subTest(name):
                self.assert_error(self.me(token), 401, "unauthenticated")
        self.assertEqual(self.me(t["access_token"]).json()["id"], user["id"])

    def test_a_signed_token_for_no_session_reads_no_cart(self):
        _, _, t = self.session()
        r = self.node.put(f"/v1/cart/items/{self.book}", {"quantity": 1},
                          headers=bearer(t["access_token"]))
        self.assertEqual(r.status, 200, r)
        _, claims = jwt_decode(t["access_token"])
        now = int(time.time())
        forged = jwt_sign({**claims, "sid": "ses_" + uuid.uuid4().hex[:11],
                           "jti": uuid.uuid4().hex, "iat": now, "exp": now + 900}, JWT_SECRET)
        r = self.node.get("/v1/cart", headers=bearer(forged))
        self.assert_error(r, 401, "unauthenticated")

    def test_patch_me_changes_the_name(self):
        _, _, t = self.session()
        token = t["access_token"]
        r = self.node.patch("/v1/me", {"name": "New Name"}, headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "New Name")
        self.assertEqual(self.me(token).json()["name"], "New Name")
        for bad in ({"name": ""}, {"name": 5}):
            r = self.node.patch("/v1/me", bad, headers=bearer(token))
            self.assert_error(r, 400, "invalid_request", field="name")
        self.assertEqual(self.me(token).json()["name"], "New Name")

    def test_refresh_rotates_and_a_reused_token_revokes_the_session(self):
        _, user, t1 = self.session()
        r = self.refresh(t1["refresh_token"])
        self.assertEqual(r.status, 200, r)
        t2 = r.json()
        self.assertEqual((t2["token_type"], t2["expires_in"]), ("Bearer", 900))
        self.assertEqual(t2["session_id"], t1["session_id"])
        self.assertNotEqual(t2["refresh_token"], t1["refresh_token"])
        self.assertEqual(self.me(t2["access_token"]).status, 200)
        self.assert_error(self.refresh(t1["refresh_token"]), 401, "unauthenticated")
        self.assert_error(self.refresh(t2["refresh_token"]), 401, "unauthenticated")
        self.assert_error(self.me(t2["access_token"]), 401, "unauthenticated")
        self.assert_error(self.me(t1["access_token"]), 401, "unauthenticated")
        uid, sid = user["id"], t1["session_id"]
        count = self.db.sql("SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reuse' "
                            f"AND (actor_id = '{uid}' OR subject_id IN ('{uid}', '{sid}'))")
        self.assertGreaterEqual(int(count), 1)

    def test_refresh_without_a_usable_token(self):
        _, _, t = self.session()
        r = self.node.post("/v1/auth/refresh", {}, auth=False)
        self.assert_error(r, 400, "invalid_request", field="refresh_token")
        self.assert_error(self.refresh("garbage"), 401, "unauthenticated")
        self.assert_error(self.refresh(t["access_token"]), 401, "unauthenticated")
        self.assertEqual(self.refresh(t["refresh_token"]).status, 200)

    def test_logout_ends_the_session_everywhere_it_is_held(self):
        email, _, t = self.session()
        self.assert_error(self.node.post("/v1/auth/logout"), 401, "unauthenticated")
        r = self.node.post("/v1/auth/logout", headers=bearer(t["access_token"]))
        self.assertEqual(r.status, 204, r)
        self.assert_error(self.me(t["access_token"]), 401, "unauthenticated")
        self.assert_error(self.refresh(t["refresh_token"]), 401, "unauthenticated")
        # Redis learns it right after the answer (the node refused the token already, above).
        key = f"{REDIS_PREFIX}:revoked:sid:{t['session_id']}"
        wait_until(lambda: redis_cli(self.node, "EXISTS", key) == "1", 5, "the revocation in Redis")
        ttl = int(redis_cli(self.node, "TTL", key))
        self.assertTrue(0 < ttl <= 900, ttl)
        r = self.node.login(email)
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json()["session_id"], t["session_id"])
        self.assertEqual(self.me(r.json()["access_token"]).status, 200)

    def test_a_logout_on_one_node_reaches_another(self):
        other = Node(self.db.dsn, settings={"node.id": "it-node-b"}).start()
        try:
            _, user, t = self.session()
            token = t["access_token"]
            r = self.me(token, node=other)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["id"], user["id"])
            self.assertEqual(self.node.post("/v1/auth/logout", headers=bearer(token)).status, 204)
            wait_until(lambda: self.me(token, node=other).status == 401, 2,
                       "the other node to see the logout")
            self.assert_error(self.me(token, node=other), 401, "unauthenticated")
        finally:
            other.stop()

    def test_without_redis_a_logout_still_reaches_routes_that_ask_the_session(self):
        # Two nodes that cannot reach Redis: the revocation cannot travel through it, but the
        # session entity's durable state says the session ended.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
        sock.close()
        a = Node(self.db.dsn, redis=dead, settings={"node.id": "it-node-c"}).start()
        b = Node(self.db.dsn, redis=dead, settings={"node.id": "it-node-d"}).start()
        try:
            admin = a.token(ADMIN_EMAIL, ADMIN_PASSWORD)
            self.assertEqual(a.post("/v1/auth/logout", headers=bearer(admin)).status, 204)
            self.assert_error(b.get("/v1/me", headers=bearer(admin)), 401, "unauthenticated")
            r = b.post("/v1/books", new_book(isbn13(640)), headers=bearer(admin))
            self.assert_error(r, 401, "unauthenticated")
            self.assertEqual(self.db.sql(f"SELECT count(*) FROM books WHERE isbn = '{isbn13(640)}'"),
                             "0")
        finally:
            a.stop()
            b.stop()

    # -- roles and isolation -------------------------------------------------------------------

    def test_catalog_writes_need_the_admin_role(self):
        _, _, t = self.session()
        customer, admin = bearer(t["access_token"]), bearer(self.admin_token)
        body = new_book(isbn13(602))
        self.assert_error(self.node.post("/v1/books", body), 401, "unauthenticated")
        self.assert_error(self.node.post("/v1/books", body, headers=customer), 403, "forbidden")
        r = self.node.post("/v1/books", body, headers=admin)
        self.assertEqual(r.status, 201, r)
        book = r.json()["id"]
        for method, path, b in (("PATCH", f"/v1/books/{book}", {"title": "Hijacked"}),
                                ("POST", f"/v1/books/{book}/stock", {"delta": 5})):
            self.assert_error(self.node.request(method, path, body=b), 401, "unauthenticated")
            self.assert_error(self.node.request(method, path, body=b, headers=customer), 403,
                              "forbidden")
        got = self.node.get(f"/v1/books/{book}")
        self.assertEqual(got.status, 200, got)
        self.assertEqual((got.json()["title"], got.json()["available"]),
                         ("Integration Test Book", 0))
        self.assertEqual(self.node.get("/v1/books").status, 200)
        me = self.me(self.admin_token).json()
        self.assertTrue({"admin", "operator"} <= set(me["roles"]), me)
        rows = self.db.sql("SELECT count(*) FROM audit_log WHERE action = 'admin.book_created' "
                           f"AND actor_id = '{me['id']}' AND subject_id = '{book}'")
        self.assertEqual(rows, "1")

    def test_users_see_only_their_own_data(self):
        _, alice, ta = self.session("alice")
        _, bob, tb = self.session("bob")
        r = self.node.put(f"/v1/cart/items/{self.book}", {"quantity": 1},
                          headers=bearer(ta["access_token"]))
        self.assertEqual(r.status, 200, r)
        r = self.node.get("/v1/cart", headers=bearer(tb["access_token"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["items"], [])
        r = self.node.get("/v1/cart", headers=bearer(ta["access_token"]))
        self.assertEqual([i["book_id"] for i in r.json()["items"]], [self.book])
        self.assertEqual(self.me(ta["access_token"]).json()["id"], alice["id"])
        self.assertEqual(self.me(tb["access_token"]).json()["id"], bob["id"])

    # -- what is stored ------------------------------------------------------------------------

    def test_the_audit_log_records_the_account_life(self):
        email, user = self.new_user()
        uid = user["id"]
        self.assert_error(self.node.login(email, "not the password"), 401, "invalid_credentials")
        rid = "audit-login-" + uuid.uuid4().hex[:8]
        r = self.node.post("/v1/auth/login", {"email": email, "password": PASSWORD}, auth=False,
                           headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 200, r)
        r = self.node.post("/v1/auth/logout", headers=bearer(r.json()["access_token"]))
        self.assertEqual(r.status, 204, r)
        expected = ["user.registered", "auth.login_failed", "auth.login", "auth.logout"]
        actions = self.actions(uid)
        self.assertEqual([a for a in actions if a in expected], expected, actions)
        ips = self.db.sql("SELECT ip FROM audit_log WHERE action IN ('auth.login', "
                          f"'auth.login_failed') AND actor_id = '{uid}'").split("\n")
        self.assertEqual(ips, ["127.0.0.1", "127.0.0.1"])
        self.assertEqual(self.db.sql("SELECT request_id FROM audit_log WHERE action = "
                                     f"'auth.login' AND actor_id = '{uid}'"), rid)
        with self.assertRaises(RuntimeError):
            self.db.sql(f"DELETE FROM audit_log WHERE actor_id = '{uid}'")
        self.assertEqual(self.actions(uid), actions)

    def test_passwords_are_stored_as_bcrypt(self):
        email, _ = self.new_user()
        stored = self.db.sql(f"SELECT password_hash FROM users WHERE email = '{email}'")
        self.assertTrue(stored.startswith("$2b$04$"), stored)
        self.assertNotIn(PASSWORD, stored)

    def test_no_jwt_secret_outside_local_mode_stops_the_node(self):
        binary = os.path.join(env("BOOKSTORE_BIN"), "bookstore-node")
        out = subprocess.run([binary, "--auth.jwt-secret=", f"--postgres.dsn={self.db.dsn}",
                              "--gateway.port=0"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2, out.stderr)
        lines = out.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertIn("auth.jwt-secret", lines[0])


if __name__ == "__main__":
    unittest.main()
