"""A loopback stand-in for Google's sign-in in front of fake-gcs-server, for Ferry's tests.

No real Google endpoint can run here and fake-gcs-server checks no credential, so this serves,
over HTTPS with the test CA's certificate:
  POST /token   the OAuth 2.0 JWT-bearer grant: the assertion's RS256 signature is verified with
                the service account's public key (--public-key, PEM), and its iss, aud, scope and
                times checked, as Google's token endpoint does; a good one gets an access token
  anything else forwarded to fake-gcs-server (--upstream) only with `Authorization: Bearer` and
                a token this stand-in issued; else 401 with the JSON API's error shape
Each request is one JSON line in --log (never a token or an assertion: their lengths). It writes
its port to --ports once it listens.
"""

import argparse
import base64
import http.server
import json
import os
import ssl
import threading
import time
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_assertion(assertion, public_key, audience, email):
    """None when the JWT is good, else why not (Google's invalid_grant descriptions)."""
    try:
        header, claims, signature = assertion.split(".")
        public_key.verify(
            b64url_decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (ValueError, InvalidSignature):
        return "Invalid JWT Signature."
    head, body = json.loads(b64url_decode(header)), json.loads(b64url_decode(claims))
    now = int(time.time())
    if head.get("alg") != "RS256":
        return "Invalid JWT: alg must be RS256."
    if body.get("aud") != audience:
        return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe. Check your iat and exp values."
    if body.get("iss") != email or body.get("scope") != SCOPE:
        return "Invalid JWT: iss or scope."
    if not (body.get("iat", 0) - 300 <= now <= body.get("exp", 0)) or body["exp"] - body["iat"] > 3600:
        return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
    return None


def handler(args, lock, state, public_key):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def record(self, entry):
            with lock, open(args.log, "a") as log:
                log.write(json.dumps(entry) + "\n")

        def reply(self, status, body, content_type="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if self.path != "/token":
                return self.forward()
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            grant = form.get("grant_type", [""])[0]
            assertion = form.get("assertion", [""])[0]
            audience = f"https://127.0.0.1:{self.server.server_address[1]}/token"
            why = check_assertion(assertion, public_key, audience, args.email)
            if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                why = "unsupported grant_type"
            self.record({"path": "/token", "grant": grant, "assertion_len": len(assertion), "error": why})
            if why:
                return self.reply(400, {"error": "invalid_grant", "error_description": why})
            with lock:
                state["issued"] += 1
                token = f"ya29.stand-in-{state['issued']}-{os.urandom(8).hex()}"
                state["tokens"].add(token)
            self.reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

        def do_GET(self):
            self.forward()

        def do_HEAD(self):
            self.forward()

        def forward(self):
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
            good = token is not None and token in state["tokens"]
            self.record({"path": self.path.split("?")[0], "method": self.command, "bearer": good})
            if not good:
                message = "Anonymous caller does not have storage.objects.list access." if token is None else "Invalid Credentials"
                body = {"error": {"code": 401, "message": message, "errors": [{"reason": "required"}]}}
                return self.reply(401, body)
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("range", "accept-encoding")}
            request = urllib.request.Request(args.upstream + self.path, headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(request) as response:
                    status, data, kind = response.status, response.read(), response.headers.get("Content-Type", "")
                    extra = {k: v for k, v in response.headers.items() if k.lower() in ("content-range", "etag")}
            except urllib.error.HTTPError as e:
                status, data, kind, extra = e.code, e.read(), e.headers.get("Content-Type", ""), {}
            self.send_response(status)
            self.send_header("Content-Type", kind)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ports", required=True)
    args = parser.parse_args()
    with open(args.public_key, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    lock = threading.Lock()
    state = {"issued": 0, "tokens": set()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(args, lock, state, public_key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(args.ports + ".tmp", "w") as f:
        json.dump({"https": server.server_address[1]}, f)
    os.rename(args.ports + ".tmp", args.ports)
    threading.Event().wait()


if __name__ == "__main__":
    main()
