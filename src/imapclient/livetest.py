"""An acceptance test of IMAPClient against any IMAP server a user points it at.

Run it as ``python -m imapclient.livetest CONFIG [--section NAME]`` (or the
``imapclient-livetest`` console script), where CONFIG is a configuration file in the format
of :mod:`imapclient.config`. Every connection is made with
:func:`~imapclient.config.create_client_from_config`.

The suite checks capabilities, namespaces, folder listing, folder creation, renaming,
deletion and subscription with non-ASCII and ``&`` names, STATUS, APPEND, FETCH, SEARCH,
SORT, THREAD, flags, COPY, MOVE, EXPUNGE and read-only selection (the message checks twice:
with UIDs and with sequence numbers), and IDLE with a second connection.

It changes nothing outside one throwaway folder that it creates with a unique name
(``imapclient-livetest-...``, under the personal namespace) and removes at the end, also
when checks fail or the run is interrupted. Checks that need something the server lacks
are skipped with the reason. Each check prints one line, ``PASS name``, ``FAIL name:
what was expected and what came`` or ``SKIP name: why``, and the last line is the summary
``N passed, N failed, N skipped``. The exit status is 0 only when no check failed (1
otherwise, 2 for a bad command line or configuration file).
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, TextIO

from . import imap_utf7
from .client import IMAPClient
from .config import ConfigError, ConnectionConfig, create_client_from_config, parse_config_file
from .exceptions import (
    CommandError,
    IMAPClientAbortError,
    IMAPClientError,
    IMAPClientReadOnlyError,
    LoginError,
)

__all__ = [
    "FOLDER_PREFIX",
    "CheckFailed",
    "LiveTest",
    "Outcome",
    "Report",
    "SkipCheck",
    "build_parser",
    "main",
]

PROG = "python -m imapclient.livetest"

#: The throwaway folder's name starts with this (then a time stamp and a random part).
FOLDER_PREFIX = "imapclient-livetest-"

#: How long to wait for a change to arrive while idling.
IDLE_WAIT_SECONDS = 30.0

SEEN = b"\\Seen"
FLAGGED = b"\\Flagged"
ANSWERED = b"\\Answered"
DELETED = b"\\Deleted"
RECENT = b"\\Recent"
KEYWORD = b"$LiveTest"


# -- checks and their outcomes --------------------------------------------------------------


class CheckFailed(AssertionError):
    """A check's expectation was not met; the message says what was expected and what
    came instead."""


class SkipCheck(Exception):
    """The server lacks what a check needs; the message says what."""


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def expect(actual: Any, expected: Any, what: str) -> None:
    """Fail the check unless ``actual == expected``."""
    if actual != expected:
        raise CheckFailed(f"{what}: expected {_short(expected)}, got {_short(actual)}")


def expect_true(condition: bool, what: str, actual: Any = None) -> None:
    """Fail the check unless ``condition`` holds; ``actual`` is shown when given."""
    if not condition:
        raise CheckFailed(what if actual is None else f"{what}; got {_short(actual)}")


def expect_raises(
    exc_type: type[BaseException] | tuple[type[BaseException], ...],
    func: Callable[[], Any],
    what: str,
) -> BaseException:
    """Fail the check unless ``func()`` raises ``exc_type``; returns the exception."""
    try:
        result = func()
    except exc_type as exc:
        return exc
    names = (
        " or ".join(t.__name__ for t in exc_type)
        if isinstance(exc_type, tuple)
        else exc_type.__name__
    )
    raise CheckFailed(f"{what}: expected {names}, got the result {_short(result)}")


def without_recent(flags: Sequence[bytes]) -> set[bytes]:
    """A message's flags as a set, without ``\\Recent`` (which only the server sets and
    whose presence depends on which session saw the message first)."""
    return {bytes(flag) for flag in flags if bytes(flag).lower() != RECENT.lower()}


@dataclass(frozen=True)
class Outcome:
    """The result of one check: ``status`` is ``PASS``, ``FAIL`` or ``SKIP``."""

    name: str
    status: str
    detail: str = ""

    def line(self) -> str:
        """The line printed for this outcome."""
        return f"{self.status} {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Report:
    """Runs checks, prints one line per check to ``out`` and counts the outcomes."""

    out: TextIO
    verbose: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def run(self, name: str, check: Callable[[], None]) -> BaseException | None:
        """Run ``check`` and report it; returns the exception it failed with (None when it
        passed or was skipped). KeyboardInterrupt is not caught."""
        try:
            check()
        except SkipCheck as exc:
            self.add(Outcome(name, "SKIP", str(exc)))
            return None
        except CheckFailed as exc:
            self.add(Outcome(name, "FAIL", str(exc)))
            return exc
        except Exception as exc:
            text = " ".join(str(exc).split())
            detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            self.add(Outcome(name, "FAIL", detail))
            if self.verbose:
                traceback.print_exc(file=self.out)
            return exc
        self.add(Outcome(name, "PASS"))
        return None

    def skip(self, name: str, reason: str) -> None:
        """Report ``name`` as skipped without running anything."""
        self.add(Outcome(name, "SKIP", reason))

    def add(self, outcome: Outcome) -> None:
        """Record and print an outcome."""
        self.outcomes.append(outcome)
        print(outcome.line(), file=self.out, flush=True)

    def info(self, text: str) -> None:
        """Print a line of information (not a check), starting with ``#``."""
        print(f"# {text}", file=self.out, flush=True)

    def count(self, status: str) -> int:
        """How many checks ended with ``status``."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def failed(self) -> int:
        """The number of failed checks."""
        return self.count("FAIL")

    def summary(self) -> str:
        """``N passed, N failed, N skipped``."""
        return (
            f"{self.count('PASS')} passed, {self.count('FAIL')} failed, "
            f"{self.count('SKIP')} skipped"
        )


# -- the test messages ----------------------------------------------------------------------


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


@dataclass(frozen=True)
class TestMessage:
    """A message the suite appends, with what the server should report about it."""

    __test__ = False  # not a pytest test class

    subject: str
    raw: bytes
    flags: tuple[bytes, ...]
    internal_date: datetime
    message_id: str


def _message(
    token: str,
    name: str,
    subject: str,
    sender: str,
    day: int,
    body: str,
    flags: tuple[bytes, ...] = (),
    in_reply_to: str | None = None,
) -> TestMessage:
    message_id = f"<{name}.{token}@livetest.invalid>"
    header_subject = subject if subject.isascii() else _encoded_word(subject)
    lines = [
        f"From: {sender}",
        "To: Live Test <livetest@example.invalid>",
        f"Subject: {header_subject}",
        f"Date: {day:02d} Mar 2024 12:00:00 +0000",
        f"Message-ID: {message_id}",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: " + ("7bit" if body.isascii() else "8bit"),
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")
    when = datetime(2024, 3, day, 12, 0, 0, tzinfo=timezone.utc)
    return TestMessage(subject, raw, flags, when, message_id)


def make_messages(token: str) -> tuple[TestMessage, list[TestMessage]]:
    """The filler message (expunged first, so that UIDs and sequence numbers differ) and
    the three messages the checks work on: ``alpha`` (seen, the largest), a reply to it
    (flagged, the smallest), and one with a non-ASCII subject and body."""
    filler = _message(
        token, "filler", "livetest filler", "Dave <dave@example.invalid>", 1, "Filler.\r\n"
    )
    alpha = _message(
        token,
        "alpha",
        "livetest alpha",
        "Carol <carol@example.invalid>",
        1,
        "".join(f"Line {n} of the first message.\r\n" for n in range(1, 41)),
        (SEEN,),
    )
    reply = _message(
        token,
        "reply",
        "Re: livetest alpha",
        "Bob <bob@example.invalid>",
        2,
        "Agreed.\r\n",
        (FLAGGED,),
        in_reply_to=alpha.message_id,
    )
    greeting = _message(
        token,
        "greeting",
        "livetest Grüße",
        "Alice <alice@example.invalid>",
        3,
        # Sizes far apart, so that servers counting sizes with LF line ends (Courier)
        # still order and bound them the same way.
        "Grüße aus Köln.\r\n" * 30,
    )
    return filler, [alpha, reply, greeting]


# -- the suite --------------------------------------------------------------------------------


@dataclass
class _Mode:
    """What the message checks of one ``use_uid`` setting share."""

    use_uid: bool
    folder: str
    appended_uids: list[int] = field(default_factory=list)
    uidvalidity: int | None = None
    permanent_flags: tuple[bytes, ...] = ()
    filler_id: int = 0
    ids: list[int] = field(default_factory=list)  # alpha, reply, greeting in this mode
    uids: list[int] = field(default_factory=list)


class LiveTest:
    """The acceptance suite for one server (one configuration section)."""

    def __init__(self, config: ConnectionConfig, report: Report) -> None:
        """Prepare the suite; nothing is sent before :meth:`run`."""
        self.config = config
        self.report = report
        self.token = secrets.token_hex(4)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.name = f"{FOLDER_PREFIX}{stamp}-{self.token}"
        self.root = self.name  # the throwaway folder's full name, namespace prefix included
        self.delimiter: str | None = None
        self.filler, self.messages = make_messages(self.token)
        self._client: IMAPClient | None = None
        self._root_attempted = False

    # -- connections ---------------------------------------------------------------------

    def connect(self) -> IMAPClient:
        """A new connected and logged-in client."""
        return create_client_from_config(self.config, login=True)

    @property
    def client(self) -> IMAPClient:
        """The main connection, made again if the last one broke."""
        if self._client is None:
            self._client = self.connect()
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.shutdown()
            self._client = None

    def check(self, name: str, func: Callable[[], None]) -> bool:
        """Run one check; True if it passed or was skipped. A check that broke the
        connection leaves the next one a new connection."""
        error = self.report.run(name, func)
        if isinstance(error, IMAPClientAbortError):
            self._drop_client()
        elif error is not None and self._client is not None:
            self._client.use_uid = True
            self._client.folder_encode = True
        return error is None

    def child(self, name: str) -> str:
        """The full name of a folder inside the throwaway folder."""
        if self.delimiter:
            return f"{self.root}{self.delimiter}{name}"
        return f"{self.root}-{name}"  # a flat server: a sibling with the unique prefix

    def _children_pattern(self) -> str:
        return self.child("*")

    # -- running -------------------------------------------------------------------------

    def run(self) -> None:
        """Run every check, printing one line each; always removes the throwaway folder."""
        if not self.check("connect and log in", self._connect_first):
            return
        try:
            self.check("capabilities", self.check_capabilities)
            self.check("noop", self.check_noop)
            self.check("server ID (ID)", self.check_id)
            self.check("namespace", self.check_namespace)
            self.check("list folders", self.check_list_folders)
            self.report.info(f"throwaway folder: {self.root}")
            if not self.check("create throwaway folder", self.create_root):
                return
            self.run_folder_checks()
            for use_uid in (True, False):
                self.run_message_checks(use_uid)
            self.check("IDLE with a second connection", self.check_idle)
        except KeyboardInterrupt:
            self._drop_client()  # it may be in the middle of a command: start afresh
            raise
        finally:
            if self._root_attempted:
                self.check("remove throwaway folder", self.remove_root)
            if self._client is not None:
                try:
                    self._client.logout()
                except (IMAPClientError, OSError):
                    self._client.shutdown()
                self._client = None

    def _connect_first(self) -> None:
        try:
            self._client = self.connect()
        except LoginError as exc:
            raise CheckFailed(f"login as {self.config.username} refused: {exc}") from None
        except (IMAPClientError, OSError) as exc:
            where = self.config.host
            if not self.config.stream:
                where += f":{self.config.effective_port}"
            raise CheckFailed(
                f"could not connect to {where}: {type(exc).__name__}: {exc}"
            ) from None

    # -- the server -------------------------------------------------------------------------

    def check_capabilities(self) -> None:
        """CAPABILITY: a tuple of bytes naming IMAP4rev1 or IMAP4rev2."""
        c = self.client
        caps = c.capabilities()
        expect(type(caps), tuple, "type of capabilities()")
        expect_true(all(isinstance(cap, bytes) for cap in caps), "capabilities are bytes", caps)
        upper = {cap.upper() for cap in caps}
        expect_true(
            bool(upper & {b"IMAP4REV1", b"IMAP4REV2"}), "IMAP4rev1 or IMAP4rev2 is listed", caps
        )
        expect(c.has_capability("imap4rev1"), b"IMAP4REV1" in upper, "has_capability('imap4rev1')")
        expect(c.has_capability("NO-SUCH-CAPABILITY"), False, "has_capability('NO-SUCH-...')")
        self.report.info(
            "capabilities: " + " ".join(cap.decode("ascii", "replace") for cap in caps)
        )

    def check_noop(self) -> None:
        """NOOP: the server's text and a list of updates."""
        text, updates = self.client.noop()
        expect(isinstance(text, bytes), True, "noop() text is bytes")
        expect(isinstance(updates, list), True, "noop() updates are a list")

    def check_id(self) -> None:
        """ID (RFC 2971): the server's answer is a dict of bytes, or None."""
        if not self.client.has_capability("ID"):
            raise SkipCheck("server has no ID capability")
        answer = self.client.id_({"name": "imapclient-livetest"})
        expect_true(
            answer is None or isinstance(answer, dict), "id_() gives a dict or None", answer
        )
        if answer:
            name = answer.get(b"name")
            self.report.info(f"server ID: {_short(name)}")

    def check_namespace(self) -> None:
        """NAMESPACE (RFC 2342): a personal namespace of ``(prefix, delimiter)`` pairs;
        the throwaway folder goes under its first prefix."""
        if not self.client.has_capability("NAMESPACE"):
            self._find_delimiter()
            raise SkipCheck("server has no NAMESPACE capability")
        ns = self.client.namespace()
        expect(len(ns), 3, "number of parts of the namespace (personal, other, shared)")
        expect_true(bool(ns.personal), "there is a personal namespace", ns)
        for part in ns:
            for entry in part or ():
                expect(len(entry), 2, "length of a namespace entry (prefix, delimiter)")
                prefix, delimiter = entry
                expect_true(isinstance(prefix, str), "namespace prefixes are str", entry)
                expect_true(
                    delimiter is None or isinstance(delimiter, str),
                    "namespace delimiters are str or None",
                    entry,
                )
        prefix, delimiter = ns.personal[0]
        self.root = prefix + self.name
        self.delimiter = delimiter
        expect(self.client.get_folder_delimiter(), delimiter, "get_folder_delimiter()")
        self.report.info(f"personal namespace: prefix {prefix!r}, delimiter {delimiter!r}")

    def _find_delimiter(self) -> None:
        for _flags, delimiter, _name in self.client.list_folders("", "INBOX"):
            if delimiter:
                self.delimiter = bytes(delimiter).decode("ascii", "replace")

    def check_list_folders(self) -> None:
        """LIST: ``(flags, delimiter, name)`` tuples, INBOX among them."""
        c = self.client
        entries = c.list_folders()
        expect_true(bool(entries), "list_folders() is not empty", entries)
        for entry in entries:
            expect(len(entry), 3, "length of a list_folders() entry")
            flags, delimiter, name = entry
            expect_true(isinstance(flags, tuple), "folder flags are a tuple", entry)
            expect_true(all(isinstance(f, bytes) for f in flags), "folder flags are bytes", entry)
            expect_true(
                delimiter is None or isinstance(delimiter, bytes), "delimiter is bytes", entry
            )
            expect_true(isinstance(name, str), "folder names are str", entry)
        names = [name for _, _, name in entries]
        expect_true(any(name.upper() == "INBOX" for name in names), "INBOX is listed", names)
        expect(c.folder_exists("INBOX"), True, "folder_exists('INBOX')")
        expect(c.folder_exists(self.child("nothing")), False, "folder_exists(<missing>)")
        info = c.select_folder("INBOX", readonly=True)
        expect_true(isinstance(info.get(b"EXISTS"), int), "EXAMINE INBOX reports EXISTS", info)
        self._unselect()

    def _unselect(self) -> None:
        """Leave the selected folder without expunging (UNSELECT, else EXAMINE INBOX and
        CLOSE)."""
        c = self.client
        if c.has_capability("UNSELECT"):
            c.unselect_folder()
        else:
            c.select_folder("INBOX", readonly=True)
            c.close_folder()

    # -- folders --------------------------------------------------------------------------

    def create_root(self) -> None:
        """CREATE the throwaway folder."""
        c = self.client
        expect(c.folder_exists(self.root), False, f"folder_exists({self.root!r}) beforehand")
        self._root_attempted = True
        c.create_folder(self.root)
        expect(c.folder_exists(self.root), True, f"folder_exists({self.root!r}) after CREATE")

    def _listed(self, subscribed: bool = False) -> list[Any]:
        c = self.client
        lister = c.list_sub_folders if subscribed else c.list_folders
        return [name for _, _, name in lister("", self._children_pattern())]

    def run_folder_checks(self) -> None:
        """Folder names with non-ASCII and ``&``: create, list, rename, subscribe,
        STATUS, delete."""
        names = {
            "first": self.child("Économie & Co 日本語"),
            "renamed": self.child("Ça & là"),
        }

        def create() -> None:
            c = self.client
            name = names["first"]
            c.create_folder(name)
            expect(c.folder_exists(name), True, f"folder_exists({name!r})")
            listed = self._listed()
            expect_true(name in listed, f"{name!r} is listed", listed)
            c.folder_encode = False
            try:
                raw = [n for _, _, n in c.list_folders(b"", imap_utf7.encode(self.child("*")))]
            finally:
                c.folder_encode = True
            wire = imap_utf7.encode(name)
            expect_true(wire in raw, f"the raw name {wire!r} is listed", raw)

        def rename() -> None:
            c = self.client
            old, new = names["first"], names["renamed"]
            c.rename_folder(old, new)
            expect(c.folder_exists(old), False, "the old name exists after RENAME")
            expect(c.folder_exists(new), True, "the new name exists after RENAME")
            listed = self._listed()
            expect_true(new in listed and old not in listed, "LIST shows only the new name", listed)

        def subscribe() -> None:
            c = self.client
            name = names["renamed"]
            c.subscribe_folder(name)
            subscribed = self._listed(subscribed=True)
            expect_true(name in subscribed, f"{name!r} is subscribed (LSUB)", subscribed)
            c.unsubscribe_folder(name)
            subscribed = self._listed(subscribed=True)
            expect_true(name not in subscribed, f"{name!r} is unsubscribed (LSUB)", subscribed)

        def status() -> None:
            c = self.client
            name = names["renamed"]
            info = c.folder_status(name)
            for key in (b"MESSAGES", b"RECENT", b"UNSEEN"):
                expect(info.get(key), 0, f"STATUS {key.decode()} of the new empty folder")
            for key in (b"UIDNEXT", b"UIDVALIDITY"):
                value = info.get(key)
                expect_true(isinstance(value, int) and value > 0, f"STATUS {key.decode()}", info)
            c.append(name, self.messages[1].raw)
            expect(
                dict(c.folder_status(name, ["MESSAGES", "UNSEEN"])),
                {b"MESSAGES": 1, b"UNSEEN": 1},
                "STATUS after APPEND of one unseen message",
            )

        def select_missing() -> None:
            exc = expect_raises(
                CommandError,
                lambda: self.client.select_folder(self.child("no such folder")),
                "SELECT of a missing folder",
            )
            expect(getattr(exc, "status", None), b"NO", "status of the refusal")

        def delete() -> None:
            c = self.client
            name = names["renamed"]
            c.delete_folder(name)
            expect(c.folder_exists(name), False, "folder_exists() after DELETE")
            expect(name in self._listed(), False, "the deleted folder is still listed")

        created = self.check("create folder with non-ASCII and & in its name", create)
        steps = [
            ("rename folder", rename),
            ("subscribe and unsubscribe folder", subscribe),
            ("folder status", status),
            ("select a missing folder fails", select_missing),
            ("delete folder", delete),
        ]
        for name, step in steps:
            if created:
                self.check(name, step)
            else:
                self.report.skip(name, "needs the folder that could not be created")

    # -- messages --------------------------------------------------------------------------

    def run_message_checks(self, use_uid: bool) -> None:
        """APPEND, SELECT, EXPUNGE, FETCH, SEARCH, SORT, THREAD, flags, COPY, MOVE and
        EXAMINE in a fresh folder, with ``use_uid`` set as given."""
        label = f"(use_uid={use_uid})"
        mode = _Mode(use_uid, self.child("uid" if use_uid else "seq"))
        setup = [
            ("append", lambda: self.check_append(mode)),
            ("select", lambda: self.check_select(mode)),
            ("expunge", lambda: self.check_expunge(mode)),
        ]
        checks = [
            ("fetch", lambda: self.check_fetch(mode)),
            ("search", lambda: self.check_search(mode)),
            ("search with UTF-8 charset", lambda: self.check_search_utf8(mode)),
            ("sort", lambda: self.check_sort(mode)),
            ("thread", lambda: self.check_thread(mode)),
            ("flags", lambda: self.check_flags(mode)),
            ("copy", lambda: self.check_copy(mode)),
            ("move", lambda: self.check_move(mode)),
            ("read-only select (EXAMINE)", lambda: self.check_examine(mode)),
        ]
        setup_names = {name for name, _ in setup}
        failed: str | None = None
        for name, func in setup + checks:
            full = f"{name} {label}"
            if failed is not None:
                self.report.skip(full, f"needs '{failed}', which failed")
                continue
            if self._client is None and name not in setup_names:
                self._reselect(mode)  # a check broke the connection: carry on in a new one
            self.client.use_uid = use_uid
            try:
                ok = self.check(full, func)
            finally:
                if self._client is not None:
                    self._client.use_uid = True
            if not ok and name in setup_names:
                failed = full
        try:
            self._unselect()
        except (IMAPClientError, OSError):
            pass  # reported by the checks already

    def _reselect(self, mode: _Mode) -> None:
        try:
            self.client.select_folder(mode.folder)
        except (IMAPClientError, OSError):
            pass  # the check itself will fail and say why

    def check_append(self, mode: _Mode) -> None:
        """APPEND the filler and the three messages with flags and internal dates."""
        c = self.client
        c.create_folder(mode.folder)
        uidplus = c.has_capability("UIDPLUS")
        for message in [self.filler, *self.messages]:
            text = c.append(
                mode.folder, message.raw, flags=message.flags, msg_time=message.internal_date
            )
            expect(isinstance(text, bytes), True, "append() returns the server's text")
            if uidplus:
                code = getattr(text, "code", None)
                expect(getattr(code, "name", None), b"APPENDUID", "APPEND response code")
                assert code is not None
                uids = list(code.value.uids)
                expect(len(uids), 1, "number of UIDs in APPENDUID")
                mode.appended_uids += uids
                mode.uidvalidity = code.value.uidvalidity
        if uidplus:
            expect(
                mode.appended_uids == sorted(set(mode.appended_uids)),
                True,
                f"APPENDUID UIDs ascend (got {mode.appended_uids})",
            )
        status = c.folder_status(mode.folder, ["MESSAGES", "UIDVALIDITY"])
        expect(status.get(b"MESSAGES"), 4, "STATUS MESSAGES after four APPENDs")
        if mode.uidvalidity is not None:
            expect(status.get(b"UIDVALIDITY"), mode.uidvalidity, "UIDVALIDITY vs APPENDUID")

    def check_select(self, mode: _Mode) -> None:
        """SELECT: EXISTS, READ-WRITE, FLAGS; learn each message's UID and number."""
        c = self.client
        info = c.select_folder(mode.folder)
        expect(info.get(b"EXISTS"), 4, "EXISTS")
        expect(info.get(b"READ-WRITE"), True, "READ-WRITE")
        flags = {bytes(f).lower() for f in info.get(b"FLAGS", ())}
        for flag in (SEEN, FLAGGED, ANSWERED, DELETED):
            expect_true(flag.lower() in flags, f"FLAGS lists {flag.decode()}", info.get(b"FLAGS"))
        if mode.uidvalidity is not None:
            expect(info.get(b"UIDVALIDITY"), mode.uidvalidity, "UIDVALIDITY vs APPENDUID")
        mode.permanent_flags = tuple(bytes(f) for f in info.get(b"PERMANENTFLAGS", ()))
        data = c.fetch("1:*", ["UID"])
        expect(len(data), 4, "number of messages FETCH 1:* returned")
        by_seq = sorted((d[b"SEQ"], d[b"UID"]) for d in data.values())
        expect([seq for seq, _ in by_seq], [1, 2, 3, 4], "sequence numbers")
        uids = [uid for _, uid in by_seq]
        expect(uids, sorted(set(uids)), "UIDs ascend with sequence numbers")
        if mode.appended_uids:
            expect(uids, mode.appended_uids, "UIDs vs APPENDUID")
        expect(sorted(data), uids if mode.use_uid else [1, 2, 3, 4], "FETCH result keys")
        mode.filler_id = uids[0] if mode.use_uid else 1
        mode.uids = uids[1:]

    def check_expunge(self, mode: _Mode) -> None:
        """STORE +FLAGS \\Deleted on the filler, then EXPUNGE (UID EXPUNGE with UIDs when
        the server has UIDPLUS)."""
        c = self.client
        result = c.delete_messages([mode.filler_id])
        expect_true(result is not None and mode.filler_id in result, "STORE answered", result)
        assert result is not None
        expect_true(
            DELETED in without_recent(result[mode.filler_id]),
            "the filler is flagged \\Deleted",
            result,
        )
        expect(c.search(["DELETED"]), [mode.filler_id], "SEARCH DELETED")
        if mode.use_uid and c.has_capability("UIDPLUS"):
            text = c.expunge([mode.filler_id])  # UID EXPUNGE
            expect(isinstance(text, bytes), True, "UID EXPUNGE returns the server's text")
        else:
            text, responses = c.expunge()
            expect(isinstance(text, bytes), True, "EXPUNGE returns the server's text")
            expect_true((1, b"EXPUNGE") in responses, "EXPUNGE reports message 1", responses)
        mode.ids = mode.uids if mode.use_uid else [1, 2, 3]
        expect(c.search(), mode.ids, "SEARCH ALL after EXPUNGE")
        expect(c.search(["DELETED"]), [], "SEARCH DELETED after EXPUNGE")

    def check_fetch(self, mode: _Mode) -> None:
        """FETCH of UID, FLAGS, sizes, internal dates, envelopes, headers and bodies."""
        c = self.client
        items = [
            "UID",
            "FLAGS",
            "RFC822.SIZE",
            "INTERNALDATE",
            "ENVELOPE",
            "BODY.PEEK[HEADER.FIELDS (SUBJECT)]",
            "BODY.PEEK[]",
        ]
        c.normalise_times = False
        try:
            data = c.fetch(mode.ids, items)
        finally:
            c.normalise_times = True
        expect(sorted(data), mode.ids, "FETCH result keys")
        for index, (msgid, message) in enumerate(zip(mode.ids, self.messages, strict=True)):
            item = data[msgid]
            what = f"message {msgid} ({message.subject!r})"
            expect(item.get(b"SEQ"), index + 1, f"SEQ of {what}")
            expect(item.get(b"UID"), mode.uids[index], f"UID of {what}")
            expect(without_recent(item.get(b"FLAGS", ())), set(message.flags), f"FLAGS of {what}")
            expect(item.get(b"RFC822.SIZE"), len(message.raw), f"RFC822.SIZE of {what}")
            expect(item.get(b"INTERNALDATE"), message.internal_date, f"INTERNALDATE of {what}")
            expect(item.get(b"BODY[]"), message.raw, f"BODY[] of {what}")
            subject_line = message.raw.split(b"\r\n")[2]
            expect(
                item.get(b"BODY[HEADER.FIELDS (SUBJECT)]"),
                subject_line + b"\r\n\r\n",
                f"BODY[HEADER.FIELDS (SUBJECT)] of {what}",
            )
            envelope = item.get(b"ENVELOPE")
            expect_true(envelope is not None, f"ENVELOPE of {what} is there", item)
            expect(
                envelope.message_id, message.message_id.encode(), f"envelope Message-ID of {what}"
            )
            expect(
                envelope.subject, subject_line[len(b"Subject: ") :], f"envelope subject of {what}"
            )
            sender = envelope.from_[0]
            expect(sender.host, b"example.invalid", f"envelope From host of {what}")
        # BODY.PEEK must not have set \Seen.
        flags = c.get_flags(mode.ids)
        expect(
            {k: without_recent(v) for k, v in flags.items()},
            {i: set(m.flags) for i, m in zip(mode.ids, self.messages, strict=True)},
            "flags after BODY.PEEK[] (PEEK must not set \\Seen)",
        )

    def _larger_threshold(self) -> int:
        """A size between the largest test message and the others: it holds however a
        server counts line ends."""
        sizes = sorted(len(m.raw) for m in self.messages)
        return (sizes[-1] + sizes[-2]) // 2

    def check_search(self, mode: _Mode) -> None:
        """SEARCH with flags, headers, dates, NOT and OR."""
        c = self.client
        alpha, reply, greeting = mode.ids
        cases: list[tuple[Any, list[int]]] = [
            ("ALL", [alpha, reply, greeting]),
            (["UNSEEN"], [reply, greeting]),
            (["SEEN"], [alpha]),
            (["FLAGGED"], [reply]),
            (["NOT", "FLAGGED"], [alpha, greeting]),
            (["OR", "SEEN", "FLAGGED"], [alpha, reply]),
            (["FROM", "alice"], [greeting]),
            (["SUBJECT", "alpha"], [alpha, reply]),
            (["SUBJECT", "no such subject"], []),
            (["HEADER", "Message-ID", self.messages[0].message_id], [alpha]),
            (["SINCE", date(2024, 3, 2)], [reply, greeting]),
            (["BEFORE", date(2024, 3, 2)], [alpha]),
            (["SENTON", date(2024, 3, 3)], [greeting]),
            (["LARGER", self._larger_threshold()], [alpha]),
        ]
        for criteria, expected in cases:
            expect(sorted(c.search(criteria)), expected, f"search({criteria!r})")
        expect(c.search(), [alpha, reply, greeting], "search() with no criteria")

    def check_search_utf8(self, mode: _Mode) -> None:
        """SEARCH CHARSET UTF-8 for a decoded subject and body text."""
        c = self.client
        greeting = mode.ids[2]
        try:
            found = c.search(["SUBJECT", "Grüße"], charset="UTF-8")
        except CommandError as exc:
            if exc.code == b"BADCHARSET":
                raise SkipCheck(f"server refused CHARSET UTF-8: {exc}") from None
            raise
        expect(found, [greeting], "search(['SUBJECT', 'Grüße'], charset='UTF-8')")
        expect(c.search(["BODY", "Köln"], charset="UTF-8"), [greeting], "search BODY 'Köln'")

    def check_sort(self, mode: _Mode) -> None:
        """SORT (RFC 5256) by date, arrival, size, subject and sender."""
        c = self.client
        if not c.has_capability("SORT"):
            raise SkipCheck("server has no SORT capability")
        alpha, reply, greeting = mode.ids
        by_size = [
            i for _, i in sorted(zip((len(m.raw) for m in self.messages), mode.ids, strict=True))
        ]
        cases: list[tuple[Any, Any, list[int]]] = [
            (["DATE"], "ALL", [alpha, reply, greeting]),
            (["REVERSE", "DATE"], "ALL", [greeting, reply, alpha]),
            ("ARRIVAL", "ALL", [alpha, reply, greeting]),
            (["SIZE"], "ALL", by_size),
            (["FROM"], "ALL", [greeting, reply, alpha]),
            (["SUBJECT"], "ALL", [alpha, reply, greeting]),
            ("ARRIVAL", ["UNSEEN"], [reply, greeting]),
        ]
        for keys, criteria, expected in cases:
            expect(c.sort(keys, criteria), expected, f"sort({keys!r}, {criteria!r})")

    def check_thread(self, mode: _Mode) -> None:
        """THREAD (RFC 5256): the reply is in the thread of the message it answers."""
        c = self.client
        algorithms = [
            a for a in ("REFERENCES", "ORDEREDSUBJECT") if c.has_capability(f"THREAD={a}")
        ]
        if not algorithms:
            raise SkipCheck("server has no THREAD=REFERENCES or THREAD=ORDEREDSUBJECT capability")
        alpha, reply, greeting = mode.ids
        for algorithm in algorithms:
            expect(c.thread(algorithm), ((alpha, reply), (greeting,)), f"thread({algorithm!r})")
            expect(
                c.thread(algorithm, ["FROM", "alice"]),
                ((greeting,),),
                f"thread({algorithm!r}, ['FROM', 'alice'])",
            )

    def check_flags(self, mode: _Mode) -> None:
        """STORE: add, remove and set flags (and a keyword where the server allows them)."""
        c = self.client
        alpha, reply, greeting = mode.ids
        keywords = b"\\*" in mode.permanent_flags
        added = [FLAGGED, KEYWORD] if keywords else [FLAGGED]
        result = c.add_flags([greeting], added)
        expect(
            {k: without_recent(v) for k, v in (result or {}).items()},
            {greeting: set(added)},
            "add_flags() result",
        )
        result = c.remove_flags([reply], [FLAGGED])
        expect(
            {k: without_recent(v) for k, v in (result or {}).items()},
            {reply: set()},
            "remove_flags() result",
        )
        result = c.set_flags([alpha], [ANSWERED, SEEN])
        expect(
            {k: without_recent(v) for k, v in (result or {}).items()},
            {alpha: {ANSWERED, SEEN}},
            "set_flags() result",
        )
        expect(c.add_flags([alpha], [SEEN], silent=True), None, "add_flags(silent=True)")
        flags = c.get_flags(mode.ids)
        expect(
            {k: without_recent(v) for k, v in flags.items()},
            {alpha: {ANSWERED, SEEN}, reply: set(), greeting: set(added)},
            "get_flags() afterwards",
        )
        expect(c.search(["FLAGGED"]), [greeting], "SEARCH FLAGGED afterwards")
        expect(c.search(["ANSWERED"]), [alpha], "SEARCH ANSWERED afterwards")
        if keywords:
            expect(c.search(["KEYWORD", KEYWORD]), [greeting], "SEARCH KEYWORD $LiveTest")

    def check_copy(self, mode: _Mode) -> None:
        """COPY two messages to another folder (COPYUID with UIDPLUS)."""
        c = self.client
        alpha, _reply, greeting = mode.ids
        target = f"{mode.folder}-copy"
        c.create_folder(target)
        target_validity = c.folder_status(target, ["UIDVALIDITY"]).get(b"UIDVALIDITY")
        text = c.copy([alpha, greeting], target)
        if c.has_capability("UIDPLUS"):
            code = getattr(text, "code", None)
            expect(getattr(code, "name", None), b"COPYUID", "COPY response code")
            assert code is not None
            expect(code.value.uidvalidity, target_validity, "COPYUID UIDVALIDITY")
            expect(list(code.value.source), [mode.uids[0], mode.uids[2]], "COPYUID source UIDs")
            expect(len(code.value.destination), 2, "number of COPYUID destination UIDs")
        expect(c.search(), mode.ids, "the source folder still has all messages")
        expect(c.folder_status(target, ["MESSAGES"]).get(b"MESSAGES"), 2, "MESSAGES in the target")
        c.select_folder(target, readonly=True)
        try:
            data = c.fetch("1:*", ["BODY.PEEK[]"])
            bodies = sorted(item[b"BODY[]"] for item in data.values())
        finally:
            c.select_folder(mode.folder)
        expect(
            bodies,
            sorted([self.messages[0].raw, self.messages[2].raw]),
            "the copies' contents",
        )

    def check_move(self, mode: _Mode) -> None:
        """MOVE (RFC 6851) one message to another folder (or COPY, STORE and UID EXPUNGE
        where the server has UIDPLUS but no MOVE)."""
        c = self.client
        has_move = c.has_capability("MOVE")
        if not has_move and not (mode.use_uid and c.has_capability("UIDPLUS")):
            raise SkipCheck(
                "server has no MOVE capability (and moving without it needs UIDPLUS and UIDs)"
            )
        alpha, reply, greeting = mode.ids
        target = f"{mode.folder}-move"
        c.create_folder(target)
        text = c.move([reply], target)
        expect(isinstance(text, bytes), True, "move() returns the server's text")
        code = getattr(text, "code", None)
        if has_move and c.has_capability("UIDPLUS"):
            expect(getattr(code, "name", None), b"COPYUID", "MOVE response code")
            assert code is not None
            expect(list(code.value.source), [mode.uids[1]], "COPYUID source UID")
        remaining = [alpha, greeting] if mode.use_uid else [1, 2]
        expect(c.search(), remaining, "SEARCH ALL in the source after MOVE")
        status = c.folder_status(target, ["MESSAGES"])
        expect(status.get(b"MESSAGES"), 1, "MESSAGES in the target after MOVE")
        mode.ids = remaining
        mode.uids = [mode.uids[0], mode.uids[2]]

    def check_examine(self, mode: _Mode) -> None:
        """EXAMINE: read-only, and writes are refused before anything is sent."""
        c = self.client
        info = c.select_folder(mode.folder, readonly=True)
        expect(info.get(b"READ-ONLY"), True, "READ-ONLY after EXAMINE")
        expect(info.get(b"EXISTS"), len(mode.ids), "EXISTS after EXAMINE")
        expect_raises(
            IMAPClientReadOnlyError,
            lambda: c.add_flags(mode.ids[:1], [FLAGGED]),
            "add_flags() in a read-only folder",
        )
        self._unselect()

    # -- IDLE ---------------------------------------------------------------------------------

    def check_idle(self) -> None:
        """IDLE (RFC 2177): a message appended and flagged on a second connection is
        reported while idling."""
        c = self.client
        if not c.has_capability("IDLE"):
            raise SkipCheck("server has no IDLE capability")
        folder = self.child("idle")
        c.create_folder(folder)
        c.select_folder(folder)
        with self.connect() as other:
            c.idle()
            try:
                other.append(folder, self.messages[1].raw)
                seen = self._idle_until(lambda r: len(r) >= 2 and r[1] == b"EXISTS", "EXISTS")
                expect(seen[0], 1, "the EXISTS count reported while idling")
                other.select_folder(folder)
                other.add_flags(other.search(), [ANSWERED])
                seen = self._idle_until(
                    lambda r: len(r) >= 3 and r[1] == b"FETCH" and _has_flag(r[2], ANSWERED),
                    "FETCH (FLAGS (\\Answered))",
                )
                expect(seen[0], 1, "the message number in the FETCH reported while idling")
            finally:
                text, _updates = c.idle_done()
            expect(isinstance(text, bytes), True, "idle_done() returns the server's text")
        c.noop()  # the connection works normally after IDLE
        self._unselect()

    def _idle_until(self, wanted: Callable[[tuple[Any, ...]], bool], what: str) -> tuple[Any, ...]:
        deadline = time.monotonic() + IDLE_WAIT_SECONDS
        received: list[tuple[Any, ...]] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckFailed(
                    f"no {what} within {IDLE_WAIT_SECONDS:g} s while idling; got {_short(received)}"
                )
            for response in self.client.idle_check(timeout=min(left, 5.0)):
                received.append(response)
                if wanted(response):
                    return response

    # -- clean-up -------------------------------------------------------------------------

    def remove_root(self) -> None:
        """DELETE everything the suite created, innermost first, and check it is gone."""
        c = self.client
        try:
            self._unselect()
        except IMAPClientError:
            pass  # nothing was selected
        pattern = self.root + "*"
        leftovers = sorted((name for _, _, name in c.list_folders("", pattern)), key=len)
        errors = []
        for name in reversed(leftovers):
            try:
                c.delete_folder(name)
            except CommandError as exc:
                errors.append(f"{name!r}: {exc}")
        remaining = [name for _, _, name in c.list_folders("", pattern)]
        if remaining:
            raise CheckFailed(
                f"could not remove {_short(remaining)} (remove them by hand): " + "; ".join(errors)
            )


