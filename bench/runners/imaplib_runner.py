"""The standard library's imaplib, used as its documentation says: ``uid('SEARCH', ...)``
and ``uid('FETCH', '1:*', '(...)')``, which return the data unparsed (lines, and
(header, literal) tuples). It has no streaming, and IDLE only from Python 3.14
(``IMAP4.idle()``): on older Pythons the IDLE task is skipped.
"""

from __future__ import annotations

import imaplib
import re
import sys
import time
from typing import Any

import _runner

_RESPONSE_START = re.compile(rb"\d+ \(")


def describe() -> str:
    return f"imaplib (Python {sys.version.split()[0]})"


def connect(job: dict[str, Any]) -> imaplib.IMAP4:
    client = imaplib.IMAP4(job["host"], job["port"], timeout=600)
    client.login(job["user"], job["password"])
    typ, _ = client.select(job["folder"], readonly=True)
    if typ != "OK":
        raise RuntimeError("select failed")
    return client


def close(client: imaplib.IMAP4) -> None:
    client.logout()


def _ok(result: tuple[str, list[Any]]) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise RuntimeError(f"{typ}: {data!r}")
    return data


def _count(data: list[Any]) -> int:
    """FETCH responses in imaplib's data: a bytes line, or a (head, literal) tuple for a
    response with literals, followed by the rest of it as bytes (which starts with
    ``)`` or a space, not with a message number)."""
    count = 0
    for item in data:
        head = item[0] if isinstance(item, tuple) else item
        if isinstance(head, bytes) and _RESPONSE_START.match(head):
            count += 1
    return count


def search(client: imaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    data = _ok(client.uid("SEARCH", "ALL"))
    return {"count": len(data[0].split())}


def _fetch(items: str) -> Any:
    def task(client: imaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
        data = _ok(client.uid("FETCH", "1:*", items))
        return {"count": _count(data), "note": "unparsed"}

    return task


def body(client: imaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    data = _ok(client.uid("FETCH", "1:*", "(BODY.PEEK[])"))
    size = sum(len(item[1]) for item in data if isinstance(item, tuple))
    return {"count": _count(data), "bytes": size, "note": "unparsed"}


def stream(client: imaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    data = _ok(client.uid("FETCH", str(job["uid"]), "(BODY.PEEK[])"))
    literal = next(item[1] for item in data if isinstance(item, tuple))
    with open(job["sink"], "wb") as sink:
        sink.write(literal)
    note = "no streaming: uid('FETCH') whole, then write"
    return {"count": 1, "bytes": len(literal), "note": note}


def idle(client: imaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    if not hasattr(client, "idle"):
        raise _runner.Skip(f"imaplib has no IDLE before Python 3.14 (this is {describe()})")
    appender = _runner.Appender(job)  # pragma: no cover - Python 3.14+
    latencies = []
    try:
        with client.idle(duration=60) as responses:
            start = appender.fire()
            for name, _ in responses:
                if name == "EXISTS":
                    latencies.append(time.perf_counter() - start)
                    appender.finish()
                    if len(latencies) == job["rounds"]:
                        break
                    start = appender.fire()
    finally:
        appender.close()
    return {"latencies": latencies}


if __name__ == "__main__":
    _runner.main(
        "imaplib",
        connect,
        {"search": search, "meta": _fetch("(FLAGS INTERNALDATE RFC822.SIZE)"),
         "envelope": _fetch("(ENVELOPE BODYSTRUCTURE)"), "body": body, "stream": stream,
         "idle": idle},
        close,
        describe=describe,
    )
