"""The scripted fake server works: tested with plain sockets and ssl as the client.

Nothing here sleeps: waits end on data, EOF, or a client read timeout.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable

import pytest
from fakeserver import (
    FakeServer,
    Script,
    client_ssl_context,
    fake_ca,
    fake_server_fixture,  # noqa: F401  (the fixture `fake_server`)
)

GREETING = b"* OK [CAPABILITY IMAP4rev1] fake IMAP server ready\r\n"


class Client:
    """A minimal line-oriented client over a real socket."""

    def __init__(
        self, server: FakeServer, *, tls: bool = False, hostname: str = "localhost"
    ) -> None:
        self.sock: socket.socket = socket.create_connection((server.host, server.port), timeout=5)
        if tls:
            context = server.ssl_context_for_client()
            self.sock = context.wrap_socket(self.sock, server_hostname=hostname)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self) -> bytes:
        return self.sock.recv(65536)

    def line(self) -> bytes:
        """One line, CRLF included; raises EOFError at end of stream."""
        while b"\r\n" not in self.buf:
            data = self.recv()
            if not data:
                raise EOFError(self.buf)
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line + b"\r\n"

    def until_eof(self) -> bytes:
        data, self.buf = self.buf, b""
        while chunk := self.recv():
            data += chunk
        return data

    def starttls(self, hostname: str = "localhost") -> None:
        assert not self.buf
        self.sock = client_ssl_context().wrap_socket(self.sock, server_hostname=hostname)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_eof_or_reset(client: Client) -> bytes:
    """Everything up to the server's close (a reset counts as a close)."""
    try:
        return client.until_eof()
    except ConnectionResetError:
        return b""


# -- greeting, expect, reply -------------------------------------------------------------


def test_greeting() -> None:
    with FakeServer(Script().greeting()) as server, Client(server) as client:
        assert client.line() == GREETING
        assert client.until_eof() == b""  # the script ended: the server closed


def test_greeting_variants() -> None:
    script = (
        Script()
        .greeting(caps=None)
        .greeting(caps=b"IMAP4rev1 AUTH=PLAIN", status=b"PREAUTH", text=b"hi")
    )
    with FakeServer(script) as server, Client(server) as client:
        assert client.until_eof() == (
            b"* OK fake IMAP server ready\r\n* PREAUTH [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"
        )


def test_expect_and_reply_use_the_clients_tag() -> None:
    script = (
        Script()
        .greeting()
        .expect(b"NOOP")
        .reply(b"OK NOOP done")
        .expect(re.compile(rb"SELECT \S+"))
        .send(b"* 3 EXISTS\r\n{tag} OK [READ-WRITE] selected\r\n")
    )
    with FakeServer(script) as server, Client(server) as client:
        client.line()
        client.send(b"x7 NOOP\r\n")
        assert client.line() == b"x7 OK NOOP done\r\n"
        client.send(b"A8 SELECT INBOX\r\n")
        assert client.line() == b"* 3 EXISTS\r\n"
        assert client.line() == b"A8 OK [READ-WRITE] selected\r\n"
        server.wait_done()


def test_convenience_exchanges() -> None:
    script = Script().greeting(caps=None).capability(b"IMAP4rev1 IDLE").login_ok().logout()
    with FakeServer(script) as server, Client(server) as client:
        client.line()
        client.send(b"A1 CAPABILITY\r\n")
        assert client.line() == b"* CAPABILITY IMAP4rev1 IDLE\r\n"
        assert client.line() == b"A1 OK CAPABILITY completed\r\n"
        client.send(b'A2 LOGIN alice "s e c"\r\n')
        assert client.line() == b"A2 OK LOGIN completed\r\n"
        client.send(b"A3 LOGOUT\r\n")
        assert client.until_eof() == b"* BYE logging out\r\nA3 OK LOGOUT completed\r\n"


def test_expect_line_matches_untagged_lines() -> None:
    script = (
        Script()
        .expect(b"IDLE")
        .send(b"+ idling\r\n")
        .expect_line(b"DONE")
        .reply(b"OK IDLE terminated")
    )
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 IDLE\r\n")
        assert client.line() == b"+ idling\r\n"
        client.send(b"DONE\r\n")
        assert client.line() == b"A1 OK IDLE terminated\r\n"