def _has_flag(data: Any, flag: bytes) -> bool:
    """True if a FETCH response's data (``(b'FLAGS', (...), ...)``) includes ``flag``."""
    items = list(data) if isinstance(data, (tuple, list)) else []
    for key, value in zip(items[::2], items[1::2], strict=False):
        if key == b"FLAGS" and flag.lower() in {bytes(f).lower() for f in value}:
            return True
    return False


# -- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of the live test."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Run IMAPClient's acceptance checks against the IMAP server a configuration "
            "file describes. Everything happens inside a throwaway folder that is removed "
            "at the end. Exit status: 0 when no check failed, 1 otherwise, 2 for a bad "
            "command line or configuration file."
        ),
    )
    parser.add_argument("config", metavar="CONFIG", help="the INI configuration file")
    parser.add_argument(
        "section_name",
        nargs="?",
        metavar="SECTION",
        help="the same as --section NAME",
    )
    parser.add_argument(
        "--section",
        metavar="NAME",
        help="the section of the configuration file to use (default: DEFAULT)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print a traceback for unexpected errors"
    )
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the live test; returns the exit status (0 when no check failed)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.section_name is not None and args.section not in (None, args.section_name):
        parser.error("give the section once: SECTION or --section NAME")
    section = args.section_name or args.section or "DEFAULT"
    out = out or sys.stdout
    try:
        config = parse_config_file(args.config, section)
    except (ConfigError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    report = Report(out, verbose=args.verbose)
    report.info(f"imapclient live test: {config}")
    suite = LiveTest(config, report)
    try:
        suite.run()
    except KeyboardInterrupt:
        print("interrupted", file=out, flush=True)
        print(report.summary(), file=out, flush=True)
        return 130
    print(report.summary(), file=out, flush=True)
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
