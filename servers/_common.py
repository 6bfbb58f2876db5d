"""What the private test servers (dovecot.py, cyrus.py, courier.py) share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["PrivateServer", "ServerAccount", "check_ports"]


@dataclass(frozen=True)
class ServerAccount:
    """One user on a private server, with what a client needs to log in. ``server`` has
    ``host``, ``port``, ``tls_port``, ``ca_file``, ``seed(user, messages, folder)`` and
    ``kick(user)``."""

    server: Any
    username: str
    password: str

    @property
    def host(self) -> str:
        """The address to connect to (127.0.0.1)."""
        return str(self.server.host)

    @property
    def port(self) -> int:
        """The plain IMAP port (STARTTLS available)."""
        return int(self.server.port)

    @property
    def tls_port(self) -> int:
        """The implicit-TLS IMAP port."""
        return int(self.server.tls_port)

    @property
    def ca_file(self) -> Path:
        """PEM file of the CA that signed the server's certificate."""
        return Path(self.server.ca_file)

    def seed(self, messages: Sequence[Any], folder: str = "INBOX") -> None:
        """Add messages to one of this user's folders (the server's own way: see its
        ``seed``)."""
        self.server.seed(self.username, messages, folder)

    def kick(self) -> None:
        """Make the server close all of this user's connections."""
        self.server.kick(self.username)


_S = TypeVar("_S", bound="PrivateServer")


def check_ports(port: int, tls_port: int) -> None:
    """Fixed ports come in pairs: both or neither."""
    if bool(port) != bool(tls_port):
        raise ValueError("give both port and tls_port, or neither")


class PrivateServer:
    """What every private server shares: ``with`` starts and stops it, and where it
    keeps its private CA and certificate (made by ``dovecot.generate_tls``) under
    ``state_dir``."""

    state_dir: Path
    cert: str

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def tls_dir(self) -> Path:
        """Directory of the CA and server certificates and keys."""
        return self.state_dir / "tls"

    @property
    def ca_file(self) -> Path:
        """PEM file of the private CA; clients verify the server against it."""
        return self.tls_dir / "ca.pem"

    @property
    def cert_file(self) -> Path:
        """PEM file of the certificate the server presents."""
        return self.tls_dir / f"{self.cert}.pem"

    @property
    def key_file(self) -> Path:
        """PEM file of the private key of cert_file."""
        return self.tls_dir / f"{self.cert}.key"
