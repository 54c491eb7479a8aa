#!/usr/bin/env python3
"""A fake of Stripe's API, enough of its wire format to test the Stripe client end to end.

Speaks what the client uses: Bearer secret key (401 otherwise), form-encoded bodies with nested
keys (`metadata[payment_id]`, `payment_method_data[card][token]`, `expand[]`), JSON answers in
Stripe's shapes, and Idempotency-Key semantics (the same key with the same parameters replays the
stored answer byte for byte; with other parameters it is 400 idempotency_error).

  POST /v1/payment_intents              create (confirm=true confirms at once)
  POST /v1/payment_intents/{id}/confirm
  POST /v1/payment_intents/{id}/capture
  POST /v1/payment_intents/{id}/cancel
  GET  /v1/payment_intents/{id}         expand[]=latest_charge
  GET  /v1/payment_intents              created[gte|gt|lte|lt], limit, starting_after, has_more
  POST /v1/refunds                      payment_intent= or charge=

Test tokens as Stripe names them: tok_visa and tok_mastercard succeed, tok_chargeDeclined is
declined (card_declined), tok_chargeDeclinedInsufficientFunds too (insufficient_funds).

Not Stripe's, for tests (no key needed):
  POST /_control {"delay_ms": N}              answer every later request N ms late (after acting
                                              on it, as a slow provider does)
  POST /_control {"fail_next": N, "status": S} the next N requests answer S (default 500) unread
  POST /_control {"reset": true}               forget everything
  POST /_control {"send_webhook": {"url", "secret", "event" | ("type" and "intent"),
                   "bad_signature": false}}    POSTs a signed event; answers {"status", "body"}
  GET  /_state  {"charges", "refunds", "charged": {payment_id: n}, "refunded": {payment_id: n},
                 "intents", "requests"}

`charges` counts money taken (a successful automatic confirmation, a capture), `refunds` money
given back; `charged` and `refunded` count them by our payment id (the intent's metadata).

  python3 fake_stripe.py --port 0 --secret sk_test_x --port-file F
"""

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKENS = {
    "tok_visa": None,
    "tok_mastercard": None,
    "tok_chargeDeclined": "card_declined",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
CANCELABLE = {"requires_payment_method", "requires_confirmation", "requires_capture",
              "requires_action", "processing"}


def new_id(prefix):
    return prefix + "_" + secrets.token_hex(12)


def parse_form(text):
    """Stripe's nested form keys: a[b][c]=v -> {"a": {"b": {"c": "v"}}}, a[]=v -> {"a": [v]}."""
    out = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=False):
        head, bracket, rest = key.partition("[")
        if bracket and not rest.endswith("]"):
            raise ValueError(f"bad key {key!r}")
        parts = [head] + (rest[:-1].split("][") if bracket else [])
        node = out
        for i, part in enumerate(parts[:-1]):
            if parts[i + 1] == "":  # part[]: a list of values
                if i + 2 != len(parts):
                    raise ValueError(f"bad key {key!r}")
                values = node.setdefault(part, [])
                if not isinstance(values, list):
                    raise ValueError(f"{key!r} mixes a list with something else")
                values.append(value)
                break
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{key!r} mixes a hash with something else")
        else:
            if parts[-1] == "" or isinstance(node.get(parts[-1]), (dict, list)):
                raise ValueError(f"bad key {key!r}")
            node[parts[-1]] = value
    return out


