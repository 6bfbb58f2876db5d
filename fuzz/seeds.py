"""Write the seed corpora in fuzz/corpus/<target>/ from the realistic inputs below.

The targets read their input through a FuzzedDataProvider, so a seed is the server bytes
(or command arguments) plus the choices the target makes, laid out by
:class:`_common.SeedWriter`. Run ``python fuzz/seeds.py`` after changing a target's input
layout or the seeds; the generated files are committed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

sys.argv = [sys.argv[0], "--corpus-only"]  # no instrumentation needed to import targets
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import fuzz_encoder  # noqa: E402
import fuzz_parser  # noqa: E402
import fuzz_session  # noqa: E402
from _common import SeedWriter  # noqa: E402

CORPUS = _common.FUZZ_DIR / "corpus"


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


# --- framing: (bare LF, line limit, literal limit, response limit, chunk size, stream) ---

FRAMING: dict[str, tuple[bool, int, int, int, int, bytes]] = {
    "greeting-login": (
        False,
        64,
        64,
        255,
        7,
        b"* OK [CAPABILITY IMAP4rev1 IDLE] Dovecot ready.\r\nA1 OK Logged in\r\n",
    ),
    "fetch-literal": (
        False,
        64,
        64,
        255,
        5,
        b"* 2 FETCH (UID 42 BODY[HEADER] {39}\r\n"
        b"Subject: hello\r\nFrom: a@example.org\r\n\r\n)\r\nA2 OK done\r\n",
    ),
    "literal8-nul-byte-at-a-time": (
        False,
        64,
        64,
        255,
        1,
        b"* 3 FETCH (BINARY[1] ~{4}\r\nab\x00c)\r\n",
    ),
    "two-literals-default-limits": (
        False,
        64,
        64,
        256,
        32,
        b"* LIST () NIL {8}\r\nfoo\r\nbar\r\n"
        b"* 9 FETCH (RFC822.HEADER {0}\r\n RFC822.TEXT {3}\r\nx\r\n)\r\n",
    ),
    "bare-lf": (
        True,
        64,
        64,
        255,
        11,
        b"* OK ready\n* 1 EXISTS\r\n+ idling\nA4 OK IDLE done\n",
    ),
    "literal-too-large": (
        False,
        64,
        16,
        255,
        9,
        b"* 5 FETCH (BODY[] {99999999999}\r\nxxxx",
    ),
    "line-too-long": (
        False,
        16,
        64,
        255,
        4,
        b"* CAPABILITY IMAP4rev1 IDLE NAMESPACE QUOTA\r\n",
    ),
    "cut-off-at-eof": (
        False,
        64,
        64,
        255,
        6,
        b"* OK hi\r\n* 1 FETCH (BODY[] {10}\r\nabc",
    ),
    "cr-before-lf-split": (
        False,
        64,
        64,
        255,
        3,
        b"A1 OK [READ-WRITE] ok\r\r\n* 2 RECENT\r\n",
    ),
}


def framing_seed(bare: bool, line: int, lit: int, resp: int, size: int, stream: bytes) -> bytes:
    w = SeedWriter().choose(0, 1, int(bare)).choose(1, 64, line).choose(1, 64, lit)
    w.choose(1, 256, resp)
    for chunk in _chunks(stream, size):
        w.choose(0, 32, len(chunk)).take(chunk)
    return w.data()


def _index(prefix: bytes) -> int:
    """The index of the valid response starting with ``prefix``."""
    (index,) = [i for i, r in enumerate(fuzz_parser.VALID_RESPONSES) if r.startswith(prefix)]
    return index


def _valid(prefix: bytes) -> bytes:
    return fuzz_parser.VALID_RESPONSES[_index(prefix)]


# --- parser ------------------------------------------------------------------------

PARSER_RAW = {
    "fetch-envelope": _valid(b"* 12 FETCH"),
    "fetch-bodystructure-multipart": _valid(b"* 4 FETCH"),
    "fetch-literal": _valid(b"* 2 FETCH"),
    "list-extended": _valid(b"* LIST (\\Subscribed)"),
    "esearch": _valid(b'* ESEARCH (TAG "A282")'),
    "status-code-copyuid": b"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done",
    "gmail-labels": _valid(b"* 6 FETCH"),
    "deep-list": b"* XFOO " + b"(" * 101 + b")" * 101,
    # What the compiled FETCH readers take (the differential check).
    "listing-meta": _valid(b"* 21 FETCH"),
    "listing-envelope": _valid(b"* 15 FETCH"),
    "listing-body": _valid(b"* 31 FETCH"),
}

ALL = fuzz_parser._ALL_TOLERANCES

PARSER_STREAMS = {
    "select": (
        0,
        0,
        b"* 172 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 12] Message 12 is first unseen\r\n"
        b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* OK [UIDNEXT 4392] Predicted\r\n"
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
        b"A142 OK [READ-WRITE] SELECT completed\r\n",
    ),
    "fetch-literals-small-limits": (
        ALL,
        4,
        b"* 1 FETCH (BODY[] {11}\r\nHello\r\nWorld UID 5)\r\n"
        b"* 2 FETCH (BINARY[] ~{3}\r\na\x00b)\r\nA1 OK done\r\n",
    ),
    "strict-bare-lf": (0, 2, b"* OK hello\n* 1 EXISTS\n"),
}

PARSER_TOLERANT = {
    "exchange-nil-body": (
        ALL,
        100,
        b'* 1 FETCH (BODYSTRUCTURE ("TEXT" NIL NIL NIL NIL "7BIT" NIL NIL))',
    ),
    "gmail-missing-text-strict": (0, 100, b"* OK [HIGHESTMODSEQ 123]"),
    "trailing-space": (1 << 3, 100, b'* STATUS "INBOX" (MESSAGES 3) '),
    "recursion-limit": (ALL, 255, b"* 1 FETCH (BODYSTRUCTURE " + b"(" * 1500 + b"x" + b")" * 1501),
    "depth-limit": (ALL, 3, b'* 1 FETCH (BODY (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1) "MIXED"))'),
}


def parser_seeds() -> dict[str, bytes]:
    seeds = {}
    for name, response in PARSER_RAW.items():
        seeds[f"one-{name}"] = SeedWriter().choose(0, 3, 0).take(response).data()
    for name, (tol, scale, stream) in PARSER_STREAMS.items():
        w = (
            SeedWriter()
            .choose(0, 3, 1)
            .choose(0, fuzz_parser._ALL_TOLERANCES, tol)
            .choose(0, 255, scale)
        )
        seeds[f"stream-{name}"] = w.take(stream).data()
    for i in range(len(fuzz_parser.VALID_RESPONSES)):
        w = SeedWriter().choose(0, 3, 2).choose(0, 255, i).choose(0, 8, 0)
        seeds[f"structured-{i:02d}"] = w.data()
    # Two mutated ones: a token spliced into an envelope, a literal count broken.
    w = SeedWriter().choose(0, 3, 2).choose(0, 255, _index(b"* 12 FETCH")).choose(0, 8, 1)
    seeds["structured-token"] = w.choose(0, 7, 3).choose(0, 255, 128).choose(0, 255, 12).data()
    w = SeedWriter().choose(0, 3, 2).choose(0, 255, _index(b"* 2 FETCH")).choose(0, 8, 1)
    seeds["structured-delete"] = w.choose(0, 7, 1).choose(0, 255, 140).choose(1, 32, 3).data()
    for name, (tol, depth, response) in PARSER_TOLERANT.items():
        w = (
            SeedWriter()
            .choose(0, 3, 3)
            .choose(0, fuzz_parser._ALL_TOLERANCES, tol)
            .choose(1, 255, depth)
        )
        seeds[f"tolerances-{name}"] = w.take(response).data()
    return seeds


# --- encoder -------------------------------------------------------------------------


class Enc:
    """Writes an encoder seed in the order fuzz_encoder.build_arg reads it."""

    def __init__(self, name: bytes, nargs: int, sensitive: bool = False) -> None:
        self.w = SeedWriter().choose(0, 1, int(sensitive))
        names = fuzz_encoder.NAMES
        if name in names:
            self.w.choose(0, len(names), names.index(name))
        else:
            self.w.choose(0, len(names), len(names)).choose(0, 16, len(name)).take(name)
        self.w.choose(0, 6, nargs)

    def _string(self, kind: int, value: bytes, limit: int = 64) -> Enc:
        self.w.choose(0, 10, kind).choose(0, limit, len(value)).take(value)
        return self

    def atom(self, value: bytes) -> Enc:
        return self._string(0, value, 48)

    def bytes_(self, value: bytes) -> Enc:
        return self._string(1, value)

    def str_(self, value: str, surrogates: bool = False) -> Enc:
        self._string(2, value.encode("utf-8", "surrogateescape")).w.choose(0, 1, int(surrogates))
        return self

    def flag(self, value: bytes) -> Enc:
        return self._string(10, value, 48)

    def quoted(self, value: bytes) -> Enc:
        return self._string(3, value)

    def literal(self, value: bytes, binary: bool = False) -> Enc:
        self._string(4, value).w.choose(0, 1, int(binary))
        return self

    def int_(self, value: int) -> Enc:
        self.w.choose(0, 10, 5).choose(
            0, len(fuzz_encoder.INTS) - 1, fuzz_encoder.INTS.index(value)
        )
        return self

    def none(self) -> Enc:
        self.w.choose(0, 10, 6)
        return self

    def list_(self, count: int) -> Enc:
        self.w.choose(0, 10, 7).choose(0, 4, count)
        return self

    def long(self, size: int, fill: bytes, form: int) -> Enc:
        self.w.choose(0, 10, 8).choose(
            0, len(fuzz_encoder.LONG_SIZES) - 1, fuzz_encoder.LONG_SIZES.index(size)
        )
        self.w.choose(0, 8, len(fill)).take(fill).choose(0, 2, form)
        return self

    def bool_(self) -> Enc:
        self.w.choose(0, 10, 9)
        return self

    def data(self) -> bytes:
        return self.w.data()


def encoder_seeds() -> dict[str, bytes]:
    return {
        "login-quoted": Enc(b"LOGIN", 2, sensitive=True)
        .bytes_(b"fred")
        .bytes_(b"pass word")
        .data(),
        "login-literal": Enc(b"LOGIN", 2, True).bytes_(b"fred").bytes_(b'pa\r\nss"\\').data(),
        "select-nil-name": Enc(b"SELECT", 1).bytes_(b"nil").data(),
        "append": Enc(b"APPEND", 4)
        .str_("INBOX")
        .list_(2)
        .atom(b"\\Seen")
        .atom(b"$Junk")
        .quoted(b"17-Jul-1996 02:44:25 -0700")
        .literal(b"Subject: hi\r\n\r\nbody\r\n")
        .data(),
        "uid-fetch": Enc(b"UID FETCH", 2)
        .atom(b"1:*")
        .list_(3)
        .atom(b"FLAGS")
        .atom(b"BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
        .atom(b"UID")
        .data(),
        "search-utf8": Enc(b"SEARCH", 4)
        .atom(b"CHARSET")
        .atom(b"UTF-8")
        .atom(b"SUBJECT")
        .str_("Grüße ☃")
        .data(),
        "store-ints": Enc(b"STORE", 3).int_(7).int_(2**63 - 1).list_(0).data(),
        "binary-literal-nul": Enc(b"APPEND", 2).str_("INBOX").literal(b"a\x00b\xff", True).data(),
        "long-quoted-boundary": Enc(b"X", 2).long(1023, b'ab"', 1).long(1024, b"x", 0).data(),
        "literal-minus-boundary": Enc(b"X", 2).long(4096, b"\xffz", 2).long(4097, b"q", 0).data(),
        "nested-lists": Enc(b"X", 2).list_(2).list_(1).list_(1).none().bytes_(b"").none().data(),
        "invalid-atom": Enc(b"X", 2).atom(b"bad\r\natom").atom(b"a  b").data(),
        "nul-in-string": Enc(b"X", 1).bytes_(b"a\x00b").data(),
        "int-out-of-range": Enc(b"X", 2).int_(-1).int_(2**64).data(),
        "bool": Enc(b"X", 1).bool_().data(),
        "invalid-name": Enc(b"BAD\r\nNAME", 0).data(),
        "store-flags": Enc(b"STORE", 3)
        .atom(b"1:5")
        .atom(b"+FLAGS.SILENT")
        .list_(3)
        .flag(b"\\Seen")
        .flag(b"$Forwarded")
        .flag(b"bad]flag")
        .data(),
        "enable-announcement": Enc(b"X", 1).atom(b"{5+}").data(),
        "unencodable-str": Enc(b"X", 1).str_("caf\udce9", surrogates=True).data(),
    }


# --- session -------------------------------------------------------------------------


def _command_bits() -> dict[bytes, int]:
    """Mask bit of each queued command, by name (a repeated name gets " 2")."""
    bits: dict[bytes, int] = {}
    for i, (command, _) in enumerate(fuzz_session.COMMANDS):
        name = command.name if command.name not in bits else command.name + b" 2"
        bits[name] = 1 << i
    return bits


_BIT = _command_bits()
_ACTIONS = 5  # the highest action number fuzz_session reads


def session_seed(greeting: int, commands: Iterable[bytes], steps: list[tuple[int, bytes]]) -> bytes:
    """``steps``: (action, server bytes); bytes longer than a chunk are split in steps of
    the same action (only the first of an idle_done step keeps action 1)."""
    mask = 0
    for name in commands:
        mask |= _BIT[name]
    w = SeedWriter().choose(0, len(fuzz_session.GREETINGS), greeting)
    w.choose(0, fuzz_session.ALL_COMMANDS, mask)
    for action, data in steps:
        if action in (2, 3, 5):
            w.choose(0, _ACTIONS, action)
            continue
        if action == 4:  # cancel: data[0] is which command
            w.choose(0, _ACTIONS, 4).choose(0, len(fuzz_session.COMMANDS) - 1, data[0])
            continue
        for i, chunk in enumerate(_chunks(data, 48)):
            w.choose(0, _ACTIONS, action if i == 0 else 0)
            w.choose(0, 48, len(chunk)).take(chunk)
    return w.data()


def session_seeds() -> dict[str, bytes]:
    return {
        "login-select-append-idle": session_seed(
            0,
            [b"LOGIN", b"SELECT", b"APPEND", b"IDLE", b"NOOP"],
            [
                (0, b"+ go ahead\r\n"),
                (0, b"A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
                (0, b"* 3 EXISTS\r\n* FLAGS (\\Seen \\Deleted)\r\nA2 OK [READ-WRITE] done\r\n"),
                (0, b"+ Ready for literal data\r\n"),
                (0, b"A3 OK [APPENDUID 1 4] APPEND completed\r\n"),
                (0, b"+ idling\r\n"),
                (1, b"* 4 EXISTS\r\n"),
                (0, b"A4 OK IDLE terminated\r\n"),
                (0, b"* 4 EXISTS\r\nA5 OK NOOP completed\r\n"),
                (3, b""),
            ],
        ),
        "authenticate-cancel": session_seed(
            0,
            [b"AUTHENTICATE", b"UID FETCH"],
            [
                (0, b"+ \r\n"),
                (0, b"+ bm9wZQ==\r\n"),
                (0, b"A1 BAD authentication cancelled\r\n"),
                (0, b"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\nA2 OK done\r\n"),
            ],
        ),
        "starttls-injection": session_seed(
            0,
            [b"NOOP", b"STARTTLS"],
            [
                (0, b"A1 OK NOOP done\r\n"),
                (0, b"A2 OK Begin TLS\r\n* OK [CAPABILITY AUTH=PLAIN] injected\r\n"),
                (2, b""),
                (0, b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] after TLS\r\n"),
            ],
        ),
        "bye-with-pending": session_seed(
            1,
            [b"SELECT", b"UID FETCH"],
            [(0, b"* 2 EXISTS\r\n"), (0, b"* BYE shutting down\r\n")],
        ),
        "literal-plus": session_seed(
            2,
            [b"LOGIN", b"APPEND"],
            [(0, b"A1 OK logged in\r\n"), (0, b"A2 OK [APPENDUID 9 1] done\r\n")],
        ),
        "literal-rejected": session_seed(
            0,
            [b"LOGIN", b"SELECT"],
            [
                (0, b"A1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
                (0, b"A2 BAD not authenticated\r\n"),
            ],
        ),
        "cancel-queued": session_seed(
            0,
            [b"SELECT", b"NOOP", b"UID FETCH"],
            [
                (4, b"\x02"),
                (4, b"\x00"),
                (0, b"* 1 EXISTS\r\n* 2 EXISTS\r\nA1 OK [READ-ONLY] selected\r\n"),
                (0, b"* 2 RECENT\r\nA2 OK done\r\n"),
            ],
        ),
        "too-many-unsolicited": session_seed(
            0,
            [b"UID FETCH"],
            [(0, b"* 1 EXPUNGE\r\n" * 12), (0, b"A1 OK done\r\n")],
        ),
        "greeting-from-stream-bye": session_seed(
            len(fuzz_session.GREETINGS),
            [b"SELECT"],
            [(0, b"* BYE [UNAVAILABLE] go away\r\n")],
        ),
        "pipelined-fetches": session_seed(
            0,
            [b"UID FETCH", b"UID FETCH 2", b"FETCH"],
            [
                (0, b"* 1 FETCH (UID 3 FLAGS ())\r\n* 2 FETCH (UID 25)\r\n"),
                (0, b"A2 OK done\r\nA1 OK done\r\n"),
                (0, b"* 3 FETCH (FLAGS (\\Seen) UID 7)\r\nA3 OK done\r\n"),
            ],
        ),
        "select-close-logout": session_seed(
            3,
            [b"SELECT", b"CLOSE", b"LOGOUT"],
            [
                (0, b"* 2 EXISTS\r\nA1 OK [READ-WRITE] ok\r\n"),
                (0, b"A2 OK closed\r\n"),
                (0, b"* BYE logging out\r\nA3 OK bye\r\n"),
                (3, b""),
            ],
        ),
        "abort-waiting-for-continuation": session_seed(
            0,
            [b"APPEND", b"NOOP"],
            [(5, b"")],
        ),
        "unknown-tag": session_seed(
            3,
            [b"SELECT", b"IDLE"],
            [(0, b"A9 OK what\r\n")],
        ),
        "eof-in-literal": session_seed(
            3,
            [b"UID FETCH"],
            [(0, b"* 1 FETCH (BODY[] {30}\r\nFrom: x\r\n"), (3, b"")],
        ),
    }


def write(target: str, seeds: dict[str, bytes]) -> None:
    folder = CORPUS / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds in {folder}")


def main() -> None:
    write("framing", {name: framing_seed(*spec) for name, spec in FRAMING.items()})
    write("parser", parser_seeds())
    write("encoder", encoder_seeds())
    write("session", session_seeds())


if __name__ == "__main__":
    main()
