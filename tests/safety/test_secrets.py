"""Secrets of issue 6: passwords, OAuth tokens and AUTHENTICATE payloads never appear in
logs (debug levels 0-5, and logging configured at DEBUG for ``imapclient`` and
``imapclient.wire``), exception texts, tracebacks or reprs (of the client, of the
session and its pending commands, of exceptions, of SASL mechanism objects).

Every captured text is searched for each secret as given, as escaped in a quoted string
or a repr, and in base64 at each of the three alignments it can have inside a longer
payload (PLAIN, XOAUTH2, OAUTHBEARER wrap it before encoding). LOGIN, PLAIN, XOAUTH2 and
OAUTHBEARER run against the scripted server; LOGIN, PLAIN and SCRAM against Dovecot.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakeserver import FakeServer, Script
from safety_support import connect

from imapclient import IMAPClient, sasl
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.protocol.encoder import Command
from imapclient.protocol.session import Session

PASSWORD = "Pw-9f3cK-Secret-Zq"  # an atom on the wire
QUOTED_PASSWORD = 'Q"uo\\ted-Secret-77x'  # a quoted string on the wire
LITERAL_PASSWORD = "Pässwörd-Secret-€uro"  # a literal on the wire
TOKEN = "ya29.a0AfH6-OAuth-Token-Secret-4242"
CALLBACK_SECRET = "Callback-Answer-Secret-31337"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def secret_forms(secret: str) -> set[str]:
    """How ``secret`` could show up in a text: as is, escaped, or base64-encoded at any
    alignment inside a longer payload."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        secret.replace("\\", "\\\\"),  # in a repr
        secret.replace("\\", "\\\\").replace('"', '\\"'),  # in a quoted string
        raw.decode("latin-1"),  # UTF-8 bytes shown as latin-1
        repr(raw)[2:-1],  # in a bytes repr
        repr(secret)[1:-1],
    }
    for prefix in range(3):
        encoded = b64(b"\0" * prefix + raw)
        first_group = -(-prefix // 3)  # groups made only of the secret's bytes
        end_group = (prefix + len(raw)) // 3
        core = encoded[first_group * 4 : end_group * 4]
        if len(core) >= 8:
            forms.add(core.decode("ascii"))
    return forms


@dataclass
class Evidence:
    """Every text that must not hold a secret, with where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: Any) -> None:
        self.texts.append((where, text if isinstance(text, str) else repr(text)))

    def add_exception(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: str", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: args", repr(exc.args))
        self.add(f"{where}: attributes", repr(vars(exc)))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))
        # The chain as tracebacks show it: the cause, else the context unless suppressed
        # ("raise ... from None").
        chained = exc.__cause__
        if chained is None and not exc.__suppress_context__:
            chained = exc.__context__
        if chained is not None:
            self.add_exception(f"{where}: chained", chained)

    def add_client(self, where: str, client: IMAPClient) -> None:
        session = client._session
        self.add(f"{where}: repr(client)", repr(client))
        self.add(f"{where}: vars(client)", repr(vars(client)))
        self.add(f"{where}: vars(session)", repr(vars(session)))
        self.add(f"{where}: pending", repr(session.pending))
        self.add(f"{where}: sent_log", repr(list(session.sent_log)))

    @staticmethod
    def assert_detectable(secret: str, wire: bytes) -> None:
        """Control: the search would find ``secret`` in what went over the wire (so it
        would find a leak of that payload too)."""
        text = wire.decode("latin-1")
        assert any(form in text for form in secret_forms(secret)), wire

    def assert_clean(self, *secrets: str) -> None:
        assert self.texts, "nothing was captured"
        for secret in secrets:
            for form in secret_forms(secret):
                for where, text in self.texts:
                    assert form not in text, f"secret {form!r} found in {where}:\n{text}"


# -- capturing logs ---------------------------------------------------------------------

LOGGERS = ("imapclient", "imapclient.wire")
MODES = ["debug0", "debug1", "debug2", "debug3", "debug4", "debug5", "logging-DEBUG"]


@dataclass
class Logs:
    mode: str
    stream: io.StringIO  # the client's log_file
    captured: io.StringIO  # a DEBUG handler on the "imapclient" logger

    def configure(self, client: IMAPClient) -> None:
        client.log_file = self.stream
        if self.mode.startswith("debug"):
            client.debug = int(self.mode[-1])

    def add_to(self, evidence: Evidence) -> None:
        evidence.add(f"{self.mode}: log_file", self.stream.getvalue())
        evidence.add(f"{self.mode}: logging", self.captured.getvalue())


@pytest.fixture
def make_logs() -> Iterator[Callable[[str], Logs]]:
    """Logs for one mode; restores the loggers' levels and handlers afterwards."""
    saved = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers))
        for name in LOGGERS
    }
    made: list[Logs] = []

    def make(mode: str) -> Logs:
        captured = io.StringIO()
        handler = logging.StreamHandler(captured)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        logging.getLogger("imapclient").addHandler(handler)
        if mode == "logging-DEBUG":
            for name in LOGGERS:
                logging.getLogger(name).setLevel(logging.DEBUG)
        logs = Logs(mode, io.StringIO(), captured)
        made.append(logs)
        return logs

    yield make
    for name, (level, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers


def _assert_something_was_logged(logs: Logs) -> None:
    # At debug 3 and above (and with logging at DEBUG) commands are logged: the check
    # above would be vacuous if the log were empty.
    if logs.mode in ("debug3", "debug4", "debug5", "logging-DEBUG"):
        text = logs.stream.getvalue() + logs.captured.getvalue()
        assert "**REDACTED**" in text, text


# -- the scripted server ------------------------------------------------------------------

CAPS = b"IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER"
SASL_IR_CAPS = CAPS + b" SASL-IR"
ERROR_JSON = b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'


def _run(
    script: Script,
    logs: Logs,
    evidence: Evidence,
    action: Callable[[IMAPClient], Any],
    *,
    fails: type[BaseException] | None = None,
) -> FakeServer:
    with FakeServer(script) as server:
        client = connect(server)
        logs.configure(client)
        if fails is None:
            action(client)
        else:
            with pytest.raises(fails) as error:
                action(client)
            evidence.add_exception("error", error.value)
        evidence.add_client("after", client)
        client.logout()
    logs.add_to(evidence)
    _assert_something_was_logged(logs)
    return server


def _login_script(password_wire: bytes, answer: bytes) -> Script:
    return expect_login(Script().greeting(caps=CAPS), password_wire).reply(answer).logout()


def expect_login(script: Script, password_wire: bytes) -> Script:
    if password_wire.startswith(b"{"):
        size, data = password_wire[1:].split(b"}\r\n", 1)
        return script.expect(b"LOGIN alice {%s}" % size).expect_literal(data).expect_line(b"")
    return script.expect(b"LOGIN alice " + password_wire)


_LOGIN_CASES = {
    "atom": (PASSWORD, PASSWORD.encode()),
    "quoted": (QUOTED_PASSWORD, b'"Q\\"uo\\\\ted-Secret-77x"'),
    "literal": (
        LITERAL_PASSWORD,
        b"{%d}\r\n" % len(LITERAL_PASSWORD.encode()) + LITERAL_PASSWORD.encode(),
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", list(_LOGIN_CASES))
def test_login_password_never_logged_or_shown(
    form: str, mode: str, make_logs: Callable[[str], Logs]
) -> None:
    password, wire = _LOGIN_CASES[form]
    evidence = Evidence()
    logs = make_logs(mode)
    server = _run(
        _login_script(wire, b"OK LOGIN completed"),
        logs,
        evidence,
        lambda c: c.login("alice", password),
    )
    assert wire in server.received  # it was sent, and only there
    evidence.assert_clean(password)


@pytest.mark.parametrize("mode", MODES)
def test_failed_login_never_shows_the_password(mode: str, make_logs: Callable[[str], Logs]) -> None:
    evidence = Evidence()
    _run(
        _login_script(PASSWORD.encode(), b"NO [AUTHENTICATIONFAILED] Authentication failed."),
        make_logs(mode),
        evidence,
        lambda c: c.login("alice", PASSWORD),
        fails=LoginError,
    )
    evidence.assert_clean(PASSWORD)


@pytest.mark.parametrize(
    ("name", "server_end"),
    [
        ("eof", lambda s: s.close()),
        ("garbage", lambda s: s.send(b"{tag} WHAT?\r\n").stall()),
        ("bye", lambda s: s.send(b"* BYE no\r\n").stall()),
    ],
)
def test_login_aborted_by_the_server_never_shows_the_password(
    name: str, server_end: Callable[[Script], Script], make_logs: Callable[[str], Logs]
) -> None:
    evidence = Evidence()
    logs = make_logs("logging-DEBUG")
    script = server_end(Script().greeting(caps=CAPS).expect(b"LOGIN alice " + PASSWORD.encode()))
    with FakeServer(script) as server:
        client = connect(server)
        logs.configure(client)
        with pytest.raises(IMAPClientError) as error:
            client.login("alice", PASSWORD)
        evidence.add_exception(name, error.value)
        evidence.add_client(name, client)
    logs.add_to(evidence)
    evidence.assert_clean(PASSWORD)


def test_login_timeout_never_shows_the_literal_password(
    make_logs: Callable[[str], Logs],
) -> None:
    # The server never sends "+": the password stays queued in the session.
    evidence = Evidence()
    logs = make_logs("logging-DEBUG")
    size = len(LITERAL_PASSWORD.encode())
    script = Script().greeting(caps=CAPS).expect(b"LOGIN alice {%d}" % size).stall()
    with FakeServer(script) as server:
        client = connect(server, timeout=0.3)
        logs.configure(client)
        with pytest.raises(IMAPClientError) as error:
            client.login("alice", LITERAL_PASSWORD)
        evidence.add_exception("timeout", error.value)
        evidence.add_client("timeout", client)
    logs.add_to(evidence)
    evidence.assert_clean(LITERAL_PASSWORD)
    assert LITERAL_PASSWORD.encode() not in server.received


PLAIN_PAYLOAD = b"\0alice\0" + PASSWORD.encode()


@pytest.mark.parametrize("mode", MODES)
def test_plain_login_never_shows_the_password(mode: str, make_logs: Callable[[str], Logs]) -> None:
    evidence = Evidence()
    script = (
        Script()
        .greeting(caps=SASL_IR_CAPS)
        .expect(b"AUTHENTICATE PLAIN " + b64(PLAIN_PAYLOAD))
        .reply(b"OK welcome")
        .logout()
    )
    server = _run(script, make_logs(mode), evidence, lambda c: c.plain_login("alice", PASSWORD))
    evidence.assert_detectable(PASSWORD, server.received)
    evidence.assert_clean(PASSWORD)


@pytest.mark.parametrize("mode", MODES)
def test_failed_plain_login_without_sasl_ir_never_shows_the_password(
    mode: str, make_logs: Callable[[str], Logs]
) -> None:
    evidence = Evidence()
    script = (
        Script()
        .greeting(caps=CAPS)
        .expect(b"AUTHENTICATE PLAIN")
        .send(b"+ \r\n")
        .expect_line(b64(PLAIN_PAYLOAD))
        .reply(b"NO [AUTHENTICATIONFAILED] Authentication failed.")
        .logout()
    )
    _run(
        script,
        make_logs(mode),
        evidence,
        lambda c: c.plain_login("alice", PASSWORD),
        fails=LoginError,
    )
    evidence.assert_clean(PASSWORD)


def _xoauth2(user: str = "alice@example.com") -> bytes:
    return f"user={user}\x01auth=Bearer {TOKEN}\x01\x01".encode()


def _oauthbearer(user: str = "alice@example.com") -> bytes:
    return f"n,a={user},\x01auth=Bearer {TOKEN}\x01\x01".encode()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_oauth_login_never_shows_the_token(
    mech: str, mode: str, make_logs: Callable[[str], Logs]
) -> None:
    payload = _xoauth2() if mech == "XOAUTH2" else _oauthbearer()
    script = (
        Script()
        .greeting(caps=SASL_IR_CAPS)
        .expect(b"AUTHENTICATE " + mech.encode() + b" " + b64(payload))
        .reply(b"OK authenticated")
        .logout()
    )
    evidence = Evidence()

    def action(client: IMAPClient) -> Any:
        if mech == "XOAUTH2":
            return client.oauth2_login("alice@example.com", TOKEN)
        return client.oauthbearer_login("alice@example.com", TOKEN)

    server = _run(script, make_logs(mode), evidence, action)
    evidence.assert_detectable(TOKEN, server.received)
    evidence.assert_clean(TOKEN)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_rejected_oauth_token_never_shows(
    mech: str, mode: str, make_logs: Callable[[str], Logs]
) -> None:
    payload = _xoauth2() if mech == "XOAUTH2" else _oauthbearer()
    error_reply = b"" if mech == "XOAUTH2" else b64(b"\x01")
    script = (
        Script()
        .greeting(caps=CAPS)  # no SASL-IR: the payload goes after a "+"
        .expect(b"AUTHENTICATE " + mech.encode())
        .send(b"+ \r\n")
        .expect_line(b64(payload))
        .send(b"+ " + b64(ERROR_JSON) + b"\r\n")
        .expect_line(error_reply)
        .reply(b"NO [AUTHENTICATIONFAILED] Invalid credentials")
        .logout()
    )
    evidence = Evidence()

    def action(client: IMAPClient) -> Any:
        if mech == "XOAUTH2":
            return client.oauth2_login("alice@example.com", TOKEN)
        return client.oauth2_login("alice@example.com", TOKEN, mech="OAUTHBEARER")

    _run(script, make_logs(mode), evidence, action, fails=LoginError)
    # The server's own error text is shown (it is the useful part), never the token.
    assert any("401" in text for where, text in evidence.texts if where.startswith("error"))
    evidence.assert_clean(TOKEN)


def test_pending_authenticate_is_redacted_while_in_flight(
    make_logs: Callable[[str], Logs],
) -> None:
    """A SASL callback runs while AUTHENTICATE is pending: the client, the session and
    its pending commands are captured from inside the exchange."""
    evidence = Evidence()
    logs = make_logs("logging-DEBUG")
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 AUTH=X-CUSTOM")
        .expect(b"AUTHENTICATE X-CUSTOM")
        .send(b"+ " + b64(b"first") + b"\r\n")
        .expect_line(b64(CALLBACK_SECRET.encode()))
        .send(b"+ " + b64(b"second") + b"\r\n")
        .expect_line(b64(PASSWORD.encode()))
        .reply(b"OK custom done")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        logs.configure(client)
        answers = iter([CALLBACK_SECRET, PASSWORD])

        def callback(challenge: bytes) -> str:
            evidence.add_client(f"in callback ({challenge!r})", client)
            assert [p.name for p in client._session.pending] == [b"AUTHENTICATE"]
            return next(answers)

        client.sasl_login("X-CUSTOM", callback)
        evidence.add_client("after", client)
        client.logout()
    logs.add_to(evidence)
    _assert_something_was_logged(logs)
    evidence.assert_clean(CALLBACK_SECRET, PASSWORD)


def test_pending_login_in_a_session_is_redacted() -> None:
    session = Session()
    session.receive_data(b"* OK [CAPABILITY IMAP4rev1] hi\r\n")
    login = session.send(Command(b"LOGIN", ("alice", LITERAL_PASSWORD), sensitive=True))
    auth = Command(b"AUTHENTICATE", (b"PLAIN", b64(PLAIN_PAYLOAD)), sensitive=True)
    evidence = Evidence()
    evidence.add("command", repr(login.command))
    evidence.add("pending before sending", repr(login))
    evidence.add("session.pending", repr(session.pending))
    first = session.data_to_send()  # the line up to the literal: now in flight
    assert first.endswith(b"}\r\n") and LITERAL_PASSWORD.encode() not in first
    evidence.add("pending in flight", repr(login))
    evidence.add("session state", repr(vars(session)))
    evidence.add("sent_log", repr(list(session.sent_log)))
    evidence.add("authenticate command", repr(auth))
    evidence.assert_clean(LITERAL_PASSWORD, PASSWORD)


# -- SASL mechanism objects ------------------------------------------------------------------


def _mechanisms() -> list[tuple[object, list[str]]]:
    return [
        (sasl.Plain("alice", PASSWORD, "admin"), [PASSWORD]),
        (sasl.Login("alice", PASSWORD), [PASSWORD]),
        (sasl.Scram("alice", PASSWORD), [PASSWORD]),
        (sasl.Scram("alice", PASSWORD, "sha1"), [PASSWORD]),
        (sasl.XOAuth2("alice", TOKEN), [TOKEN]),
        (sasl.OAuthBearer("alice", TOKEN, "imap.example.com", 993), [TOKEN]),
        (
            sasl.XOAuth("https://mail.example.com/", TOKEN, PASSWORD, "key", "consumer-x"),
            [TOKEN, PASSWORD],
        ),
        (sasl.Callback("X-CUSTOM", lambda _: CALLBACK_SECRET), [CALLBACK_SECRET]),
    ]


def test_sasl_mechanism_reprs_hold_no_secret() -> None:
    for mechanism, secrets in _mechanisms():
        evidence = Evidence()
        evidence.add("repr", repr(mechanism))
        evidence.add("str", str(mechanism))
        evidence.add("format", f"{mechanism!s} {mechanism!r}")
        # And again after the mechanism has produced its messages.
        try:
            initial = mechanism.initial_response()  # type: ignore[attr-defined]
            if initial is None:
                mechanism.respond(b"Username:")  # type: ignore[attr-defined]
        except sasl.SASLError:
            pass
        evidence.add("repr after use", repr(mechanism))
        evidence.assert_clean(*secrets)
        assert re.fullmatch(r"<\w+ [\w-]+>", repr(mechanism)), repr(mechanism)


@pytest.mark.parametrize(
    "make",
    [
        lambda: sasl.Plain("alice", PASSWORD + "\0"),
        lambda: sasl.XOAuth2("alice", TOKEN + "\x01"),
        lambda: sasl.OAuthBearer("alice", TOKEN + "\x01"),
        lambda: sasl.Scram("alice", PASSWORD + "\u0007"),  # SASLprep: control character
        lambda: sasl.Scram("alice", PASSWORD + "\udcff"),  # not valid Unicode
        lambda: sasl.Plain("alice", PASSWORD + "\udcff"),
    ],
    ids=["plain-nul", "xoauth2-sep", "oauthbearer-sep", "scram-ctrl", "scram-surr", "plain-surr"],
)
def test_rejected_secrets_are_not_quoted_in_the_error(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError) as error:
        make()
    evidence = Evidence()
    evidence.add_exception("ValueError", error.value)
    evidence.assert_clean(PASSWORD, TOKEN)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.login("alice", PASSWORD + "\udcff"),
        lambda c: c.login("alice", PASSWORD + "\0"),
    ],
    ids=["unencodable", "nul"],
)
def test_unsendable_login_password_is_not_quoted_in_the_error(
    call: Callable[[IMAPClient], Any],
) -> None:
    # A password read from the environment with undecodable bytes holds surrogates
    # (surrogateescape): the error must not carry it in its text, repr or args.
    script = Script().greeting(caps=CAPS).expect(b"NOOP").reply(b"OK nothing sent").logout()
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(ValueError) as error:
            call(client)
        client.noop()
        client.logout()
    evidence = Evidence()
    evidence.add_exception("ValueError", error.value)
    evidence.assert_clean(PASSWORD)


# -- Dovecot: LOGIN, PLAIN and SCRAM ----------------------------------------------------------

_DOVECOT_LOGINS: dict[str, Callable[[IMAPClient, str, str], Any]] = {
    "login": lambda c, u, p: c.login(u, p),
    "plain": lambda c, u, p: c.plain_login(u, p),
    "scram-sha-256": lambda c, u, p: c.scram_login(u, p),
    "scram-sha-1": lambda c, u, p: c.scram_login(u, p, mech="SCRAM-SHA-1"),
}


@pytest.mark.parametrize("good", [True, False], ids=["accepted", "refused"])
@pytest.mark.parametrize("method", list(_DOVECOT_LOGINS))
def test_dovecot_logins_never_show_the_password(
    method: str, good: bool, imap_account: Any, make_logs: Callable[[str], Logs]
) -> None:
    password = imap_account.password if good else "Wrong-Dovecot-Secret-" + method
    evidence = Evidence()
    logs = make_logs("logging-DEBUG")
    client = IMAPClient(imap_account.host, imap_account.port, ssl=False, timeout=5)
    try:
        logs.configure(client)
        client.debug = 5  # and the client's own log file, at its most verbose
        login = _DOVECOT_LOGINS[method]
        if good:
            login(client, imap_account.username, password)
            assert client.select_folder("INBOX")[b"EXISTS"] == 0
        else:
            with pytest.raises(LoginError) as error:
                login(client, imap_account.username, password)
            evidence.add_exception("refused", error.value)
        evidence.add_client("after", client)
        client.logout()
    finally:
        client.shutdown()
    logs.add_to(evidence)
    wire = logs.captured.getvalue()
    assert "< b'" in wire  # level 5: the bytes received were logged
    evidence.assert_clean(password)