def test_pipelined_commands_are_read_one_line_at_a_time() -> None:
    script = Script().expect(b"NOOP").reply(b"OK one").expect(b"NOOP").reply(b"OK two")
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 NOOP\r\nA2 NOOP\r\n")
        assert client.until_eof() == b"A1 OK one\r\nA2 OK two\r\n"


def test_one_send_is_one_segment() -> None:
    data = b"A1 OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
    with FakeServer(Script().send(data).stall()) as server, Client(server) as client:
        assert client.recv() == data


def test_send_passes_any_bytes() -> None:
    garbage = bytes(range(256)) + b"* 1 FETCH (BODY[] {100}\r\npartial"
    with FakeServer(Script().send(garbage)) as server, Client(server) as client:
        assert client.until_eof() == garbage


# -- failures are reported clearly and end the connection ---------------------------------


def test_mismatch_reports_both_lines_and_closes_the_connection() -> None:
    script = Script().greeting().expect(b"CAPABILITY").reply(b"OK")
    with pytest.raises(AssertionError) as info:
        with FakeServer(script) as server, Client(server) as client:
            client.line()
            client.send(b"A1 LOGIN x y\r\n")
            assert connect_eof_or_reset(client) == b""  # closed at once, nothing more sent
            with pytest.raises(AssertionError):
                server.wait_done()
    message = str(info.value)
    assert "script 1, step 2 expect(b'CAPABILITY')" in message
    assert "expected: <tag> b'CAPABILITY'" in message
    assert "received: b'A1 LOGIN x y'" in message


def test_regex_mismatch_shows_the_pattern() -> None:
    server = FakeServer(Script().expect(re.compile(rb"FETCH \d+ .*")))
    with server, Client(server) as client:
        client.send(b"A1 FETCH x FLAGS\r\n")
        connect_eof_or_reset(client)
        with pytest.raises(AssertionError, match=re.escape("re.compile(b'FETCH \\\\d+ .*')")):
            server.wait_done()
        server.check = False  # reported above; do not raise again on exit
    assert len(server.errors) == 1


def test_untagged_line_does_not_match_expect() -> None:
    server = FakeServer(Script().expect(b""), check=False)
    with server, Client(server) as client:
        client.send(b"DONE\r\n")
        connect_eof_or_reset(client)
    assert "received: b'DONE'" in str(server.errors[0])


def test_client_closing_early_is_reported() -> None:
    server = FakeServer(Script().greeting().expect(b"NOOP"), check=False)
    with server, Client(server) as client:
        client.line()
        client.send(b"A1 NO")  # half a line, then close
        client.close()
        server.wait_done()
    (error,) = server.errors
    assert "step 2 expect(b'NOOP')" in str(error)
    assert "client closed the connection" in str(error)
    assert "b'A1 NO'" in str(error)


def test_bare_lf_from_the_client_is_reported() -> None:
    server = FakeServer(Script().expect(b"NOOP"), check=False)
    with server, Client(server) as client:
        client.send(b"A1 NOOP\n")
        connect_eof_or_reset(client)
    assert "bare LF" in str(server.errors[0])


def test_server_timeout_bounds_a_wait_for_the_client() -> None:
    server = FakeServer(Script().expect(b"NOOP"), timeout=0.2, check=False)
    start = time.monotonic()
    with server, Client(server) as client:
        assert connect_eof_or_reset(client) == b""  # closed by the server when it gave up
        server.wait_done()
    assert time.monotonic() - start < 5
    assert "timed out after 0.2 s" in str(server.errors[0])


def test_leaving_the_block_never_waits_for_an_unfinished_script() -> None:
    start = time.monotonic()
    server = FakeServer(Script().greeting().expect(b"NOOP"))
    with pytest.raises(AssertionError, match=r"step 2 expect.*still waiting for the client"):
        with server:
            client = Client(server)  # still open when the block ends
            client.line()
    assert time.monotonic() - start < 5
    assert connect_eof_or_reset(client) == b""  # the server closed its side
    client.close()


