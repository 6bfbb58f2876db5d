"""The whole client API against the private Dovecot (see servers/dovecot.py), through
both front ends: every test that makes a client gets it from the ``make_client`` fixture
(tests/conftest.py), so it runs once with the blocking IMAPClient (``[blocking]``) and
once with AsyncIMAPClient behind tests/frontends.py's BlockingAdapter (``[async]``).

Every public method is called for real and its result checked exactly: folders
(LIST/LSUB/XLIST, special-use, create/rename/delete/subscribe with non-ASCII names,
STATUS, SELECT/EXAMINE/UNSELECT/CLOSE, NAMESPACE, ACL, QUOTA), messages (APPEND,
MULTIAPPEND, COPY, MOVE, SEARCH in all its argument forms, SORT, THREAD, FETCH of every
kind of item, flags, EXPUNGE), the server (capabilities, ENABLE, ID, NOOP, unsolicited
responses), every authentication method, the constructor's options and the call shapes
of the specification's examples.

Each test gets a fresh Dovecot user (the ``imap_account`` fixture) and seeds its mail
straight into the maildir, so tests are independent. Dovecot appends timings to its
OK texts ("Append completed (0.003 + 0.000 secs)."), so texts are compared by prefix.
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
)
from imapclient.protocol.responses import AppendUid, CopyUid
from imapclient.response_types import Address, Envelope, MailboxQuotaRoots, Quota

pytestmark = pytest.mark.integration

UTC = timezone.utc
PLUS_ONE = timezone(timedelta(hours=1))
SPECIAL_FOLDERS = {"Drafts", "Sent", "Trash", "Junk", "Archive"}


# -- helpers ------------------------------------------------------------------------------


def connect(make_client, account, **kwargs):
    """A client of the test's front end on the plain port (not logged in)."""
    return make_client(account.host, port=account.port, ssl=False, **kwargs)


def logged_in(make_client, account, **kwargs):
    client = connect(make_client, account, **kwargs)
    client.login(account.username, account.password)
    return client


@pytest.fixture
def client(make_client, imap_account) -> Iterator[Any]:
    """A logged-in client of the test's front end for the test's fresh account; logged
    out afterwards."""
    with logged_in(make_client, imap_account) as c:
        yield c


def settle(client, folder: str = "INBOX") -> dict:
    """Select ``folder`` so that its messages are no longer \\Recent for this session.

    The first SELECT of freshly delivered mail gives this session the \\Recent flags;
    leaving and selecting again shows the flags the messages really have."""
    client.select_folder(folder)
    client.unselect_folder()
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


# -- folders ------------------------------------------------------------------------------


def test_list_folders_shape_and_special_use(client) -> None:
    folders = client.list_folders()
    by_name = {name: (flags, delimiter) for flags, delimiter, name in folders}
    assert set(by_name) == {"INBOX"} | SPECIAL_FOLDERS
    for entry in folders:
        assert isinstance(entry, tuple) and len(entry) == 3
        flags, delimiter, name = entry
        assert isinstance(flags, tuple) and all(isinstance(f, bytes) for f in flags)
        assert delimiter == b"/"
        assert isinstance(name, str)
    assert by_name["INBOX"][0] == (b"\\HasNoChildren",)
    for name in SPECIAL_FOLDERS:
        assert set(by_name[name][0]) == {b"\\HasNoChildren", b"\\" + name.encode()}
    # directory and pattern
    assert [n for _, _, n in client.list_folders("", "S%")] == ["Sent"]
    assert client.list_folders("", "nothing-like-this*") == []


def test_list_sub_folders(client) -> None:
    subscribed = client.list_sub_folders()
    # Dovecot auto-subscribes the special-use folders; INBOX is not subscribed.
    assert {name for _, _, name in subscribed} == SPECIAL_FOLDERS
    assert all(delimiter == b"/" for _, delimiter, _ in subscribed)
    assert [name for _, _, name in client.list_sub_folders("", "T*")] == ["Trash"]


def test_xlist_folders_on_a_server_without_xlist(client) -> None:
    """Dovecot does not announce XLIST; it still answers the command, with LIST responses.

    Either outcome is acceptable for a server that lacks XLIST: the command fails
    (CommandError), or the folders the server listed are returned. Returning an empty
    list while the server listed every folder is not."""
    assert not client.has_capability("XLIST")
    try:
        result = client.xlist_folders()
    except CommandError as exc:
        assert exc.status in (b"NO", b"BAD")
        return
    assert sorted(result) == sorted(client.list_folders())


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
def test_find_special_folder_with_top_level_constants(client, constant, value, folder) -> None:
    flag = getattr(imapclient, constant, None)
    assert flag is not None, f"imapclient.{constant} is missing (find_special_folder documents it)"
    assert flag == value
    assert client.find_special_folder(flag) == folder


def test_find_special_folder_by_flag_value_and_missing(client) -> None:
    assert client.find_special_folder(b"\\Sent") == "Sent"
    assert client.find_special_folder("\\trash") == "Trash"  # str, any case
    assert client.find_special_folder(b"\\All") is None  # no such folder on Dovecot
    assert client.find_special_folder(b"\\Flagged") is None


def test_folder_exists(client) -> None:
    assert client.folder_exists("INBOX") is True
    assert client.folder_exists("Sent") is True
    assert client.folder_exists("Does Not Exist") is False
    client.create_folder("Économie & Co")
    assert client.folder_exists("Économie & Co") is True
    assert client.folder_exists("Économie") is False


