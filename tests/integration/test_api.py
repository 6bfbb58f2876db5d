"""The whole client API against every private server (Dovecot, Cyrus, Courier: the
``imap_server`` fixture of tests/conftest.py) through both front ends (``make_client``:
the blocking IMAPClient, and AsyncIMAPClient behind tests/frontends.py's
BlockingAdapter), so each scenario runs up to six times: ``[blocking-dovecot]`` ...
``[async-courier]``.

Every public method is called for real and its result checked: folders (LIST/LSUB/XLIST,
special-use, create/rename/delete/subscribe with non-ASCII names, STATUS,
SELECT/EXAMINE/UNSELECT/CLOSE, NAMESPACE, ACL, QUOTA), messages (APPEND, MULTIAPPEND,
COPY, MOVE, SEARCH in all its argument forms, SORT, THREAD, FETCH of every kind of item,
flags, EXPUNGE), the server (capabilities, ENABLE, ID, NOOP, unsolicited responses), the
authentication methods, the constructor's options and the call shapes of the
specification's examples.

Servers differ, and the tests find out how from the server itself, never from its name:

* folder names are built from the personal namespace (:class:`Names`: ``Sent`` on
  Dovecot and Cyrus, ``INBOX.Sent`` on Courier);
* an extension is used where the server advertises it (the ``offered`` fixture, which
  also files the answer for docs/compatibility.md); where it does not, the test checks
  what the library documents for a missing capability instead (CapabilityError before
  anything is sent, or the documented fallback), so it still tests something;
* a pre-authenticated session (Courier's ``* PREAUTH``) has no login: ``account.login``
  does nothing there, and the authentication tests check that the mechanisms the server
  does not offer are refused before anything is sent;
* texts of OK responses are the servers' own ("Create completed", "Completed",
  "Folder created."): the tests check that a method returns the server's text, and
  tests/integration/test_client_dovecot.py pins Dovecot's exact words.

Each test gets a fresh user (the ``account`` fixture) whose mail is seeded without the
client under test, so tests are independent.
"""

from __future__ import annotations

import base64
import imaplib
import io
import logging
import re
import ssl
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from frontends import read_timeout
from mail import base64_lines, message, multipart_message, split

import imapclient
from imapclient import (
    SEEN,
    CapabilityError,
    CommandError,
    IllegalStateError,
    IMAPClient,
    LoginError,
    SearchIds,
    SocketTimeout,
    TLSRequiredError,
)
from imapclient.protocol.responses import AppendUid, CopyUid
from imapclient.response_types import Address, Envelope, MailboxQuotaRoots, Quota

pytestmark = pytest.mark.integration

UTC = timezone.utc
PLUS_ONE = timezone(timedelta(hours=1))
SPECIAL_FOLDERS = ("Drafts", "Sent", "Trash", "Junk", "Archive")
RECENT = b"\\Recent"
#: The quota every test account has on the servers that offer QUOTA: 100 MiB, in KiB.
QUOTA_LIMIT = 100 * 1024


# -- helpers ------------------------------------------------------------------------------


def connect(make_client, account, **kwargs):
    """A client of the test's front end on the plain port (not logged in, unless the
    server pre-authenticates)."""
    return account.connect(make_client, **kwargs)


def logged_in(make_client, account, **kwargs):
    return account.logged_in(make_client, **kwargs)


@pytest.fixture
def client(make_client, account) -> Iterator[Any]:
    """A logged-in client of the test's front end for the test's fresh account; logged
    out afterwards."""
    with logged_in(make_client, account) as c:
        yield c


class Names:
    """Folder names as the client's server spells them: the personal namespace's prefix
    and delimiter (from NAMESPACE; without it, no prefix and LIST's delimiter).

    ``names("Sent")`` is ``"Sent"`` on Dovecot and Cyrus and ``"INBOX.Sent"`` on Courier;
    ``names("a", "b")`` joins levels with the delimiter. INBOX is always ``"INBOX"``."""

    def __init__(self, client: Any) -> None:
        if client.has_capability("NAMESPACE"):
            self.prefix, self.delimiter = client.namespace().personal[0]
        else:
            (_, delimiter, _), *_ = client.list_folders("", "")
            self.prefix, self.delimiter = "", delimiter.decode()

    def __call__(self, *parts: str) -> str:
        return self.prefix + self.delimiter.join(parts)

    def raw(self, *parts: bytes) -> bytes:
        """The same for names already in modified UTF-7 (``folder_encode = False``)."""
        return self.prefix.encode() + self.delimiter.encode().join(parts)

    @property
    def special(self) -> set[str]:
        """The names of the five usual folders every fresh account has."""
        return {self(name) for name in SPECIAL_FOLDERS}


@pytest.fixture
def names(client) -> Names:
    return Names(client)


def lower(flags) -> set[bytes]:
    """Flags or mailbox attributes, compared without case (``\\Sent`` = ``\\sent``)."""
    return {flag.lower() for flag in flags}


def without_recent(flags) -> set[bytes]:
    """Flags without ``\\Recent``, which servers hand out to sessions differently."""
    return set(flags) - {RECENT}


def subscribed_names(client) -> set[str]:
    """The subscribed folders but INBOX (which some servers subscribe for a new user),
    leaving out the \\Noselect parents that LSUB may list for subscribed children."""
    return {
        name
        for flags, _, name in client.list_sub_folders()
        if name != "INBOX" and b"\\noselect" not in lower(flags)
    }


def subjects(client, uids) -> list[bytes]:
    """The subjects of the messages ``uids`` of the selected folder, in that order."""
    envelopes = client.fetch(uids, ["ENVELOPE"])
    return [envelopes[uid][b"ENVELOPE"].subject for uid in uids]


def settle(client, folder: str = "INBOX") -> dict:
    """Select ``folder`` so that its messages are no longer \\Recent for this session.

    The first SELECT of freshly delivered mail gives this session the \\Recent flags;
    leaving (by selecting INBOX, or the folder listed first after it, read-only) and
    selecting it again shows the flags the messages really have."""
    client.select_folder(folder)
    others = [name for _, _, name in client.list_folders() if name != folder]
    client.select_folder(others[0], readonly=True)
    return client.select_folder(folder)


@pytest.fixture
def restore_loggers() -> Iterator[None]:
    """Put the imapclient loggers' levels back (debug= and caplog change them)."""
    names = ("imapclient", "imapclient.wire")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def sent_commands(caplog) -> list[str]:
    """The command lines the client logged as sent (tags stripped)."""
    out = []
    for record in caplog.records:
        text = record.getMessage()
        if record.name == "imapclient" and text.startswith("> "):
            out.append(text[2:].split(" ", 1)[1] if " " in text[2:] else text[2:])
    return out


def server_text(text) -> None:
    """``text`` is what a method returns for a tagged OK: the server's text, as bytes."""
    assert isinstance(text, bytes)
    assert text.strip(), "the server's OK text is missing"


# -- folders ------------------------------------------------------------------------------


@pytest.mark.feature("LIST", "CHILDREN")
def test_list_folders_shape_and_special_use(client, names, offered) -> None:
    folders = client.list_folders()
    by_name = {name: (flags, delimiter) for flags, delimiter, name in folders}
    assert set(by_name) == {"INBOX"} | names.special
    for entry in folders:
        assert isinstance(entry, tuple) and len(entry) == 3
        flags, delimiter, name = entry
        assert isinstance(flags, tuple) and all(isinstance(f, bytes) for f in flags)
        assert delimiter == names.delimiter.encode()
        assert isinstance(name, str)
    if offered(client, "CHILDREN"):
        inbox_has_children = any(n.startswith("INBOX" + names.delimiter) for n in by_name)
        wanted = b"\\haschildren" if inbox_has_children else b"\\hasnochildren"
        assert wanted in lower(by_name["INBOX"][0])
        for name in names.special:
            assert b"\\hasnochildren" in lower(by_name[name][0])
    use_flags = {b"\\" + name.lower().encode() for name in SPECIAL_FOLDERS}
    if offered(client, "SPECIAL-USE"):
        for name in SPECIAL_FOLDERS:
            assert b"\\" + name.lower().encode() in lower(by_name[names(name)][0])
    else:
        assert not any(lower(flags) & use_flags for flags, _ in by_name.values())
    # directory and pattern
    assert [n for _, _, n in client.list_folders("", names("S%"))] == [names("Sent")]
    assert client.list_folders("", "nothing-like-this*") == []


def test_list_sub_folders(client, names) -> None:
    subscribed = subscribed_names(client)
    # Servers subscribe the usual folders for a new user; some subscribe INBOX too.
    assert subscribed == names.special
    assert all(
        delimiter == names.delimiter.encode() for _, delimiter, _ in client.list_sub_folders()
    )
    assert [name for _, _, name in client.list_sub_folders("", names("T*"))] == [names("Trash")]


@pytest.mark.feature("XLIST")
def test_xlist_folders(client, names, offered) -> None:
    """With XLIST, the folders come with their special-use flags. A server that lacks
    XLIST may still answer the command (Dovecot does, with LIST responses) or refuse it:
    either is acceptable; returning an empty list while the server listed every folder is
    not."""
    try:
        result = client.xlist_folders()
    except CommandError as exc:
        assert not offered(client, "XLIST")
        assert exc.status in (b"NO", b"BAD")
        return
    assert sorted(name for _, _, name in result) == sorted(
        name for _, _, name in client.list_folders()
    )
    if offered(client, "XLIST"):
        flags = {name: lower(flags) for flags, _, name in result}
        for name in SPECIAL_FOLDERS:
            assert b"\\" + name.lower().encode() in flags[names(name)]
    else:
        assert sorted(result) == sorted(client.list_folders())


@pytest.mark.feature("SPECIAL-USE")
@pytest.mark.parametrize(
    ("constant", "value", "folder"),
    [
        ("SENT", b"\\Sent", "Sent"),
        ("TRASH", b"\\Trash", "Trash"),
        ("DRAFTS", b"\\Drafts", "Drafts"),
        ("JUNK", b"\\Junk", "Junk"),
        ("ARCHIVE", b"\\Archive", "Archive"),
    ],
)
def test_find_special_folder_with_top_level_constants(
    client, names, offered, constant, value, folder
) -> None:
    """From the special-use attributes where the server has them, else by the folders'
    usual names (the documented fallback)."""
    offered(client, "SPECIAL-USE")
    flag = getattr(imapclient, constant, None)
    assert flag is not None, f"imapclient.{constant} is missing (find_special_folder documents it)"
    assert flag == value
    assert client.find_special_folder(flag) == names(folder)


