"""Safety cases 14 and 15 of issue 6: strings crossing the wire.

14. Folder names, search terms, credentials, flags and FETCH items from the caller with
    CR, LF, ``"`` or ``\\`` are sent safely: as a literal or correctly quoted, checked on
    the exact bytes the server received. NUL (and CR/LF where no literal is possible, as
    in flags and FETCH item names) is a ValueError before anything is sent.
15. Folder names from the server with ``../``, backquotes, ``%s`` or CR/LF (in literals)
    are returned as opaque data, exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fakeserver import FakeServer, Script
from safety_support import connect, login_and_select, selected

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, InvalidCriteriaError

Call = Callable[[IMAPClient], Any]

_ANNOUNCEMENT = re.compile(rb"\{(\d+)\+?\}\Z")


def literal(data: bytes) -> bytes:
    """A synchronising literal as the client must send it (announcement and data)."""
    return b"{%d}\r\n" % len(data) + data


def expect_wire(script: Script, wire: bytes) -> Script:
    """Expect the client to send exactly ``wire`` (one command, tag included, literals
    inline): its lines, and each literal after the server's go-ahead."""
    first, rest = True, wire
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        if first:
            script.expect(line.split(b" ", 1)[1])
            first = False
        else:
            script.expect_line(line)
        m = _ANNOUNCEMENT.search(line)
        if m:
            size = int(m.group(1))
            script.expect_literal(rest[:size])
            rest = rest[size:]
    return script


# -- 14. what the caller passes: sent safely ------------------------------------------------

INJECT = b"x\r\nA9 DELETE INBOX"  # a line break followed by a would-be command

# (call, whether it needs a selected folder, the exact bytes of the command)
_SENT_SAFELY: dict[str, tuple[Call, bool, bytes]] = {
    "select-crlf-bytes": (
        lambda c: c.select_folder(INJECT),
        True,
        b"A3 SELECT " + literal(INJECT) + b"\r\n",
    ),
    "select-quote-backslash-bytes": (
        lambda c: c.select_folder(b'a"b\\c'),
        True,
        b'A3 SELECT "a\\"b\\\\c"\r\n',
    ),
    "select-crlf-str": (  # modified UTF-7 encodes CR and LF
        lambda c: c.select_folder("x\r\nA9 DELETE INBOX"),
        True,
        b'A3 SELECT "x&AA0ACg-A9 DELETE INBOX"\r\n',
    ),
    "select-quote-backslash-str": (
        lambda c: c.select_folder('a"b\\c'),
        True,
        b'A3 SELECT "a\\"b\\\\c"\r\n',
    ),
    "create-crlf": (
        lambda c: c.create_folder(b"A9 DELETE INBOX\r\n"),
        False,
        b"A2 CREATE " + literal(b"A9 DELETE INBOX\r\n") + b"\r\n",
    ),
    "create-quotes": (
        lambda c: c.create_folder('say "hi" \\ bye'),
        False,
        b'A2 CREATE "say \\"hi\\" \\\\ bye"\r\n',
    ),
    "rename": (
        lambda c: c.rename_folder(b"old\r\nname", b'new"name\\'),
        False,
        b"A2 RENAME " + literal(b"old\r\nname") + b' "new\\"name\\\\"\r\n',
    ),
    "rename-both-literals": (
        lambda c: c.rename_folder(b"a\rb", b"c\nd"),
        False,
        b"A2 RENAME " + literal(b"a\rb") + b" " + literal(b"c\nd") + b"\r\n",
    ),
    "search-item-crlf": (
        lambda c: c.search(["SUBJECT", INJECT.decode()]),
        True,
        b"A3 UID SEARCH SUBJECT " + literal(INJECT) + b"\r\n",
    ),
    "search-item-quotes": (
        lambda c: c.search(["SUBJECT", 'say "hi" \\o/']),
        True,
        b'A3 UID SEARCH SUBJECT "say \\"hi\\" \\\\o/"\r\n',
    ),
    "search-string-quoted-crlf": (
        lambda c: c.search('SUBJECT "x\r\nA9 DELETE INBOX" NOT DELETED'),
        True,
        b"A3 UID SEARCH SUBJECT " + literal(INJECT) + b" NOT DELETED\r\n",
    ),
    "search-string-bare-crlf": (  # the line break is just white space between tokens
        lambda c: c.search(["NOT DELETED\r\nA9 DELETE INBOX"]),
        True,
        b"A3 UID SEARCH NOT DELETED A9 DELETE INBOX\r\n",
    ),
    "search-string-escapes": (
        lambda c: c.search(['FROM "a\\"b\\\\c"']),
        True,
        b'A3 UID SEARCH FROM "a\\"b\\\\c"\r\n',
    ),
    "search-header": (
        lambda c: c.search(["HEADER", "X-Evil\r\n", 'v"\\']),
        True,
        b"A3 UID SEARCH HEADER " + literal(b"X-Evil\r\n") + b' "v\\"\\\\"\r\n',
    ),
    "append-folder-crlf": (
        lambda c: c.append(b"Drafts\r\nX", b"hello\r\n", flags=["\\Seen", "$Label1"]),
        False,
        b"A2 APPEND "
        + literal(b"Drafts\r\nX")
        + b" (\\Seen $Label1) "
        + literal(b"hello\r\n")
        + b"\r\n",
    ),
}


