"""Integration test harness: real nodes over HTTP, each against a fresh PostgreSQL database.

The PostgreSQL and Redis servers come from the environment that `deploy/dev.sh test` sets:
BOOKSTORE_TEST_PG (postgresql://user@host:port, no database), BOOKSTORE_TEST_REDIS (host:port),
BOOKSTORE_BIN (folder of bookstore-node and bookstore-seed). A missing variable fails the test.
"""

import atexit
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the tests through deploy/dev.sh test")
    return value


def psql(dsn, sql):
    out = subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return out.stdout.strip()


class Database:
    """A scratch database, dropped by close()."""

    def __init__(self):
        self.server = env("BOOKSTORE_TEST_PG")
        self.name = "bookstore_it_" + uuid.uuid4().hex[:16]
        psql(self.server + "/postgres", f"CREATE DATABASE {self.name}")
        self.dsn = f"{self.server}/{self.name}"

    def sql(self, query):
        return psql(self.dsn, query)

    def seed(self, books):
        out = subprocess.run([os.path.join(env("BOOKSTORE_BIN"), "bookstore-seed"),
                              f"--dsn={self.dsn}", f"--books={books}"],
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"seeding failed: {out.stderr.strip()}")

    def close(self):
        psql(self.server + "/postgres", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def error(self):
        return self.json()["error"]

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it is true; raises after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what}")


ADMIN_EMAIL = "admin@bookstore.local"
ADMIN_PASSWORD = "bookstore-admin"
JWT_SECRET = "integration-test-secret-0123456789abcdef"
# Redis keys and streams of this test process (its nodes share them; no other run sees them, so
# rate-limit counts never leak into a developer's local node).
REDIS_PREFIX = "it" + uuid.uuid4().hex[:12]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Node:
    """One bookstore-node process.

    `settings` overrides the test defaults below (key -> value, or None to leave the key out).
    Requests carry `default_token` as a bearer token unless they name their own Authorization
    header or pass auth=False; `use_admin()` sets it to the bootstrap admin's token.
    """

    def __init__(self, db_dsn, *extra_args, redis=None, settings=None):
        self.dsn = db_dsn
        self.extra = list(extra_args)
        host, port = (redis or env("BOOKSTORE_TEST_REDIS")).split(":")
        self.redis = (host, port)
        self.dir = tempfile.mkdtemp(prefix="bookstore-node-")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "node.log")
        self.default_token = None
        self.settings = {
            "node.id": "it-node",
            "auth.jwt-secret": JWT_SECRET,
            "auth.mfa-key": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            "auth.bcrypt-cost": "4",
            "auth.bootstrap-admin-email": ADMIN_EMAIL,
            "auth.bootstrap-admin-password": ADMIN_PASSWORD,
            "rate-limit.requests": "1000000",
            "redis.prefix": REDIS_PREFIX,
            "avatars.dir": os.path.join(self.dir, "avatars"),
        }
        self.settings.update(settings or {})

    def args(self):
        # CAF takes a boolean option as a bare flag (`--faults.enabled`), not `=true`.
        own = [f"--{k}" if v is True else f"--{k}={v}"
               for k, v in self.settings.items() if v is not None and v is not False]
        return [os.path.join(env("BOOKSTORE_BIN"), "bookstore-node"),
                "--gateway.port=0",
                f"--gateway.port-file={self.dir}/port",
                f"--postgres.dsn={self.dsn}",
                f"--redis.host={self.redis[0]}", f"--redis.port={self.redis[1]}",
                "--log.level=warn", "--scheduler.max-threads=2"] + own + self.extra

    def start(self, timeout=60):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=self.log, stderr=subprocess.STDOUT)
        # A test class whose set-up fails never reaches its tear-down: no node outlives the run.
        atexit.register(self.kill)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}: {self.log_tail()}")
            if not os.path.exists(port_file):
                return False
            text = open(port_file).read().strip()
            if not text:
                return False
            self.port = int(text)
            try:
                return self.get("/healthz").status == 200
            except OSError:
                return False

        wait_until(ready, timeout, "the node to start")
        return self

    def log_tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw=None, conn=None, auth=True):
        """JSON `body` (or `raw` bytes); Content-Type application/json unless headers say."""
        hdrs = dict(headers or {})
        if auth and self.default_token and not any(k.lower() == "authorization" for k in hdrs):
            hdrs.update(bearer(self.default_token))
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = "application/json"
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read().decode(errors="replace"))
        finally:
            if own:
                conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body=body, **kw)

    def register(self, email, password="correct horse battery", name="Reader"):
        return self.post("/v1/auth/register", {"email": email, "password": password, "name": name},
                         auth=False)

    def login(self, email, password="correct horse battery", mfa_code=None):
        body = {"email": email, "password": password}
        if mfa_code is not None:
            body["mfa_code"] = mfa_code
        return self.post("/v1/auth/login", body, auth=False)

    def token(self, email, password="correct horse battery"):
        r = self.login(email, password)
        if r.status != 200:
            raise RuntimeError(f"login of {email} failed: {r}")
        return r.json()["access_token"]

    def use_admin(self):
        """Every later request carries the bootstrap admin's token (unless told otherwise)."""
        self.default_token = self.token(ADMIN_EMAIL, ADMIN_PASSWORD)
        return self

    def raw(self, data, timeout=10):
        """Sends raw bytes on a new socket; returns everything the server answers until close."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # done sending: the server need not wait for more
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)


class ApiAssertions:
    """Mixed into test cases: checks of API.md's error shape."""

    def assert_error(self, r, status, code, **fields):
        """`r` is the error `code` with `status`, a message, the request id, and `fields`."""
        self.assertEqual(r.status, status, r)
        err = r.error()
        self.assertEqual(err["code"], code, r)
        self.assertTrue(err["message"])
        self.assertEqual(err["request_id"], r.header("X-Request-Id"))
        for k, v in fields.items():
            self.assertEqual(err.get(k), v, r)


