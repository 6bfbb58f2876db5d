"""Our IMAPClient (blocking), used as docs/api.md says: ``search``, ``fetch('1:*', items)``,
``fetch_to_file(uid, sink)``, ``idle`` / ``idle_check`` / ``idle_done``. Runs in .venv.

With ``"iter": true`` the fetch tasks walk the mailbox with ``iter_fetch`` (chunks of 500,
four FETCHes in flight) instead of one ``fetch`` of everything: the documented way for
large mailboxes, which keeps memory bounded.
"""

from __future__ import annotations

import time
from typing import Any

import _runner

import imapclient
from imapclient import IMAPClient
from imapclient.response_types import BodyData, Envelope


def describe() -> str:
    return f"imapclient (this repository) from {imapclient.__file__}"


def connect(job: dict[str, Any]) -> IMAPClient:
    if "/src/imapclient/" not in imapclient.__file__:
        raise RuntimeError(f"not our imapclient: {imapclient.__file__}")
    client = IMAPClient(job["host"], port=job["port"], ssl=False, timeout=600)
    client.login(job["user"], job["password"])
    client.select_folder(job["folder"], readonly=True)
    return client


def close(client: IMAPClient) -> None:
    client.logout()


def _fetch_all(client: IMAPClient, job: dict[str, Any], items: list[str]) -> Any:
    if job.get("iter"):
        return client.iter_fetch(client.search(), items)
    return client.fetch("1:*", items).items()


def search(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(client.search("ALL"))}


def meta(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    count = size = 0
    for _, data in _fetch_all(client, job, list(_runner.META_ITEMS)):
        size += data[b"RFC822.SIZE"]
        _ = data[b"FLAGS"], data[b"INTERNALDATE"]  # present and parsed
        count += 1
    return {"count": count, "bytes": size}


def envelope(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    count = unparsed = 0
    for _, data in _fetch_all(client, job, list(_runner.ENVELOPE_ITEMS)):
        env, structure = data[b"ENVELOPE"], data[b"BODYSTRUCTURE"]
        if not isinstance(env, Envelope) or not isinstance(structure, BodyData):
            unparsed += 1
        count += 1
    result: dict[str, Any] = {"count": count}
    if unparsed:
        result["note"] = f"{unparsed} items not parsed into Envelope/BodyData"
        result["unparsed"] = unparsed
    return result


def body(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    count = size = 0
    for _, data in _fetch_all(client, job, ["BODY.PEEK[]"]):
        size += len(data[b"BODY[]"])
        count += 1
    return {"count": count, "bytes": size}


def stream(client: IMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    with open(job["sink"], "wb") as sink:
        written = client.fetch_to_file(job["uid"], sink)
    return {"count": 1, "bytes": written, "note": "fetch_to_file(uid, sink)"}


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
        "ours",
        connect,
        {"search": search, "meta": meta, "envelope": envelope, "body": body,
         "stream": stream, "idle": idle},
        close,
        describe=describe,
    )