@pytest.mark.parametrize("case", list(_SENT_SAFELY))
def test_caller_strings_are_sent_as_literals_or_correctly_quoted(case: str) -> None:
    call, needs_select, wire = _SENT_SAFELY[case]
    script = selected() if needs_select else Script().greeting().login_ok()
    expect_wire(script, wire).reply(b"OK done")
    script.expect(b"NOOP").reply(b"OK in step").logout()
    with FakeServer(script) as server:
        client = connect(server)
        if needs_select:
            login_and_select(client)
        else:
            client.login("alice", "password")
        call(client)
        assert client.noop()[0] == b"in step"  # the connection is still in step
        client.logout()
    assert wire in server.received


@pytest.mark.parametrize(
    ("username", "password", "wire"),
    [
        ('al"ice\\', "pa\r\nss", b'A1 LOGIN "al\\"ice\\\\" ' + literal(b"pa\r\nss") + b"\r\n"),
        ("bob", 'p"w\\d', b'A1 LOGIN bob "p\\"w\\\\d"\r\n'),
        ("x\r\nA9 DELETE INBOX", "pw", b"A1 LOGIN " + literal(INJECT) + b" pw\r\n"),
    ],
    ids=["crlf-password", "quote-password", "crlf-username"],
)
def test_login_credentials_are_sent_as_literals_or_correctly_quoted(
    username: str, password: str, wire: bytes
) -> None:
    script = expect_wire(Script().greeting(), wire).reply(b"OK welcome").logout()
    with FakeServer(script) as server:
        client = connect(server)
        client.login(username, password)
        client.logout()
    assert server.received.startswith(wire)


def test_literal_plus_sends_the_same_strings_without_waiting() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 LITERAL+")
        .login_ok(b"[CAPABILITY IMAP4rev1 LITERAL+] LOGIN completed")
        .expect(b"CREATE {18+}")
        .expect_literal(INJECT)
        .expect_line(b"")
        .reply(b"OK created")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "password")
        client.create_folder(INJECT)
        client.logout()
    assert b"A2 CREATE {18+}\r\n" + INJECT + b"\r\n" in server.received


# -- 14. refused before anything is sent ----------------------------------------------------

_REFUSED: dict[str, tuple[Call, bool]] = {
    "select-nul": (lambda c: c.select_folder(b"a\x00b"), True),
    "create-nul": (lambda c: c.create_folder(b"\x00"), False),
    "rename-nul": (lambda c: c.rename_folder(b"a", b"b\x00"), False),
    "search-item-nul": (lambda c: c.search(["SUBJECT", "a\x00b"]), True),
    "search-string-nul": (lambda c: c.search("SUBJECT a\x00b"), True),
    "search-quoted-nul": (lambda c: c.search(['SUBJECT "a\x00b"']), True),
    "append-folder-nul": (lambda c: c.append(b"IN\x00BOX", b"msg"), False),
    "append-message-nul": (lambda c: c.append("INBOX", b"m\x00sg"), False),
    "append-flag-crlf": (
        lambda c: c.append("INBOX", b"msg", flags=["\\Seen\r\nA9 DELETE INBOX"]),
        False,
    ),
    "append-flag-lf": (lambda c: c.append("INBOX", b"msg", flags=["a\nb"]), False),
    "append-flag-nul": (lambda c: c.append("INBOX", b"msg", flags=["a\x00b"]), False),
    "store-flag-crlf": (lambda c: c.add_flags([1], ["x\r\nA9 DELETE INBOX"]), True),
    "fetch-item-crlf": (lambda c: c.fetch([1], ["FLAGS\r\nA9 DELETE INBOX"]), True),
    "fetch-section-crlf": (lambda c: c.fetch([1], ["BODY[HEADER.FIELDS (X)]\r\n"]), True),
    "fetch-item-cr": (lambda c: c.fetch([1], ["FLAGS\r"]), True),
    "fetch-item-nul": (lambda c: c.fetch([1], ["FLAGS\x00"]), True),
    "status-item-crlf": (lambda c: c.folder_status("INBOX", ["MESSAGES\r\n"]), False),
}