def test_find_special_folder_by_flag_value_and_missing(client, names) -> None:
    assert client.find_special_folder(b"\\Sent") == names("Sent")
    assert client.find_special_folder("\\trash") == names("Trash")  # str, any case
    assert client.find_special_folder(b"\\All") is None  # no such folder
    assert client.find_special_folder(b"\\Flagged") is None


def test_folder_exists(client, names) -> None:
    assert client.folder_exists("INBOX") is True
    assert client.folder_exists(names("Sent")) is True
    assert client.folder_exists(names("Does Not Exist")) is False
    client.create_folder(names("Économie & Co"))
    assert client.folder_exists(names("Économie & Co")) is True
    assert client.folder_exists(names("Économie")) is False


def test_folder_exists_does_not_treat_the_name_as_a_pattern(client, names) -> None:
    """LIST wildcards in the name must not make a missing folder "exist"."""
    client.create_folder(names("star*"))
    assert client.folder_exists(names("star*")) is True
    assert client.folder_exists(names("Sen%")) is False  # only "Sent" exists
    assert client.folder_exists(names("*")) is False
    assert client.folder_exists(names("sta*")) is False


def test_folder_names_with_quotes_and_backslashes(client, names) -> None:
    name = names('Say "hi" \\ back')
    try:
        client.create_folder(name)
    except CommandError as exc:
        # A server may not allow these characters in names (Cyrus): a clean NO for the
        # whole name, which reached it as one quoted string, and the session goes on.
        assert exc.status == b"NO" and exc.command == b"CREATE"
        assert client.folder_exists(name) is False
        return
    assert name in {n for _, _, n in client.list_folders()}
    assert client.folder_exists(name) is True
    client.append(name, message("quoted"))
    assert client.folder_status(name, ["MESSAGES"]) == {b"MESSAGES": 1}
    assert client.select_folder(name)[b"EXISTS"] == 1
    client.close_folder()
    client.delete_folder(name)
    assert client.folder_exists(name) is False


def test_create_rename_delete_subscribe_with_non_ascii_names(client, names) -> None:
    economy, child, parent = names("Économie & Co"), names("日本語", "子"), names("日本語")
    server_text(client.create_folder(economy))
    client.create_folder(child)
    listed = {name: lower(flags) for flags, _, name in client.list_folders()}
    assert b"\\hasnochildren" in listed[economy]
    assert b"\\hasnochildren" in listed[child]
    assert b"\\haschildren" in listed[parent]  # listed, whether selectable or not
    # The parent as a directory, with % not descending further.
    assert [n for _, _, n in client.list_folders(parent + names.delimiter, "%")] == [child]

    renamed = names("Ça & là")
    server_text(client.rename_folder(economy, renamed))
    names_after = {name for _, _, name in client.list_folders()}
    assert renamed in names_after and economy not in names_after

    server_text(client.subscribe_folder(renamed))
    client.subscribe_folder(child)
    subscribed = subscribed_names(client)
    assert subscribed == names.special | {renamed, child}
    server_text(client.unsubscribe_folder(renamed))
    subscribed = subscribed_names(client)
    assert subscribed == names.special | {child}

    server_text(client.delete_folder(renamed))
    assert client.folder_exists(renamed) is False
    # Selecting and appending work with the same str names.
    client.append(child, message("into a unicode folder"))
    assert client.select_folder(child)[b"EXISTS"] == 1


def test_folder_encode_false_gives_bytes_names(client, names) -> None:
    client.create_folder(names("Économie & Co"))
    client.create_folder(names("日本語", "子"))
    client.folder_encode = False
    raw = {name for _, _, name in client.list_folders()}
    assert names.raw(b"&AMk-conomie &- Co") in raw
    assert names.raw(b"&ZeVnLIqe-", b"&W1A-") in raw
    assert all(isinstance(name, bytes) for name in raw)
    # Names are sent as given: modified UTF-7 bytes address the same folder.
    assert client.folder_exists(names.raw(b"&AMk-conomie &- Co")) is True
    client.folder_encode = True
    assert client.folder_exists(names("Économie & Co")) is True


def test_folder_status_default_and_custom(account, client, names) -> None:
    account.seed([(message("a"), ["\\Seen"]), message("b"), (message("c"), ["\\Flagged"])])
    status = client.folder_status("INBOX")
    assert set(status) == {b"MESSAGES", b"RECENT", b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN"}
    assert status[b"MESSAGES"] == 3
    assert status[b"RECENT"] in (0, 3)  # \Recent is for the first session to see them
    assert status[b"UNSEEN"] == 2
    assert status[b"UIDNEXT"] == 4
    assert isinstance(status[b"UIDVALIDITY"], int) and status[b"UIDVALIDITY"] > 0
    assert status["MESSAGES"] == 3  # str look-up too

    custom = client.folder_status("INBOX", ["MESSAGES", "UIDNEXT"])
    assert custom == {b"MESSAGES": 3, b"UIDNEXT": 4}
    assert client.folder_status(names("Sent"), "MESSAGES") == {b"MESSAGES": 0}
    with pytest.raises(CommandError):
        client.folder_status(names("Does Not Exist"))


def test_select_folder_keys_and_readonly(account, client, names) -> None:
    account.seed([(message("a"), ["\\Seen"]), message("b")])
    info = client.select_folder("INBOX")
    for key in (b"EXISTS", b"RECENT", b"FLAGS", b"PERMANENTFLAGS", b"UIDVALIDITY"):
        assert key in info
    assert info[b"EXISTS"] == 2
    recent = info[b"RECENT"]
    assert recent in (0, 2)
    # RFC 3501 requires UIDNEXT here, but servers omit it (Courier): passed on if sent.
    assert info.get(b"UIDNEXT", 3) == 3
    assert info[b"READ-WRITE"] is True
    assert b"READ-ONLY" not in info
    assert set(info[b"FLAGS"]) >= {b"\\Answered", b"\\Flagged", b"\\Deleted", SEEN, b"\\Draft"}
    assert b"\\*" in info[b"PERMANENTFLAGS"]
    assert info[b"UIDVALIDITY"] == client.folder_status("INBOX")[b"UIDVALIDITY"]
    # str look-ups (older documentation) answer from the same bytes keys.
    assert info["EXISTS"] == 2 and info["READ-WRITE"] is True
    assert "EXISTS" in info and all(isinstance(k, bytes) for k in info)

    readonly = client.select_folder("INBOX", readonly=True)
    assert readonly[b"READ-ONLY"] is True
    assert b"READ-WRITE" not in readonly
    assert readonly[b"EXISTS"] == 2
    assert readonly[b"RECENT"] in (0, recent)
    # Writes to a read-only folder are refused before anything is sent.
    for write in (
        lambda: client.add_flags([1], [b"\\Flagged"]),
        lambda: client.delete_messages([1]),
        lambda: client.expunge(),
        lambda: client.move([1], names("Trash")),
    ):
        with pytest.raises(IMAPClient.ReadOnlyError):
            write()
    assert client.search("FLAGGED") == []
    assert client.noop()  # the connection is still fine


@pytest.mark.feature("UNSELECT")
def test_unselect_folder_keeps_deleted_messages(account, client, offered, caplog) -> None:
    account.seed([message("a"), message("b"), message("c")])
    client.select_folder("INBOX")
    client.delete_messages([2])
    if not offered(client, "UNSELECT"):
        caplog.set_level(logging.DEBUG, logger="imapclient")
        with pytest.raises(CapabilityError):
            client.unselect_folder()
        assert "UNSELECT" not in sent_commands(caplog)  # refused before sending
        assert client.search("DELETED") == [2]  # still selected
        return
    server_text(client.unselect_folder())
    with pytest.raises(IllegalStateError):
        client.search()
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 3}


def test_close_folder_expunges_deleted_messages(account, client) -> None:
    account.seed([message("a"), message("b"), message("c")])
    client.select_folder("INBOX")
    client.delete_messages([1, 3])
    server_text(client.close_folder())
    with pytest.raises(IllegalStateError):
        client.fetch([2], ["FLAGS"])
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 1}
    client.select_folder("INBOX")
    assert client.search() == [2]


@pytest.mark.feature("NAMESPACE")
def test_namespace_and_delimiter(client, offered) -> None:
    if not offered(client, "NAMESPACE"):
        with pytest.raises(CapabilityError):
            client.namespace()
        return
    ns = client.namespace()
    assert len(ns.personal) == 1
    ((prefix, delimiter),) = ns.personal
    assert isinstance(prefix, str) and delimiter in ("/", ".")
    assert prefix in ("", "INBOX" + delimiter)
    for other in (ns.other, ns.shared):  # None, or (prefix, delimiter) pairs
        assert other is None or all(isinstance(p, str) and len(d) == 1 for p, d in other)
    assert tuple(ns) == (ns.personal, ns.other, ns.shared)
    personal, other, shared = ns
    assert personal == ns[0] == ns.personal
    assert (other, shared) == (ns[1], ns[2]) == (ns.other, ns.shared)
    assert client.get_folder_delimiter() == delimiter


@pytest.mark.feature("ACL")
def test_getacl_setacl(imap_server, client, names, offered) -> None:
    if not offered(client, "ACL"):
        with pytest.raises(CapabilityError):
            client.getacl("INBOX")
        return
    before = client.getacl("INBOX")
    assert before and all(isinstance(i, bytes) and isinstance(r, bytes) for i, r in before)
    # The owner (named by the user name, or "owner") may at least look up and read.
    assert any({ord("l"), ord("r")} <= set(rights) for _, rights in before)

    # Identifiers are the server's (RFC 4314): another user's name where it takes one,
    # else "anyone" (Courier names users "user=NAME" and refuses bare names).
    friend = imap_server.new_account("friend").username
    try:
        text = client.setacl("INBOX", friend, "lr")
    except CommandError as exc:
        assert exc.status in (b"NO", b"BAD") and exc.command == b"SETACL"
        assert client.getacl("INBOX") == before  # nothing changed
        friend = "anyone"
        text = client.setacl("INBOX", friend, "lr")
    server_text(text)
    who = friend.encode()
    assert sorted(client.getacl("INBOX")) == sorted([*before, (who, b"lr")])
    client.setacl("INBOX", friend, "lrs")
    assert set(dict(client.getacl("INBOX"))[who]) == set(b"lrs")

    # Empty rights remove the entry.
    server_text(client.setacl("INBOX", friend, ""))
    assert client.getacl("INBOX") == before

    folder = names("Économie & Co")
    client.create_folder(folder)
    client.setacl(folder, friend, "l")
    assert (who, b"l") in client.getacl(folder)
    assert who not in dict(client.getacl("INBOX"))


