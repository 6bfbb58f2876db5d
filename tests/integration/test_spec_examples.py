"""The specification's own example programs, run against the private Dovecot."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[1] / "spec_examples"


def test_2014_simple_example_runs_as_printed(seeded_inbox) -> None:
    account = seeded_inbox
    code = (EXAMPLES / "simple_example_2014.py.txt").read_text()
    # Only the connection details change: the example's server is imap.host.com:143.
    code = code.replace("HOST = 'imap.host.com'", f"HOST = {account.host!r}")
    code = code.replace("USERNAME = 'someuser'", f"USERNAME = {account.username!r}")
    code = code.replace("PASSWORD = 'secret'", f"PASSWORD = {account.password!r}")
    code = code.replace(
        "IMAPClient(HOST, use_uid=True, ssl=ssl)",
        f"IMAPClient(HOST, port={account.port}, use_uid=True, ssl=ssl)",
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "simple_example_2014.py", "exec"), {"__name__": "__main__"})
    lines = out.getvalue().splitlines()
    assert lines[:4] == ["3 messages in INBOX", "2 messages that aren't deleted", "", "Messages:"]
    assert len(lines) == 6
    assert "flags=(b'\\\\Seen'" in lines[4] or "flags=(b'\\\\Seen'" in lines[5]


@pytest.fixture
def seeded_inbox(imap_account):
    body = b"From: a@example.com\r\nSubject: s\r\n\r\nbody\r\n"
    imap_account.seed([(body, ["\\Seen"]), (body, ["\\Deleted"]), (body, [])])
    return imap_account