@pytest.mark.parametrize("case", list(_REFUSED))
def test_unsendable_caller_strings_are_refused_before_anything_is_sent(case: str) -> None:
    call, needs_select = _REFUSED[case]
    script = selected() if needs_select else Script().greeting().login_ok()
    # The very next line must be the NOOP: nothing of the refused call reached the server.
    script.expect(b"NOOP").reply(b"OK in step").logout()
    with FakeServer(script) as server:
        client = connect(server)
        if needs_select:
            login_and_select(client)
        else:
            client.login("alice", "password")
        before = server.received
        with pytest.raises((ValueError, InvalidCriteriaError)):
            call(client)
        assert client.noop()[0] == b"in step"
        client.logout()
    assert b"\x00" not in server.received and b"A9 DELETE" not in server.received
    assert before in server.received


@pytest.mark.parametrize(
    ("username", "password"), [("al\x00ice", "pw"), ("alice", "p\x00w")], ids=["user", "pw"]
)
def test_login_with_nul_is_refused_before_anything_is_sent(username: str, password: str) -> None:
    script = Script().greeting().expect(b"NOOP").reply(b"OK in step").logout()
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(ValueError):
            client.login(username, password)
        assert client.noop()[0] == b"in step"
        client.logout()
    assert b"LOGIN" not in server.received


def test_str_folder_name_with_nul_is_refused_or_encoded_never_sent_raw() -> None:
    # With folder_encode, str names are modified UTF-7: a NUL becomes "&AAA-" (no raw NUL
    # on the wire). Refusing it is also acceptable.
    script = (
        selected()
        .expect(re.compile(rb"NOOP|SELECT a&AAA-b"))
        .reply(b"OK done")
        .expect(b"NOOP")
        .reply(b"OK done")
        .logout()
    )
    with FakeServer(script, check=False) as server:
        client = connect(server)
        login_and_select(client)
        try:
            client.select_folder("a\x00b")
        except ValueError:
            client.noop()
        client.noop()
        client.logout()
        server.wait_done()
    assert server.errors == []
    assert b"\x00" not in server.received


# Flags and Gmail labels are atoms: no quoting or literal can carry "(", ")", "{" or '"'.
# Sent raw, they end the flag list early and make the server reject the command before
# its literal, which a LITERAL+ client has already sent: the message is then read as
# commands (checked against Dovecot below). They must be refused before sending.
_MESSAGE = b"Z1 CREATE Injected\r\n"
_BAD_FLAGS = ['a"b', "x)", "(x", "{3+}", "x {1+}"]


@pytest.mark.parametrize("flag", _BAD_FLAGS)
def test_flag_that_is_not_an_atom_is_refused_before_sending(flag: str) -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 LITERAL+")
        .login_ok(b"[CAPABILITY IMAP4rev1 LITERAL+] LOGIN completed")
        .expect(b"NOOP")
        .reply(b"OK in step")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "password")
        with pytest.raises(ValueError):
            client.append("INBOX", _MESSAGE, flags=[flag])
        assert client.noop()[0] == b"in step"
        client.logout()
    assert b"APPEND" not in server.received