def test_folder_exists_does_not_treat_the_name_as_a_pattern(client) -> None:
    """LIST wildcards in the name must not make a missing folder "exist"."""
    client.create_folder("star*")
    assert client.folder_exists("star*") is True
    assert client.folder_exists("Sen%") is False  # only "Sent" exists
    assert client.folder_exists("*") is False
    assert client.folder_exists("sta*") is False


def test_folder_names_with_quotes_and_backslashes(client) -> None:
    name = 'Say "hi" \\ back'
    client.create_folder(name)
    assert name in {n for _, _, n in client.list_folders()}
    assert client.folder_exists(name) is True
    client.append(name, message("quoted"))
    assert client.folder_status(name, ["MESSAGES"]) == {b"MESSAGES": 1}
    assert client.select_folder(name)[b"EXISTS"] == 1
    client.unselect_folder()
    client.delete_folder(name)
    assert client.folder_exists(name) is False


def test_create_rename_delete_subscribe_with_non_ascii_names(client) -> None:
    assert client.create_folder("Économie & Co").startswith(b"Create completed")
    client.create_folder("日本語/子")
    names = {name: flags for flags, _, name in client.list_folders()}
    assert names["Économie & Co"] == (b"\\HasNoChildren",)
    assert names["日本語/子"] == (b"\\HasNoChildren",)
    assert set(names["日本語"]) == {b"\\Noselect", b"\\HasChildren"}
    # The parent as a directory, with % not descending further.
    assert [(n) for _, _, n in client.list_folders("日本語/", "%")] == ["日本語/子"]

    assert client.rename_folder("Économie & Co", "Ça & là").startswith(b"Rename completed")
    names_after = {name for _, _, name in client.list_folders()}
    assert "Ça & là" in names_after and "Économie & Co" not in names_after

    assert client.subscribe_folder("Ça & là").startswith(b"Subscribe completed")
    client.subscribe_folder("日本語/子")
    subscribed = {name for _, _, name in client.list_sub_folders()}
    assert subscribed == SPECIAL_FOLDERS | {"Ça & là", "日本語/子"}
    assert client.unsubscribe_folder("Ça & là").startswith(b"Unsubscribe completed")
    subscribed = {name for _, _, name in client.list_sub_folders()}
    assert subscribed == SPECIAL_FOLDERS | {"日本語/子"}

    assert client.delete_folder("Ça & là").startswith(b"Delete completed")
    assert client.folder_exists("Ça & là") is False
    # Selecting and appending work with the same str names.
    client.append("日本語/子", message("into a unicode folder"))
    assert client.select_folder("日本語/子")[b"EXISTS"] == 1


def test_folder_encode_false_gives_bytes_names(client) -> None:
    client.create_folder("Économie & Co")
    client.create_folder("日本語/子")
    client.folder_encode = False
    raw = {name for _, _, name in client.list_folders()}
    assert b"&AMk-conomie &- Co" in raw
    assert b"&ZeVnLIqe-/&W1A-" in raw
    assert all(isinstance(name, bytes) for name in raw)
    # Names are sent as given: modified UTF-7 bytes address the same folder.
    assert client.folder_exists(b"&AMk-conomie &- Co") is True
    client.folder_encode = True
    assert client.folder_exists("Économie & Co") is True


def test_folder_status_default_and_custom(imap_account, client) -> None:
    imap_account.seed([(message("a"), ["\\Seen"]), message("b"), (message("c"), ["\\Flagged"])])
    status = client.folder_status("INBOX")
    assert set(status) == {b"MESSAGES", b"RECENT", b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN"}
    assert status[b"MESSAGES"] == 3
    assert status[b"RECENT"] == 3
    assert status[b"UNSEEN"] == 2
    assert status[b"UIDNEXT"] == 4
    assert isinstance(status[b"UIDVALIDITY"], int) and status[b"UIDVALIDITY"] > 0
    assert status["MESSAGES"] == 3  # str look-up too

    custom = client.folder_status("INBOX", ["MESSAGES", "UIDNEXT"])
    assert custom == {b"MESSAGES": 3, b"UIDNEXT": 4}
    assert client.folder_status("Sent", "MESSAGES") == {b"MESSAGES": 0}
    with pytest.raises(CommandError):
        client.folder_status("Does Not Exist")


def test_select_folder_keys_and_readonly(imap_account, client) -> None:
    imap_account.seed([(message("a"), ["\\Seen"]), message("b")])
    info = client.select_folder("INBOX")
    for key in (b"EXISTS", b"RECENT", b"FLAGS", b"PERMANENTFLAGS", b"UIDNEXT", b"UIDVALIDITY"):
        assert key in info
    assert info[b"EXISTS"] == 2
    assert info[b"RECENT"] == 2
    assert info[b"UIDNEXT"] == 3
    assert info[b"READ-WRITE"] is True
    assert b"READ-ONLY" not in info
    assert set(info[b"FLAGS"]) >= {b"\\Answered", b"\\Flagged", b"\\Deleted", SEEN, b"\\Draft"}
    assert b"\\*" in info[b"PERMANENTFLAGS"]
    assert info[b"UIDVALIDITY"] == client.folder_status("INBOX")[b"UIDVALIDITY"]
    # str look-ups (older documentation) answer from the same bytes keys.
    assert info["EXISTS"] == 2 and info["UIDNEXT"] == 3 and info["READ-WRITE"] is True
    assert "EXISTS" in info and all(isinstance(k, bytes) for k in info)

    readonly = client.select_folder("INBOX", readonly=True)
    assert readonly[b"READ-ONLY"] is True
    assert b"READ-WRITE" not in readonly
    assert readonly[b"EXISTS"] == 2
    assert readonly[b"RECENT"] == 0  # the first SELECT took the \Recent flags
    # Writes to a read-only folder are refused before anything is sent.
    for write in (
        lambda: client.add_flags([1], [b"\\Flagged"]),
        lambda: client.delete_messages([1]),
        lambda: client.expunge(),
        lambda: client.move([1], "Trash"),
    ):
        with pytest.raises(IMAPClient.ReadOnlyError):
            write()
    assert client.search("FLAGGED") == []
    assert client.noop()  # the connection is still fine


def test_unselect_folder_keeps_deleted_messages(imap_account, client) -> None:
    imap_account.seed([message("a"), message("b"), message("c")])
    client.select_folder("INBOX")
    client.delete_messages([2])
    assert client.unselect_folder().startswith(b"Unselect completed")
    with pytest.raises(IllegalStateError):
        client.search()
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 3}