def test_a_script_nobody_connects_to_is_reported_without_waiting() -> None:
    start = time.monotonic()
    with pytest.raises(AssertionError, match="script 2: no client connected"):
        with FakeServer(Script().greeting(), Script().greeting()) as server:
            with Client(server) as client:
                client.until_eof()
    assert time.monotonic() - start < 5


def test_wait_done_times_out_when_the_script_is_not_done() -> None:
    server = FakeServer(Script().greeting().expect(b"NOOP"), check=False)
    with server, Client(server) as client:
        client.line()
        with pytest.raises(AssertionError, match="script 1 not done: step 2 expect"):
            server.wait_done(timeout=0.1)


def test_the_test_exception_is_not_masked() -> None:
    with pytest.raises(KeyError):
        with FakeServer(Script().expect(b"NOOP")):
            raise KeyError("the test's own failure")


def test_the_step_after_a_final_step_is_refused() -> None:
    with pytest.raises(ValueError, match="no step may follow stall"):
        Script().stall().send(b"x")
    with pytest.raises(ValueError, match="no step may follow close"):
        Script().close().expect(b"NOOP")
    with pytest.raises(ValueError, match="no tag"):
        Script().reply(b"OK")
    with pytest.raises(ValueError, match="tag"):
        Script().send(b"{tag} OK")
    with pytest.raises(ValueError, match="expect_literal"):
        Script().expect_literal()


# -- received bytes --------------------------------------------------------------------


def test_received_records_everything_the_client_sent() -> None:
    script = Script().greeting().expect(b"LOGIN a b").reply(b"NO [AUTHENTICATIONFAILED] no")
    with FakeServer(script) as server:
        with Client(server) as client:
            client.line()
            client.send(b"A1 LOGIN a b\r\n")
            assert client.line() == b"A1 NO [AUTHENTICATIONFAILED] no\r\n"
            client.send(b"A2 after the script\r\n")
    assert server.received == b"A1 LOGIN a b\r\nA2 after the script\r\n"


def test_nothing_sent_after_a_failure() -> None:
    script = Script().expect(b"LOGIN a b").reply(b"NO no").expect_eof()
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 LOGIN a b\r\n")
        client.line()
        client.close()
        server.wait_done()
        assert server.received == b"A1 LOGIN a b\r\n"


def test_expect_eof_fails_when_the_client_sends_more() -> None:
    server = FakeServer(Script().expect_eof(), check=False)
    with server, Client(server) as client:
        client.send(b"A1 LOGOUT\r\n")
        connect_eof_or_reset(client)
    assert "expected the client to close the connection, but it sent b'A1 LOGOUT\\r\\n'" in str(
        server.errors[0]
    )


# -- close and stall ---------------------------------------------------------------------


def test_close_sends_eof_after_the_data() -> None:
    script = Script().greeting().send(b"* BYE going away\r\n").close()
    with FakeServer(script) as server, Client(server) as client:
        assert client.until_eof() == GREETING + b"* BYE going away\r\n"
        client.send(b"A1 LOGOUT\r\n")  # the server only stopped sending; this is recorded
        client.close()
    assert server.received == b"A1 LOGOUT\r\n"


def test_disconnect_in_the_middle_of_a_literal() -> None:
    script = Script().send(b"* 1 FETCH (BODY[] {10}\r\nabc").close()
    with FakeServer(script) as server, Client(server) as client:
        assert client.until_eof() == b"* 1 FETCH (BODY[] {10}\r\nabc"


def test_stall_keeps_the_connection_open_until_the_client_gives_up() -> None:
    script = Script().greeting().stall()
    with FakeServer(script) as server, Client(server) as client:
        assert client.line() == GREETING
        client.sock.settimeout(0.1)
        with pytest.raises(TimeoutError):
            client.recv()
        server.wait_done()  # a final stall counts as done


def test_stall_ends_when_the_client_closes() -> None:
    with FakeServer(Script().stall()) as server:
        with Client(server) as client:
            client.send(b"A1 NOOP\r\n")
        server.wait_done()
    assert server.received == b"A1 NOOP\r\n"