class StripeError(Exception):
    def __init__(self, status, type_, message, code=None, param=None, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
        if param:
            self.body["param"] = param
        self.body.update(extra)


def missing(what, id_):
    return StripeError(404, "invalid_request_error", f"No such {what}: '{id_}'",
                       "resource_missing", "id")


def unexpected_state(pi, action):
    return StripeError(400, "invalid_request_error",
                       f"You cannot {action} this PaymentIntent because it has a status of "
                       f"{pi['status']}.", "payment_intent_unexpected_state",
                       payment_intent=dict(pi))


def integer(params, name, required=True):
    value = params.get(name)
    if value is None:
        if required:
            raise StripeError(400, "invalid_request_error", f"Missing required param: {name}.",
                              "parameter_missing", name)
        return None
    if not isinstance(value, str) or not value.isdigit():
        raise StripeError(400, "invalid_request_error", f"Invalid integer: {value}",
                          "parameter_invalid_integer", name)
    return int(value)


class Stripe:
    """The fake's state; every method is called with `lock` held."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.intents = {}
        self.order = []  # intent ids, oldest first (the listing's order, reversed)
        self.charges = {}
        self.refunds = {}
        self.idempotency = {}
        self.charge_count = 0
        self.refund_count = 0
        self.charged = {}
        self.refunded = {}
        self.requests = []
        self.delay_ms = 0
        self.fail_next = 0
        self.fail_status = 500

    # -- objects

    def intent(self, id_):
        pi = self.intents.get(id_)
        if pi is None:
            raise missing("payment_intent", id_)
        return pi

    def render(self, pi, expand=()):
        out = dict(pi)
        out.pop("_pm_token", None)
        if "latest_charge" in expand and out.get("latest_charge"):
            out["latest_charge"] = dict(self.charges[out["latest_charge"]])
        return out

    def take_money(self, pi):
        self.charge_count += 1
        pid = pi["metadata"].get("payment_id", "")
        self.charged[pid] = self.charged.get(pid, 0) + 1

    def attach_card(self, pi, params):
        data = params.get("payment_method_data")
        if data is None:
            return
        if not isinstance(data, dict) or data.get("type") != "card":
            raise StripeError(400, "invalid_request_error", "payment_method_data[type] must be "
                              "card here.", "parameter_invalid", "payment_method_data[type]")
        card = data.get("card")
        token = card.get("token") if isinstance(card, dict) else None
        if token not in TOKENS:
            raise StripeError(400, "invalid_request_error", f"No such token: '{token}'",
                              "resource_missing", "payment_method_data[card][token]")
        pi["payment_method"] = new_id("pm")
        pi["_pm_token"] = token
        pi["last_payment_error"] = None
        if pi["status"] == "requires_payment_method":
            pi["status"] = "requires_confirmation"

    # -- endpoints

    def create(self, params):
        amount = integer(params, "amount")
        currency = params.get("currency")
        if not amount or amount < 1:
            raise StripeError(400, "invalid_request_error", "Amount must be at least 1.",
                              "amount_too_small", "amount")
        if not isinstance(currency, str) or len(currency) != 3 or currency != currency.lower():
            raise StripeError(400, "invalid_request_error", "Invalid currency.",
                              "parameter_invalid", "currency")
        capture = params.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async", "manual"):
            raise StripeError(400, "invalid_request_error", "Invalid capture_method.",
                              "parameter_invalid", "capture_method")
        metadata = params.get("metadata", {})
        if not isinstance(metadata, dict):
            raise StripeError(400, "invalid_request_error", "Invalid metadata.",
                              "parameter_invalid", "metadata")
        pi = {"id": new_id("pi"), "object": "payment_intent", "amount": amount,
              "amount_capturable": 0, "amount_received": 0, "currency": currency,
              "capture_method": capture, "status": "requires_payment_method",
              "metadata": metadata, "created": int(time.time()), "latest_charge": None,
              "last_payment_error": None, "payment_method": None, "canceled_at": None,
              "cancellation_reason": None, "livemode": False,
              "payment_method_types": params.get("payment_method_types", ["card"])}
        pi["client_secret"] = pi["id"] + "_secret_" + secrets.token_hex(8)
        self.attach_card(pi, params)
        self.intents[pi["id"]] = pi
        self.order.append(pi["id"])
        if params.get("confirm") == "true":
            return self.confirm(pi["id"], {})
        return 200, self.render(pi)

    def confirm(self, id_, params):
        pi = self.intent(id_)
        if pi["status"] not in ("requires_confirmation", "requires_payment_method"):
            raise unexpected_state(pi, "confirm")
        self.attach_card(pi, params)
        if pi["status"] != "requires_confirmation":
            raise StripeError(400, "invalid_request_error", "You cannot confirm this "
                              "PaymentIntent because it's missing a payment method.",
                              "payment_intent_unexpected_state", payment_intent=dict(pi))
        decline = TOKENS[pi["_pm_token"]]
        charge = {"id": new_id("ch"), "object": "charge", "amount": pi["amount"],
                  "amount_captured": 0, "amount_refunded": 0, "captured": False,
                  "refunded": False, "currency": pi["currency"], "payment_intent": pi["id"],
                  "status": "failed" if decline else "succeeded", "failure_code": decline,
                  "created": int(time.time())}
        self.charges[charge["id"]] = charge
        pi["latest_charge"] = charge["id"]
        if decline:
            error = {"type": "card_error", "code": "card_declined", "decline_code": decline,
                     "message": "Your card was declined.", "charge": charge["id"]}
            pi["status"] = "requires_payment_method"
            pi["payment_method"] = None
            pi["last_payment_error"] = dict(error)
            raise StripeError(402, "card_error", error["message"], "card_declined",
                              decline_code=decline, charge=charge["id"],
                              payment_intent=self.render(pi))
        if pi["capture_method"] == "manual":
            pi["status"] = "requires_capture"
            pi["amount_capturable"] = pi["amount"]
        else:
            self.capture_charge(pi, charge)
        return 200, self.render(pi)

    def capture_charge(self, pi, charge):
        charge["captured"] = True
        charge["amount_captured"] = pi["amount"]
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        pi["amount_capturable"] = 0
        self.take_money(pi)

    def capture(self, id_, params):
        pi = self.intent(id_)
        if pi["status"] != "requires_capture":
            raise unexpected_state(pi, "capture")
        self.capture_charge(pi, self.charges[pi["latest_charge"]])
        return 200, self.render(pi)

    def cancel(self, id_, params):
        pi = self.intent(id_)
        if pi["status"] not in CANCELABLE:
            raise unexpected_state(pi, "cancel")
        pi["status"] = "canceled"
        pi["amount_capturable"] = 0
        pi["canceled_at"] = int(time.time())
        pi["cancellation_reason"] = params.get("cancellation_reason")
        return 200, self.render(pi)

    def refund(self, params):
        if "payment_intent" in params:
            pi = self.intent(params["payment_intent"])
            charge = self.charges.get(pi["latest_charge"] or "")
        elif "charge" in params:
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise missing("charge", params["charge"])
            pi = self.intents[charge["payment_intent"]]
        else:
            raise StripeError(400, "invalid_request_error", "One of charge or payment_intent is "
                              "required.", "parameter_missing", "payment_intent")
        if pi["status"] != "succeeded" or charge is None or not charge["captured"]:
            raise StripeError(400, "invalid_request_error", "This PaymentIntent does not have a "
                              "successful charge to refund.", "payment_intent_unexpected_state",
                              payment_intent=self.render(pi))
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left <= 0:
            raise StripeError(400, "invalid_request_error", f"Charge {charge['id']} has already "
                              "been refunded.", "charge_already_refunded")
        amount = integer(params, "amount", required=False) or left
        if amount > left:
            raise StripeError(400, "invalid_request_error", "Refund amount is greater than "
                              "unrefunded amount on charge.", "amount_too_large", "amount")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        refund = {"id": new_id("re"), "object": "refund", "amount": amount,
                  "charge": charge["id"], "payment_intent": pi["id"],
                  "currency": pi["currency"], "status": "succeeded",
                  "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        self.refund_count += 1
        pid = pi["metadata"].get("payment_id", "")
        self.refunded[pid] = self.refunded.get(pid, 0) + 1
        return 200, refund

    def list(self, params):
        limit = integer(params, "limit", required=False) or 10
        if not 1 <= limit <= 100:
            raise StripeError(400, "invalid_request_error", "limit must be 1..100.",
                              "parameter_invalid_integer", "limit")
        created = params.get("created", {})
        if not isinstance(created, dict):
            created = {"eq": created}
        tests = {"gte": lambda c, v: c >= v, "gt": lambda c, v: c > v,
                 "lte": lambda c, v: c <= v, "lt": lambda c, v: c < v, "eq": lambda c, v: c == v}
        bounds = [(tests[k], integer(created, k)) for k in created if k in tests]
        ids = [i for i in reversed(self.order)
               if all(t(self.intents[i]["created"], v) for t, v in bounds)]
        after = params.get("starting_after")
        if after:
            if after not in self.intents:
                raise missing("payment_intent", after)
            ids = ids[ids.index(after) + 1:] if after in ids else []
        expand = [e[len("data."):] for e in params.get("expand", []) if e.startswith("data.")]
        page = ids[:limit]
        return 200, {"object": "list", "url": "/v1/payment_intents", "has_more": len(ids) > limit,
                     "data": [self.render(self.intents[i], expand) for i in page]}

    def route(self, method, path, params):
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "payment_intents"]:
            if method == "POST" and len(parts) == 2:
                return self.create(params)
            if method == "GET" and len(parts) == 2:
                return self.list(params)
            if method == "GET" and len(parts) == 3:
                return 200, self.render(self.intent(parts[2]), params.get("expand", []))
            actions = {"confirm": self.confirm, "capture": self.capture, "cancel": self.cancel}
            if method == "POST" and len(parts) == 4 and parts[3] in actions:
                return actions[parts[3]](parts[2], params)
        if parts == ["v1", "refunds"] and method == "POST":
            return self.refund(params)
        raise StripeError(404, "invalid_request_error",
                          f"Unrecognized request URL ({method}: {path}).")


def sign(secret, payload, t):
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def send_webhook(stripe, spec):
    """POSTs a Stripe event (given, or built from one of our intents) signed as Stripe does."""
    event = spec.get("event")
    if event is None:
        with stripe.lock:
            pi = stripe.render(stripe.intent(spec["intent"]))
            obj = pi
            if spec["type"].startswith("charge.") and pi.get("latest_charge"):
                obj = dict(stripe.charges[pi["latest_charge"]], metadata=pi["metadata"])
        event = {"id": new_id("evt"), "object": "event", "type": spec["type"],
                 "created": int(time.time()), "livemode": False, "data": {"object": obj}}
    payload = json.dumps(event).encode()
    t = int(spec.get("timestamp", time.time()))
    secret = spec["secret"] + ("-wrong" if spec.get("bad_signature") else "")
    req = urllib.request.Request(spec["url"], data=payload, method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": sign(secret, payload, t)})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return {"status": r.status, "body": r.read().decode(errors="replace"),
                    "event": event}
    except urllib.error.HTTPError as e:
        return {"status": e.code, "body": e.read().decode(errors="replace"), "event": event}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Stripe: the client reuses its connection
    stripe = None
    secret = None
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("fake_stripe: " + fmt % args + "\n")

    def answer(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", new_id("req"))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: it will ask again, as real clients do

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        raw = self.read_body()
        if url.path == "/_control" and method == "POST":
            return self.control(raw)
        if url.path == "/_state" and method == "GET":
            with self.stripe.lock:
                s = self.stripe
                state = {"charges": s.charge_count, "refunds": s.refund_count,
                         "charged": dict(s.charged), "refunded": dict(s.refunded),
                         "intents": {i: s.render(pi, ["latest_charge"])
                                     for i, pi in s.intents.items()},
                         "requests": list(s.requests)}
            return self.answer(200, state)
        self.stripe_request(method, url, raw)

    def control(self, raw):
        try:
            cmd = json.loads(raw or b"{}")
        except ValueError:
            return self.answer(400, {"error": "not JSON"})
        s = self.stripe
        if "send_webhook" in cmd:
            try:
                return self.answer(200, send_webhook(s, cmd["send_webhook"]))
            except (KeyError, StripeError, OSError) as e:
                return self.answer(400, {"error": f"cannot send the webhook: {e!r}"})
        with s.lock:
            if cmd.get("reset"):
                s.reset()
            if "delay_ms" in cmd:
                s.delay_ms = int(cmd["delay_ms"])
            if "fail_next" in cmd:
                s.fail_next = int(cmd["fail_next"])
                s.fail_status = int(cmd.get("status", 500))
        return self.answer(200, {"ok": True})

    def stripe_request(self, method, url, raw):
        s = self.stripe
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        record = {"method": method, "path": url.path, "idempotency_key": key, "at": time.time()}
        status, body, headers = self.serve(method, url, raw, key, record)
        with s.lock:
            record["status"] = status
            s.requests.append(record)
            delay = s.delay_ms
        # Acted on already: a slow answer is a late answer, not an undone call.
        if delay:
            time.sleep(delay / 1000)
        self.answer(status, body, headers)

    def serve(self, method, url, raw, key, record):
        """(status, body bytes, headers) of one Stripe request."""
        s = self.stripe
        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {self.secret}":
            shown = auth[len("Bearer "):][:8] + "****" if auth.startswith("Bearer ") else ""
            return self.error(StripeError(401, "invalid_request_error",
                                          f"Invalid API Key provided: {shown}"))
        with s.lock:
            if s.fail_next > 0:
                s.fail_next -= 1
                return self.error(StripeError(s.fail_status, "api_error",
                                              "An unexpected error occurred (injected)."))
        try:
            text = raw.decode() if method == "POST" else url.query
            if method == "POST" and raw and not self.headers.get("Content-Type", "").startswith(
                    "application/x-www-form-urlencoded"):
                raise StripeError(400, "invalid_request_error",
                                  "Content-Type must be application/x-www-form-urlencoded.")
            params = parse_form(text)
            if method == "POST" and url.query:
                raise StripeError(400, "invalid_request_error",
                                  "POST parameters go in the body, not the query string.")
        except (UnicodeDecodeError, ValueError) as e:
            return self.error(StripeError(400, "invalid_request_error", f"Invalid request: {e}"))
        record["params"] = params
        fingerprint = json.dumps([method, url.path, params], sort_keys=True)
        with s.lock:
            if key is not None:
                kept = s.idempotency.get(key)
                if kept is not None:
                    if kept[0] != fingerprint:
                        return self.error(StripeError(
                            400, "idempotency_error", "Keys for idempotent requests can only "
                            "be used with the same parameters they were first used with."))
                    record["replayed"] = True
                    return kept[1], kept[2], [("Idempotency-Key", key),
                                              ("Idempotent-Replayed", "true")]
            # Acted on under the lock: two requests with one key are one request and a replay.
            try:
                status, body = s.route(method, url.path, params)
            except StripeError as e:
                status, body = e.status, {"error": e.body}
            data = json.dumps(body, indent=2).encode()
            if key is not None and status < 500:
                s.idempotency[key] = (fingerprint, status, data)
        return status, data, [("Idempotency-Key", key)] if key else []

    def error(self, e):
        return e.status, json.dumps({"error": e.body}, indent=2).encode(), []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    Handler.stripe = Stripe()
    Handler.secret = args.secret
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        # Written whole under another name, then renamed: a reader never sees half a number.
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    else:
        print(port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