def test_close_folder_expunges_deleted_messages(imap_account, client) -> None:
    imap_account.seed([message("a"), message("b"), message("c")])
    client.select_folder("INBOX")
    client.delete_messages([1, 3])
    assert client.close_folder().startswith(b"Close completed")
    with pytest.raises(IllegalStateError):
        client.fetch([2], ["FLAGS"])
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 1}
    client.select_folder("INBOX")
    assert client.search() == [2]


def test_namespace_and_delimiter(client) -> None:
    ns = client.namespace()
    assert ns.personal == (("", "/"),)
    assert ns.other is None
    assert ns.shared is None
    assert tuple(ns) == ((("", "/"),), None, None)
    personal, other, shared = ns
    assert personal == ns[0] == ns.personal
    assert (other, shared) == (ns[1], ns[2]) == (None, None)
    assert client.get_folder_delimiter() == "/"


def test_getacl_setacl(dovecot, imap_account, client) -> None:
    friend = dovecot.new_account("friend")
    owner = imap_account.username.encode()
    assert client.getacl("INBOX") == [(owner, b"lrwstipekxacd")]

    assert client.setacl("INBOX", friend.username, "lr").startswith(b"Setacl complete")
    assert sorted(client.getacl("INBOX")) == sorted(
        [(owner, b"lrwstipekxacd"), (friend.username.encode(), b"lr")]
    )
    client.setacl("INBOX", friend.username, "lrs")
    assert dict(client.getacl("INBOX"))[friend.username.encode()] == b"lrs"

    # Empty rights remove the entry.
    assert client.setacl("INBOX", friend.username, "").startswith(b"Deleteacl complete")
    assert client.getacl("INBOX") == [(owner, b"lrwstipekxacd")]

    client.create_folder("Économie & Co")
    client.setacl("Économie & Co", friend.username, "l")
    assert (friend.username.encode(), b"l") in client.getacl("Économie & Co")
    assert (friend.username.encode(), b"l") not in client.getacl("INBOX")


def test_quota_usage_grows_after_append(client) -> None:
    limit = 100 * 1024  # 100M in KiB
    assert client.get_quota() == [Quota("User quota", "STORAGE", 0, limit)]
    roots, quotas = client.get_quota_root("INBOX")
    assert roots == MailboxQuotaRoots("INBOX", ["User quota"])
    assert quotas == [Quota("User quota", "STORAGE", 0, limit)]

    header = b"Subject: big\r\n\r\n"
    big = header + b"x" * (200 * 1024 - len(header))  # exactly 200 KiB
    client.append("INBOX", big)
    assert client.get_quota("INBOX") == [Quota("User quota", "STORAGE", 200, limit)]
    client.append("Sent", big)  # the quota root covers every folder
    client.create_folder("Économie & Co")
    roots, _ = client.get_quota_root("Économie & Co")
    assert roots == MailboxQuotaRoots("Économie & Co", ["User quota"])
    assert client.get_quota_root("Sent")[1] == [Quota("User quota", "STORAGE", 400, limit)]


def test_set_quota_refused_for_normal_users(client) -> None:
    with pytest.raises(CommandError) as info:
        client.set_quota(Quota("User quota", "STORAGE", 0, 5000))
    assert info.value.status == b"NO"
    assert info.value.text.startswith(b"Quota can be changed only by admin")
    assert info.value.command == b"SETQUOTA"
    # Nothing changed.
    assert client.get_quota()[0].limit == 100 * 1024


# -- append, copy, move --------------------------------------------------------------------


