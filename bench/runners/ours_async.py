"""Our AsyncIMAPClient, used as docs/api.md and docs/async.md say: the same calls as the
blocking client, awaited; IDLE through ``idle_events()``. Runs in .venv.

With ``"iter": true`` the fetch tasks use ``iter_fetch`` (chunks of 500, four in flight).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import _runner

import imapclient
from imapclient import AsyncIMAPClient
from imapclient.response_types import BodyData, Envelope


def describe() -> str:
    return f"imapclient (this repository) AsyncIMAPClient from {imapclient.__file__}"


async def connect(job: dict[str, Any]) -> AsyncIMAPClient:
    if "/src/imapclient/" not in imapclient.__file__:
        raise RuntimeError(f"not our imapclient: {imapclient.__file__}")
    client = await AsyncIMAPClient.create(job["host"], port=job["port"], ssl=False, timeout=600)
    await client.login(job["user"], job["password"])
    await client.select_folder(job["folder"], readonly=True)
    return client


async def close(client: AsyncIMAPClient) -> None:
    await client.logout()


async def _fetch_all(
    client: AsyncIMAPClient, job: dict[str, Any], items: list[str]
) -> AsyncIterator[tuple[int, Any]]:
    if job.get("iter"):
        async for pair in client.iter_fetch(await client.search(), items):
            yield pair
    else:
        for pair in (await client.fetch("1:*", items)).items():
            yield pair


async def search(client: AsyncIMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(await client.search("ALL"))}


async def meta(client: AsyncIMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    count = size = 0
    async for _, data in _fetch_all(client, job, list(_runner.META_ITEMS)):
        size += data[b"RFC822.SIZE"]
        _ = data[b"FLAGS"], data[b"INTERNALDATE"]  # present and parsed
        count += 1
    return {"count": count, "bytes": size}


async def envelope(client: AsyncIMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    count = unparsed = 0
    async for _, data in _fetch_all(client, job, list(_runner.ENVELOPE_ITEMS)):
        env, structure = data[b"ENVELOPE"], data[b"BODYSTRUCTURE"]
        if not isinstance(env, Envelope) or not isinstance(structure, BodyData):
            unparsed += 1
        count += 1
    result: dict[str, Any] = {"count": count}
    if unparsed:
        result["note"] = f"{unparsed} items not parsed into Envelope/BodyData"
        result["unparsed"] = unparsed
    return result


async def body(client: AsyncIMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    count = size = 0
    async for _, data in _fetch_all(client, job, ["BODY.PEEK[]"]):
        size += len(data[b"BODY[]"])
        count += 1
    return {"count": count, "bytes": size}


async def stream(client: AsyncIMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    with open(job["sink"], "wb") as sink:
        written = await client.fetch_to_file(job["uid"], sink)
    return {"count": 1, "bytes": written, "note": "await fetch_to_file(uid, sink)"}


async def idle(client: AsyncIMAPClient, job: dict[str, Any]) -> dict[str, Any]:
    appender = _runner.Appender(job)
    latencies: list[float] = []
    try:
        async with client.idle_events() as events:
            start = appender.fire()
            async for event in events:
                if len(event) > 1 and event[1] == b"EXISTS":
                    latencies.append(time.perf_counter() - start)
                    appender.finish()
                    if len(latencies) == job["rounds"]:
                        break
                    start = appender.fire()
    finally:
        appender.close()
    return {"latencies": latencies, "note": "idle_events()"}


if __name__ == "__main__":
    _runner.main(
        "ours-async",
        connect,
        {"search": search, "meta": meta, "envelope": envelope, "body": body,
         "stream": stream, "idle": idle},
        close,
        is_async=True,
        describe=describe,
    )