@pytest.mark.feature("QUOTA")
def test_quota_usage_grows_after_append(client, names, offered) -> None:
    if not offered(client, "QUOTA"):
        with pytest.raises(CapabilityError):
            client.get_quota_root("INBOX")
        return
    roots, quotas = client.get_quota_root("INBOX")
    assert roots.mailbox == "INBOX" and len(roots.quota_roots) == 1
    (root,) = roots.quota_roots
    assert roots == MailboxQuotaRoots("INBOX", [root])
    if not quotas:  # a root with no limits set (Courier here: '* QUOTA "ROOT"')
        assert client.get_quota() == []
        return
    assert quotas == [Quota(root, "STORAGE", 0, QUOTA_LIMIT)]
    assert client.get_quota() == quotas  # INBOX's by default

    header = b"Subject: big\r\n\r\n"
    big = header + b"x" * (200 * 1024 - len(header))  # exactly 200 KiB
    client.append("INBOX", big)
    assert client.get_quota("INBOX") == [Quota(root, "STORAGE", 200, QUOTA_LIMIT)]
    client.append(names("Sent"), big)  # the quota root covers every folder
    folder = names("Économie & Co")
    client.create_folder(folder)
    assert client.get_quota_root(folder)[0] == MailboxQuotaRoots(folder, [root])
    assert client.get_quota_root(names("Sent"))[1] == [Quota(root, "STORAGE", 400, QUOTA_LIMIT)]


@pytest.mark.feature("QUOTA")
def test_set_quota_refused_for_normal_users(client, offered) -> None:
    if not offered(client, "QUOTA"):
        with pytest.raises(CapabilityError):
            client.set_quota(Quota("", "STORAGE", 0, 5000))
        return
    (root,) = client.get_quota_root("INBOX")[0].quota_roots
    before = client.get_quota()
    with pytest.raises(CommandError) as info:
        client.set_quota(Quota(root, "STORAGE", 0, 5000))
    assert info.value.status == b"NO"
    assert info.value.text  # the server's reason
    assert info.value.command == b"SETQUOTA"
    # Nothing changed.
    assert client.get_quota() == before


# -- append, copy, move --------------------------------------------------------------------


@pytest.mark.feature("UIDPLUS")
def test_append_with_flags_and_aware_time(client, offered) -> None:
    when = datetime(2023, 11, 5, 14, 30, 15, tzinfo=timezone(timedelta(hours=-7)))
    raw = message("appended")
    text = client.append("INBOX", raw, flags=[SEEN, "$Important"], msg_time=when)
    server_text(text)
    text2 = client.append("INBOX", message("second"), flags=b"\\Draft")  # a single flag
    # Asked after the APPEND: Courier fixes an empty folder's UIDVALIDITY at its first one.
    uidvalidity = client.folder_status("INBOX")[b"UIDVALIDITY"]
    if offered(client, "UIDPLUS"):
        assert re.match(rb"\[APPENDUID \d+ 1\] ", text)
        assert text.code.name == b"APPENDUID"
        assert isinstance(text.code.value, AppendUid)
        assert text.code.value.uidvalidity == uidvalidity
        assert list(text.code.value.uids) == [1]
        assert list(text2.code.value.uids) == [2]
    else:
        assert text.code is None or text.code.name != b"APPENDUID"

    client.select_folder("INBOX")
    client.normalise_times = False
    data = client.fetch([1], ["INTERNALDATE", "FLAGS", "RFC822.SIZE", "BODY.PEEK[]"])[1]
    assert data[b"INTERNALDATE"] == when  # the same instant
    assert data[b"INTERNALDATE"].tzinfo is not None
    assert without_recent(data[b"FLAGS"]) == {SEEN, b"$Important"}
    assert data[b"RFC822.SIZE"] == len(raw)
    assert data[b"BODY[]"] == raw
    assert without_recent(client.get_flags([2])[2]) == {b"\\Draft"}


def test_append_with_naive_time_is_local_time(client) -> None:
    when = datetime(2022, 7, 14, 8, 0, 5)  # naive: local time
    client.append("INBOX", message("naive"), msg_time=when)
    client.append("INBOX", "Subject: str message\r\n\r\nsent as a str\r\n")
    client.select_folder("INBOX")
    assert client.normalise_times is True
    naive = client.fetch([1], ["INTERNALDATE"])[1][b"INTERNALDATE"]
    assert naive.tzinfo is None
    assert naive == when
    client.normalise_times = False
    aware = client.fetch([1], ["INTERNALDATE"])[1][b"INTERNALDATE"]
    assert aware.tzinfo is not None
    assert aware == when.astimezone()
    body = client.fetch([2], ["BODY.PEEK[TEXT]"])[2][b"BODY[TEXT]"]
    assert body == b"sent as a str\r\n"


def test_append_to_missing_folder_is_a_typed_error(client, names) -> None:
    with pytest.raises(CommandError) as info:
        client.append(names("No Such Folder"), message("lost"))
    assert info.value.status == b"NO"
    assert info.value.code == b"TRYCREATE"


@pytest.mark.feature("MULTIAPPEND")
def test_multiappend(client, names, offered, caplog) -> None:
    archive = names("Archive")
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    msgs = [
        message("multi one"),
        {"msg": message("multi two"), "flags": [b"\\Flagged", "$Work"], "date": when},
        message("multi three").decode(),
    ]
    if not offered(client, "MULTIAPPEND"):
        caplog.set_level(logging.DEBUG, logger="imapclient")
        with pytest.raises(CapabilityError):
            client.multiappend(archive, msgs)
        assert not any(line.startswith("APPEND") for line in sent_commands(caplog))
        assert client.folder_status(archive, ["MESSAGES"]) == {b"MESSAGES": 0}
        return
    text = client.multiappend(archive, msgs)
    assert text.startswith(b"[APPENDUID ")
    assert text.code.value.uidvalidity == client.folder_status(archive)[b"UIDVALIDITY"]
    assert list(text.code.value.uids) == [1, 2, 3]

    settle(client, archive)
    client.normalise_times = False
    result = client.fetch("1:*", ["FLAGS", "INTERNALDATE"])
    assert sorted(result) == [1, 2, 3]
    assert subjects(client, [1, 2, 3]) == [b"multi one", b"multi two", b"multi three"]
    assert set(result[2][b"FLAGS"]) == {b"\\Flagged", b"$Work"}
    assert result[1][b"FLAGS"] == () == result[3][b"FLAGS"]
    assert result[2][b"INTERNALDATE"] == when


@pytest.mark.feature("UIDPLUS")
def test_copy_reports_copyuid(account, client, names, offered) -> None:
    archive = names("Archive")
    account.seed([message("a"), message("b"), message("c")])
    client.append(archive, message("already there"))
    archive_validity = client.folder_status(archive)[b"UIDVALIDITY"]
    client.select_folder("INBOX")
    text = client.copy([1, 3], archive)
    server_text(text)
    if offered(client, "UIDPLUS"):
        assert text.startswith(b"[COPYUID ")
        copyuid = text.code.value
        assert isinstance(copyuid, CopyUid)
        assert copyuid.uidvalidity == archive_validity
        assert list(copyuid.source) == [1, 3]
        assert list(copyuid.destination) == [2, 3]
    # The source still has them; the target has copies.
    assert client.search() == [1, 2, 3]
    assert client.folder_status(archive, ["MESSAGES"]) == {b"MESSAGES": 3}
    client.select_folder(archive)
    assert subjects(client, [2, 3]) == [b"a", b"c"]
    with pytest.raises(CommandError) as info:
        client.copy([1], names("No Such Folder"))
    assert info.value.code == b"TRYCREATE"


@pytest.mark.feature("MOVE")
def test_move(account, client, names, offered, caplog) -> None:
    """MOVE where the server has it; otherwise the documented fallback: COPY, flag
    \\Deleted and UID EXPUNGE of just those messages (UIDPLUS)."""
    caplog.set_level(logging.DEBUG, logger="imapclient")
    trash = names("Trash")
    account.seed([message("stay"), message("go"), message("stay too"), message("deleted")])
    client.select_folder("INBOX")
    client.delete_messages([4])  # not moved, so not expunged by the fallback either
    text = client.move([2], trash)
    trash_validity = client.folder_status(trash)[b"UIDVALIDITY"]  # fixed by the first copy
    assert text.code.name == b"COPYUID"
    assert text.code.value.uidvalidity == trash_validity
    assert list(text.code.value.source) == [2]
    assert list(text.code.value.destination) == [1]
    commands = sent_commands(caplog)
    if offered(client, "MOVE"):
        assert f"UID MOVE 2 {trash}" in commands
    else:
        assert [
            c for c in commands if c.startswith(("UID COPY", "UID STORE 2", "UID EXPUNGE"))
        ] == [
            f"UID COPY 2 {trash}",
            "UID STORE 2 +FLAGS.SILENT (\\Deleted)",
            "UID EXPUNGE 2",
        ]
    assert client.search() == [1, 3, 4]
    assert client.fetch([2], ["FLAGS"]) == {}
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 3}
    client.select_folder(trash)
    assert subjects(client, [1]) == [b"go"]


# -- search ---------------------------------------------------------------------------------