def test_append_with_flags_and_aware_time(client) -> None:
    uidvalidity = client.folder_status("INBOX")[b"UIDVALIDITY"]
    when = datetime(2023, 11, 5, 14, 30, 15, tzinfo=timezone(timedelta(hours=-7)))
    raw = message("appended")
    text = client.append("INBOX", raw, flags=[SEEN, "$Important"], msg_time=when)
    assert re.match(rb"\[APPENDUID \d+ 1\] Append completed", text)
    assert text.code.name == b"APPENDUID"
    assert isinstance(text.code.value, AppendUid)
    assert text.code.value.uidvalidity == uidvalidity
    assert list(text.code.value.uids) == [1]

    text2 = client.append("INBOX", message("second"), flags=b"\\Draft")  # a single flag
    assert list(text2.code.value.uids) == [2]

    client.select_folder("INBOX")
    client.normalise_times = False
    data = client.fetch([1], ["INTERNALDATE", "FLAGS", "RFC822.SIZE", "BODY.PEEK[]"])[1]
    assert data[b"INTERNALDATE"] == when  # the same instant
    assert data[b"INTERNALDATE"].tzinfo is not None
    assert set(data[b"FLAGS"]) == {SEEN, b"$Important", b"\\Recent"}
    assert data[b"RFC822.SIZE"] == len(raw)
    assert data[b"BODY[]"] == raw
    assert set(client.get_flags([2])[2]) == {b"\\Draft", b"\\Recent"}


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


def test_append_to_missing_folder_is_a_typed_error(client) -> None:
    with pytest.raises(CommandError) as info:
        client.append("No Such Folder", message("lost"))
    assert info.value.status == b"NO"
    assert info.value.code == b"TRYCREATE"


