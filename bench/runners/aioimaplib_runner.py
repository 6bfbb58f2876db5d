"""aioimaplib, used as its documentation says: raw commands (``uid_search``,
``uid('fetch', ...)``) whose ``Response.lines`` are the server's lines, unparsed, with
literals as bytearrays; IDLE through ``idle_start`` / ``wait_server_push`` /
``idle_done``. It has no streaming. Its command timeout is raised to 600 s (default 10 s).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import _runner
import aioimaplib

_FETCH = re.compile(rb"\d+ FETCH ")


def describe() -> str:
    try:
        from importlib.metadata import version

        return f"aioimaplib {version('aioimaplib')}"
    except Exception:
        return "aioimaplib"


async def connect(job: dict[str, Any]) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=job["host"], port=job["port"], timeout=600)
    await client.wait_hello_from_server()
    _ok(await client.login(job["user"], job["password"]))
    _ok(await client.select(job["folder"]))  # its EXAMINE leaves it in state AUTH
    return client


async def close(client: aioimaplib.IMAP4) -> None:
    await client.logout()


def _ok(response: Any) -> Any:
    if response.result != "OK":
        raise RuntimeError(f"{response.result}: {response.lines[-1:]!r}")
    return response


def _count(lines: list[Any]) -> int:
    return sum(1 for line in lines if isinstance(line, bytes) and _FETCH.match(line))


async def search(client: aioimaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    response = _ok(await client.uid_search("ALL", charset=None))
    return {"count": len(response.lines[0].split())}


def _fetch(items: str) -> Any:
    async def task(client: aioimaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
        response = _ok(await client.uid("fetch", "1:*", items))
        return {"count": _count(response.lines), "note": "unparsed lines"}

    return task


async def body(client: aioimaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    response = _ok(await client.uid("fetch", "1:*", "(BODY.PEEK[])"))
    size = sum(len(line) for line in response.lines if isinstance(line, bytearray))
    return {"count": _count(response.lines), "bytes": size, "note": "unparsed lines"}


async def stream(client: aioimaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    response = _ok(await client.uid("fetch", str(job["uid"]), "(BODY.PEEK[])"))
    literal = next(line for line in response.lines if isinstance(line, bytearray))
    with open(job["sink"], "wb") as sink:
        sink.write(literal)
    return {"count": 1, "bytes": len(literal), "note": "no streaming: whole literal, then write"}


async def idle(client: aioimaplib.IMAP4, job: dict[str, Any]) -> dict[str, Any]:
    appender = _runner.Appender(job)
    latencies = []
    try:
        idling = await client.idle_start(timeout=600)
        for _ in range(job["rounds"]):
            start = appender.fire()
            while True:
                lines = await client.wait_server_push(timeout=30)
                if any(isinstance(line, bytes) and b"EXISTS" in line for line in lines):
                    break
            latencies.append(time.perf_counter() - start)
            appender.finish()
        client.idle_done()
        await asyncio.wait_for(idling, 30)
    finally:
        appender.close()
    return {"latencies": latencies}


if __name__ == "__main__":
    _runner.main(
        "aioimaplib",
        connect,
        {"search": search, "meta": _fetch("(FLAGS INTERNALDATE RFC822.SIZE)"),
         "envelope": _fetch("(ENVELOPE BODYSTRUCTURE)"), "body": body, "stream": stream,
         "idle": idle},
        close,
        is_async=True,
        describe=describe,
    )
