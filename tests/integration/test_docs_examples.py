"""Every Python example of docs/advanced-usage.md runs against the private Dovecot."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "advanced-usage.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


# What each example must print (a regular expression), in page order.
EXPECTED = [
    r"^1 messages$",
    r"IDLE started\nServer sent: \[.*\(2, b'EXISTS'\).*\]\nIDLE ended: b'Idle completed",
    r"^new 2 \(",
    r"event: \(2, b'EXISTS'\)",
    r"1 messages, UIDs 1 to 1\n1 ids",
    r"mailbox size: \d+ bytes",
    r"wrote 10000\d\d bytes",
]


def test_every_example_has_an_expected_output() -> None:
    assert len(EXAMPLES) == len(EXPECTED)


@pytest.mark.parametrize(
    ("code", "expected"),
    list(zip(EXAMPLES, EXPECTED, strict=False)),
    ids=[f"example-{i}" for i in range(len(EXAMPLES))],
)
def test_example_runs(code: str, expected: str, imap_account) -> None:
    imap_account.seed([b"Subject: seeded\r\n\r\nseeded\r\n"])
    namespace = {
        "__name__": "__main__",
        "HOST": imap_account.host,
        "PORT": imap_account.port,
        "SSL": False,
        "USERNAME": imap_account.username,
        "PASSWORD": imap_account.password,
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), namespace)
    printed = out.getvalue()
    assert re.search(expected, printed, re.M), printed