def redis_cli(node, *args):
    """Runs one Redis command against the node's Redis; returns its output."""
    out = subprocess.run(["redis-cli", "-h", node.redis[0], "-p", str(node.redis[1])]
                         + [str(a) for a in args], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def demo_book_ids(db, n=None):
    limit = f" LIMIT {int(n)}" if n else ""
    return db.sql("SELECT id FROM books ORDER BY id" + limit).split("\n")


def new_book(isbn, stock=0, **fields):
    body = {"isbn": isbn, "title": "Integration Test Book", "authors": ["Test Author"],
            "genres": ["Testing"], "price": {"amount": 1999, "currency": "USD"}, "stock": stock}
    body.update(fields)
    return body


def isbn13(n):
    """A valid ISBN-13 (979 prefix, so it never collides with the demo catalog's 978)."""
    body = "979" + str(n).zfill(9)
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def msgpack(value):
    """Just enough msgpack for an inventory snapshot: maps, short strings, non-negative ints."""
    if isinstance(value, dict):
        assert len(value) < 16
        out = bytes([0x80 | len(value)])
        for k, v in value.items():
            out += msgpack(k) + msgpack(v)
        return out
    if isinstance(value, str):
        data = value.encode()
        assert len(data) < 32
        return bytes([0xA0 | len(data)]) + data
    if isinstance(value, int) and 0 <= value < 128:
        return bytes([value])
    if isinstance(value, int) and value >= 0:
        return b"\xcf" + value.to_bytes(8, "big")
    raise TypeError(value)


def plant_reservation(db, book_id, on_hand, order_id, quantity, expires_ms):
    """Writes an inventory snapshot holding a reservation, as the order saga will make them (no
    endpoint reserves stock yet). Only valid while the item is not in memory."""
    state = msgpack({"on_hand": on_hand,
                     "reservations": {order_id: {"quantity": quantity, "expires_at": expires_ms}},
                     "committed": {}})
    db.sql("UPDATE entity_snapshots SET version = version + 1, "
           f"state = '\\x{state.hex()}'::bytea, wake_at = {expires_ms} "
           f"WHERE entity_type = 'inventory_item' AND entity_id = '{book_id}'")