def test_stall_is_bounded_by_the_server_timeout() -> None:
    server = FakeServer(Script().greeting().stall(), timeout=0.2, check=False)
    with server, Client(server) as client:
        client.line()
        assert connect_eof_or_reset(client) == b""  # no client read timeout: still ends
    assert "neither closed the connection nor gave up" in str(server.errors[0])


def test_literal_shorter_than_announced_then_silence() -> None:
    script = Script().greeting().send(b"* 1 FETCH (BODY[] {10}\r\nabc").stall()
    with FakeServer(script) as server, Client(server) as client:
        client.sock.settimeout(0.2)
        received = b""
        with pytest.raises(TimeoutError):
            while True:
                received += client.recv()
        assert received == GREETING + b"* 1 FETCH (BODY[] {10}\r\nabc"


# -- literals ----------------------------------------------------------------------------


def test_synchronising_literals() -> None:
    script = (
        Script()
        .expect(b"LOGIN {5}")
        .expect_literal(b"alice")
        .expect_line(b" {6}")
        .expect_literal(re.compile(rb"s\r\nc.*"), go_ahead=b"+ more\r\n")
        .expect_line(b"")
        .reply(b"OK LOGIN completed")
    )
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 LOGIN {5}\r\n")
        assert client.line() == b"+ go ahead\r\n"
        client.send(b"alice {6}\r\n")
        assert client.line() == b"+ more\r\n"
        client.send(b"s\r\ncrt\r\n")
        assert client.line() == b"A1 OK LOGIN completed\r\n"
    assert server.received == b"A1 LOGIN {5}\r\nalice {6}\r\ns\r\ncrt\r\n"


def test_non_synchronising_and_binary_literals_get_no_go_ahead() -> None:
    script = (
        Script()
        .expect(b"APPEND INBOX {3+}")
        .expect_literal(b"abc")
        .expect_line(b" ~{2}")
        .expect_literal(b"\x00\x01")
        .expect_line(b"")
        .reply(b"OK APPEND completed")
    )
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 APPEND INBOX {3+}\r\nabc ~{2}\r\n")
        assert client.line() == b"+ go ahead\r\n"  # only for the synchronising ~{2}
        client.send(b"\x00\x01\r\n")
        assert client.line() == b"A1 OK APPEND completed\r\n"


def test_literal_mismatch_is_reported() -> None:
    server = FakeServer(Script().expect(b"X {3+}").expect_literal(b"abc"), check=False)
    with server, Client(server) as client:
        client.send(b"A1 X {3+}\r\nabd\r\n")
        connect_eof_or_reset(client)
    assert "expected: b'abc'\n  received: b'abd'" in str(server.errors[0])


def test_expect_literal_without_an_announcement_is_reported() -> None:
    server = FakeServer(Script().expect(b"NOOP").expect_literal(), check=False)
    with server, Client(server) as client:
        client.send(b"A1 NOOP\r\n")
        connect_eof_or_reset(client)
    assert "did not end with a literal announcement" in str(server.errors[0])


def test_server_that_never_sends_the_continuation() -> None:
    script = Script().expect(b"APPEND INBOX {5}").stall()
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 APPEND INBOX {5}\r\n")
        client.sock.settimeout(0.1)
        with pytest.raises(TimeoutError):
            client.recv()


def test_server_refuses_a_literal() -> None:
    script = Script().expect(b"APPEND INBOX {99999}").reply(b"NO [TOOBIG] too big")
    with FakeServer(script) as server, Client(server) as client:
        client.send(b"A1 APPEND INBOX {99999}\r\n")
        assert client.until_eof() == b"A1 NO [TOOBIG] too big\r\n"


# -- TLS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1"])
def test_tls_server(hostname: str) -> None:
    script = Script().greeting().expect(b"NOOP").reply(b"OK")
    with FakeServer(script, tls=True) as server, Client(server, tls=True, hostname=hostname) as c:
        assert isinstance(c.sock, ssl.SSLSocket)
        assert c.line() == GREETING
        c.send(b"A1 NOOP\r\n")
        assert c.until_eof() == b"A1 OK\r\n"  # the close after the script arrives as EOF
    assert server.received == b"A1 NOOP\r\n"  # decrypted


