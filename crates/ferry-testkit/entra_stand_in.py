"""A loopback stand-in for Microsoft Entra ID's token endpoints, for Ferry's tests.

No real Entra endpoint can run here, so this speaks the real request shapes (see
shared/reference/entra.md section 3.6) and logs what it was asked:
  POST /{tenant}/oauth2/v2.0/token   client credentials (secret, or a client assertion), device
                                     code (pending --pending times first), refresh token    [https]
  POST /{tenant}/oauth2/v2.0/devicecode  a device code (interval 1 s)                       [https]
  GET  /msi/token                    App Service / Functions managed identity            [http]
  GET  /metadata/identity/oauth2/token  the VM's IMDS                                     [http]
Tokens are JWTs of the shape Azurite's `--oauth basic` accepts (v1 issuer, storage audience,
nbf/iat/exp); Azurite checks no signature. Each request is one JSON line in --log, with the
client secret replaced by its length. It writes its ports to --ports once it listens.
"""

import argparse
import base64
import http.server
import json
import ssl
import threading
import time
import urllib.parse
import uuid

TENANT = "72f988bf-0000-4000-8000-00000000feed"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(client_id, lifetime):
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {
        "aud": "https://storage.azure.com",
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + lifetime,
        "oid": "0b5e0000-0000-4000-8000-00000000c0de",
        "tid": TENANT,
        "appid": client_id,
        "ver": "1.0",
        "jti": str(uuid.uuid4()),
    }
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(b"not-signed")])


def handler(args, lock, state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def record(self, entry):
            with lock, open(args.log, "a") as log:
                log.write(json.dumps(entry) + "\n")

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def failing(self):
            with lock:
                if state["fail"] > 0:
                    state["fail"] -= 1
                    return True
            return False

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            shown = dict(form)
            for secret in ("client_secret", "refresh_token", "device_code"):
                if secret in shown:
                    shown[secret] = f"<{len(form[secret])} characters>"
            self.record({"method": "POST", "path": url.path, "form": shown, "at": time.time()})
            if url.path.endswith("/oauth2/v2.0/devicecode"):
                return self.answer(200, {
                    "device_code": "device-code-1", "user_code": "FERRY-4711",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900, "interval": 1, "message": "…",
                })
            if not url.path.endswith("/oauth2/v2.0/token"):
                return self.answer(404, {"error": "not_found"})
            grant = form.get("grant_type", "")
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                with lock:
                    waiting = state["pending"] > 0
                    state["pending"] -= 1 if waiting else 0
                if waiting:
                    return self.answer(400, {"error": "authorization_pending", "error_description": "AADSTS70016: the user has not yet signed in"})
                return self.issue(form, refresh=True)
            if grant == "refresh_token":
                with lock:
                    good = form.get("refresh_token") == state["refresh"]
                if not good:
                    return self.answer(400, {"error": "invalid_grant", "error_description": "AADSTS70000: the refresh token is not valid"})
                return self.issue(form, refresh=True)
            if self.failing():
                return self.answer(503, {"error": "temporarily_unavailable", "error_description": "AADSTS90033: try again"})
            if args.secret is not None and "client_secret" in form and form["client_secret"] != args.secret:
                return self.answer(401, {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                })
            self.issue(form, refresh=False)

        def issue(self, form, refresh):
            body = {"token_type": "Bearer", "expires_in": args.lifetime, "ext_expires_in": args.lifetime,
                    "access_token": jwt(form.get("client_id", ""), args.lifetime)}
            if refresh:
                with lock:
                    state["generation"] += 1
                    state["refresh"] = f"refresh-token-{state['generation']}"
                    body["refresh_token"] = state["refresh"]
            self.answer(200, body)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            headers = {name: self.headers.get(name) for name in ("x-identity-header", "metadata") if self.headers.get(name)}
            if "x-identity-header" in headers:
                headers["x-identity-header"] = f"<{len(headers['x-identity-header'])} characters>"
            self.record({"method": "GET", "path": url.path, "query": query, "headers": headers, "at": time.time()})
            if url.path == "/msi/token" and self.headers.get("x-identity-header") != args.identity_header:
                return self.answer(401, {"error": "invalid_request", "error_description": "no or wrong X-IDENTITY-HEADER"})
            if url.path == "/metadata/identity/oauth2/token" and self.headers.get("metadata") != "true":
                return self.answer(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
            if url.path not in ("/msi/token", "/metadata/identity/oauth2/token"):
                return self.answer(404, {"error": "not_found"})
            if self.failing():
                return self.answer(500, {"error": "unavailable"})
            now = int(time.time())
            self.answer(200, {
                "access_token": jwt(query.get("client_id", "system-assigned"), args.lifetime),
                "expires_on": str(now + args.lifetime),
                "resource": query.get("resource", ""),
                "token_type": "Bearer",
            })

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ports", required=True)
    parser.add_argument("--lifetime", type=int, default=3600)
    parser.add_argument("--secret")
    parser.add_argument("--identity-header", default="test-identity-header")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--pending", type=int, default=2)
    args = parser.parse_args()
    lock = threading.Lock()
    state = {"fail": args.fail_first, "pending": args.pending, "refresh": None, "generation": 0}
    cls = handler(args, lock, state)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), cls)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), cls)
    for server in (secure, plain):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(args.ports + ".tmp", "w") as f:
        json.dump({"https": secure.server_address[1], "http": plain.server_address[1], "tenant": TENANT}, f)
    import os
    os.rename(args.ports + ".tmp", args.ports)
    threading.Event().wait()


if __name__ == "__main__":
    main()
