"""A small but real OpenID Connect provider for the tests, on 127.0.0.1 in a thread.

Authorisation code flow with PKCE (S256): discovery document, authorisation endpoint with a
login form, token endpoint (client_secret_post or basic) issuing RS256-signed ID tokens
(PyJWT), JWKS and userinfo. Tests change its behaviour through :attr:`Provider.tamper`
(claims of the ID token or of userinfo, signing with a foreign key) to check that Farley
refuses what it must refuse.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "farley-test"
CLIENT_SECRET = "farley-test-secret-0123456789"
KID = "test-key-1"


@dataclass
class Account:
    email: str
    password: str
    sub: str = field(default_factory=lambda: secrets.token_hex(8))
    email_verified: Any = True
    name: str = ""
    amr: list[str] = field(default_factory=lambda: ["pwd"])


class Provider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.accounts: dict[str, Account] = {}
        self.redirect_uris: set[str] = set()
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, Account] = {}
        self.tamper: dict[str, Any] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Provider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.accounts.clear()
        self.redirect_uris.clear()
        self.codes.clear()
        self.access_tokens.clear()
        self.tamper.clear()
        self.requests.clear()

    def add(self, email: str, password: str, **kwargs: Any) -> Account:
        account = Account(email=email, password=password, **kwargs)
        self.accounts[email.casefold()] = account
        return account

    # --- protocol ---------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name", "amr"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def authorize_error(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") != CLIENT_ID:
            return "unknown client"
        if params.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri not registered"
        if params.get("response_type") != "code" or "openid" not in params.get("scope", ""):
            return "only the code flow with scope openid"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE (S256) required"
        return None

    def issue_code(self, params: dict[str, str], account: Account) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"params": params, "account": account, "at": time.time()}
        return code

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict]:
        client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant"}
        params, account = grant["params"], grant["account"]
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            time.time() - grant["at"] > 60
            or form.get("redirect_uri") != params["redirect_uri"]
            or challenge != params["code_challenge"]
        ):
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": account.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "amr": account.amr,
            "email": account.email,
            "email_verified": account.email_verified,
            "name": account.name,
        }
        if params.get("nonce"):
            claims["nonce"] = params["nonce"]
        claims.update(self.tamper.get("id_token", {}))
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.foreign_key if self.tamper.get("foreign_key") else self.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = account
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def userinfo(self, authorization: str) -> tuple[int, dict]:
        account = self.access_tokens.get(authorization.removeprefix("Bearer ").strip())
        if account is None:
            return 401, {"error": "invalid_token"}
        info = {
            "sub": account.sub,
            "email": account.email,
            "email_verified": account.email_verified,
            "name": account.name,
        }
        info.update(self.tamper.get("userinfo", {}))
        return 200, {k: v for k, v in info.items() if v is not None}


LOGIN_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test provider</title></head><body><h1>Test provider: sign in</h1>{error}
<form method="post" action="/authorize">{hidden}
<label>Email <input type="email" name="email" id="idp-email"></label>
<label>Password <input type="password" name="password" id="idp-password"></label>
<button type="submit" name="decision" value="allow" id="idp-submit">Sign in</button>
<button type="submit" name="decision" value="deny" id="idp-deny">Cancel</button>
</form></body></html>"""


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
            data = (json.dumps(body) if content_type == "application/json" else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, url: str) -> None:
            self.send_response(302)
            self.send_header("Location", url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

        def _login_page(self, params: dict[str, str], error: str = "", status: int = 200):
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items()
            )
            error = f'<p role="alert">{html.escape(error)}</p>' if error else ""
            self._send(status, LOGIN_FORM.format(error=error, hidden=hidden), "text/html")

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            provider.requests.append(f"GET {parts.path}")
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._send(200, provider.discovery())
            elif parts.path == "/jwks":
                self._send(200, provider.jwks())
            elif parts.path == "/userinfo":
                self._send(*provider.userinfo(self.headers.get("Authorization", "")))
            elif parts.path == "/authorize":
                if error := provider.authorize_error(params):
                    self._send(400, f"<p>{html.escape(error)}</p>", "text/html")
                else:
                    self._login_page(params)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            provider.requests.append(f"POST {parts.path}")
            form = self._form()
            if parts.path == "/token":
                basic = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _sep, pw = base64.b64decode(auth[6:]).decode().partition(":")
                    basic = (user, pw)
                self._send(*provider.token(form, basic))
            elif parts.path == "/authorize":
                email, password = form.pop("email", ""), form.pop("password", "")
                decision = form.pop("decision", "allow")
                if error := provider.authorize_error(form):
                    self._send(400, f"<p>{html.escape(error)}</p>", "text/html")
                    return
                back = form["redirect_uri"]
                if decision == "deny":
                    query = {"error": "access_denied", "state": form.get("state", "")}
                    self._redirect(back + "?" + urlencode(query))
                    return
                account = provider.accounts.get(email.casefold())
                if account is None or not secrets.compare_digest(account.password, password):
                    self._login_page(form, "Wrong email or password.", 401)
                    return
                code = provider.issue_code(form, account)
                self._redirect(back + "?" + urlencode({"code": code, "state": form["state"]}))
            else:
                self._send(404, {"error": "not_found"})

    return Handler


@pytest.fixture(scope="session", name="oidc_server")
def oidc_server_fixture():
    """One provider for the test session (import this into a test module to use it)."""
    provider = Provider().start()
    yield provider
    provider.stop()


def configure(provider: Provider, settings: Any, redirect_uri: str) -> Provider:
    """Reset the provider, register Farley's callback and point Farley's settings at it."""
    provider.reset()
    provider.redirect_uris.add(redirect_uri)
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Testprovider"
    settings.OIDC_CREATE_USER = False
    settings.OIDC_TRUST_IDP_MFA = "off"
    return provider