@pytest.fixture
def search_corpus(account):
    """Four messages, UIDs 1-4 (= sequence numbers)."""
    account.seed(
        [
            (
                message(
                    "Lunch on Friday?",
                    sender="Bob Martin <bob@example.com>",
                    date="Fri, 01 Mar 2024 12:00:00 +0000",
                    headers=[("X-Tag", "alpha")],
                ),
                ["\\Seen"],
            ),
            (
                message(
                    "Quarterly report",
                    "x" * 2000 + "\r\n",
                    sender="Carol Diaz <carol@example.net>",
                    date="Tue, 05 Mar 2024 12:00:00 +0000",
                ),
                ["\\Flagged"],
            ),
            message(
                "Réunion au café",
                "Grüße aus Köln\r\n",
                sender="Émile Zola <emile@example.fr>",
                date="Sat, 09 Mar 2024 12:00:00 +0000",
                headers=[("X-Tag", "beta")],
            ),
            (
                message(
                    "Old news",
                    sender="News <news@example.com>",
                    date="Sun, 10 Mar 2024 12:00:00 +0000",
                ),
                ["\\Seen", "\\Deleted"],
            ),
        ]
    )
    return account


def test_search_strings_and_lists(search_corpus, client) -> None:
    client.select_folder("INBOX")
    assert client.search() == [1, 2, 3, 4]
    assert client.search("SEEN") == [1, 4]
    assert client.search("NOT DELETED") == [1, 2, 3]
    assert client.search(["NOT DELETED"]) == [1, 2, 3]
    assert client.search(["NOT", "DELETED"]) == [1, 2, 3]
    assert client.search(b"UNSEEN") == [2, 3]
    assert client.search(["FROM", "carol@example.net"]) == [2]
    assert client.search(["FROM", "Bob Martin"]) == [1]  # one argument with a space
    assert client.search(["SUBJECT", "report", "FLAGGED"]) == [2]
    assert client.search(["LARGER", 1500]) == [2]
    assert client.search(["SMALLER", 1500, "UNSEEN"]) == [3]
    result = client.search("ALL")
    assert isinstance(result, SearchIds) and isinstance(result, list)
    assert result.modseq is None


def test_search_nested_or(search_corpus, client) -> None:
    client.select_folder("INBOX")
    assert client.search(["OR", ["SUBJECT", "lunch"], ["SUBJECT", "quarterly"]]) == [1, 2]
    assert client.search(["OR", "FLAGGED", "DELETED"]) == [2, 4]
    assert client.search([["OR", "FLAGGED", "DELETED"], "UNSEEN"]) == [2]
    assert client.search(["NOT", ["OR", "SEEN", "FLAGGED"]]) == [3]
    assert client.search(["OR", "FROM", "bob", ["OR", "FROM", "emile", "DELETED"]]) == [1, 3, 4]


def test_search_string_with_parenthesised_groups(search_corpus, client) -> None:
    # Criteria strings are read with the grammar in mind, parentheses included.
    client.select_folder("INBOX")
    assert client.search("OR (SUBJECT lunch) (SUBJECT news)") == [1, 4]
    assert client.search(["(OR SEEN FLAGGED)", "UNDELETED"]) == [1, 2]


def test_search_ints_message_sets_and_uid_ranges(search_corpus, client) -> None:
    client.select_folder("INBOX")
    client.delete_messages([1])
    client.expunge([1])
    # Now UIDs 2, 3, 4 are sequence numbers 1, 2, 3: bare numbers are sequence numbers.
    assert client.search() == [2, 3, 4]
    assert client.search(2) == [3]
    assert client.search([1, "UNSEEN"]) == [2]
    assert client.search("2:3") == [3, 4]
    assert client.search(["2:*"]) == [3, 4]
    assert client.search(["UID", "2:*"]) == [2, 3, 4]
    assert client.search(["UID", "3:*"]) == [3, 4]
    assert client.search(["UID", 4]) == [4]
    assert client.search(["UID", "1,3"]) == [3]
    assert client.search(["UID", "2:3", "SEEN"]) == []


def test_search_dates(search_corpus, client) -> None:
    client.select_folder("INBOX")
    assert client.search(["SINCE", date(2024, 3, 5)]) == [2, 3, 4]
    assert client.search(["BEFORE", date(2024, 3, 5)]) == [1]
    assert client.search(["SINCE", datetime(2024, 3, 2, 23, 59), "BEFORE", date(2024, 3, 9)]) == [2]
    assert client.search(["ON", date(2024, 3, 9)]) == [3]
    assert client.search(["SENTSINCE", date(2024, 3, 9)]) == [3, 4]
    assert client.search(["SENTBEFORE", datetime(2024, 3, 2, tzinfo=UTC)]) == [1]
    assert client.search("SINCE 10-Mar-2024") == [4]  # the older documentation's form
    assert client.search(["SINCE", date(2030, 1, 1)]) == []


@pytest.mark.feature("ESEARCH", "SORT", "THREAD=REFERENCES")
def test_search_non_ascii(search_corpus, client, caplog, offered) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    client.select_folder("INBOX")
    assert client.search(["SUBJECT", "café"]) == [3]
    assert client.search(["BODY", "Grüße"]) == [3]
    assert client.search(["TEXT", "Köln"], charset="UTF-8") == [3]
    assert client.search(["FROM", "Émile"]) == [3]
    assert client.search(["SUBJECT", "façade"]) == []
    assert client.search(["SUBJECT", "café".encode()], charset="UTF-8") == [3]
    # With ESEARCH, search() asks for RETURN (ALL): ranges instead of a list.
    sent = [line for line in sent_commands(caplog) if "SEARCH" in line]
    if offered(client, "ESEARCH"):
        assert all("RETURN (ALL)" in line for line in sent)
    else:
        assert not any("RETURN" in line for line in sent)
    searches = [line.replace("SEARCH RETURN (ALL) ", "SEARCH ") for line in sent]
    # Non-ASCII text comes with a charset (UTF-8 unless given), as a literal.
    assert len(searches) == 6
    assert all(line.startswith("UID SEARCH CHARSET UTF-8 ") for line in searches)
    assert "UID SEARCH CHARSET UTF-8 SUBJECT {5 bytes}" in searches  # "café" in UTF-8
    if offered(client, "SORT"):
        assert client.sort("ARRIVAL", ["BODY", "Grüße"]) == [3]
    if offered(client, "THREAD=REFERENCES"):
        assert client.thread("REFERENCES", ["SUBJECT", "café"]) == ((3,),)
    with pytest.raises(CommandError) as info:  # bytes arguments are sent as given
        client.search(["SUBJECT", "café".encode()], charset="X-NO-SUCH-CHARSET")
    # RFC 3501 asks for NO [BADCHARSET]; Cyrus answers BAD without the code.
    assert (info.value.status, info.value.code) in ((b"NO", b"BADCHARSET"), (b"BAD", None))
    assert client.search(["SUBJECT", "café"]) == [3]  # the session goes on


def test_search_header_and_empty_result(search_corpus, client) -> None:
    client.select_folder("INBOX")
    assert client.search(["HEADER", "X-Tag", "alpha"]) == [1]
    assert client.search(["HEADER", "X-Tag", "beta"]) == [3]
    assert client.search(["HEADER", "X-Tag", ""]) == [1, 3]  # any value
    empty = client.search(["SUBJECT", "no such subject anywhere"])
    assert empty == [] and isinstance(empty, SearchIds)


@pytest.mark.feature("CONDSTORE", "ENABLE")
def test_search_with_modseq_and_fetch_changedsince(search_corpus, client, offered) -> None:
    if not offered(client, "CONDSTORE"):
        # ENABLE returns only what the server enabled; SELECT reports no HIGHESTMODSEQ.
        if offered(client, "ENABLE"):
            assert client.enable("CONDSTORE") == []
        info = client.select_folder("INBOX")
        assert b"HIGHESTMODSEQ" not in info
        result = client.search("FLAGGED")
        assert result == [2] and result.modseq is None
        return
    assert client.enable("CONDSTORE") == [b"CONDSTORE"]
    info = client.select_folder("INBOX")
    highest = info[b"HIGHESTMODSEQ"]
    assert isinstance(highest, int)
    client.add_flags([3], [b"\\Answered"])
    result = client.search(["MODSEQ", highest + 1])
    assert result == [3]
    assert isinstance(result.modseq, int) and result.modseq > highest

    changed = client.fetch("1:*", ["FLAGS"], [f"CHANGEDSINCE {highest}"])
    assert list(changed) == [3]
    assert changed[3][b"MODSEQ"] == result.modseq
    assert b"\\Answered" in changed[3][b"FLAGS"]
    assert client.fetch([1, 2, 3, 4], ["FLAGS"], modifiers=[f"CHANGEDSINCE {result.modseq}"]) == {}
    modseqs = client.fetch("1:*", ["MODSEQ"])
    assert max(d[b"MODSEQ"] for d in modseqs.values()) == result.modseq


@pytest.mark.feature("X-GM-EXT-1")
def test_gmail_search_without_x_gm_ext_1_is_refused(search_corpus, client, offered) -> None:
    assert not offered(client, "X-GM-EXT-1")  # none of the private servers is Gmail
    client.select_folder("INBOX")
    with pytest.raises(CommandError) as info:
        client.gmail_search("has:attachment in:unread")
    assert info.value.status in (b"NO", b"BAD")
    assert info.value.command in (b"UID SEARCH", b"SEARCH")
    # The connection is still fine afterwards.
    assert client.search("UNSEEN") == [2, 3]


@pytest.mark.feature("ESEARCH")
def test_esearch_min_max_count(search_corpus, client, offered, caplog) -> None:
    client.select_folder("INBOX")
    if not offered(client, "ESEARCH"):
        caplog.set_level(logging.DEBUG, logger="imapclient")
        with pytest.raises(CapabilityError):
            client.esearch("SEEN")
        assert not any("RETURN" in line for line in sent_commands(caplog))
        assert client.search("SEEN") == [1, 4]  # plain SEARCH instead
        return
    result = client.esearch("SEEN")
    assert (result[b"MIN"], result[b"MAX"], result[b"COUNT"]) == (1, 4, 2)
    assert list(result[b"ALL"]) == [1, 4]
    assert dict(client.esearch("ALL", returns=["COUNT"])) == {b"COUNT": 4}
    nothing = client.esearch(["SUBJECT", "no such subject"])
    assert nothing[b"COUNT"] == 0 and nothing[b"MIN"] is None and len(nothing[b"ALL"]) == 0


