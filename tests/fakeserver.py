"""A scripted IMAP server on 127.0.0.1, for what no real server will do.

Real servers (the private Dovecot of ``conftest.py``) are the first choice for tests. This
server is for the rest: malformed or hostile responses, faults (stalls, disconnects in the
middle of a literal), vendor extensions and quirks. It plays a :class:`Script` to each
client connection over a real socket (plain TCP or TLS), in a background thread.

    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 AUTH=PLAIN")
        .expect(b"LOGIN alice secret")          # the client's line, after its tag
        .reply(b"OK LOGIN completed")            # b"<that tag> OK LOGIN completed\\r\\n"
        .expect(re.compile(rb"SELECT .*"))
        .send(b"* 1 FETCH (BODY[] {10}\\r\\nabc")    # a literal shorter than announced...
        .stall()                                 # ...then silence
    )
    with FakeServer(script) as server:
        client = IMAPClient(server.host, server.port, ssl=False, timeout=1)
        ...
    # leaving the block stops the server and raises AssertionError if the script failed

Rules that keep the test suite safe:

- every wait in the server thread is bounded (``timeout``, 10 s by default) and ends at
  once when the server is stopped; nothing here sleeps;
- a failed expectation closes the client's connection at once (so the client sees EOF
  instead of waiting) and is raised in the test thread by :meth:`FakeServer.wait_done`
  and on leaving the ``with`` block, showing the expected pattern and the client's bytes;
- leaving the ``with`` block never waits for the client: the server finishes whatever
  steps need no more input, and reports a step still waiting for the client as an error.
"""

from __future__ import annotations

import re
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import trustme

__all__ = [
    "DEFAULT_TIMEOUT",
    "FakeServer",
    "Script",
    "client_ssl_context",
    "fake_ca",
    "fake_server_fixture",
]

#: Bound on every wait of the server thread, in seconds.
DEFAULT_TIMEOUT = 10.0

Pattern = bytes | re.Pattern[bytes]

# A literal announcement at the end of a client line: {n}, {n+} (LITERAL+/LITERAL-) or
# ~{n} / ~{n+} (BINARY).
_LITERAL_ANNOUNCEMENT = re.compile(rb"~?\{(\d{1,20})(\+?)\}\Z")
_TAG = b"{tag}"


# -- certificates ---------------------------------------------------------------------

_cert_lock = threading.Lock()
_ca: trustme.CA | None = None
_default_cert: trustme.LeafCert | None = None


def fake_ca() -> trustme.CA:
    """The test CA shared by every fake server (made once per process with trustme).

    Issue other certificates with it, e.g. ``fake_ca().issue_cert("wrong.example")``.
    """
    global _ca
    with _cert_lock:
        if _ca is None:
            import trustme

            _ca = trustme.CA()
        return _ca


def _localhost_cert() -> trustme.LeafCert:
    global _default_cert
    ca = fake_ca()
    with _cert_lock:
        if _default_cert is None:
            _default_cert = ca.issue_cert("localhost", "127.0.0.1")
        return _default_cert


def client_ssl_context() -> ssl.SSLContext:
    """A client context that verifies certificates against :func:`fake_ca` only."""
    context = ssl.create_default_context()
    fake_ca().configure_trust(context)
    return context


def _server_ssl_context(cert: trustme.LeafCert | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    (cert or _localhost_cert()).configure_cert(context)
    return context


# -- scripts --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    kind: str  # the name of the _Connection method that plays it, without "_do_"
    args: tuple[Any, ...]
    desc: str  # for error messages: "expect(b'LOGIN a b')"


def _ready(
    sockets: list[socket.socket], timeout: float | None, event: int = selectors.EVENT_READ
) -> list[Any]:
    """The sockets ready for ``event`` within ``timeout`` (selectors: no FD_SETSIZE limit)."""
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, event)
        return [key.fileobj for key, _ in selector.select(timeout)]


