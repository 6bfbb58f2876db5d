"""imapclient.oauth2 against a real HTTP token endpoint on loopback (stdlib http.server in
a thread): the refresh exchange, the per-process cache and its expiry, every kind of error
answer, and create_client_from_config with oauth2=true against the scripted IMAP server,
which checks the exact XOAUTH2 string. Secrets never show in messages or logs."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fakeserver import FakeServer, Script

import imapclient.config as config_module
import imapclient.oauth2 as oauth2
from imapclient import IMAPClient, IMAPClientError, LoginError
from imapclient.config import ConnectionConfig, create_client_from_config, parse_config_file
from imapclient.oauth2 import (
    KNOWN_TOKEN_URLS,
    OAuth2Error,
    check_token_url,
    clear_token_cache,
    get_access_token,
    token_url_for,
)

CLIENT_ID = "1234-client.apps.example"
CLIENT_SECRET = "GOCSPX-client-Secret-77&x=y"  # needs form encoding
REFRESH_TOKEN = "1//0refresh-Token-Secret+/="
ACCESS_TOKEN = "ya29.a0Access-Token-Secret-4242"
USER = "alice@example.com"


# -- a token endpoint on loopback ----------------------------------------------------------


@dataclass
class Answer:
    """What the endpoint sends: a status, a body (a dict is sent as JSON), headers, and
    an optional stall before answering (ended early when the endpoint stops)."""

    status: int = 200
    body: bytes | dict[str, Any] = field(
        default_factory=lambda: {
            "access_token": ACCESS_TOKEN,
            "expires_in": 3599,
            "token_type": "Bearer",
        }
    )
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(self.body.decode("ascii"), keep_blank_values=True)


class TokenEndpoint:
    """An HTTP server on 127.0.0.1:<free port> answering POST /token with the queued
    answers (the last one repeats), recording every request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = [Answer()]
        self.received: list[Received] = []
        self._release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                endpoint.received.append(
                    Received("POST", self.path, dict(self.headers.items()), body)
                )
                answer = (
                    endpoint.answers.pop(0) if len(endpoint.answers) > 1 else endpoint.answers[0]
                )
                if answer.stall:
                    endpoint._release.wait(answer.stall)
                data = (
                    json.dumps(answer.body).encode()
                    if isinstance(answer.body, dict)
                    else answer.body
                )
                self.send_response(answer.status)
                content_type = "application/json" if isinstance(answer.body, dict) else "text/html"
                headers = {"Content-Type": content_type, **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                endpoint.received.append(Received("GET", self.path, dict(self.headers), b""))
                self.send_error(405)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # e.g. the client gave up on a stalled answer

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/token"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def answer(self, *answers: Answer) -> None:
        self.answers = list(answers)

    @property
    def hits(self) -> int:
        return len(self.received)

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def endpoint() -> Iterator[TokenEndpoint]:
    server = TokenEndpoint()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


def fetch(endpoint: TokenEndpoint, **kwargs: Any) -> str:
    args = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "timeout": 5.0,
        **kwargs,
    }
    return get_access_token(
        endpoint.url,
        args.pop("client_id"),
        args.pop("client_secret"),
        args.pop("refresh_token"),
        **args,
    )


def fetch_error(endpoint: TokenEndpoint, **kwargs: Any) -> OAuth2Error:
    with pytest.raises(OAuth2Error) as info:
        fetch(endpoint, **kwargs)
    assert_no_secret(str(info.value))
    for attribute in (info.value.error, info.value.error_description):
        assert_no_secret(attribute or "")
    return info.value


SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        for form in (secret, urllib.parse.quote_plus(secret), urllib.parse.quote(secret)):
            assert form not in text


# -- the exchange ----------------------------------------------------------------------------


def test_refresh_token_is_exchanged_for_an_access_token(endpoint) -> None:
    assert fetch(endpoint) == ACCESS_TOKEN
    (request,) = endpoint.received
    assert request.method == "POST" and request.path == "/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "grant_type": ["refresh_token"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "refresh_token": [REFRESH_TOKEN],
    }


def test_public_client_without_a_secret(endpoint) -> None:
    assert fetch(endpoint, client_secret=None) == ACCESS_TOKEN
    assert "client_secret" not in endpoint.received[0].form


def test_lower_case_bearer_and_string_expires_in(endpoint) -> None:
    endpoint.answer(
        Answer(body={"access_token": "t", "token_type": "bearer", "expires_in": "3600"})
    )
    assert fetch(endpoint) == "t"
    assert fetch(endpoint) == "t"
    assert endpoint.hits == 1  # "3600" was understood: cached


