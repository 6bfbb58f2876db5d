"""Write docs/compatibility.md from what the integration suite actually ran.

Runs the server-parametrised integration tests (every scenario against Dovecot, Cyrus and
Courier, through both front ends) in this process with a small pytest plugin that
collects, for each test, its server, its outcome and the features it exercised: the
``feature`` markers, and what the ``offered`` fixture recorded (whether the server
advertised a capability, so that a test that checked the behaviour *without* it counts as
"not offered" for that server, not as "pass"). The scenarios in tests/conftest.py's
KNOWN_LIBRARY_BUGS are run too (``--known-library-bugs``), so the page shows them as
failures.

    python tests/compat_report.py            # run the tests, write docs/compatibility.md
    python tests/compat_report.py --check    # the same, but fail if the page would change

Extra arguments after ``--`` go to pytest. Exit status: 0 when the page was written (test
failures are part of the page, not an error), 1 when pytest could not run the tests or
(``--check``) the page is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "compatibility.md"
MODULES = [
    "tests/integration/test_api.py",
    "tests/integration/test_client.py",
    "tests/integration/test_idle.py",
    "tests/integration/test_watch.py",
]
SERVERS = ("dovecot", "cyrus", "courier")
SERVER_TITLES = {
    "dovecot": "Dovecot 2.3 (Debian 12)",
    "cyrus": "Cyrus IMAP 3.6 (Debian 12)",
    "courier": "Courier-IMAP 5.0 (Debian 12, PREAUTH)",
}

#: The rows, in order: a feature name (a capability, or a marker's name) and what the
#: library does with it.
ROWS = [
    ("LOGIN", "login()"),
    ("STARTTLS", "starttls(), verified against the CA"),
    ("IMPLICIT TLS", "ssl=True on the TLS port, verified"),
    ("AUTH=PLAIN", "plain_login(), sasl_login('PLAIN')"),
    ("SCRAM", "scram_login() SHA-1 and SHA-256, server signature checked"),
    ("XOAUTH2", "oauth2_login() / oauthbearer_login()"),
    ("IDLE", "idle(), idle_check(), IdleWatcher"),
    ("NAMESPACE", "namespace(), get_folder_delimiter()"),
    ("LIST", "list_folders(), list_sub_folders()"),
    ("CHILDREN", "\\HasChildren / \\HasNoChildren"),
    ("SPECIAL-USE", "find_special_folder() (else by well-known names)"),
    ("XLIST", "xlist_folders()"),
    ("UNSELECT", "unselect_folder()"),
    ("UIDPLUS", "APPENDUID, COPYUID, UID EXPUNGE"),
    ("MOVE", "move() (else COPY + UID EXPUNGE)"),
    ("MULTIAPPEND", "multiappend()"),
    ("ESEARCH", "search() with RETURN, esearch()"),
    ("SORT", "sort()"),
    ("THREAD=REFERENCES", "thread()"),
    ("THREAD=ORDEREDSUBJECT", "thread('ORDEREDSUBJECT')"),
    ("CONDSTORE", "MODSEQ search, CHANGEDSINCE, watcher catch-up"),
    ("QRESYNC", "enable('QRESYNC')"),
    ("ENABLE", "enable()"),
    ("ID", "id_()"),
    ("ACL", "getacl(), setacl()"),
    ("QUOTA", "get_quota(), get_quota_root(), set_quota()"),
    ("BINARY", "fetch BINARY[], BINARY.SIZE[]"),
    ("X-GM-EXT-1", "gmail_search(), Gmail labels"),
    # Advertised or not; no test of the library exercises them (yet).
    ("METADATA", "get_metadata(), set_metadata()"),
    ("LITERAL+", ""),
    ("COMPRESS=DEFLATE", ""),
    ("LIST-EXTENDED", ""),
    ("LIST-STATUS", ""),
    ("OBJECTID", ""),
    ("CATENATE", ""),
    ("UTF8=ACCEPT", ""),
    ("SASL-IR", ""),
]

PASS, FAIL, NOT_OFFERED = "pass", "FAIL", "not offered"


class Collector:
    """A pytest plugin: one record per test (its phases folded into one outcome)."""

    def __init__(self) -> None:
        self.tests: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.tests.setdefault(
            report.nodeid, {"outcome": "passed", "properties": [], "skipped": False}
        )
        entry["properties"] = list(report.user_properties)
        if report.failed:
            entry["outcome"] = "failed"
        elif report.skipped:
            entry["skipped"] = True


def cell_states(tests: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, int]]:
    """(feature, server) -> counts of "pass", "FAIL", "not offered", "offered-only"."""
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in tests.values():
        props = entry["properties"]
        server = next((value for key, value in props if key == "server"), None)
        if server is None:
            continue
        failed = entry["outcome"] == "failed"
        marked = {value for key, value in props if key == "feature"}
        recorded: dict[str, bool] = {}
        for key, value in props:
            if key == "offered":
                feature, _, state = str(value).rpartition("=")
                recorded[feature] = recorded.get(feature, False) or state == "offered"
        for feature in marked | set(recorded):
            counts = cells[(feature, server)]
            if failed and (feature in marked or recorded.get(feature, True)):
                counts[FAIL] += 1
                if any(key == "library_bug" for key, _ in props):
                    counts["library bug"] += 1
            elif feature in marked:
                counts[PASS if recorded.get(feature, True) else NOT_OFFERED] += 1
            elif recorded[feature]:
                counts["offered-only"] += 1
            else:
                counts["not-offered-only"] += 1
        if entry["skipped"]:
            cells[("(skipped)", server)][FAIL] += 1
    return cells


def cell_text(counts: dict[str, int] | None) -> str:
    if not counts:
        return "n/a"
    if counts.get(FAIL):
        known = " library bug" if counts.get("library bug") == counts[FAIL] else ""
        return f"**fail** ({counts[FAIL]}{known})"
    if counts.get(PASS):
        return f"pass ({counts[PASS]})"
    if counts.get("offered-only"):
        return "offered, not exercised"
    if counts.get(NOT_OFFERED):
        return "not offered ✓"
    return "not offered" if counts.get("not-offered-only") else "n/a"


def render(tests: dict[str, dict[str, Any]], bugs: dict[tuple[str, str], str]) -> str:
    cells = cell_states(tests)
    totals = {s: defaultdict(int) for s in SERVERS}
    for entry in tests.values():
        server = next((v for k, v in entry["properties"] if k == "server"), None)
        if server in totals:
            totals[server][entry["outcome"]] += 1
    lines = [
        "# Compatibility",
        "",
        "What the integration suite ran against each private test server (servers/ at the",
        "top of the repository: Debian 12's packages, each in its own state directory on",
        "127.0.0.1). Generated by `tests/compat_report.py` from the outcomes of",
        "tests/integration/test_api.py, test_client.py, test_idle.py and test_watch.py, whose",
        "scenarios run against every server through both front ends (blocking and asyncio).",
        "Do not edit by hand; regenerate with:",
        "",
        "```sh",
        "python tests/compat_report.py          # runs the tests (1-2 minutes), writes this page",
        "python tests/compat_report.py --check  # fails if this page is out of date",
        "```",
        "",
        "Cells: **pass (n)**: n test runs exercised the feature and passed; **not offered ✓**:",
        "the server does not advertise it, and the tests checked what the library documents",
        "then (CapabilityError before anything is sent, or the documented fallback);",
        "**offered, not exercised** / **not offered**: whether the server advertises it, for",
        "the rows the library does not use yet; **fail (n)**: n test runs failed (see the",
        "library bugs below).",
        "Servers differ in many details the tests allow for without naming the server",
        "(folder names from NAMESPACE, texts of OK responses, \\Recent, optional response",
        "codes); those are listed below the table.",
        "",
        "| Feature | What the library does | "
        + " | ".join(SERVER_TITLES[s] for s in SERVERS)
        + " |",
        "| --- | --- | " + " | ".join("---" for _ in SERVERS) + " |",
    ]
    for feature, what in ROWS:
        row = [feature, what or "(not used by the library yet)"]
        row += [cell_text(cells.get((feature, server))) for server in SERVERS]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "Test runs per server (every scenario, both front ends): "
        + "; ".join(
            f"{s}: {totals[s]['passed']} passed, {totals[s]['failed']} failed" for s in SERVERS
        )
        + ".",
        "",
        "## Library bugs found",
        "",
        "Scenarios that fail because of the library, not the server. The normal test run",
        "leaves them out (tests/conftest.py `KNOWN_LIBRARY_BUGS`; `pytest --known-library-bugs`",
        "runs them); each entry goes with its fix.",
        "",
    ]
    by_bug: dict[str, list[str]] = defaultdict(list)
    for (test, server), bug in sorted(bugs.items()):
        by_bug[bug].append(f"`{test}` ({server})")
    lines += [f"- {bug}: {', '.join(tests_)}" for bug, tests_ in by_bug.items()] or ["- none"]
    lines += ["", "## Server differences the tests allow for", "", *DIFFERENCES, ""]
    return "\n".join(lines)


DIFFERENCES = [
    "- Courier greets with `* PREAUTH` (this private instance has no authdaemond): no LOGIN,",
    "  no AUTH= mechanisms, no STARTTLS (too late after PREAUTH: TLSRequiredError). Its",
    "  personal namespace is `INBOX.` with `.` as delimiter; the tests take folder names",
    "  from NAMESPACE. It has no SPECIAL-USE: find_special_folder() falls back to names.",
    '- Cyrus refuses `"`, `\\` and `%` in folder names (NO); Dovecot and Courier accept them.',
    "- BADCHARSET: Dovecot and Courier answer `NO [BADCHARSET]`; Cyrus `BAD` without the",
    "  code. A refused login: Dovecot sends `[AUTHENTICATIONFAILED]`, Cyrus no code.",
    "- SELECT: Courier sends no `[UIDNEXT]`; \\Recent and RECENT counts differ between",
    "  servers (Courier reports `* 0 RECENT` after changes, with EXISTS after EXPUNGE).",
    "- THREAD=ORDEREDSUBJECT: Dovecot and Cyrus make later messages children of the first",
    "  (`(1 (2)(4)(5))`), Courier a chain (`(1 2 4 5)`); RFC 5256 allows both.",
    "- ENVELOPE of a group (`To: undisclosed-recipients:;`): Courier drops the group's name",
    '  (`((NIL NIL "" NIL)(NIL NIL "" NIL))`).',
    "- LSUB: Courier lists unsubscribed parents of subscribed folders with \\Noselect; Cyrus",
    "  subscribes INBOX for a new user, Dovecot does not.",
    "- ACL identifiers: Dovecot and Cyrus take user names and Dovecot refuses `anyone`",
    "  (as configured); Courier names the owner `owner` and takes `anyone` but not bare",
    "  user names. Quota roots: `User quota` (Dovecot), `INBOX` (Cyrus), `ROOT` (Courier).",
    "- IDLE: Cyrus reports a message's \\Deleted flag before its EXPUNGE; a kick ends a",
    "  session with `* BYE` on Dovecot and Courier and without one on Cyrus.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page would change")
    parser.add_argument("--output", type=Path, default=PAGE, help="where to write the page")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest (after --)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "tests"))
    collector = Collector()
    status = pytest.main(
        [
            "-q",
            "-p",
            "no:cacheprovider",
            "--known-library-bugs",
            "-o",
            "addopts=",
            *[str(ROOT / m) for m in MODULES],
            *args.pytest_args,
        ],
        plugins=[collector],
    )
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not collector.tests:
        print(f"pytest could not run the tests (exit status {status})", file=sys.stderr)
        return 1
    from conftest import KNOWN_LIBRARY_BUGS

    page = render(collector.tests, KNOWN_LIBRARY_BUGS)
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if _table(current) != _table(page):
            print(
                f"{args.output} is out of date: run python tests/compat_report.py", file=sys.stderr
            )
            return 1
        return 0
    args.output.write_text(page)
    print(f"wrote {args.output}")
    return 0


def _table(page: str) -> list[str]:
    """The table rows of a page (the part the tests decide)."""
    return [line for line in page.splitlines() if line.startswith("| ")]


if __name__ == "__main__":
    sys.exit(main())