def _show(pattern: Pattern) -> str:
    if isinstance(pattern, re.Pattern):
        return f"re.compile({pattern.pattern!r})"
    return repr(pattern)


def _matches(pattern: Pattern, data: bytes) -> bool:
    if isinstance(pattern, re.Pattern):
        return pattern.fullmatch(data) is not None
    return pattern == data


class Script:
    """The steps the server plays to one client connection, built by chaining.

    Client lines are read up to CRLF and matched without it: a ``bytes`` pattern must be
    equal, a compiled regex must match the whole line (``fullmatch``). A line ending in a
    literal announcement (``{n}``, ``{n+}``, ``~{n}``) stops there; say what to do next
    with :meth:`expect_literal` (or reply instead, to refuse the literal).

    If a script ends without :meth:`close` or :meth:`stall`, the server closes the
    connection (FIN) after the last step. A script holds no state of its own and may be
    played by several servers.
    """

    def __init__(self) -> None:
        self.steps: list[_Step] = []

    def __repr__(self) -> str:
        return "Script(" + ", ".join(step.desc for step in self.steps) + ")"

    def _add(self, kind: str, desc: str, *args: Any) -> Script:
        if self.steps and self.steps[-1].kind in ("stall", "close"):
            raise ValueError(f"no step may follow {self.steps[-1].desc}")
        self.steps.append(_Step(kind, args, desc))
        return self

    def _has_tag(self) -> bool:
        return any(step.kind == "expect" for step in self.steps)

    # -- what the server sends ---------------------------------------------------------

    def send(self, data: bytes) -> Script:
        """Send ``data`` as one ``sendall``: anything at all (partial lines, literals,
        garbage). ``{tag}`` is replaced by the tag of the last :meth:`expect`-ed line."""
        if _TAG in data and not self._has_tag():
            raise ValueError("send() uses {tag} before any expect()")
        return self._add("send", f"send({data!r})", data)

    def reply(self, text: bytes) -> Script:
        """Send ``<tag> text CRLF`` with the tag of the last :meth:`expect`-ed line."""
        if not self._has_tag():
            raise ValueError("reply() before any expect(): no tag to reply to")
        return self._add("reply", f"reply({text!r})", text)

    def greeting(
        self,
        caps: bytes | None = b"IMAP4rev1",
        *,
        status: bytes = b"OK",
        text: bytes = b"fake IMAP server ready",
    ) -> Script:
        """Send ``* OK [CAPABILITY caps] text`` (no response code when ``caps`` is None;
        ``status`` may be ``PREAUTH`` or ``BYE``)."""
        code = b"[CAPABILITY " + caps + b"] " if caps is not None else b""
        return self.send(b"* " + status + b" " + code + text + b"\r\n")

    # -- what the server reads ---------------------------------------------------------

    def expect(self, pattern: Pattern) -> Script:
        """Read one tagged command line; ``pattern`` is matched against what follows the
        tag and a space (``b"LOGIN alice secret"``). The tag is remembered for replies."""
        return self._add("expect", f"expect({_show(pattern)})", pattern)

    def expect_line(self, pattern: Pattern) -> Script:
        """Read one line and match all of it (no tag): AUTHENTICATE data, ``DONE`` after
        IDLE, or the rest of a command after a literal (``b" {4}"``, or ``b""`` for the
        bare CRLF that ends it). The remembered tag is unchanged."""
        return self._add("expect_line", f"expect_line({_show(pattern)})", pattern)

    def expect_literal(
        self, data: Pattern | None = None, *, go_ahead: bytes = b"+ go ahead\r\n"
    ) -> Script:
        """Read the literal announced at the end of the last line read: for a
        synchronising ``{n}``, send ``go_ahead`` first; for ``{n+}`` just read. The ``n``
        bytes are matched against ``data`` when given."""
        if not any(step.kind in ("expect", "expect_line") for step in self.steps):
            raise ValueError("expect_literal() must follow the expect() of its line")
        desc = "expect_literal()" if data is None else f"expect_literal({_show(data)})"
        return self._add("expect_literal", desc, data, go_ahead)

    def expect_eof(self) -> Script:
        """Wait for the client to close the connection; anything it sends first fails."""
        return self._add("expect_eof", "expect_eof()")

    # -- connection events -------------------------------------------------------------

    def starttls(self) -> Script:
        """Do the server side of a TLS handshake now (after the OK to STARTTLS was sent).
        Fails if the client sent anything after its STARTTLS line before the handshake."""
        return self._add("starttls", "starttls()")

    def stall(self) -> Script:
        """Send nothing more; keep the connection open until the client closes it or the
        server stops (at most ``timeout``, after which it is closed and reported)."""
        return self._add("stall", "stall()")

    def close(self) -> Script:
        """Close the connection (FIN) now; what the client sends later is still recorded."""
        return self._add("close", "close()")

    # -- common exchanges --------------------------------------------------------------

    def capability(self, caps: bytes = b"IMAP4rev1") -> Script:
        """Answer a CAPABILITY command."""
        return (
            self.expect(b"CAPABILITY")
            .send(b"* CAPABILITY " + caps + b"\r\n")
            .reply(b"OK CAPABILITY completed")
        )

    def login_ok(self, text: bytes = b"LOGIN completed") -> Script:
        """Accept any LOGIN whose arguments fit on its line (no literals)."""
        return self.expect(re.compile(rb"LOGIN .+")).reply(b"OK " + text)

    def logout(self) -> Script:
        """Answer LOGOUT with BYE and OK (the connection is then closed)."""
        return self.expect(b"LOGOUT").send(b"* BYE logging out\r\n").reply(b"OK LOGOUT completed")