def test_search_arguments_with_quotes_and_backslashes(account, client) -> None:
    account.seed(
        [
            message('He said "hi" \\ then left'),
            message("Plain subject"),
            message("x", headers=[("X-Path", 'C:\\Temp\\"new"')]),
        ]
    )
    client.select_folder("INBOX")
    assert client.search(["SUBJECT", '"hi" \\ then']) == [1]
    assert client.search(["SUBJECT", '"hi"']) == [1]
    assert client.search(["HEADER", "X-Path", 'Temp\\"new"']) == [3]
    assert client.search(["SUBJECT", ") ALL ("]) == []  # one argument, not criteria


def test_failed_select_leaves_no_folder_selected(account, client) -> None:
    account.seed([message("a")])
    client.select_folder("INBOX")
    assert client.search() == [1]
    with pytest.raises(CommandError) as info:
        client.select_folder(Names(client)("No Such Folder"))
    assert info.value.status == b"NO"
    # RFC 9051 6.3.2: a failed SELECT leaves the connection with no folder selected.
    with pytest.raises(IllegalStateError):
        client.search()
    assert client.noop()[1] == []


def test_large_message_round_trip(client) -> None:
    body = b"".join(b"%07d " % i + b"y" * 68 + b"\r\n" for i in range(14000))  # ~1 MiB
    raw = b"Subject: large\r\n\r\n" + body
    client.append("INBOX", raw)
    client.select_folder("INBOX")
    data = client.fetch([1], ["RFC822.SIZE", "BODY.PEEK[]"])[1]
    assert data[b"RFC822.SIZE"] == len(raw)
    assert data[b"BODY[]"] == raw
    assert client.search(["BODY", "0013999 "]) == [1]


# -- sort and thread -------------------------------------------------------------------------


@pytest.mark.feature("SORT")
def test_sort(account, client, offered) -> None:
    account.seed(
        [
            message("banana", "b" * 3000 + "\r\n", date="Sun, 10 Mar 2024 10:00:00 +0000"),
            message("Re: apple", "a" * 10 + "\r\n", date="Tue, 05 Mar 2024 10:00:00 +0000"),
            message("cherry", "c" * 1000 + "\r\n", date="Thu, 07 Mar 2024 10:00:00 +0000"),
        ]
    )
    client.select_folder("INBOX")
    if not offered(client, "SORT"):
        with pytest.raises(CapabilityError):
            client.sort("ARRIVAL")
        return
    assert client.sort("ARRIVAL") == [2, 3, 1]
    assert client.sort("REVERSE ARRIVAL") == [1, 3, 2]
    assert client.sort(["REVERSE", "SIZE"]) == [1, 3, 2]
    assert client.sort("REVERSE SIZE") == [1, 3, 2]
    assert client.sort("SIZE") == [2, 3, 1]
    assert client.sort("SUBJECT") == [2, 1, 3]  # "Re: " is not part of the base subject
    assert client.sort(["DATE"]) == [2, 3, 1]
    assert client.sort("ARRIVAL", ["NOT", "SUBJECT", "cherry"]) == [2, 1]
    assert client.sort("SUBJECT", "LARGER 500") == [1, 3]
    assert client.sort("ARRIVAL", ["SUBJECT", "nothing"]) == []


@pytest.fixture
def thread_corpus(account):
    def msg(mid, subject, day, in_reply_to=None, references=()):
        return message(
            subject,
            date=f"{day:02d} Mar 2024 10:00:00 +0000",
            message_id=f"<{mid}@example.org>",
            in_reply_to=f"<{in_reply_to}@example.org>" if in_reply_to else None,
            references=[f"<{r}@example.org>" for r in references],
        )

    account.seed(
        [
            msg("t1", "topic", 1),
            msg("t2", "Re: topic", 2, "t1", ["t1"]),
            msg("o1", "other", 3),
            msg("t3", "Re: topic", 4, "t2", ["t1", "t2"]),
            msg("t4", "Re: topic", 5, "t1", ["t1"]),
        ]
    )
    return account


@pytest.mark.feature("THREAD=REFERENCES")
def test_thread_references(thread_corpus, client, offered) -> None:
    client.select_folder("INBOX")
    if not offered(client, "THREAD=REFERENCES"):
        with pytest.raises(CapabilityError):
            client.thread()
        return
    # 1 has two replies (2 and 5); 4 replies to 2; 3 is alone.
    assert client.thread() == ((1, (2, 4), (5,)), (3,))
    assert client.thread("REFERENCES") == ((1, (2, 4), (5,)), (3,))
    assert client.thread("REFERENCES", ["NOT", "SUBJECT", "other"]) == ((1, (2, 4), (5,)),)
    assert client.thread("REFERENCES", ["SUBJECT", "nothing"]) == ()


@pytest.mark.feature("THREAD=ORDEREDSUBJECT")
def test_thread_orderedsubject(thread_corpus, client, offered) -> None:
    client.select_folder("INBOX")
    if not offered(client, "THREAD=ORDEREDSUBJECT"):
        with pytest.raises(CapabilityError):
            client.thread("ORDEREDSUBJECT")
        return
    # Grouped by base subject, in date order: each later message a child of the first
    # one (Dovecot, Cyrus) or of the one before it (Courier); RFC 5256 allows both.
    assert client.thread("ORDEREDSUBJECT") in (((1, (2,), (4,), (5,)), (3,)), ((1, 2, 4, 5), (3,)))


@pytest.mark.feature("SORT", "THREAD=REFERENCES")
def test_thread_and_sort_with_sequence_numbers(
    make_client, thread_corpus, account, offered
) -> None:
    with logged_in(make_client, account, use_uid=False) as c:
        c.select_folder("INBOX")
        if not (offered(c, "SORT") and offered(c, "THREAD=REFERENCES")):
            with pytest.raises(CapabilityError):
                c.thread() if c.has_capability("SORT") else c.sort("ARRIVAL")
            return
        c.delete_messages([3])
        c.expunge()
        # UIDs 1, 2, 4, 5 are now sequence numbers 1, 2, 3, 4.
        assert c.thread() == ((1, (2, 3), (4,)),)
        assert c.sort("REVERSE ARRIVAL") == [4, 3, 2, 1]
        c.use_uid = True
        assert c.thread() == ((1, (2, 4), (5,)),)
        assert c.sort("REVERSE ARRIVAL") == [5, 4, 2, 1]


# -- fetch ----------------------------------------------------------------------------------

SIMPLE = message(
    "Envelope test",
    "Line one.\r\nLine two.\r\n",
    sender="Bob Martin <bob@example.com>",
    to="Alice <alice@example.org>",
    cc="Carol <carol@example.net>, dave@example.com",
    date="Mon, 04 Mar 2024 09:12:00 +0100",
    message_id="<env-1@example.org>",
    in_reply_to="<parent@example.org>",
)
PART_TEXT = "Grüße — the first part, base64-encoded.\n"
ATTACHMENT = bytes(range(256)) * 3
MULTIPART = multipart_message("Multipart test", PART_TEXT, ATTACHMENT)


@pytest.fixture
def fetch_corpus(account):
    account.seed([(SIMPLE, ["\\Seen"]), MULTIPART])
    return account


def test_fetch_flags_size_internaldate(fetch_corpus, client) -> None:
    settle(client)
    result = client.fetch([1, 2], ["FLAGS", "RFC822.SIZE", "INTERNALDATE"])
    assert sorted(result) == [1, 2]
    assert result[1][b"FLAGS"] == (SEEN,)
    assert result[2][b"FLAGS"] == ()
    assert result[1][b"RFC822.SIZE"] == len(SIMPLE)
    assert result[2][b"RFC822.SIZE"] == len(MULTIPART)
    assert result[1][b"SEQ"] == 1 and result[2][b"SEQ"] == 2
    assert result[1][b"UID"] == 1
    sent = datetime(2024, 3, 4, 9, 12, tzinfo=PLUS_ONE)  # seeded from the Date header
    naive = result[1][b"INTERNALDATE"]
    assert naive.tzinfo is None
    assert naive == sent.astimezone().replace(tzinfo=None)
    client.normalise_times = False
    aware = client.fetch([1], ["INTERNALDATE"])[1][b"INTERNALDATE"]
    assert aware.tzinfo is not None
    assert aware == sent
    # str keys work on the per-message dicts too
    assert result[1]["RFC822.SIZE"] == len(SIMPLE)


def test_fetch_envelope(fetch_corpus, client) -> None:
    client.select_folder("INBOX", readonly=True)
    client.normalise_times = False
    env = client.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
    assert isinstance(env, Envelope)
    bob = Address(b"Bob Martin", None, b"bob", b"example.com")
    assert env == Envelope(
        date=datetime(2024, 3, 4, 9, 12, tzinfo=PLUS_ONE),
        subject=b"Envelope test",
        from_=(bob,),
        sender=(bob,),
        reply_to=(bob,),
        to=(Address(b"Alice", None, b"alice", b"example.org"),),
        cc=(
            Address(b"Carol", None, b"carol", b"example.net"),
            Address(None, None, b"dave", b"example.com"),
        ),
        bcc=None,
        in_reply_to=b"<parent@example.org>",
        message_id=b"<env-1@example.org>",
    )
    assert env.date.utcoffset() == timedelta(hours=1)
    assert str(env.from_[0]) == "Bob Martin <bob@example.com>"
    assert [str(a) for a in env.cc] == ["Carol <carol@example.net>", "dave@example.com"]
    assert env.from_[0].mailbox == b"bob" and env.from_[0].host == b"example.com"

    client.normalise_times = True
    naive = client.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
    assert naive.date.tzinfo is None
    assert naive.date == env.date.astimezone().replace(tzinfo=None)


def test_fetch_envelope_with_group_and_missing_headers(account, client) -> None:
    raw = (
        b"From: Bob <bob@example.com>\r\n"
        b"To: undisclosed-recipients:;\r\n"
        b"Subject: =?utf-8?q?caf=C3=A9?=\r\n"
        b"\r\nbody\r\n"
    )
    account.seed([raw])
    client.select_folder("INBOX", readonly=True)
    env = client.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
    assert env.date is None  # no Date header
    assert env.subject == b"=?utf-8?q?caf=C3=A9?="  # as the server sent it
    start, end = env.to  # a group: its start and its end (host NIL)
    assert start.host is None and end.host is None
    if start.mailbox:
        assert start == Address(None, None, b"undisclosed-recipients", None)
        assert str(start) == "undisclosed-recipients"
        assert end == Address(None, None, None, None)
    else:  # Courier drops the group's name: ((NIL NIL "" NIL)(NIL NIL "" NIL))
        assert start == end == Address(None, None, b"", None)
    assert env.cc is None and env.bcc is None
    assert env.message_id is None and env.in_reply_to is None


