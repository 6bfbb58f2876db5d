"""The upstream IMAPClient 4.1 from PyPI, used as its documentation says: ``search``,
``fetch(messages, [...])`` returning parsed dicts, ``idle`` / ``idle_check`` /
``idle_done``. It has no streaming: the large message is fetched whole and written.

Its ``fetch`` takes message ids, not ``1:*`` (it keeps only the responses for the ids
it was given), and sends them comma-separated; 100,000 of them would make a command
line far longer than Dovecot accepts (64 KiB). So "fetch everything" is ``search()``
then ``fetch`` in chunks of 5,000 UIDs, on every mailbox.

Runs in .venv-peers only: its import name ``imapclient`` is the same as ours.
"""

from __future__ import annotations

import time
from typing import Any

import _runner

import imapclient
from imapclient import IMAPClient


def describe() -> str:
    return f"IMAPClient {imapclient.__version__} from {imapclient.__file__}"


def connect(job: dict[str, Any]) -> IMAPClient:
    if not imapclient.__version__.startswith("4.1") or "/src/imapclient/" in imapclient.__file__:
        raise RuntimeError(f"not the upstream imapclient 4.1: {describe()}")
    client = IMAPClient(job["host"], port=job["port"], ssl=False, timeout=600)
    client.login(job["user"], job["password"])
    client.select_folder(job["folder"], readonly=True)
    return client


def close(client: IMAPClient) -> None:
    client.logout()


def search(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(client.search("ALL"))}


CHUNK = 5000


def _fetch_all(client: IMAPClient, items: list[str]) -> dict[int, Any]:
    uids = client.search("ALL")
    result: dict[int, Any] = {}
    for start in range(0, len(uids), CHUNK):
        result.update(client.fetch(uids[start : start + CHUNK], items))
    return result


def meta(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    result = _fetch_all(client, list(_runner.META_ITEMS))
    size = sum(data[b"RFC822.SIZE"] for data in result.values())
    return {"count": len(result), "bytes": size}


def envelope(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    result = _fetch_all(client, list(_runner.ENVELOPE_ITEMS))
    for data in result.values():
        _ = data[b"ENVELOPE"].subject, data[b"BODYSTRUCTURE"].is_multipart
    return {"count": len(result)}


def body(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    result = _fetch_all(client, ["BODY.PEEK[]"])
    return {"count": len(result), "bytes": sum(len(d[b"BODY[]"]) for d in result.values())}


def stream(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    data = client.fetch([job["uid"]], ["BODY.PEEK[]"])[job["uid"]][b"BODY[]"]
    with open(job["sink"], "wb") as sink:
        sink.write(data)
    return {"count": 1, "bytes": len(data), "note": "no streaming: fetch() whole, then write"}


def idle(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    appender = _runner.Appender(job)
    latencies = []
    try:
        client.idle()
        for _ in range(job["rounds"]):
            start = appender.fire()
            while not any(len(r) > 1 and r[1] == b"EXISTS" for r in client.idle_check(30)):
                pass
            latencies.append(time.perf_counter() - start)
            appender.finish()
        client.idle_done()
    finally:
        appender.close()
    return {"latencies": latencies}


if __name__ == "__main__":
    _runner.main(
        "imapclient-4.1",
        connect,
        {"search": search, "meta": meta, "envelope": envelope, "body": body,
         "stream": stream, "idle": idle},
        close,
        describe=describe,
    )
