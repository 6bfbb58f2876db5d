"""Blocking byte transports for the blocking client: a TCP socket (plain or TLS) and a
subprocess whose stdin/stdout carry the IMAP session (``stream=True``)."""

from __future__ import annotations

import os
import selectors
import shlex
import socket
import ssl
import subprocess
from typing import NamedTuple, Protocol

from .exceptions import ConnectionClosedError, IMAPTimeoutError

__all__ = ["ProcessTransport", "SocketTimeout", "SocketTransport", "Transport"]

#: Bytes asked for per read: large reads keep the per-call overhead off the hot path.
READ_SIZE = 256 * 1024


class SocketTimeout(NamedTuple):
    """Separate timeouts, in seconds: ``connect`` for establishing the connection (TCP
    and TLS handshake), ``read`` for each later read. None means no timeout."""

    connect: float | None
    read: float | None


class Transport(Protocol):
    """What the blocking client needs of a connection: read what arrives into a buffer
    (0 bytes at EOF), wait until something can be read, write everything, close."""

    def read_into(self, buffer: memoryview) -> int: ...
    def wait_readable(self, timeout: float | None) -> bool: ...
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class SocketTransport:
    """A TCP connection, optionally wrapped in TLS."""

    def __init__(self, sock: socket.socket, read_timeout: float | None) -> None:
        self.sock = sock
        self.read_timeout = read_timeout
        sock.settimeout(read_timeout)

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        timeout: SocketTimeout,
        ssl_context: ssl.SSLContext | None,
    ) -> SocketTransport:
        sock = socket.create_connection((host, port), timeout=timeout.connect)
        try:
            if ssl_context is not None:
                sock.settimeout(timeout.connect)
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return cls(sock, timeout.read)

    def read_into(self, buffer: memoryview) -> int:
        """Read what is available into ``buffer`` (straight from the socket, no copy);
        returns the number of bytes, 0 at EOF. A read timeout raises
        :class:`IMAPTimeoutError`."""
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError as exc:
            raise IMAPTimeoutError("timed out waiting for the server") from exc
        except ssl.SSLError as exc:
            raise ConnectionClosedError(f"TLS error while reading: {exc}") from exc

    def wait_readable(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds (None: forever) for data; False on timeout."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True  # decrypted bytes already buffered inside the SSL object
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            return bool(selector.select(timeout))

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def start_tls(self, context: ssl.SSLContext, host: str) -> None:
        """Wrap the connection in TLS (after STARTTLS)."""
        self.sock = context.wrap_socket(self.sock, server_hostname=host)
        self.sock.settimeout(self.read_timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class ProcessTransport:
    """A subprocess speaking IMAP on its stdin/stdout (``stream=True``).

    ``command`` is run without a shell (split with :func:`shlex.split`), so a command
    string from configuration cannot expand shell syntax by accident.
    """

    def __init__(self, command: str, read_timeout: float | None) -> None:
        self.read_timeout = read_timeout
        self.process = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin = self.process.stdin
        self._stdout_fd = self.process.stdout.fileno()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._stdout_fd, selectors.EVENT_READ)

    def read_into(self, buffer: memoryview) -> int:
        if not self._selector.select(self.read_timeout):
            raise IMAPTimeoutError("timed out waiting for the server process")
        return os.readv(self._stdout_fd, [buffer])

    def wait_readable(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds (None: forever) for data; False on timeout."""
        return bool(self._selector.select(timeout))

    def write(self, data: bytes) -> None:
        try:
            self._stdin.write(data)
            self._stdin.flush()
        except BrokenPipeError as exc:
            raise ConnectionClosedError("the server process closed its input") from exc

    def close(self) -> None:
        self._selector.close()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