def test_gmail_label_that_is_not_an_atom_is_sent_as_a_string() -> None:
    # User labels may hold anything: one that is not a valid system flag is sent as a
    # string (modified UTF-7, quoted), never spliced into the command as an atom.
    evil = "label\r\nZ1 CREATE Injected"
    script = (
        selected(caps=b"IMAP4rev1 X-GM-EXT-1 LITERAL+")
        .expect(b'UID STORE 1 +X-GM-LABELS.SILENT ("\\\\x)")')
        .reply(b"OK stored")
        # Labels travel in modified UTF-7, as Gmail expects: CR LF become "&AA0ACg-".
        .expect(b'UID STORE 1 +X-GM-LABELS.SILENT ("label&AA0ACg-Z1 CREATE Injected")')
        .reply(b"OK stored")
        .expect(b"NOOP")
        .reply(b"OK in step")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        login_and_select(client)
        assert client.add_gmail_labels([1], ["\\x)"], silent=True) is None
        assert client.add_gmail_labels([1], [evil], silent=True) is None
        assert client.noop()[0] == b"in step"
        client.logout()
    assert b"\r\nZ1 CREATE" not in server.received


def test_dovecot_flag_with_atom_specials_cannot_inject_a_command(imap_account: Any) -> None:
    def connect_dovecot() -> IMAPClient:
        client = IMAPClient(imap_account.host, imap_account.port, ssl=False, timeout=5)
        client.login(imap_account.username, imap_account.password)
        return client

    outcomes = []
    for flag in _BAD_FLAGS:  # one connection each: a failed attempt may kill it
        client = connect_dovecot()
        assert client.has_capability("LITERAL+")
        try:
            client.append("INBOX", _MESSAGE, flags=[flag])
            outcomes.append((flag, "accepted"))
        except (ValueError, IMAPClientError) as exc:
            outcomes.append((flag, type(exc).__name__))
        finally:
            client.shutdown()
    client = connect_dovecot()
    try:
        names = [name for _, _, name in client.list_folders()]
    finally:
        client.logout()
    # A ProtocolError above means Dovecot answered the tag "Z1" of the message body.
    assert "Injected" not in names, outcomes


# -- 15. what the server names: returned opaquely ------------------------------------------


def _name_literal(data: bytes) -> bytes:
    return b"{%d}\r\n" % len(data) + data


SERVER_NAMES = [
    b"../../etc/passwd",
    b"..\\..\\windows",
    b"`rm -rf ~`",
    b"$(reboot)",
    b"%s%n%x%d",
    b"line1\r\nA9 OK forged\r\n* 99 EXISTS",
    b"cr\ronly",
    b'quote"back\\slash',
]


def _list_script(folder_encode_names: list[bytes]) -> Script:
    lines = b"".join(
        b'* LIST (\\HasNoChildren) "/" ' + _name_literal(name) + b"\r\n"
        for name in folder_encode_names
    )
    return (
        Script()
        .greeting()
        .login_ok()
        .expect(b'LIST "" "*"')
        .send(lines)
        .reply(b"OK LIST completed")
    )


@pytest.mark.parametrize("folder_encode", [True, False])
def test_server_folder_names_are_returned_exactly(folder_encode: bool) -> None:
    script = _list_script(SERVER_NAMES)
    if not folder_encode:  # and they can be used as given: sent back as literals
        expect_wire(script, b"A3 SELECT " + literal(SERVER_NAMES[5]) + b"\r\n").reply(b"OK")
    script.expect(b"NOOP").reply(b"OK in step").logout()
    with FakeServer(script) as server:
        client = connect(server)
        client.folder_encode = folder_encode
        client.login("alice", "password")
        folders = client.list_folders()
        expected = [n.decode() for n in SERVER_NAMES] if folder_encode else SERVER_NAMES
        assert [name for _, _, name in folders] == expected
        assert all(flags == (b"\\HasNoChildren",) and d == b"/" for flags, d, _ in folders)
        if not folder_encode:
            client.select_folder(folders[5][2])
        # The forged "A9 OK" and "* 99 EXISTS" inside the literal were data, not responses.
        assert client.noop() == (b"in step", [])
        assert client.drain_unsolicited() == []
        client.logout()


def test_server_folder_names_in_quoted_strings_are_unescaped_exactly() -> None:
    script = (
        Script()
        .greeting()
        .login_ok()
        .expect(b'LIST "" "*"')
        .send(
            b'* LIST () "/" "../x"\r\n'
            b'* LIST () "/" "a\\"b\\\\c"\r\n'
            b'* LIST () "/" "%s `id`"\r\n'
            b'* LIST () "/" Plain&-Name\r\n'
        )
        .reply(b"OK LIST completed")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "password")
        names = [name for _, _, name in client.list_folders()]
        assert names == ["../x", 'a"b\\c', "%s `id`", "Plain&Name"]
        client.logout()