def test_proxies_are_not_used_for_loopback(endpoint, monkeypatch) -> None:
    with socket.socket() as dead:  # a proxy address that refuses connections
        dead.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{dead.getsockname()[1]}"
        for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
            monkeypatch.setenv(name, proxy)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        assert fetch(endpoint) == ACCESS_TOKEN


# -- the cache -------------------------------------------------------------------------------


def test_second_call_is_answered_from_the_cache(endpoint) -> None:
    assert fetch(endpoint) == ACCESS_TOKEN
    assert fetch(endpoint) == ACCESS_TOKEN
    assert endpoint.hits == 1


def test_cache_is_keyed_by_endpoint_client_and_refresh_token(endpoint) -> None:
    fetch(endpoint)
    fetch(endpoint, refresh_token="another-refresh")
    fetch(endpoint, client_id="another-client")
    assert endpoint.hits == 3
    fetch(endpoint, refresh_token="another-refresh")
    assert endpoint.hits == 3


def test_clear_token_cache(endpoint) -> None:
    fetch(endpoint)
    clear_token_cache()
    fetch(endpoint)
    assert endpoint.hits == 2


def test_expiry_refreshes_shortly_before_expires_in(endpoint, monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(oauth2, "_clock", lambda: now[0])
    endpoint.answer(
        Answer(body={"access_token": "first", "expires_in": 3600}),
        Answer(body={"access_token": "second", "expires_in": 3600}),
    )
    assert fetch(endpoint) == "first"
    now[0] += 3600 - oauth2.EXPIRY_MARGIN - 1
    assert fetch(endpoint) == "first"
    assert endpoint.hits == 1
    now[0] += 2  # now within the margin before expiry
    assert fetch(endpoint) == "second"
    assert endpoint.hits == 2
    assert fetch(endpoint) == "second"
    assert endpoint.hits == 2


@pytest.mark.parametrize("expires_in", [None, 30, 60, "soon", -5, True])
def test_tokens_without_a_usable_lifetime_are_not_cached(endpoint, expires_in) -> None:
    body: dict[str, Any] = {"access_token": "t"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    endpoint.answer(Answer(body=body))
    fetch(endpoint)
    fetch(endpoint)
    assert endpoint.hits == 2


def test_errors_are_not_cached(endpoint) -> None:
    endpoint.answer(Answer(status=500, body=b"oops"), Answer())
    fetch_error(endpoint)
    assert fetch(endpoint) == ACCESS_TOKEN


# -- error answers ---------------------------------------------------------------------------


def test_invalid_grant(endpoint) -> None:
    endpoint.answer(
        Answer(
            status=400,
            body={
                "error": "invalid_grant",
                "error_description": "Token has been expired or revoked.",
            },
        )
    )
    error = fetch_error(endpoint)
    assert isinstance(error, IMAPClientError)
    assert (error.status, error.error) == (400, "invalid_grant")
    assert error.error_description == "Token has been expired or revoked."
    assert error.token_url == endpoint.url
    assert "HTTP 400" in str(error) and "invalid_grant" in str(error)
    assert "expired or revoked" in str(error)


def test_unauthorized_with_json(endpoint) -> None:
    endpoint.answer(Answer(status=401, body={"error": "invalid_client"}))
    error = fetch_error(endpoint)
    assert (error.status, error.error, error.error_description) == (401, "invalid_client", None)
    assert "HTTP 401" in str(error)


def test_unauthorized_without_a_body(endpoint) -> None:
    endpoint.answer(Answer(status=401, body=b""))
    error = fetch_error(endpoint)
    assert (error.status, error.error) == (401, None)
    assert "HTTP 401" in str(error)


def test_server_error_that_is_not_json(endpoint) -> None:
    endpoint.answer(Answer(status=500, body=b"<html><body>Internal Server Error</body></html>"))
    error = fetch_error(endpoint)
    assert (error.status, error.error) == (500, None)
    assert "HTTP 500" in str(error) and "Internal Server Error" in str(error)


def test_success_that_is_not_json(endpoint) -> None:
    endpoint.answer(Answer(status=200, body=b"access_token=abc&expires_in=3600"))
    error = fetch_error(endpoint)
    assert error.status == 200 and "not a JSON object" in str(error)


def test_json_that_is_not_an_object(endpoint) -> None:
    endpoint.answer(Answer(body=b'["access_token"]'))
    assert "not a JSON object" in str(fetch_error(endpoint))


@pytest.mark.parametrize(
    "body", [{}, {"access_token": ""}, {"access_token": 42}, {"expires_in": 9}]
)
def test_missing_access_token(endpoint, body) -> None:
    endpoint.answer(Answer(body=body))
    error = fetch_error(endpoint)
    assert error.status == 200 and "without an access_token" in str(error)


def test_error_inside_a_200_answer(endpoint) -> None:
    endpoint.answer(Answer(body={"error": "invalid_scope", "access_token": "x"}))
    error = fetch_error(endpoint)
    assert (error.status, error.error) == (200, "invalid_scope")


def test_token_type_other_than_bearer(endpoint) -> None:
    endpoint.answer(Answer(body={"access_token": "x", "token_type": "mac"}))
    assert "Bearer" in str(fetch_error(endpoint))


def test_redirects_are_not_followed(endpoint) -> None:
    endpoint.answer(Answer(status=302, body=b"", headers={"Location": "/elsewhere"}))
    error = fetch_error(endpoint)
    assert error.status == 302 and "redirect" in str(error)
    assert endpoint.hits == 1  # no GET to /elsewhere


def test_slow_endpoint_times_out(endpoint) -> None:
    endpoint.answer(Answer(stall=30))
    started = time.monotonic()
    error = fetch_error(endpoint, timeout=0.3)
    assert time.monotonic() - started < 5
    assert error.status is None
    assert "did not answer within 0.3 s" in str(error)


def test_nothing_listening() -> None:
    with socket.socket() as reserved:  # bound but not listening: connections are refused
        reserved.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{reserved.getsockname()[1]}/token"
        with pytest.raises(OAuth2Error) as info:
            get_access_token(url, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, timeout=5)
    assert info.value.status is None and "cannot get an access token" in str(info.value)
    assert_no_secret(str(info.value))


def test_an_endpoint_echoing_the_secrets_is_redacted(endpoint) -> None:
    echo = f"bad request: client_secret={CLIENT_SECRET} refresh_token={REFRESH_TOKEN}"
    quoted = urllib.parse.urlencode({"s": CLIENT_SECRET, "r": REFRESH_TOKEN})
    endpoint.answer(
        Answer(status=400, body={"error": "invalid_request", "error_description": echo}),
        Answer(status=500, body=f"{echo} {quoted}".encode()),
    )
    error = fetch_error(endpoint)  # asserts no secret in message, error, description
    assert "**REDACTED**" in (error.error_description or "")
    error = fetch_error(endpoint)
    assert "**REDACTED**" in str(error)


def test_secrets_are_not_logged(endpoint, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    fetch(endpoint)
    fetch(endpoint)
    endpoint.answer(Answer(status=400, body={"error": "invalid_grant"}))
    clear_token_cache()
    fetch_error(endpoint)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert endpoint.url in text
    assert_no_secret(text)


# -- endpoints by host -----------------------------------------------------------------------


def test_known_token_urls() -> None:
    assert token_url_for("imap.gmail.com") == KNOWN_TOKEN_URLS["imap.gmail.com"]
    assert token_url_for("imap.gmail.com").startswith("https://")
    assert token_url_for("IMAP.Mail.Yahoo.com.") == "https://api.login.yahoo.com/oauth2/get_token"
    assert (
        token_url_for("outlook.office365.com")
        == "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    )
    for url in KNOWN_TOKEN_URLS.values():
        assert check_token_url(url) == url


def test_override_wins() -> None:
    assert token_url_for("imap.gmail.com", "https://sso.example/t") == "https://sso.example/t"
    assert token_url_for("imap.corp", "http://localhost:8080/t") == "http://localhost:8080/t"


def test_unknown_host_without_override() -> None:
    with pytest.raises(ValueError, match="oauth2_token_url"):
        token_url_for("imap.corp.example")


@pytest.mark.parametrize(
    "url",
    [
        "http://sso.example/token",
        "file:///etc/passwd",
        "ftp://sso.example/token",
        "https://",
        "token",
        "http://127.0.0.1.evil.example/t",
    ],
)
def test_token_url_must_be_https_unless_loopback(url) -> None:
    with pytest.raises(ValueError):
        check_token_url(url)
    with pytest.raises(ValueError):
        get_access_token(url, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/t", "http://[::1]:1/t", "http://localhost/t"])
def test_plain_http_to_loopback_is_allowed(url) -> None:
    assert check_token_url(url) == url


# -- create_client_from_config with oauth2 against the scripted IMAP server ----------------------


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


XOAUTH2 = f"user={USER}\x01auth=Bearer {ACCESS_TOKEN}\x01\x01".encode()


def xoauth2_script(reply: bytes = b"OK [CAPABILITY IMAP4rev1] authenticated (Success)") -> Script:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=PLAIN")
        .expect(b"AUTHENTICATE XOAUTH2 " + b64(XOAUTH2))
        .reply(reply)
    )
    if reply.startswith(b"OK"):
        return script.logout()
    return script.expect_eof()


def oauth_config(server: FakeServer, endpoint: TokenEndpoint, **changes: Any) -> ConnectionConfig:
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "ssl": False,
        "username": USER,
        "password": "ignored-password",
        "timeout": 5,
        "oauth2": True,
        "oauth2_client_id": CLIENT_ID,
        "oauth2_client_secret": CLIENT_SECRET,
        "oauth2_refresh_token": REFRESH_TOKEN,
        "oauth2_token_url": endpoint.url,
        **changes,
    }
    return ConnectionConfig(**values)


@pytest.fixture
def recorded(monkeypatch) -> Iterator[list[IMAPClient]]:
    made: list[IMAPClient] = []

    class Recording(IMAPClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(config_module, "IMAPClient", Recording)
    yield made
    for client in made:
        client.shutdown()


def test_oauth2_login_from_a_config_file(endpoint, tmp_path: Path) -> None:
    with FakeServer(xoauth2_script()) as server:
        path = tmp_path / "oauth.ini"
        path.write_text(
            "[DEFAULT]\nhost = imap.gmail.com\n\n[fake]\n"
            f"host = {server.host}\nport = {server.port}\nssl = no\ntimeout = 5\n"
            f"username = {USER}\noauth2 = yes\noauth2_client_id = {CLIENT_ID}\n"
            f"oauth2_token_url = {endpoint.url}\n"
        )
        config = parse_config_file(
            path,
            "fake",
            environ={
                "IMAPCLIENT_OAUTH2_CLIENT_SECRET": CLIENT_SECRET,
                "IMAPCLIENT_OAUTH2_REFRESH_TOKEN": REFRESH_TOKEN,
            },
        )
        client = create_client_from_config(config)
        assert client.capabilities() == (b"IMAP4REV1",)
        client.logout()
    assert endpoint.hits == 1
    assert endpoint.received[0].form["refresh_token"] == [REFRESH_TOKEN]
    assert b"ignored-password" not in server.received


def test_second_connection_reuses_the_cached_token(endpoint) -> None:
    with FakeServer(xoauth2_script(), xoauth2_script()) as server:
        for _ in range(2):
            client = create_client_from_config(oauth_config(server, endpoint))
            client.logout()
    assert endpoint.hits == 1


def test_refused_token_closes_the_connection_and_is_forgotten(endpoint, recorded) -> None:
    refusal = b"NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"
    with FakeServer(xoauth2_script(refusal)) as server:
        with pytest.raises(LoginError) as info:
            create_client_from_config(oauth_config(server, endpoint))
        assert info.value.code == b"AUTHENTICATIONFAILED"
        assert recorded[0].socket() is None
        server.wait_done()  # the server saw the connection closed (expect_eof)
    assert_no_secret(str(info.value))
    # The cached token was dropped: the next attempt asks the endpoint again.
    with FakeServer(xoauth2_script()) as server:
        client = create_client_from_config(oauth_config(server, endpoint))
        client.logout()
    assert endpoint.hits == 2


def test_token_endpoint_refusal_means_no_imap_connection(endpoint, recorded) -> None:
    endpoint.answer(Answer(status=400, body={"error": "invalid_grant"}))
    with FakeServer(check=False) as server:
        with pytest.raises(OAuth2Error) as info:
            create_client_from_config(oauth_config(server, endpoint))
    assert info.value.error == "invalid_grant"
    assert recorded == []


def test_oauth2_login_logs_no_secrets(endpoint, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with FakeServer(xoauth2_script()) as server:
        client = create_client_from_config(oauth_config(server, endpoint))
        client.logout()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "AUTHENTICATE" in text
    assert_no_secret(text)
    assert b64(XOAUTH2).decode() not in text


def test_login_false_fetches_no_token(endpoint) -> None:
    script = Script().greeting(caps=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2").logout()
    with FakeServer(script) as server:
        client = create_client_from_config(oauth_config(server, endpoint), login=False)
        client.logout()
    assert endpoint.hits == 0
