"""TOTP second factor (RFC 6238) over HTTP: enrolment, login with a code, replay, storage."""

import base64
import hashlib
import hmac
import struct
import time
import unittest
import uuid

from harness import ApiAssertions, Database, Node, bearer, wait_until

PASSWORD = "correct horse battery"
STEP = 30


def secret_bytes(secret):
    return base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))


def totp(secret, t):
    """The 6-digit RFC 6238 code (HMAC-SHA1, 30 s steps) of a base32 secret at unix time t."""
    mac = hmac.new(secret_bytes(secret), struct.pack(">Q", int(t // STEP)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


assert totp(base64.b32encode(b"12345678901234567890").decode(), 59) == "287082"  # RFC 6238


def fresh_code(secret):
    """(code, step) with at least 3 s left in its step, so it cannot turn stale on the way."""
    wait_until(lambda: time.time() % STEP < STEP - 3, 5, "a fresh TOTP step")
    now = time.time()
    return totp(secret, now), int(now // STEP)


def code_after(secret, step):
    """The code of the first step after `step` (waits for it: at most 30 s)."""
    wait_until(lambda: int(time.time() // STEP) > step, STEP + 5, "the next TOTP step")
    return totp(secret, time.time())


def wrong_code(secret):
    """A well-formed code that no step near now would accept."""
    near = {totp(secret, time.time() + k * STEP) for k in range(-3, 4)}
    return next(c for c in (f"{i:06d}" for i in range(10 ** 6)) if c not in near)


class Mfa(ApiAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database()
        cls.node = Node(cls.db.dsn).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.db.close()

    def customer(self):
        """(email, user, access token) of a new customer without MFA."""
        email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        r = self.node.register(email)
        self.assertEqual(r.status, 201, r)
        return email, r.json(), self.node.token(email)

    def setup_mfa(self, token):
        r = self.node.post("/v1/me/mfa/setup", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def enable(self, token, code):
        return self.node.post("/v1/me/mfa/enable", {"code": code}, headers=bearer(token))

    def enrolled(self):
        """(email, user, token from before enrolment, secret, step of the enabling code)."""
        email, user, token = self.customer()
        secret = self.setup_mfa(token)["secret"]
        code, step = fresh_code(secret)
        r = self.enable(token, code)
        self.assertEqual(r.status, 200, r)
        return email, user, token, secret, step

    def me(self, token):
        r = self.node.get("/v1/me", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_setup_gives_a_secret_and_leaves_mfa_off(self):
        email, _, token = self.customer()
        self.assert_error(self.node.post("/v1/me/mfa/setup"), 401, "unauthenticated")
        setup = self.setup_mfa(token)
        secret = setup["secret"]
        self.assertRegex(secret, r"^[A-Z2-7]+=*$")
        self.assertGreaterEqual(len(secret_bytes(secret)), 10)
        self.assertTrue(setup["otpauth_uri"].startswith("otpauth://totp/"), setup)
        self.assertIn(f"secret={secret.rstrip('=')}", setup["otpauth_uri"])
        self.assertIs(self.me(token)["mfa_enabled"], False)
        self.assertEqual(self.node.login(email).status, 200)  # no code needed yet

    def test_enable_needs_a_right_code(self):
        _, user, token = self.customer()
        secret = self.setup_mfa(token)["secret"]
        self.assert_error(self.enable(token, wrong_code(secret)), 401, "invalid_mfa_code")
        for bad in ("12", 123456, "12345a", "1234567", None):
            with self.subTest(code=bad):
                body = {} if bad is None else {"code": bad}
                r = self.node.post("/v1/me/mfa/enable", body, headers=bearer(token))
                self.assert_error(r, 400, "invalid_request", field="code")
        self.assertIs(self.me(token)["mfa_enabled"], False)
        code, _ = fresh_code(secret)
        r = self.enable(token, code)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], user["id"])
        self.assertIs(r.json()["mfa_enabled"], True)
        self.assertIs(self.me(token)["mfa_enabled"], True)
        actions = self.db.sql(f"SELECT action FROM audit_log WHERE actor_id = '{user['id']}'")
        self.assertIn("mfa.enabled", actions.split("\n"))

    def test_login_needs_the_code_and_a_code_works_once(self):
        email, user, _, secret, step = self.enrolled()
        self.assert_error(self.node.login(email), 401, "mfa_required")
        self.assert_error(self.node.login(email, mfa_code=wrong_code(secret)), 401,
                          "invalid_mfa_code")
        self.assert_error(self.node.login(email, "not the password",
                                          mfa_code=wrong_code(secret)), 401,
                          "invalid_credentials")
        code = code_after(secret, step)  # the enabling code may count as used
        r = self.node.login(email, mfa_code=code)
        self.assertEqual(r.status, 200, r)
        tokens = r.json()
        self.assertTrue(tokens["session_id"].startswith("ses_"), tokens)
        me = self.me(tokens["access_token"])
        self.assertEqual((me["id"], me["mfa_enabled"]), (user["id"], True))
        self.assert_error(self.node.login(email, mfa_code=code), 401, "invalid_mfa_code")

    def test_five_wrong_codes_lock_the_codes_of_the_account(self):
        email, user, _, secret, step = self.enrolled()
        for _ in range(5):
            self.assert_error(self.node.login(email, mfa_code=wrong_code(secret)), 401,
                              "invalid_mfa_code")
        # From any address, even the right code is refused for now.
        r = self.node.login(email, mfa_code=code_after(secret, step))
        self.assert_error(r, 401, "invalid_mfa_code")
        self.assertIn("try again", r.error()["message"])
        locked = self.db.sql(f"SELECT mfa_locked_until > now() FROM users WHERE id = '{user['id']}'")
        self.assertEqual(locked, "t")
        # The lock ends: one typo then is not a new lock, and the right code works again.
        self.db.sql(f"UPDATE users SET mfa_locked_until = now() WHERE id = '{user['id']}'")
        r = self.node.login(email, mfa_code=wrong_code(secret))
        self.assert_error(r, 401, "invalid_mfa_code")
        self.assertNotIn("try again", r.error()["message"])
        code, _ = fresh_code(secret)
        r = self.node.login(email, mfa_code=code)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.db.sql(f"SELECT mfa_failures FROM users WHERE id = '{user['id']}'"),
                         "0")

    def test_the_secret_is_stored_encrypted(self):
        _, user, _, secret, _ = self.enrolled()
        uid = user["id"]
        escaped = self.db.sql(f"SELECT encode(mfa_secret, 'escape') FROM users WHERE id = '{uid}'")
        self.assertNotIn(secret.rstrip("="), escaped)
        hexed = self.db.sql(f"SELECT encode(mfa_secret, 'hex') FROM users WHERE id = '{uid}'")
        self.assertNotIn(secret_bytes(secret).hex(), hexed)
        length = self.db.sql(f"SELECT length(mfa_secret) FROM users WHERE id = '{uid}'")
        self.assertEqual(int(length), 12 + len(secret_bytes(secret)) + 16)  # nonce, data, tag

    def test_deleting_the_account_needs_the_code(self):
        email, user, token, secret, _ = self.enrolled()
        r = self.node.delete("/v1/me", {"password": PASSWORD}, headers=bearer(token))
        self.assert_error(r, 401, "mfa_required")
        r = self.node.delete("/v1/me", {"password": PASSWORD, "mfa_code": wrong_code(secret)},
                             headers=bearer(token))
        self.assert_error(r, 401, "invalid_mfa_code")
        self.assertEqual(self.me(token)["id"], user["id"])
        self.assertEqual(self.db.sql("SELECT deletion_requested_at IS NULL FROM users "
                                     f"WHERE id = '{user['id']}'"), "t")
        self.assert_error(self.node.login(email), 401, "mfa_required")


if __name__ == "__main__":
    unittest.main()