def test_tls_certificate_not_trusted_by_a_default_context() -> None:
    server = FakeServer(Script().greeting(), tls=True, check=False)
    with server:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            with pytest.raises(ssl.SSLCertVerificationError):
                ssl.create_default_context().wrap_socket(sock, server_hostname="localhost")
        server.wait_done()
    assert "TLS handshake failed" in str(server.errors[0])


def test_tls_with_a_certificate_for_another_host() -> None:
    cert = fake_ca().issue_cert("wrong.example")
    server = FakeServer(Script().greeting(), tls=True, cert=cert, check=False)
    with server, socket.create_connection((server.host, server.port), timeout=5) as sock:
        context = server.ssl_context_for_client()  # trusts the CA, but the name is wrong
        with pytest.raises(ssl.SSLCertVerificationError, match=r"wrong\.example|match"):
            context.wrap_socket(sock, server_hostname="localhost")
    assert "TLS handshake failed" in str(server.errors[0])


def test_starttls_upgrade_with_injected_plaintext() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 STARTTLS LOGINDISABLED")
        .expect(b"STARTTLS")
        .send(b"{tag} OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
        .starttls()
        .capability(b"IMAP4rev1 AUTH=PLAIN")
        .logout()
    )
    with FakeServer(script) as server, Client(server) as client:
        client.line()
        client.send(b"A1 STARTTLS\r\n")
        # Both lines arrive in one segment, as an attacker's injection would.
        assert client.recv() == b"A1 OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
        client.starttls()
        client.send(b"A2 CAPABILITY\r\n")
        assert client.line() == b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
        assert client.line() == b"A2 OK CAPABILITY completed\r\n"
        client.send(b"A3 LOGOUT\r\n")
        assert client.until_eof() == b"* BYE logging out\r\nA3 OK LOGOUT completed\r\n"
    assert server.received == b"A1 STARTTLS\r\nA2 CAPABILITY\r\nA3 LOGOUT\r\n"


def test_starttls_fails_when_the_client_sends_before_the_handshake() -> None:
    script = Script().expect(b"STARTTLS").reply(b"OK begin TLS").starttls()
    server = FakeServer(script, check=False)
    with server, Client(server) as client:
        client.send(b"A1 STARTTLS\r\nA2 LOGIN a b\r\n")  # pipelined: must not happen
        assert connect_eof_or_reset(client) in (b"", b"A1 OK begin TLS\r\n")
        server.wait_done()
    assert "sent data after STARTTLS before the TLS handshake: b'A2 LOGIN a b\\r\\n'" in str(
        server.errors[0]
    )


# -- several connections, reuse, the fixture --------------------------------------------


def test_each_script_plays_to_one_connection_then_connections_are_refused() -> None:
    first = Script().greeting(text=b"first").close()
    second = Script().greeting(text=b"second").close()
    with FakeServer(first, second) as server:
        with Client(server) as one, Client(server) as two:
            assert one.until_eof().endswith(b"first\r\n")
            assert two.until_eof().endswith(b"second\r\n")
        server.wait_done()
        with pytest.raises(ConnectionRefusedError):
            Client(server)


def test_a_script_can_be_played_by_several_servers() -> None:
    script = Script().expect(b"NOOP").reply(b"OK")
    for tag in (b"A1", b"Z9"):
        with FakeServer(script) as server, Client(server) as client:
            client.send(tag + b" NOOP\r\n")
            assert client.until_eof() == tag + b" OK\r\n"


def test_fixture_starts_and_checks_servers(fake_server: Callable[..., FakeServer]) -> None:
    server = fake_server(Script().greeting().expect(b"NOOP").reply(b"OK"))
    with Client(server) as client:
        client.line()
        client.send(b"A1 NOOP\r\n")
        assert client.line() == b"A1 OK\r\n"
    server.wait_done()


def test_repr_names_the_steps() -> None:
    assert repr(Script().expect(b"NOOP").reply(b"OK")) == "Script(expect(b'NOOP'), reply(b'OK'))"