# -- the server -----------------------------------------------------------------------


class _Failure(Exception):
    """The client did not do what the script expected."""


class _Stopped(Exception):
    """The server was stopped while a step waited for the client."""


class _Connection:
    """Plays one script to one accepted socket, in its own thread."""

    def __init__(self, server: FakeServer, number: int, script: Script, sock: socket.socket):
        self.server = server
        self.number = number  # 1-based, for messages
        self.script = script
        self.sock = sock
        self.buf = bytearray()  # received, not yet consumed by a step
        self.received = bytearray()  # everything received
        self.tag: bytes | None = None
        self.literal: tuple[int, bool] | None = None  # (size, synchronising) if announced
        self.eof = False
        self.where = "before the first step"
        self.deadline = 0.0
        sock.settimeout(server.timeout)

    # -- the thread ------------------------------------------------------------------

    def run(self) -> None:
        finished = self.server._finished[self.number - 1]
        end: str | None = None
        try:
            end = self._play()
        except _Failure as exc:
            self._record(str(exc))
        except _Stopped:
            self._record(
                "still waiting for the client when the server was stopped" + self._received_note()
            )
        except (OSError, ssl.SSLError) as exc:
            self._record(f"{type(exc).__name__}: {exc}" + self._received_note(), exc)
        finally:
            finished.set()
        try:
            if end is not None:
                self._linger(end)
        finally:
            self._close()

    def _play(self) -> str:
        if self.server.tls:
            self.where = "implicit TLS handshake"
            self._start_deadline()
            self._tls_handshake()
        for number, step in enumerate(self.script.steps, 1):
            self.where = f"step {number} {step.desc}"
            self._start_deadline()
            if step.kind in ("stall", "close"):
                return step.kind
            getattr(self, "_do_" + step.kind)(*step.args)
        return "close"

    def _linger(self, end: str) -> None:
        """After the script: for close, send FIN; then record what the client sends until
        it closes, the server stops or the timeout passes."""
        self.where = "after the script" if end == "close" else "stall()"
        if end == "close":
            try:
                # socket.socket's own shutdown: SSLSocket.shutdown would drop the TLS layer
                # and make later reads return raw records.
                socket.socket.shutdown(self.sock, socket.SHUT_WR)
            except OSError:
                return
        self._start_deadline()
        try:
            while not self.eof:
                self._fill()
        except TimeoutError:
            if end == "stall":
                self._record(
                    f"the client neither closed the connection nor gave up within "
                    f"{self.server.timeout} s; closing it"
                )
        except (_Stopped, OSError, ssl.SSLError):
            pass

    def _record(self, message: str, cause: BaseException | None = None) -> None:
        error = AssertionError(f"fake server, script {self.number}, {self.where}: {message}")
        error.__cause__ = cause
        self.server._add_error(error)
        self._close()  # the client must see the failure at once, never wait for it

    def _close(self) -> None:
        if self.sock.fileno() == -1:
            return
        try:  # read what has arrived: it is recorded, and closing then sends FIN, not RST
            for _ in range(16):
                if not _ready([self.sock], 0):
                    break
                data = self.sock.recv(65536)
                if not data:
                    break
                self.received += data
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _received_note(self) -> str:
        tail = bytes(self.received[-300:])
        more = "..." if len(self.received) > 300 else ""
        unread = f"; unread: {bytes(self.buf)!r}" if self.buf else ""
        return f"\n  client sent so far: {more}{tail!r}{unread}"

    # -- reading -----------------------------------------------------------------------

    def _start_deadline(self) -> None:
        self.deadline = time.monotonic() + self.server.timeout

    def _wait_readable(self) -> None:
        """Return once the socket has data (or EOF) to read.

        Raises TimeoutError at the step's deadline, and _Stopped when the server stops
        while nothing is left to read.
        """
        wake = self.server._wake_r
        while True:
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                return
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no data from the client within {self.server.timeout} s")
            ready = _ready([self.sock, wake], remaining)
            if self.sock in ready:
                return
            if ready:  # stopping: go on only with what has already arrived
                if _ready([self.sock], 0):
                    return
                raise _Stopped

    def _fill(self) -> None:
        """Receive some bytes into the buffer; sets eof at EOF."""
        self._wait_readable()
        try:
            data = self.sock.recv(65536)
        except ssl.SSLWantReadError:
            return
        except (ConnectionResetError, ssl.SSLEOFError):
            data = b""
        if not data:
            self.eof = True
            return
        self.buf += data
        self.received += data

    def _read_line(self) -> bytes:
        start = 0
        while True:
            end = self.buf.find(b"\n", start)
            if end >= 0:
                break
            start = len(self.buf)
            if self.eof:
                self._fail_eof("a line")
            self._fill_or_fail()
        line = bytes(self.buf[:end])
        del self.buf[: end + 1]
        if not line.endswith(b"\r"):
            raise _Failure(f"the client ended a line with a bare LF: {line!r} + LF")
        line = line[:-1]
        match = _LITERAL_ANNOUNCEMENT.search(line)
        self.literal = (int(match[1]), not match[2]) if match else None
        return line

    def _read_exact(self, size: int) -> bytes:
        while len(self.buf) < size:
            if self.eof:
                self._fail_eof(f"{size} bytes of literal data")
            self._fill_or_fail()
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    def _fill_or_fail(self) -> None:
        try:
            self._fill()
        except TimeoutError as exc:
            raise _Failure(
                f"timed out after {self.server.timeout} s waiting for the client"
                + self._received_note()
            ) from exc

    def _fail_eof(self, wanted: str) -> None:
        raise _Failure(
            f"the client closed the connection while the server waited for {wanted}"
            + self._received_note()
        )

    # -- the steps ---------------------------------------------------------------------

    def _sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _do_send(self, data: bytes) -> None:
        if _TAG in data:
            if self.tag is None:
                raise _Failure("send() uses {tag} but no tagged line was read")
            data = data.replace(_TAG, self.tag)
        self._sendall(data)

    def _do_reply(self, text: bytes) -> None:
        if self.tag is None:
            raise _Failure("reply() but no tagged line was read")
        self._sendall(self.tag + b" " + text + b"\r\n")

    def _do_expect(self, pattern: Pattern) -> None:
        line = self._read_line()
        tag, space, rest = line.partition(b" ")
        if not (tag and space and _matches(pattern, rest)):
            raise _Failure(
                "the client's command did not match\n"
                f"  expected: <tag> {_show(pattern)}\n"
                f"  received: {line!r}"
            )
        self.tag = tag

    def _do_expect_line(self, pattern: Pattern) -> None:
        line = self._read_line()
        if not _matches(pattern, line):
            raise _Failure(
                f"the client's line did not match\n  expected: {_show(pattern)}\n"
                f"  received: {line!r}"
            )

    def _do_expect_literal(self, pattern: Pattern | None, go_ahead: bytes) -> None:
        if self.literal is None:
            raise _Failure("the last line read did not end with a literal announcement")
        size, synchronising = self.literal
        self.literal = None
        if synchronising:
            self._sendall(go_ahead)
        data = self._read_exact(size)
        if pattern is not None and not _matches(pattern, data):
            raise _Failure(
                f"the literal did not match\n  expected: {_show(pattern)}\n  received: {data!r}"
            )

    def _do_expect_eof(self) -> None:
        while not self.buf and not self.eof:
            self._fill_or_fail()
        if self.buf:
            raise _Failure(
                f"expected the client to close the connection, but it sent {bytes(self.buf)!r}"
            )

    def _do_starttls(self) -> None:
        if self.buf:
            raise _Failure(
                f"the client sent data after STARTTLS before the TLS handshake: {bytes(self.buf)!r}"
            )
        self._tls_handshake()

    def _tls_handshake(self) -> None:
        context = self.server._server_context()
        tls = context.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
        self.sock = tls
        tls.setblocking(False)
        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self._wait_readable()
                except ssl.SSLWantWriteError:
                    remaining = self.deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError("TLS handshake timed out") from None
                    _ready([tls], remaining, selectors.EVENT_WRITE)
        except (OSError, ssl.SSLError) as exc:
            raise _Failure(f"TLS handshake failed: {exc}") from exc
        finally:
            tls.settimeout(self.server.timeout)


