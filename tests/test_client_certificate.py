"""The spec's pass-through ``keyfile``/``certfile`` load a client certificate: a TLS
listener that requires one accepts the client only when they are given."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest
import trustme

from imapclient import IMAPClient
from imapclient.exceptions import ConnectionClosedError


class CertRequiringServer:
    """Accepts one TLS connection that must present a client certificate, greets with
    the certificate's subject and answers LOGOUT."""

    def __init__(self, ca: trustme.CA) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(10)
        try:
            raw, _ = self.listener.accept()
            raw.settimeout(10)
            with self.context.wrap_socket(raw, server_side=True) as conn:
                subject = dict(x[0] for x in conn.getpeercert()["subject"])
                name = subject.get("commonName") or subject.get("organizationalUnitName")
                conn.sendall(b"* OK client " + str(name).encode() + b"\r\n")
                line = conn.recv(1024)
                tag = line.split(b" ", 1)[0]
                conn.sendall(b"* BYE bye\r\n" + tag + b" OK LOGOUT completed\r\n")
        except BaseException as exc:  # reported to the test through .error
            self.error = exc
        finally:
            self.listener.close()

    def join(self) -> None:
        self.thread.join(timeout=10)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_keyfile_and_certfile_present_a_client_certificate(ca, tmp_path: Path) -> None:
    leaf = ca.issue_cert("alice@example.com")
    certfile = tmp_path / "client.pem"
    keyfile = tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(certfile))
    leaf.private_key_pem.write_to_path(str(keyfile))
    server = CertRequiringServer(ca)
    client = IMAPClient(
        "127.0.0.1",
        port=server.port,
        ssl_context=client_context(ca),
        keyfile=str(keyfile),
        certfile=str(certfile),
        timeout=10,
    )
    assert client.welcome.startswith(b"client ")
    assert client.logout() == b"bye"
    server.join()
    assert server.error is None


def test_without_a_client_certificate_the_handshake_fails(ca) -> None:
    server = CertRequiringServer(ca)
    # TLS 1.2 refuses in the handshake; TLS 1.3 reports it on the first read (the greeting).
    with pytest.raises((ssl.SSLError, ConnectionClosedError), match=r"(?i)certificate"):
        IMAPClient("127.0.0.1", port=server.port, ssl_context=client_context(ca), timeout=10)
    server.join()
    assert isinstance(server.error, ssl.SSLError)


def test_keyfile_without_certfile_is_refused() -> None:
    with pytest.raises(ValueError, match="certfile"):
        IMAPClient("127.0.0.1", port=1, keyfile="client.key")
