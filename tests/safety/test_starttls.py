"""Safety cases 1-5 of issue 6: STARTTLS and certificates.

1. bytes after the STARTTLS OK (same segment) are discarded, never processed;
2. untagged data sent before STARTTLS completes is neither stored nor returned;
3. a PREAUTH greeting makes STARTTLS impossible: TLSRequiredError, nothing sent;
4. STARTTLS missing or refused: TLSRequiredError, no plaintext fallback, no LOGIN;
5. a certificate for another host, self-signed or expired fails the handshake by
   default, with implicit TLS and with STARTTLS (scripted server and Dovecot).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from pathlib import Path

import pytest
from fakeserver import FakeServer, Script, client_ssl_context, fake_ca
from safety_support import TIMEOUT, assert_dead, connect

from imapclient import IMAPClient
from imapclient.exceptions import IllegalStateError, IMAPClientAbortError, TLSRequiredError
from imapclient.protocol.encoder import Command
from imapclient.protocol.session import Session

SECRET = "starttls-secret-Pw-7731"

# -- 1. bytes after the STARTTLS OK ---------------------------------------------------------

TLS_CAPS = b"IMAP4rev1 AUTH=SCRAM-SHA-256 IDLE"
# In the same segment as the OK: a fake capability list, forged completions for the next
# two tags the client will use, and a literal announcement that would swallow the first
# bytes read over TLS if the framer kept it.
FORGED = (
    b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
    b"A2 OK forged\r\n"
    b"A3 OK forged\r\n"
    b"* 1 FETCH (BODY[] {4096}\r\n"
)


def test_bytes_after_the_starttls_ok_are_discarded_and_capabilities_come_from_tls() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 STARTTLS LOGINDISABLED")
        .expect(b"STARTTLS")
        .send(b"{tag} OK Begin TLS negotiation now\r\n" + FORGED)
        .starttls()
        .capability(TLS_CAPS)
        .expect(b"NOOP")
        .reply(b"OK NOOP real")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        assert client.starttls(client_ssl_context()) == b"Begin TLS negotiation now"
        caps = client.capabilities()
        assert caps == (b"IMAP4REV1", b"AUTH=SCRAM-SHA-256", b"IDLE")
        assert b"AUTH=PLAIN" not in caps and not client.has_capability("AUTH=PLAIN")
        # A2 (CAPABILITY) and A3 (NOOP) were completed by the server's real answers over
        # TLS, not by the forged plaintext OKs.
        text, responses = client.noop()
        assert text == b"NOOP real"
        assert responses == []
        assert client.drain_unsolicited() == []
        client.logout()
    assert server.received == (b"A1 STARTTLS\r\nA2 CAPABILITY\r\nA3 NOOP\r\nA4 LOGOUT\r\n")


def test_session_ignores_everything_after_the_starttls_ok_until_tls_is_established() -> None:
    session = Session()
    session.receive_data(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] hello\r\n")
    starttls = session.send(Command(b"STARTTLS"))
    assert session.data_to_send() == b"A1 STARTTLS\r\n"
    session.receive_data(b"A1 OK go ahead\r\n" + FORGED)
    assert starttls.result is not None and starttls.result.status == b"OK"
    assert session.tls_pending
    assert session.capabilities is None
    assert list(session.unsolicited) == [] and starttls.untagged == []
    session.receive_data(b"A2 OK still plaintext, still ignored\r\n")
    assert session.error is None
    with pytest.raises(IllegalStateError):
        session.send(Command(b"NOOP"))
    assert session.data_to_send() == b""

    session.tls_established()
    capability = session.send(Command(b"CAPABILITY"))
    assert session.data_to_send() == b"A2 CAPABILITY\r\n"
    session.receive_data(b"* CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256\r\nA2 OK over TLS\r\n")
    assert capability.outcome().text == b"over TLS"
    assert session.capabilities == (b"IMAP4REV1", b"AUTH=SCRAM-SHA-256")
    assert list(session.unsolicited) == []


# -- 2. untagged data before STARTTLS completes ---------------------------------------------


def test_untagged_data_before_the_starttls_ok_is_neither_stored_nor_returned() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 STARTTLS")
        .send(b"* 9 EXISTS\r\n")  # before the client has even sent STARTTLS
        .expect(b"STARTTLS")
        .send(
            b'* LIST () "/" Evil\r\n'
            b"* 7 EXISTS\r\n"
            b"* 1 FETCH (UID 1 BODY[] {11}\r\nplain-text!)\r\n"
            b"* OK [ALERT] plaintext alert\r\n"
        )
        .send(b"{tag} OK Begin TLS\r\n")
        .starttls()
        .capability(b"IMAP4rev1")
        .expect(b"NOOP")
        .send(b"* 4 EXISTS\r\n")
        .reply(b"OK NOOP done")
        .expect(b'LIST "" "*"')
        .send(b'* LIST () "/" INBOX\r\n')
        .reply(b"OK LIST done")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.starttls(client_ssl_context())
        assert client.drain_unsolicited() == []
        assert client.capabilities() == (b"IMAP4REV1",)
        assert client.noop() == (b"NOOP done", [(4, b"EXISTS")])
        assert client.list_folders() == [((), b"/", "INBOX")]
        assert client.drain_unsolicited() == []
        client.logout()


# -- 3. PREAUTH when STARTTLS was wanted ------------------------------------------------------


@pytest.mark.parametrize("caps", [b"IMAP4rev1 STARTTLS", None], ids=["caps", "no-caps"])
def test_preauth_greeting_makes_starttls_a_typed_error_and_nothing_is_sent(
    caps: bytes | None,
) -> None:
    script = Script().greeting(caps=caps, status=b"PREAUTH").expect_eof()
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(TLSRequiredError):
            client.starttls(client_ssl_context())
        server.wait_done()  # the client closed the connection
        assert_dead(client)
        with pytest.raises(IMAPClientAbortError):
            client.login("alice", SECRET)
    assert server.received == b""


# -- 4. STARTTLS missing or refused ----------------------------------------------------------

_REFUSALS = {
    # name: (script up to the refusal, everything the client may send)
    "not-announced": (lambda: Script().greeting(caps=b"IMAP4rev1 AUTH=PLAIN"), b""),
    "not-in-capability-answer": (
        lambda: Script().greeting(caps=None).capability(b"IMAP4rev1 AUTH=PLAIN"),
        b"A1 CAPABILITY\r\n",
    ),
    "answered-NO": (
        lambda: (
            Script().greeting(caps=b"IMAP4rev1 STARTTLS").expect(b"STARTTLS").reply(b"NO not now")
        ),
        b"A1 STARTTLS\r\n",
    ),
    "answered-BAD": (
        lambda: (
            Script().greeting(caps=b"IMAP4rev1 STARTTLS").expect(b"STARTTLS").reply(b"BAD what?")
        ),
        b"A1 STARTTLS\r\n",
    ),
}


@pytest.mark.parametrize("case", list(_REFUSALS))
def test_starttls_missing_or_refused_is_a_typed_error_without_plaintext_fallback(
    case: str,
) -> None:
    prologue, allowed = _REFUSALS[case]
    script = prologue().expect_eof()
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(TLSRequiredError):
            client.starttls(client_ssl_context())
        server.wait_done()  # closed by the client, with nothing sent after the refusal
        for attempt in (
            lambda: client.login("alice", SECRET),
            lambda: client.plain_login("alice", SECRET),
            lambda: client.starttls(client_ssl_context()),
        ):
            with pytest.raises(IMAPClientAbortError):
                attempt()
        assert_dead(client)
    assert server.received == allowed
    assert b"LOGIN" not in server.received and SECRET.encode() not in server.received


# -- 5. certificates -------------------------------------------------------------------------

_NOW = dt.datetime.now(dt.timezone.utc)


class SelfSignedCert:
    """A self-signed leaf certificate for localhost and 127.0.0.1, usable as the fake
    server's ``cert`` (it only needs ``configure_cert``)."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        san = x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOW - dt.timedelta(days=1))
            .not_valid_after(_NOW + dt.timedelta(days=30))
            .add_extension(san, critical=False)
            .sign(key, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        self.key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def configure_cert(self, context: ssl.SSLContext) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(str(cert), str(key))


def _bad_cert(kind: str) -> object:
    if kind == "wrong-host":
        return fake_ca().issue_cert("wrong.example")
    if kind == "self-signed":
        return SelfSignedCert()
    if kind == "expired":
        return fake_ca().issue_cert(
            "localhost",
            "127.0.0.1",
            not_before=_NOW - dt.timedelta(days=30),
            not_after=_NOW - dt.timedelta(days=1),
        )
    raise AssertionError(kind)


# Certificates are checked against the name the client connected to: "localhost" (the fake
# server listens on 127.0.0.1, which "localhost" resolves to).
HOST = "localhost"

# OpenSSL verify codes: the handshake must fail for the certificate's own defect, even with
# a context that trusts the CA that issued it.
_VERIFY_CODE = {"wrong-host": 62, "self-signed": 18, "expired": 10}
_KINDS = list(_VERIFY_CODE)


@pytest.mark.parametrize("kind", _KINDS)
def test_implicit_tls_refuses_a_bad_certificate(kind: str) -> None:
    with FakeServer(Script().stall(), tls=True, cert=_bad_cert(kind), check=False) as server:  # type: ignore[arg-type]
        with pytest.raises(ssl.SSLCertVerificationError) as error:
            IMAPClient(HOST, server.port, ssl_context=client_ssl_context(), timeout=TIMEOUT)
    assert error.value.verify_code == _VERIFY_CODE[kind]
    assert server.received == b""


def test_implicit_tls_verifies_by_default() -> None:
    # No ssl_context: the system's trust store, which does not know the test CA.
    with FakeServer(Script().stall(), tls=True, check=False) as server:
        with pytest.raises(ssl.SSLCertVerificationError):
            IMAPClient(HOST, server.port, timeout=TIMEOUT)
    assert server.received == b""


def _starttls_script() -> Script:
    return (
        Script()
        .greeting(caps=b"IMAP4rev1 STARTTLS AUTH=PLAIN")
        .expect(b"STARTTLS")
        .reply(b"OK Begin TLS")
        .starttls()
        .stall()
    )


def _assert_starttls_failure_leaves_nothing_usable(client: IMAPClient) -> None:
    assert_dead(client)
    with pytest.raises(IMAPClientAbortError):
        client.login("alice", SECRET)


@pytest.mark.parametrize("kind", _KINDS)
def test_starttls_refuses_a_bad_certificate(kind: str) -> None:
    cert = _bad_cert(kind)
    with FakeServer(_starttls_script(), cert=cert, check=False) as server:  # type: ignore[arg-type]
        client = IMAPClient(HOST, server.port, ssl=False, timeout=TIMEOUT)
        with pytest.raises(ssl.SSLCertVerificationError) as error:
            client.starttls(client_ssl_context())
        assert error.value.verify_code == _VERIFY_CODE[kind]
        _assert_starttls_failure_leaves_nothing_usable(client)
    assert server.received == b"A1 STARTTLS\r\n"
    # The server saw the handshake fail; it never got to read a command over TLS.
    assert any("TLS handshake failed" in str(e) for e in server.errors)


def test_starttls_verifies_by_default() -> None:
    with FakeServer(_starttls_script(), check=False) as server:
        client = IMAPClient(HOST, server.port, ssl=False, timeout=TIMEOUT)
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls()  # no context anywhere: ssl.create_default_context()
        _assert_starttls_failure_leaves_nothing_usable(client)
    assert server.received == b"A1 STARTTLS\r\n"


# -- 5, against Dovecot ----------------------------------------------------------------------


def _dovecot_context(server: object) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))  # type: ignore[attr-defined]


@pytest.mark.parametrize("fixture", ["dovecot_wrong_host", "dovecot_self_signed"])
def test_dovecot_bad_certificate_fails_implicit_tls(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue(fixture)
    with pytest.raises(ssl.SSLCertVerificationError) as error:
        IMAPClient(
            server.host,
            server.tls_port,
            ssl_context=_dovecot_context(server),
            timeout=TIMEOUT,
        )
    # 62: host name mismatch, 64: IP address mismatch (server.host is an address), 18/19:
    # self-signed.
    expected = {62, 64} if fixture == "dovecot_wrong_host" else {18, 19}
    assert error.value.verify_code in expected


@pytest.mark.parametrize("fixture", ["dovecot_wrong_host", "dovecot_self_signed"])
def test_dovecot_bad_certificate_fails_starttls(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue(fixture)
    client = IMAPClient(server.host, server.port, ssl=False, timeout=TIMEOUT)
    assert client.has_capability("STARTTLS")
    with pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(_dovecot_context(server))
    _assert_starttls_failure_leaves_nothing_usable(client)