def test_fetch_bodystructure_of_multipart(fetch_corpus, client) -> None:
    client.select_folder("INBOX", readonly=True)
    data = client.fetch([1, 2], ["BODYSTRUCTURE"])
    single = data[1][b"BODYSTRUCTURE"]
    assert not single.is_multipart
    assert (single[0].lower(), single[1].lower()) == (b"text", b"plain")
    assert single[6] == len(split(SIMPLE)[1])  # size of the body in octets
    assert single[7] == 2  # lines

    multi = data[2][b"BODYSTRUCTURE"]
    assert multi.is_multipart
    parts = multi[0]
    assert multi[1].lower() == b"mixed"
    assert len(parts) == 2
    text, attachment = parts
    assert not text.is_multipart and not attachment.is_multipart
    assert (text[0].lower(), text[1].lower()) == (b"text", b"plain")
    assert text[5].lower() == b"base64"
    assert text[6] == len(base64_lines(PART_TEXT.encode())) - 2
    assert (attachment[0].lower(), attachment[1].lower()) == (b"application", b"octet-stream")
    assert attachment[5].lower() == b"base64"
    assert attachment[6] == len(base64_lines(ATTACHMENT)) - 2


def test_fetch_body_sections(fetch_corpus, client) -> None:
    settle(client)
    header, body = split(SIMPLE)
    result = client.fetch([1], ["BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "BODY.PEEK[]<0.10>"])
    data = result[1]
    assert data[b"BODY[HEADER]"] == header
    assert data[b"BODY[TEXT]"] == body
    assert data[b"BODY[]<0>"] == SIMPLE[:10]
    assert len(data[b"BODY[]<0>"]) == 10
    assert b"BODY.PEEK[HEADER]" not in data

    # BODY[TEXT] (not PEEK) sets \Seen on the unseen message 2.
    assert client.get_flags([2]) == {2: ()}
    text = client.fetch([2], ["BODY[TEXT]"])[2][b"BODY[TEXT]"]
    assert text == split(MULTIPART)[1]
    assert client.get_flags([2]) == {2: (SEEN,)}

    # A later partial range comes back under its origin.
    middle = client.fetch([1], ["BODY.PEEK[]<5.7>"])[1]
    assert middle[b"BODY[]<5>"] == SIMPLE[5:12]

    # The RFC822 items of the specification's fetch example.
    client.remove_flags([2], [SEEN])
    rfc822 = client.fetch([2], ["RFC822.HEADER", "RFC822.TEXT"])[2]
    assert rfc822[b"RFC822.HEADER"] == split(MULTIPART)[0]
    assert rfc822[b"RFC822.TEXT"] == split(MULTIPART)[1]
    assert client.fetch([2], ["INTERNALDATE", "RFC822"])[2][b"RFC822"] == MULTIPART
    assert client.get_flags([2]) == {2: (SEEN,)}  # RFC822 is not a peek


@pytest.mark.feature("BINARY")
def test_fetch_parts_of_multipart_and_binary(fetch_corpus, client, offered) -> None:
    client.select_folder("INBOX", readonly=True)
    data = client.fetch([2], ["BODY.PEEK[1]", "BODY.PEEK[2]", "BODY.PEEK[1.MIME]"])[2]
    encoded = base64_lines(PART_TEXT.encode()).encode()[:-2]
    assert data[b"BODY[1]"] == encoded
    assert base64.b64decode(data[b"BODY[1]"]) == PART_TEXT.encode()
    assert data[b"BODY[2]"] == base64_lines(ATTACHMENT).encode()[:-2]
    assert data[b"BODY[1.MIME]"].startswith(b"Content-Type: text/plain; charset=utf-8\r\n")

    if not offered(client, "BINARY"):
        # Sent as asked (the library does not guess); the server refuses it.
        with pytest.raises(CommandError) as info:
            client.fetch([2], ["BINARY.PEEK[1]"])
        assert info.value.status in (b"NO", b"BAD")
        assert client.fetch([2], ["BODY.PEEK[1]"])[2][b"BODY[1]"] == encoded  # still fine
        return
    binary = client.fetch([2], ["BINARY.PEEK[1]", "BINARY.PEEK[2]", "BINARY.SIZE[2]"])[2]
    assert binary[b"BINARY[1]"] == PART_TEXT.encode()
    assert binary[b"BINARY[2]"] == ATTACHMENT  # includes NUL bytes: sent as literal8
    assert binary[b"BINARY.SIZE[2]"] == len(ATTACHMENT)


def test_fetch_message_sets_and_empty(fetch_corpus, client) -> None:
    client.select_folder("INBOX", readonly=True)
    everything = client.fetch("1:*", ["FLAGS"])
    assert sorted(everything) == [1, 2]
    assert all(b"SEQ" in d and b"FLAGS" in d for d in everything.values())
    assert client.fetch([], ["FLAGS"]) == {}
    assert client.fetch(2, "RFC822.SIZE") == {
        2: {b"RFC822.SIZE": len(MULTIPART), b"UID": 2, b"SEQ": 2}
    }
    assert client.fetch([99], ["FLAGS"]) == {}  # no such UID: nothing, no error
    assert sorted(client.fetch("2,1", ["UID"])) == [1, 2]
    lower = client.fetch([1], ["flags", "body.peek[header.fields (subject)]"])
    # EXAMINE shows \Recent without taking it, where the server gave it to this session
    assert without_recent(lower[1][b"FLAGS"]) == {SEEN}
    assert lower == {
        1: {
            b"UID": 1,
            b"FLAGS": lower[1][b"FLAGS"],
            b"BODY[HEADER.FIELDS (SUBJECT)]": b"Subject: Envelope test\r\n\r\n",
            b"SEQ": 1,
        }
    }


def test_fetch_with_sequence_numbers(make_client, fetch_corpus, account) -> None:
    account.seed([message("third")])
    with logged_in(make_client, account, use_uid=False) as c:
        c.select_folder("INBOX")
        c.delete_messages([1])
        c.expunge()
        # UIDs 2 and 3 are sequence numbers 1 and 2.
        result = c.fetch("1:*", ["UID", "RFC822.SIZE"])
        assert sorted(result) == [1, 2]
        assert result[1][b"UID"] == 2 and result[1][b"SEQ"] == 1
        assert result[2][b"UID"] == 3 and result[2][b"SEQ"] == 2
        assert result[1][b"RFC822.SIZE"] == len(MULTIPART)
        assert c.search() == [1, 2]
        c.use_uid = True
        assert sorted(c.fetch("1:*", ["FLAGS"])) == [2, 3]
        assert c.search() == [2, 3]


# -- flags and expunge --------------------------------------------------------------------


def test_get_add_remove_set_flags(account, client) -> None:
    account.seed([(message("a"), ["\\Seen"]), message("b"), (message("c"), ["\\Flagged"])])
    settle(client)
    assert client.get_flags([1, 2, 3]) == {1: (SEEN,), 2: (), 3: (b"\\Flagged",)}
    assert client.get_flags("2:3") == {2: (), 3: (b"\\Flagged",)}

    added = client.add_flags([1, 2], [b"\\Answered", "custom"])
    assert {k: set(v) for k, v in added.items()} == {
        1: {SEEN, b"\\Answered", b"custom"},
        2: {b"\\Answered", b"custom"},
    }
    assert all(isinstance(v, tuple) for v in added.values())

    removed = client.remove_flags(1, SEEN)
    assert {k: set(v) for k, v in removed.items()} == {1: {b"\\Answered", b"custom"}}

    assert client.set_flags([2, 3], [b"\\Draft"]) == {2: (b"\\Draft",), 3: (b"\\Draft",)}
    assert client.set_flags([3], []) == {3: ()}

    assert client.add_flags([3], [b"\\Flagged"], silent=True) is None
    assert client.remove_flags([1], ["custom"], silent=True) is None
    assert client.set_flags([2], [SEEN], silent=True) is None
    assert client.get_flags([1, 2, 3]) == {1: (b"\\Answered",), 2: (SEEN,), 3: (b"\\Flagged",)}

    deleted = client.delete_messages([3])
    assert {k: set(v) for k, v in deleted.items()} == {3: {b"\\Flagged", b"\\Deleted"}}
    assert client.search("DELETED") == [3]
    assert client.add_flags([], [SEEN]) == {}


def test_flags_with_sequence_numbers(make_client, account) -> None:
    account.seed([message("a"), message("b")])
    with logged_in(make_client, account, use_uid=False) as c:
        settle(c)
        assert c.add_flags([2], [SEEN]) == {2: (SEEN,)}
        assert c.get_flags("1:*") == {1: (), 2: (SEEN,)}
        with pytest.raises(ValueError):  # UID EXPUNGE needs UIDs
            c.expunge([1])


def test_expunge_returns_expunge_responses(account, client) -> None:
    account.seed([message(s) for s in "abcde"])
    settle(client)
    client.delete_messages([2, 4])
    text, responses = client.expunge()
    server_text(text)
    # The expunge notices, and whatever else the server reported with them (Courier:
    # EXISTS and RECENT).
    others = [r for r in responses if r[1] != b"EXPUNGE"]
    assert others in ([], [(3, b"EXISTS"), (0, b"RECENT")])
    responses = [r for r in responses if r[1] == b"EXPUNGE"]
    # Applied in the order received, the notices remove exactly UIDs 2 and 4 (4 then 2,
    # or 2 then 3, depending on the server).
    assert len(responses) == 2
    remaining = [1, 2, 3, 4, 5]
    for number, _ in responses:
        del remaining[number - 1]
    assert remaining == [1, 3, 5]
    assert client.search() == [1, 3, 5]
    text, responses = client.expunge()  # nothing left to expunge
    assert responses == []


@pytest.mark.feature("UIDPLUS")
def test_expunge_messages_and_uid_expunge(account, client, offered) -> None:
    account.seed([message(s) for s in "abcde"])
    client.select_folder("INBOX")
    client.delete_messages([1, 2, 3])
    if not offered(client, "UIDPLUS"):
        with pytest.raises(CapabilityError):  # UID EXPUNGE is UIDPLUS's
            client.expunge([2])
        assert client.search("DELETED") == [1, 2, 3]
        return
    text = client.expunge([2])
    server_text(text)
    assert client.search() == [1, 3, 4, 5]
    assert client.search("DELETED") == [1, 3]
    server_text(client.uid_expunge("3"))
    assert client.search() == [1, 4, 5]
    assert client.search("DELETED") == [1]
    client.uid_expunge([4, 5])  # not deleted: untouched
    assert client.search() == [1, 4, 5]


# -- server ---------------------------------------------------------------------------------


def test_capabilities_cached_and_refreshed_after_login(make_client, account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with connect(make_client, account) as c:
        before = c.capabilities()
        assert c.capabilities() == before
        # Asked for at most once: not at all when the greeting carried them.
        asked = sent_commands(caplog).count("CAPABILITY")
        assert asked <= 1
        assert b"IMAP4REV1" in before
        assert all(cap == cap.upper() for cap in before)
        if account.preauth:  # already logged in: these are the final ones
            assert not any(cap.startswith(b"AUTH=") for cap in before)
            assert c.capabilities() == before
            return
        assert b"AUTH=PLAIN" in before
        assert b"QUOTA" not in before
        assert c.has_capability("auth=plain") and c.has_capability(b"AUTH=PLAIN")

        c.login(account.username, account.password)
        after = c.capabilities()
        assert c.capabilities() == after
        assert b"QUOTA" in after and b"ACL" in after and b"MOVE" in after
        assert b"AUTH=PLAIN" not in after
        assert c.has_capability("quota") and c.has_capability("Move")
        assert not c.has_capability("X-GM-EXT-1")
        # The tagged OK of LOGIN carried them: no CAPABILITY command after it.
        assert sent_commands(caplog).count("CAPABILITY") == asked


@pytest.mark.feature("STARTTLS")
def test_capabilities_asked_once_after_starttls(make_client, account, caplog, offered) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    context = ssl.create_default_context(cafile=str(account.ca_file))
    with connect(make_client, account) as c:
        if not offered(c, "STARTTLS"):
            # Documented: no STARTTLS (here: a PREAUTH greeting, too late for it) raises
            # TLSRequiredError and closes the connection; nothing more goes in plaintext.
            with pytest.raises(TLSRequiredError):
                c.starttls(context)
            assert "STARTTLS" not in sent_commands(caplog)
            with pytest.raises(IMAPClient.AbortError):
                c.noop()
            return
        c.starttls(context)
        first = c.capabilities()
        second = c.capabilities()
        assert first == second
        assert b"STARTTLS" not in first
        assert sent_commands(caplog).count("CAPABILITY") == 1
        assert c.has_capability("AUTH=PLAIN")
        assert sent_commands(caplog).count("CAPABILITY") == 1


def test_welcome_and_shutdown(make_client, account) -> None:
    c = connect(make_client, account)
    assert isinstance(c.welcome, bytes) and c.welcome
    account.login(c)
    assert c.socket() is not None
    c.shutdown()  # closes without LOGOUT
    assert c.socket() is None
    with pytest.raises(IMAPClient.AbortError):
        c.noop()


@pytest.mark.feature("X-GM-EXT-1")
def test_gmail_label_methods_without_x_gm_ext_1_are_refused(account, client, offered) -> None:
    assert not offered(client, "X-GM-EXT-1")
    account.seed([message("a")])
    client.select_folder("INBOX")
    for call in (
        lambda: client.get_gmail_labels([1]),
        lambda: client.add_gmail_labels([1], ["Work"]),
        lambda: client.remove_gmail_labels([1], ["Work"]),
        lambda: client.set_gmail_labels([1], ["\\Important", "Work"]),
    ):
        with pytest.raises(CommandError) as info:
            call()
        assert info.value.status in (b"NO", b"BAD")
    assert without_recent(client.get_flags([1])[1]) == set()  # nothing changed


@pytest.mark.feature("ENABLE", "ID", "QRESYNC")
def test_enable_and_id(client, offered) -> None:
    if offered(client, "ENABLE"):
        assert client.enable("X-NO-SUCH-EXTENSION") == []
        if offered(client, "CONDSTORE"):
            assert client.enable("CONDSTORE") == [b"CONDSTORE"]
        if offered(client, "QRESYNC"):
            assert client.enable(b"QRESYNC") == [b"QRESYNC"]
    else:
        with pytest.raises(CapabilityError):
            client.enable("CONDSTORE")
    if not offered(client, "ID"):
        with pytest.raises(CapabilityError):
            client.id_()
        return
    info = client.id_({"name": "imapclient-tests", "version": "1.0"})
    assert isinstance(info, dict)
    assert isinstance(info[b"name"], bytes) and info[b"name"]  # the server's name
    assert client.id_() == info


def test_noop_sees_messages_appended_by_another_connection(make_client, account, client) -> None:
    account.seed([message("one")])
    settle(client)
    text, responses = client.noop()
    server_text(text)
    assert responses == []
    with logged_in(make_client, account) as other:
        other.append("INBOX", message("from elsewhere"))
        other.append("INBOX", message("and another"))
    text, responses = client.noop()
    # The other connection never selected INBOX, so the new messages are \Recent here
    # (on the servers that report RECENT).
    assert responses[0] == (3, b"EXISTS")
    assert responses[1:] in ([], [(2, b"RECENT")], [(0, b"RECENT")])
    assert client.search() == [1, 2, 3]


def test_drain_unsolicited(make_client, account, client) -> None:
    account.seed([message("one")])
    settle(client)
    assert client.drain_unsolicited() == []
    with logged_in(make_client, account) as other:
        other.append("INBOX", message("from elsewhere"))
        other.select_folder("INBOX")
        other.add_flags([1], [b"\\Flagged"])
    # The flag change and the EXISTS arrive with the next command's answer (before or
    # after its result, as the server likes); what the command did not claim waits here.
    client.search("FLAGGED")
    updates = client.drain_unsolicited()
    _, more = client.noop()  # anything still to come, and the drained rest (none)
    updates += more
    assert (2, b"EXISTS") in updates
    assert (1, b"FETCH", (b"FLAGS", (b"\\Flagged",))) in [
        (u[0], u[1], (u[2][0], tuple(without_recent(u[2][1])))) for u in updates if u[1] == b"FETCH"
    ]
    assert client.drain_unsolicited() == []  # each is returned once
    assert client.search("FLAGGED") == [1]
    assert client.search() == [1, 2]


# -- authentication ---------------------------------------------------------------------------

#: A password for the calls that must be refused before anything is sent.
UNUSED_PASSWORD = "unused-password-sent-nowhere"


def refused_before_sending(caplog, call, error=CapabilityError) -> None:
    """``call()`` raises ``error`` and sends no LOGIN or AUTHENTICATE."""
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with pytest.raises(error):
        call()
    assert not any(line.startswith(("AUTHENTICATE", "LOGIN")) for line in sent_commands(caplog))
    assert UNUSED_PASSWORD not in caplog.text


@pytest.mark.feature("LOGIN")
def test_login_returns_text(make_client, account, offered) -> None:
    with connect(make_client, account) as c:
        if not offered.record("LOGIN", not account.preauth):
            # Already authenticated: the server refuses LOGIN, and the session goes on.
            with pytest.raises(LoginError):
                c.login(account.username, UNUSED_PASSWORD)
        else:
            server_text(c.login(account.username, account.password))
        assert c.list_folders("", "INBOX")[0][2] == "INBOX"
        assert c.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.feature("AUTH=PLAIN")
def test_plain_login(make_client, account, offered, caplog) -> None:
    with connect(make_client, account) as c:
        if not offered(c, "AUTH=PLAIN"):
            refused_before_sending(caplog, lambda: c.plain_login(account.username, UNUSED_PASSWORD))
            assert c.folder_exists("INBOX")  # still usable
            return
        server_text(c.plain_login(account.username, account.password))
        assert c.has_capability("QUOTA")
        assert c.folder_exists("INBOX")


@pytest.mark.feature("AUTH=PLAIN")
def test_plain_login_with_authorization_identity_is_refused(
    make_client, imap_server, account, offered
) -> None:
    other = imap_server.new_account()
    with connect(make_client, account) as c:
        if not offered(c, "AUTH=PLAIN"):
            with pytest.raises(CapabilityError):
                c.plain_login(account.username, UNUSED_PASSWORD, other.username)
            return
        with pytest.raises(LoginError) as info:
            c.plain_login(account.username, account.password, other.username)
        assert info.value.status == b"NO"
        assert account.password not in str(info.value)
        c.login(account.username, account.password)  # still usable
        assert c.folder_exists("INBOX")


def scram_server_signature(caplog) -> bytes:
    """The server signature (``v=``) of a SCRAM exchange, from the wire log: 32 bytes
    for SCRAM-SHA-256, 20 for SCRAM-SHA-1."""
    received = b"".join(r.args[0] for r in caplog.records if r.name == "imapclient.wire" and r.args)
    for challenge in re.findall(rb"^\+ ([A-Za-z0-9+/=]+)\r$", received, re.M):
        decoded = base64.b64decode(challenge)
        if decoded.startswith(b"v="):
            return base64.b64decode(decoded[2:])
    raise AssertionError("no SCRAM server-final message received")


@pytest.mark.feature("SCRAM")
@pytest.mark.parametrize(("mech", "digest_size"), [("SCRAM-SHA-256", 32), ("SCRAM-SHA-1", 20)])
def test_scram_login(
    make_client, account, caplog, restore_loggers, offered, mech, digest_size
) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    caplog.set_level(logging.DEBUG, logger="imapclient.wire")
    with connect(make_client, account) as c:
        if not offered(c, f"AUTH={mech}", "SCRAM"):
            refused_before_sending(
                caplog, lambda: c.scram_login(account.username, UNUSED_PASSWORD, mech)
            )
            return
        server_text(c.scram_login(account.username, account.password, mech))
        assert c.has_capability("ACL")
        assert c.select_folder("INBOX")[b"EXISTS"] == 0
    assert len(scram_server_signature(caplog)) == digest_size
    assert "AUTHENTICATE **REDACTED**" in sent_commands(caplog)
    assert account.password not in caplog.text


@pytest.mark.feature("SCRAM")
def test_scram_login_default_is_sha256(
    make_client, account, caplog, restore_loggers, offered
) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    caplog.set_level(logging.DEBUG, logger="imapclient.wire")
    with connect(make_client, account) as c:
        if not offered(c, "AUTH=SCRAM-SHA-256", "SCRAM"):
            refused_before_sending(caplog, lambda: c.scram_login(account.username, UNUSED_PASSWORD))
            return
        c.scram_login(account.username, account.password)
        assert c.has_capability("QUOTA")
    assert len(scram_server_signature(caplog)) == 32
    with connect(make_client, account) as c, pytest.raises(ValueError):
        c.scram_login(account.username, account.password, "SCRAM-MD5")


@pytest.mark.feature("AUTH=PLAIN")
def test_sasl_login_with_a_plain_callback(make_client, account, offered, caplog) -> None:
    challenges = []

    def plain(challenge: bytes) -> bytes:
        challenges.append(challenge)
        return f"\0{account.username}\0{account.password or UNUSED_PASSWORD}".encode()

    with connect(make_client, account) as c:
        if not offered(c, "AUTH=PLAIN"):
            refused_before_sending(caplog, lambda: c.sasl_login("PLAIN", plain))
            assert challenges == []
            return
        server_text(c.sasl_login("PLAIN", plain))
        assert challenges == [b""]
        assert c.has_capability("QUOTA")


@pytest.mark.feature("AUTH=PLAIN")
def test_sasl_login_callback_cancelling(make_client, account, offered) -> None:
    with connect(make_client, account) as c:
        if not offered(c, "AUTH=PLAIN"):
            with pytest.raises(CapabilityError):
                c.sasl_login("PLAIN", lambda challenge: None)
            return
        with pytest.raises(LoginError):
            c.sasl_login("PLAIN", lambda challenge: None)
        c.login(account.username, account.password)


@pytest.mark.parametrize("method", ["login", "plain_login", "scram-sha-256", "scram-sha-1", "sasl"])
def test_wrong_password_is_a_login_error(make_client, account, offered, method) -> None:
    wrong = "wrong-" + (account.password or UNUSED_PASSWORD)
    user = account.username
    mechanism = {"login": None, "sasl": "PLAIN", "plain_login": "PLAIN"}.get(method, method.upper())
    with connect(make_client, account) as c:
        if account.preauth or (mechanism and not offered(c, f"AUTH={mechanism}")):
            # Nothing to log in to: LOGIN is refused by the server, a mechanism it does
            # not offer by the client.
            with pytest.raises((LoginError, CapabilityError)) as refused:
                c.login(user, wrong) if mechanism is None else c.sasl_login(
                    mechanism, lambda _: f"\0{user}\0{wrong}"
                )
            assert wrong not in str(refused.value)
            return
        with pytest.raises(LoginError) as info:
            if method == "login":
                c.login(user, wrong)
            elif method == "plain_login":
                c.plain_login(user, wrong)
            elif method == "sasl":
                c.sasl_login("PLAIN", lambda _: f"\0{user}\0{wrong}")
            else:
                c.scram_login(user, wrong, method.upper())
        assert isinstance(info.value, CommandError)
        assert info.value.status == b"NO"
        assert info.value.code in (b"AUTHENTICATIONFAILED", None)  # RFC 5530's code is optional
        assert wrong not in str(info.value)
        # Not logged in: no post-login capabilities, and the right password still works.
        assert not c.has_capability("QUOTA")
        c.login(user, account.password)
        assert c.has_capability("QUOTA")


@pytest.mark.feature("XOAUTH2")
def test_oauth2_login_without_xoauth2_sends_nothing(make_client, account, caplog, offered) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with connect(make_client, account) as c:
        assert not offered(c, "AUTH=XOAUTH2", "XOAUTH2")
        with pytest.raises(CapabilityError):
            c.oauth2_login(account.username, "token-abc")
        with pytest.raises(CapabilityError):
            c.oauth2_login(account.username, "token-abc", mech="OAUTHBEARER")
        with pytest.raises(CapabilityError):
            c.oauthbearer_login(account.username, "token-abc")
        with pytest.raises(CapabilityError):
            c.oauth_login("https://mail.example/", "token", "secret")
        assert not any(line.startswith("AUTHENTICATE") for line in sent_commands(caplog))
        assert "token-abc" not in caplog.text
        account.login(c)  # still usable
        assert c.folder_exists("INBOX")


# -- constructor ------------------------------------------------------------------------------


def test_unknown_keyword_is_a_type_error(make_client, account) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        make_client(account.host, port=account.port, ssl=False, no_such_option=1)


def test_contradictory_arguments_are_value_errors(make_client, account) -> None:
    with pytest.raises(ValueError, match="stream"):
        make_client("imap-server-command", port=account.port, stream=True)
    with pytest.raises(ValueError, match="certfile"):
        make_client(account.host, port=account.tls_port, keyfile="client.key")


@pytest.mark.feature("IMPLICIT TLS")
def test_timeout_as_number_and_as_socket_timeout(make_client, account) -> None:
    with connect(make_client, account, timeout=7.5) as c:
        assert read_timeout(c) == 7.5
        account.login(c)
        assert c.folder_exists("INBOX")
    with connect(make_client, account, timeout=SocketTimeout(connect=3, read=11)) as c:
        assert read_timeout(c) == 11
        account.login(c)
        assert c.folder_exists("INBOX")
    context = ssl.create_default_context(cafile=str(account.ca_file))
    with make_client(
        account.host,
        port=account.tls_port,
        ssl_context=context,
        timeout=SocketTimeout(2, None),
    ) as c:
        assert read_timeout(c) is None
        account.login(c)
        assert c.folder_exists("INBOX")
    with pytest.raises(TypeError):
        connect(make_client, account, timeout="soon")


def test_debug_output_to_log_file(make_client, account, restore_loggers) -> None:
    out = io.StringIO()
    c = connect(make_client, account)
    try:
        c.log_file = out
        c.debug = 4
        assert c.debug == 4
        account.login(c)
        c.select_folder("INBOX")
        text = out.getvalue()
        if not account.preauth:
            assert "LOGIN **REDACTED**" in text
            assert account.password not in text
            assert account.username not in text
        assert "SELECT INBOX" in text

        c.debug = 0
        assert c.debug == 0
        size = len(out.getvalue())
        c.noop()
        c.list_folders()
        assert len(out.getvalue()) == size

        c.debug = True
        assert c.debug == 4
        c.noop()
        assert "NOOP" in out.getvalue()[size:]
        with pytest.raises(ValueError):
            c.debug = 6
    finally:
        c.debug = 0
        c.logout()


# -- the specification's call shapes ------------------------------------------------------------


def test_spec_example_call_shapes(make_client, account) -> None:
    raw = [message("first"), message("second", "x" * 500 + "\r\n"), message("gone")]
    account.seed([(raw[0], ["\\Seen"]), (raw[1], ["\\Flagged"]), (raw[2], ["\\Deleted"])])
    server = make_client(account.host, port=account.port, use_uid=True, ssl=False)
    account.login(server)
    select_info = server.select_folder("INBOX")
    assert "%d messages in INBOX" % select_info["EXISTS"] == "3 messages in INBOX"  # noqa: UP031
    messages = server.search(["NOT DELETED"])
    assert len(messages) == 2
    response = server.fetch(messages, ["FLAGS", "RFC822.SIZE"])
    lines = []
    for msgid, data in response.items():
        # the spec's example, verbatim
        line = "ID %d: %d bytes, flags=%s" % (msgid, data["RFC822.SIZE"], data["FLAGS"])  # noqa: UP031
        lines.append(line)
        assert data["RFC822.SIZE"] == data[b"RFC822.SIZE"]
        assert without_recent(data["FLAGS"]) == [{SEEN}, {b"\\Flagged"}][msgid - 1]

    # \Recent, where the server gave it to this session, may come before or after.
    def spelled(flag: str) -> set[str]:
        return {f"(b'{flag}',)", f"(b'{flag}', b'\\\\Recent')", f"(b'\\\\Recent', b'{flag}')"}

    first, second = sorted(lines)
    assert first.split("flags=") == [f"ID 1: {len(raw[0])} bytes, ", first.split("flags=")[1]]
    assert first.split("flags=")[1] in spelled("\\\\Seen")
    assert second.split("flags=") == [f"ID 2: {len(raw[1])} bytes, ", second.split("flags=")[1]]
    assert second.split("flags=")[1] in spelled("\\\\Flagged")
    server_text(server.logout())


def test_exceptions_are_catchable_as_the_documented_types(make_client, account) -> None:
    with logged_in(make_client, account) as c:
        missing = Names(c)("No Such Folder")
        for catch in (imaplib.IMAP4.error, IMAPClient.Error, CommandError):
            with pytest.raises(catch):
                c.select_folder(missing)
        with pytest.raises(IMAPClient.Error):  # client-side misuse too
            c.fetch([1], ["FLAGS"])
        c.select_folder("INBOX")
        account.kick()
        with pytest.raises(IMAPClient.AbortError) as info:
            c.noop()
        assert isinstance(info.value, imaplib.IMAP4.abort)
        assert isinstance(info.value, imaplib.IMAP4.error)
        with pytest.raises(imaplib.IMAP4.abort):
            c.search()
    assert issubclass(IMAPClient.ReadOnlyError, imaplib.IMAP4.readonly)
    assert issubclass(LoginError, IMAPClient.Error)


@pytest.mark.feature("METADATA")
def test_metadata_set_get_and_remove(client, offered) -> None:
    if not offered(client, "METADATA"):
        with pytest.raises(CapabilityError):
            client.get_metadata("INBOX", "/private/comment")
        return
    assert client.get_metadata("INBOX", ["/private/comment"]) == {b"/private/comment": None}
    client.set_metadata(
        "INBOX", {"/private/comment": "Grüße, work", "/private/vendor/test/note": "a\r\nb"}
    )
    got = client.get_metadata("INBOX", ["/private/comment", "/private/vendor/test/note"])
    assert got == {
        b"/private/comment": "Grüße, work".encode(),
        b"/private/vendor/test/note": b"a\r\nb",
    }
    client.set_metadata("INBOX", {"/private/comment": None})
    assert client.get_metadata("INBOX", "/private/comment") == {b"/private/comment": None}
    with pytest.raises(ValueError):
        client.get_metadata("INBOX", "comment")  # not a /private/ or /shared/ entry