def test_multiappend(client) -> None:
    uidvalidity = client.folder_status("Archive")[b"UIDVALIDITY"]
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    msgs = [
        message("multi one"),
        {"msg": message("multi two"), "flags": [b"\\Flagged", "$Work"], "date": when},
        message("multi three").decode(),
    ]
    text = client.multiappend("Archive", msgs)
    assert text.startswith(b"[APPENDUID ")
    assert text.code.value.uidvalidity == uidvalidity
    assert list(text.code.value.uids) == [1, 2, 3]

    settle(client, "Archive")
    client.normalise_times = False
    result = client.fetch("1:*", ["FLAGS", "INTERNALDATE", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    assert sorted(result) == [1, 2, 3]
    subjects = {uid: d[b"BODY[HEADER.FIELDS (SUBJECT)]"] for uid, d in result.items()}
    assert subjects == {
        1: b"Subject: multi one\r\n\r\n",
        2: b"Subject: multi two\r\n\r\n",
        3: b"Subject: multi three\r\n\r\n",
    }
    assert set(result[2][b"FLAGS"]) == {b"\\Flagged", b"$Work"}
    assert result[1][b"FLAGS"] == () == result[3][b"FLAGS"]
    assert result[2][b"INTERNALDATE"] == when


def test_copy_reports_copyuid(imap_account, client) -> None:
    imap_account.seed([message("a"), message("b"), message("c")])
    client.append("Archive", message("already there"))
    archive_validity = client.folder_status("Archive")[b"UIDVALIDITY"]
    client.select_folder("INBOX")
    text = client.copy([1, 3], "Archive")
    assert text.startswith(b"[COPYUID ")
    copyuid = text.code.value
    assert isinstance(copyuid, CopyUid)
    assert copyuid.uidvalidity == archive_validity
    assert list(copyuid.source) == [1, 3]
    assert list(copyuid.destination) == [2, 3]
    # The source still has them; the target has copies.
    assert client.search() == [1, 2, 3]
    assert client.folder_status("Archive", ["MESSAGES"]) == {b"MESSAGES": 3}
    client.select_folder("Archive")
    subjects = client.fetch([2, 3], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    assert [subjects[u][b"BODY[HEADER.FIELDS (SUBJECT)]"] for u in (2, 3)] == [
        b"Subject: a\r\n\r\n",
        b"Subject: c\r\n\r\n",
    ]
    with pytest.raises(CommandError) as info:
        client.copy([1], "No Such Folder")
    assert info.value.code == b"TRYCREATE"


def test_move(imap_account, client) -> None:
    imap_account.seed([message("stay"), message("go"), message("stay too")])
    trash_validity = client.folder_status("Trash")[b"UIDVALIDITY"]
    client.select_folder("INBOX")
    text = client.move([2], "Trash")
    assert text.code.name == b"COPYUID"
    assert text.code.value.uidvalidity == trash_validity
    assert list(text.code.value.source) == [2]
    assert list(text.code.value.destination) == [1]
    assert client.search() == [1, 3]
    assert client.fetch([2], ["FLAGS"]) == {}
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 2}
    client.select_folder("Trash")
    moved = client.fetch([1], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    assert moved[1][b"BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: go\r\n\r\n"


# -- search ---------------------------------------------------------------------------------


@pytest.fixture
def search_corpus(imap_account):
    """Four messages, UIDs 1-4 (= sequence numbers)."""
    imap_account.seed(
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
    return imap_account


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


def test_search_non_ascii(search_corpus, client, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    client.select_folder("INBOX")
    assert client.search(["SUBJECT", "café"]) == [3]
    assert client.search(["BODY", "Grüße"]) == [3]
    assert client.search(["TEXT", "Köln"], charset="UTF-8") == [3]
    assert client.search(["FROM", "Émile"]) == [3]
    assert client.search(["SUBJECT", "façade"]) == []
    assert client.search(["SUBJECT", "café".encode()], charset="UTF-8") == [3]
    # Dovecot has ESEARCH, so search() asks for RETURN (ALL): ranges instead of a list.
    searches = [
        line.replace("SEARCH RETURN (ALL) ", "SEARCH ")
        for line in sent_commands(caplog)
        if "SEARCH" in line
    ]
    assert all("RETURN (ALL)" in line for line in sent_commands(caplog) if "SEARCH" in line)
    # Non-ASCII text comes with a charset (UTF-8 unless given), as a literal.
    assert len(searches) == 6
    assert all(line.startswith("UID SEARCH CHARSET UTF-8 ") for line in searches)
    assert "UID SEARCH CHARSET UTF-8 SUBJECT {5 bytes}" in searches  # "café" in UTF-8
    assert client.sort("ARRIVAL", ["BODY", "Grüße"]) == [3]
    assert client.thread("REFERENCES", ["SUBJECT", "café"]) == ((3,),)
    with pytest.raises(CommandError) as info:  # bytes arguments are sent as given
        client.search(["SUBJECT", "café".encode()], charset="X-NO-SUCH-CHARSET")
    assert info.value.status == b"NO"
    assert info.value.code == b"BADCHARSET"


def test_search_header_and_empty_result(search_corpus, client) -> None:
    client.select_folder("INBOX")
    assert client.search(["HEADER", "X-Tag", "alpha"]) == [1]
    assert client.search(["HEADER", "X-Tag", "beta"]) == [3]
    assert client.search(["HEADER", "X-Tag", ""]) == [1, 3]  # any value
    empty = client.search(["SUBJECT", "no such subject anywhere"])
    assert empty == [] and isinstance(empty, SearchIds)


def test_search_with_modseq_and_fetch_changedsince(search_corpus, client) -> None:
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


def test_gmail_search_is_refused_by_dovecot(search_corpus, client) -> None:
    client.select_folder("INBOX")
    with pytest.raises(CommandError) as info:
        client.gmail_search("has:attachment in:unread")
    assert info.value.status in (b"NO", b"BAD")
    assert info.value.command in (b"UID SEARCH", b"SEARCH")
    # The connection is still fine afterwards.
    assert client.search("UNSEEN") == [2, 3]


def test_search_arguments_with_quotes_and_backslashes(imap_account, client) -> None:
    imap_account.seed(
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


def test_failed_select_leaves_no_folder_selected(imap_account, client) -> None:
    imap_account.seed([message("a")])
    client.select_folder("INBOX")
    assert client.search() == [1]
    with pytest.raises(CommandError) as info:
        client.select_folder("No Such Folder")
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


def test_sort(imap_account, client) -> None:
    imap_account.seed(
        [
            message("banana", "b" * 3000 + "\r\n", date="Sun, 10 Mar 2024 10:00:00 +0000"),
            message("Re: apple", "a" * 10 + "\r\n", date="Tue, 05 Mar 2024 10:00:00 +0000"),
            message("cherry", "c" * 1000 + "\r\n", date="Thu, 07 Mar 2024 10:00:00 +0000"),
        ]
    )
    client.select_folder("INBOX")
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
def thread_corpus(imap_account):
    def msg(mid, subject, day, in_reply_to=None, references=()):
        return message(
            subject,
            date=f"{day:02d} Mar 2024 10:00:00 +0000",
            message_id=f"<{mid}@example.org>",
            in_reply_to=f"<{in_reply_to}@example.org>" if in_reply_to else None,
            references=[f"<{r}@example.org>" for r in references],
        )

    imap_account.seed(
        [
            msg("t1", "topic", 1),
            msg("t2", "Re: topic", 2, "t1", ["t1"]),
            msg("o1", "other", 3),
            msg("t3", "Re: topic", 4, "t2", ["t1", "t2"]),
            msg("t4", "Re: topic", 5, "t1", ["t1"]),
        ]
    )
    return imap_account


def test_thread_references(thread_corpus, client) -> None:
    client.select_folder("INBOX")
    # 1 has two replies (2 and 5); 4 replies to 2; 3 is alone.
    assert client.thread() == ((1, (2, 4), (5,)), (3,))
    assert client.thread("REFERENCES") == ((1, (2, 4), (5,)), (3,))
    assert client.thread("REFERENCES", ["NOT", "SUBJECT", "other"]) == ((1, (2, 4), (5,)),)
    assert client.thread("REFERENCES", ["SUBJECT", "nothing"]) == ()


def test_thread_orderedsubject(thread_corpus, client) -> None:
    client.select_folder("INBOX")
    # Grouped by base subject; later messages are children of the first one.
    assert client.thread("ORDEREDSUBJECT") == ((1, (2,), (4,), (5,)), (3,))


def test_thread_and_sort_with_sequence_numbers(make_client, thread_corpus, imap_account) -> None:
    with logged_in(make_client, imap_account, use_uid=False) as c:
        c.select_folder("INBOX")
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
def fetch_corpus(imap_account):
    imap_account.seed([(SIMPLE, ["\\Seen"]), MULTIPART])
    return imap_account


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


def test_fetch_envelope_with_group_and_missing_headers(imap_account, client) -> None:
    raw = (
        b"From: Bob <bob@example.com>\r\n"
        b"To: undisclosed-recipients:;\r\n"
        b"Subject: =?utf-8?q?caf=C3=A9?=\r\n"
        b"\r\nbody\r\n"
    )
    imap_account.seed([raw])
    client.select_folder("INBOX", readonly=True)
    env = client.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
    assert env.date is None  # no Date header
    assert env.subject == b"=?utf-8?q?caf=C3=A9?="  # as the server sent it
    assert env.to == (
        Address(None, None, b"undisclosed-recipients", None),  # group start
        Address(None, None, None, None),  # group end
    )
    assert str(env.to[0]) == "undisclosed-recipients"
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


def test_fetch_parts_of_multipart_and_binary(fetch_corpus, client) -> None:
    client.select_folder("INBOX", readonly=True)
    data = client.fetch([2], ["BODY.PEEK[1]", "BODY.PEEK[2]", "BODY.PEEK[1.MIME]"])[2]
    encoded = base64_lines(PART_TEXT.encode()).encode()[:-2]
    assert data[b"BODY[1]"] == encoded
    assert base64.b64decode(data[b"BODY[1]"]) == PART_TEXT.encode()
    assert data[b"BODY[2]"] == base64_lines(ATTACHMENT).encode()[:-2]
    assert data[b"BODY[1.MIME]"].startswith(b"Content-Type: text/plain; charset=utf-8\r\n")

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
    assert lower == {
        1: {
            b"UID": 1,
            b"FLAGS": (SEEN, b"\\Recent"),  # EXAMINE shows \Recent without taking it
            b"BODY[HEADER.FIELDS (SUBJECT)]": b"Subject: Envelope test\r\n\r\n",
            b"SEQ": 1,
        }
    }


def test_fetch_with_sequence_numbers(make_client, fetch_corpus, imap_account) -> None:
    imap_account.seed([message("third")])
    with logged_in(make_client, imap_account, use_uid=False) as c:
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


def test_get_add_remove_set_flags(imap_account, client) -> None:
    imap_account.seed([(message("a"), ["\\Seen"]), message("b"), (message("c"), ["\\Flagged"])])
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


def test_flags_with_sequence_numbers(make_client, imap_account) -> None:
    imap_account.seed([message("a"), message("b")])
    with logged_in(make_client, imap_account, use_uid=False) as c:
        settle(c)
        assert c.add_flags([2], [SEEN]) == {2: (SEEN,)}
        assert c.get_flags("1:*") == {1: (), 2: (SEEN,)}
        with pytest.raises(ValueError):  # UID EXPUNGE needs UIDs
            c.expunge([1])


def test_expunge_returns_expunge_responses(imap_account, client) -> None:
    imap_account.seed([message(s) for s in "abcde"])
    settle(client)
    client.delete_messages([2, 4])
    text, responses = client.expunge()
    assert text.startswith(b"Expunge completed")
    assert all(name == b"EXPUNGE" for _, name in responses)
    # Applied in the order received, the notices remove exactly UIDs 2 and 4 (Dovecot
    # sends 4 then 2; 2 then 3 would be equally valid).
    assert len(responses) == 2
    remaining = [1, 2, 3, 4, 5]
    for number, _ in responses:
        del remaining[number - 1]
    assert remaining == [1, 3, 5]
    assert client.search() == [1, 3, 5]
    text, responses = client.expunge()  # nothing left to expunge
    assert responses == []


def test_expunge_messages_and_uid_expunge(imap_account, client) -> None:
    imap_account.seed([message(s) for s in "abcde"])
    client.select_folder("INBOX")
    client.delete_messages([1, 2, 3])
    text = client.expunge([2])
    assert text.startswith(b"Expunge completed")
    assert client.search() == [1, 3, 4, 5]
    assert client.search("DELETED") == [1, 3]
    assert client.uid_expunge("3").startswith(b"Expunge completed")
    assert client.search() == [1, 4, 5]
    assert client.search("DELETED") == [1]
    client.uid_expunge([4, 5])  # not deleted: untouched
    assert client.search() == [1, 4, 5]


# -- server ---------------------------------------------------------------------------------


def test_capabilities_cached_and_refreshed_after_login(make_client, imap_account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with connect(make_client, imap_account) as c:
        before = c.capabilities()
        assert c.capabilities() == before
        # Dovecot's greeting carries the capabilities: none asked for.
        assert "CAPABILITY" not in sent_commands(caplog)
        assert b"IMAP4REV1" in before and b"AUTH=PLAIN" in before
        assert b"QUOTA" not in before
        assert c.has_capability("auth=plain") and c.has_capability(b"AUTH=SCRAM-SHA-256")

        c.login(imap_account.username, imap_account.password)
        after = c.capabilities()
        assert c.capabilities() == after
        assert b"QUOTA" in after and b"ACL" in after and b"MOVE" in after
        assert b"AUTH=PLAIN" not in after
        assert c.has_capability("quota") and c.has_capability("Move")
        assert not c.has_capability("XLIST")
        assert not c.has_capability("X-GM-EXT-1")
        # The tagged OK of LOGIN carried them: still no CAPABILITY command.
        assert "CAPABILITY" not in sent_commands(caplog)


def test_capabilities_asked_once_after_starttls(make_client, imap_account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    context = ssl.create_default_context(cafile=str(imap_account.ca_file))
    with connect(make_client, imap_account) as c:
        c.starttls(context)
        first = c.capabilities()
        second = c.capabilities()
        assert first == second
        assert b"STARTTLS" not in first
        assert sent_commands(caplog).count("CAPABILITY") == 1
        assert c.has_capability("AUTH=SCRAM-SHA-1")
        assert sent_commands(caplog).count("CAPABILITY") == 1


def test_welcome_and_shutdown(make_client, imap_account) -> None:
    c = connect(make_client, imap_account)
    assert c.welcome.startswith(b"[CAPABILITY IMAP4rev1 ") or b"Dovecot" in c.welcome
    assert b"ready" in c.welcome
    c.login(imap_account.username, imap_account.password)
    assert c.socket() is not None
    c.shutdown()  # closes without LOGOUT
    assert c.socket() is None
    with pytest.raises(IMAPClient.AbortError):
        c.noop()


def test_gmail_label_methods_are_refused_by_dovecot(imap_account, client) -> None:
    imap_account.seed([message("a")])
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
    assert client.get_flags([1]) == {1: (b"\\Recent",)}  # nothing changed


def test_enable_and_id(client) -> None:
    assert client.enable("X-NO-SUCH-EXTENSION") == []
    assert client.enable("CONDSTORE") == [b"CONDSTORE"]
    assert client.enable(b"QRESYNC") == [b"QRESYNC"]
    info = client.id_({"name": "imapclient-tests", "version": "1.0"})
    assert isinstance(info, dict)
    assert info[b"name"] == b"Dovecot"
    assert client.id_() is not None


def test_noop_sees_messages_appended_by_another_connection(
    make_client, imap_account, client
) -> None:
    imap_account.seed([message("one")])
    settle(client)
    text, responses = client.noop()
    assert text.startswith(b"NOOP completed")
    assert responses == []
    with logged_in(make_client, imap_account) as other:
        other.append("INBOX", message("from elsewhere"))
        other.append("INBOX", message("and another"))
    text, responses = client.noop()
    # The other connection never selected INBOX, so the new messages are \Recent here.
    assert responses == [(3, b"EXISTS"), (2, b"RECENT")]
    assert client.search() == [1, 2, 3]


def test_drain_unsolicited(make_client, imap_account, client) -> None:
    imap_account.seed([message("one")])
    settle(client)
    assert client.drain_unsolicited() == []
    with logged_in(make_client, imap_account) as other:
        other.append("INBOX", message("from elsewhere"))
        other.select_folder("INBOX")
        other.add_flags([1], [b"\\Flagged"])
    # The flag change and the EXISTS arrive after an unrelated command (Dovecot runs the
    # search on the mailbox as it was, then reports the changes).
    assert client.search("FLAGGED") == []
    assert client.drain_unsolicited() == [
        (1, b"FETCH", (b"FLAGS", (b"\\Flagged",))),
        (2, b"EXISTS"),
    ]
    assert client.drain_unsolicited() == []  # each is returned once
    assert client.search("FLAGGED") == [1]
    assert client.search() == [1, 2]


# -- authentication ---------------------------------------------------------------------------


def test_login_returns_text(make_client, imap_account) -> None:
    with connect(make_client, imap_account) as c:
        text = c.login(imap_account.username, imap_account.password)
        assert text.endswith(b"Logged in")
        assert c.list_folders("", "INBOX") == [((b"\\HasNoChildren",), b"/", "INBOX")]


def test_plain_login(make_client, imap_account) -> None:
    with connect(make_client, imap_account) as c:
        assert c.plain_login(imap_account.username, imap_account.password).endswith(b"Logged in")
        assert c.has_capability("QUOTA")
        assert c.folder_exists("INBOX")


def test_plain_login_with_authorization_identity_is_refused(
    make_client, dovecot, imap_account
) -> None:
    other = dovecot.new_account()
    with connect(make_client, imap_account) as c:
        with pytest.raises(LoginError) as info:
            c.plain_login(imap_account.username, imap_account.password, other.username)
        assert info.value.status == b"NO"
        assert imap_account.password not in str(info.value)
        c.login(imap_account.username, imap_account.password)  # still usable
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


@pytest.mark.parametrize(("mech", "digest_size"), [("SCRAM-SHA-256", 32), ("SCRAM-SHA-1", 20)])
def test_scram_login(make_client, imap_account, caplog, restore_loggers, mech, digest_size) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    caplog.set_level(logging.DEBUG, logger="imapclient.wire")
    with connect(make_client, imap_account) as c:
        assert c.scram_login(imap_account.username, imap_account.password, mech).endswith(
            b"Logged in"
        )
        assert c.has_capability("ACL")
        assert c.select_folder("INBOX")[b"EXISTS"] == 0
    assert len(scram_server_signature(caplog)) == digest_size
    assert "AUTHENTICATE **REDACTED**" in sent_commands(caplog)
    assert imap_account.password not in caplog.text


def test_scram_login_default_is_sha256(make_client, imap_account, caplog, restore_loggers) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    caplog.set_level(logging.DEBUG, logger="imapclient.wire")
    with connect(make_client, imap_account) as c:
        c.scram_login(imap_account.username, imap_account.password)
        assert c.has_capability("QUOTA")
    assert len(scram_server_signature(caplog)) == 32
    with connect(make_client, imap_account) as c, pytest.raises(ValueError):
        c.scram_login(imap_account.username, imap_account.password, "SCRAM-MD5")


def test_sasl_login_with_a_plain_callback(make_client, imap_account) -> None:
    challenges = []

    def plain(challenge: bytes) -> bytes:
        challenges.append(challenge)
        return f"\0{imap_account.username}\0{imap_account.password}".encode()

    with connect(make_client, imap_account) as c:
        assert c.sasl_login("PLAIN", plain).endswith(b"Logged in")
        assert challenges == [b""]
        assert c.has_capability("QUOTA")


def test_sasl_login_callback_cancelling(make_client, imap_account) -> None:
    with connect(make_client, imap_account) as c:
        with pytest.raises(LoginError):
            c.sasl_login("PLAIN", lambda challenge: None)
        c.login(imap_account.username, imap_account.password)


@pytest.mark.parametrize("method", ["login", "plain_login", "scram-sha-256", "scram-sha-1", "sasl"])
def test_wrong_password_is_a_login_error(make_client, imap_account, method) -> None:
    wrong = "wrong-" + imap_account.password
    user = imap_account.username
    with connect(make_client, imap_account) as c:
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
        assert info.value.code == b"AUTHENTICATIONFAILED"
        assert wrong not in str(info.value)
        # Not logged in: no post-login capabilities, and the right password still works.
        assert not c.has_capability("QUOTA")
        c.login(user, imap_account.password)
        assert c.has_capability("QUOTA")


def test_oauth2_login_without_xoauth2_sends_nothing(make_client, imap_account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with connect(make_client, imap_account) as c:
        with pytest.raises(CapabilityError):
            c.oauth2_login(imap_account.username, "token-abc")
        with pytest.raises(CapabilityError):
            c.oauth2_login(imap_account.username, "token-abc", mech="OAUTHBEARER")
        with pytest.raises(CapabilityError):
            c.oauthbearer_login(imap_account.username, "token-abc")
        with pytest.raises(CapabilityError):
            c.oauth_login("https://mail.example/", "token", "secret")
        assert not any(line.startswith("AUTHENTICATE") for line in sent_commands(caplog))
        assert "token-abc" not in caplog.text
        c.login(imap_account.username, imap_account.password)  # still usable
        assert c.folder_exists("Sent")


# -- constructor ------------------------------------------------------------------------------


def test_unknown_keyword_is_a_type_error(make_client, imap_account) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        make_client(imap_account.host, port=imap_account.port, ssl=False, no_such_option=1)


def test_contradictory_arguments_are_value_errors(make_client, imap_account) -> None:
    with pytest.raises(ValueError, match="stream"):
        make_client("imap-server-command", port=imap_account.port, stream=True)
    with pytest.raises(ValueError, match="certfile"):
        make_client(imap_account.host, port=imap_account.tls_port, keyfile="client.key")


def test_timeout_as_number_and_as_socket_timeout(make_client, imap_account) -> None:
    with connect(make_client, imap_account, timeout=7.5) as c:
        assert read_timeout(c) == 7.5
        c.login(imap_account.username, imap_account.password)
        assert c.folder_exists("INBOX")
    with connect(make_client, imap_account, timeout=SocketTimeout(connect=3, read=11)) as c:
        assert read_timeout(c) == 11
        c.login(imap_account.username, imap_account.password)
        assert c.folder_exists("INBOX")
    context = ssl.create_default_context(cafile=str(imap_account.ca_file))
    with make_client(
        imap_account.host,
        port=imap_account.tls_port,
        ssl_context=context,
        timeout=SocketTimeout(2, None),
    ) as c:
        assert read_timeout(c) is None
        c.login(imap_account.username, imap_account.password)
    with pytest.raises(TypeError):
        connect(make_client, imap_account, timeout="soon")


def test_debug_output_to_log_file(make_client, imap_account, restore_loggers) -> None:
    out = io.StringIO()
    c = connect(make_client, imap_account)
    try:
        c.log_file = out
        c.debug = 4
        assert c.debug == 4
        c.login(imap_account.username, imap_account.password)
        c.select_folder("INBOX")
        text = out.getvalue()
        assert "LOGIN **REDACTED**" in text
        assert imap_account.password not in text
        assert imap_account.username not in text
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


def test_spec_example_call_shapes(make_client, imap_account) -> None:
    raw = [message("first"), message("second", "x" * 500 + "\r\n"), message("gone")]
    imap_account.seed([(raw[0], ["\\Seen"]), (raw[1], ["\\Flagged"]), (raw[2], ["\\Deleted"])])
    server = make_client(imap_account.host, port=imap_account.port, use_uid=True, ssl=False)
    server.login(imap_account.username, imap_account.password)
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
    assert sorted(lines) == [
        f"ID 1: {len(raw[0])} bytes, flags=(b'\\\\Seen', b'\\\\Recent')",
        f"ID 2: {len(raw[1])} bytes, flags=(b'\\\\Flagged', b'\\\\Recent')",
    ]
    assert server.logout() == b"Logging out"


def test_exceptions_are_catchable_as_the_documented_types(make_client, imap_account) -> None:
    with logged_in(make_client, imap_account) as c:
        for catch in (imaplib.IMAP4.error, IMAPClient.Error, CommandError):
            with pytest.raises(catch):
                c.select_folder("No Such Folder")
        with pytest.raises(IMAPClient.Error):  # client-side misuse too
            c.fetch([1], ["FLAGS"])
        c.select_folder("INBOX")
        imap_account.kick()
        with pytest.raises(IMAPClient.AbortError) as info:
            c.noop()
        assert isinstance(info.value, imaplib.IMAP4.abort)
        assert isinstance(info.value, imaplib.IMAP4.error)
        with pytest.raises(imaplib.IMAP4.abort):
            c.search()
    assert issubclass(IMAPClient.ReadOnlyError, imaplib.IMAP4.readonly)
    assert issubclass(LoginError, IMAPClient.Error)