class FakeServer:
    """Listens on 127.0.0.1 and plays each script to one connection, in the order clients
    connect (further connections are refused). Use it as a context manager, or call
    :meth:`start` and :meth:`stop`.

    ``tls=True`` makes it an implicit-TLS server (like port 993) with ``cert`` (a
    ``trustme.LeafCert``; by default one for ``localhost`` and ``127.0.0.1`` from
    :func:`fake_ca`). ``timeout`` bounds every wait of the server. With ``check=False``
    errors are only collected in :attr:`errors`, never raised (for tests whose client is
    meant to break the script, e.g. by rejecting the certificate).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *scripts: Script,
        tls: bool = False,
        cert: trustme.LeafCert | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
    ) -> None:
        self.scripts = scripts
        self.tls = tls
        self.cert = cert
        self.timeout = timeout
        self.check = check
        #: Failures of the scripts, as AssertionErrors, in the order they happened.
        self.errors: list[AssertionError] = []
        self._errors_lock = threading.Lock()
        self._finished = [threading.Event() for _ in scripts]
        self._connections: list[_Connection] = []
        self._threads: list[threading.Thread] = []
        self._accept_thread: threading.Thread | None = None
        self._stopped = False
        self._context: ssl.SSLContext | None = None
        if tls or any(step.kind == "starttls" for script in scripts for step in script.steps):
            self._context = _server_ssl_context(cert)  # fail early, in the test thread
        self._listener = socket.create_server((self.host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()

    def __repr__(self) -> str:
        return f"<FakeServer {self.host}:{self.port} tls={self.tls} scripts={len(self.scripts)}>"

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> FakeServer:
        if self._accept_thread is None:
            self._accept_thread = threading.Thread(
                target=self._accept_loop, name=f"FakeServer:{self.port}", daemon=True
            )
            self._accept_thread.start()
        return self

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self.stop()
        if exc_type is None:  # never mask the test's own exception
            self.assert_no_errors()

    def stop(self) -> None:
        """Stop serving: steps that can go on without the client still run; a step
        waiting for the client is reported as an error. Joins every thread."""
        if self._stopped:
            return
        self._stopped = True
        self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(self.timeout)
        for thread in self._threads:
            thread.join(self.timeout + 1)
            if thread.is_alive():  # pragma: no cover - would be a bug in this module
                self._add_error(AssertionError(f"fake server thread {thread.name} hung"))
        for number, finished in enumerate(self._finished, 1):
            if not finished.is_set():
                self._add_error(
                    AssertionError(f"fake server, script {number}: no client connected")
                )
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def wait_done(self, timeout: float | None = None) -> None:
        """Wait until every script has been played to its end (a final :meth:`Script.stall`
        counts as the end) or has failed; raise AssertionError if one failed or is not
        done within ``timeout`` (default: the server's; no wait once stopped)."""
        if timeout is None:
            timeout = 0.0 if self._stopped else self.timeout
        deadline = time.monotonic() + timeout
        for number, finished in enumerate(self._finished, 1):
            if not finished.wait(max(0.0, deadline - time.monotonic())):
                where = (
                    self._connections[number - 1].where
                    if len(self._connections) >= number
                    else "no client connected yet"
                )
                raise AssertionError(f"fake server, script {number} not done: {where}")
        self.assert_no_errors()

    def assert_no_errors(self) -> None:
        """Raise AssertionError for the errors so far (unless ``check=False``)."""
        if not self.check or not self.errors:
            return
        if len(self.errors) == 1:
            raise self.errors[0]
        raise AssertionError("\n".join(str(error) for error in self.errors)) from self.errors[0]

    # -- what the test inspects --------------------------------------------------------

    @property
    def received(self) -> bytes:
        """Everything clients sent (decrypted), all connections in script order. Complete
        once the server is stopped, or after wait_done() when scripts end in expect_eof()."""
        return b"".join(bytes(connection.received) for connection in self._connections)

    def received_on(self, number: int) -> bytes:
        """What the client of script ``number`` (1-based) sent."""
        return bytes(self._connections[number - 1].received)

    def ssl_context_for_client(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (see client_ssl_context)."""
        return client_ssl_context()

    # -- internals ---------------------------------------------------------------------

    def _server_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = _server_ssl_context(self.cert)
        return self._context

    def _add_error(self, error: AssertionError) -> None:
        with self._errors_lock:
            self.errors.append(error)

    def _accept_loop(self) -> None:
        try:
            for number, script in enumerate(self.scripts, 1):
                if self._listener not in _ready([self._listener, self._wake_r], None):
                    return  # stopped
                sock, _ = self._listener.accept()
                if number == len(self.scripts):
                    self._listener.close()  # before the last script can finish
                connection = _Connection(self, number, script, sock)
                self._connections.append(connection)
                thread = threading.Thread(
                    target=connection.run, name=f"FakeServer:{self.port}#{number}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        finally:
            self._listener.close()  # connections beyond the scripts are refused


# -- pytest ---------------------------------------------------------------------------


@pytest.fixture(name="fake_server")
def fake_server_fixture() -> Iterator[Callable[..., FakeServer]]:
    """A factory: ``server = fake_server(script, ..., tls=True)`` starts a FakeServer; at
    teardown every server started is stopped and its errors are raised."""
    servers: list[FakeServer] = []

    def start(*scripts: Script, **options: Any) -> FakeServer:
        server = FakeServer(*scripts, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        server.assert_no_errors()
