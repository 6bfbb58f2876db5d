"""What every benchmark runner shares (standard library only: it is imported by runners
that run in our ``.venv`` and by runners that run in ``.venv-peers``).

The protocol between ``bench/peers.py`` and a runner, one process per measurement:

* in, on stdin, one JSON object: ``task`` (``search``, ``meta``, ``envelope``, ``body``,
  ``stream``, ``idle``), ``host``, ``port``, ``user``, ``password``, ``folder``, and per
  task ``uid`` and ``sink`` (stream), ``rounds`` (idle); ``profile`` (true: run the task
  under cProfile and return the top 15 functions by own time);
* out, on stdout, one JSON line: ``seconds`` (the task alone: connecting, logging in and
  selecting the folder are done before the clock starts), ``count`` (messages the client
  handed back), ``bytes`` (payload the client handed back: body bytes, the sum of
  RFC822.SIZE, bytes written to the sink; absent when the client does not say),
  ``peak_rss`` and ``rss_before`` (bytes), ``latencies`` (idle), ``note``, or
  ``skipped`` / ``error`` with a reason.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import os
import pstats
import resource
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

TASKS = ("search", "meta", "envelope", "body", "stream", "idle")
META_ITEMS = ("FLAGS", "INTERNALDATE", "RFC822.SIZE")
ENVELOPE_ITEMS = ("ENVELOPE", "BODYSTRUCTURE")


class Skip(Exception):
    """The client cannot do this task (say why)."""


def current_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _usage() -> tuple[float, float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def _spent(before: tuple[float, float, int]) -> dict[str, Any]:
    """The task's CPU time and page faults: tells a slow run bound by the client's own
    work (user), by the kernel (system: mostly first touches of fresh memory) or by the
    server (the rest of the wall time)."""
    after = _usage()
    return {
        "user": after[0] - before[0],
        "system": after[1] - before[1],
        "faults": after[2] - before[2],
    }


def peak_rss() -> int:
    """The process's peak resident set size. VmHWM belongs to this program's address
    space; getrusage's ru_maxrss would also count the parent's before the exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Appender:
    """The second connection of the IDLE task: a raw socket that APPENDs a small message
    (LITERAL+, one send) when told, and then reads its tagged OK. Shared by every runner,
    so that all clients are timed against the same appender."""

    MESSAGE = (
        b"From: Bob <bob@example.com>\r\nTo: Alice <alice@example.org>\r\n"
        b"Subject: IDLE round trip\r\nDate: Mon, 04 Mar 2024 09:12:00 +0100\r\n"
        b"Message-ID: <idle@bench.example>\r\n\r\nping\r\n"
    )

    def __init__(self, job: dict[str, Any]) -> None:
        self.sock = socket.create_connection((job["host"], job["port"]), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.counter = 0
        self._read_line(b"* ")  # greeting
        self._command(b"L LOGIN %s %s" % (_quoted(job["user"]), _quoted(job["password"])))
        self.folder = _quoted(job["folder"])

    def _read_line(self, prefix: bytes) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n")
            while end < 0:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("appender: connection closed")
                self.buffer += data
                end = self.buffer.find(b"\r\n")
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            if line.startswith(prefix):
                return line

    def _command(self, line: bytes) -> None:
        tag = line.split(b" ", 1)[0]
        self.sock.sendall(line + b"\r\n")
        reply = self._read_line(tag + b" ")
        if not reply.startswith(tag + b" OK"):
            raise RuntimeError(f"appender: {reply!r}")

    def fire(self) -> float:
        """Send an APPEND; return the clock reading just before it went out."""
        self.counter += 1
        self.tag = b"A%d" % self.counter
        command = b"%s APPEND %s {%d+}\r\n%s\r\n" % (
            self.tag, self.folder, len(self.MESSAGE), self.MESSAGE)
        start = time.perf_counter()
        self.sock.sendall(command)
        return start

    def finish(self) -> None:
        """Read the APPEND's tagged OK (outside the timed interval)."""
        reply = self._read_line(self.tag + b" ")
        if not reply.startswith(self.tag + b" OK"):
            raise RuntimeError(f"appender: {reply!r}")

    def close(self) -> None:
        try:
            self.sock.sendall(b"Z LOGOUT\r\n")
        finally:
            self.sock.close()


def _quoted(value: str) -> bytes:
    return b'"' + value.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _top(profile: cProfile.Profile) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    text = out.getvalue()
    return text[text.find("   ncalls") :] if "   ncalls" in text else text


def main(
    client: str,
    connect: Callable[..., Any],
    tasks: dict[str, Callable[..., Any]],
    close: Callable[..., Any],
    *,
    is_async: bool = False,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Read the job, connect, run and time the task, print the JSON result."""
    job = json.loads(sys.stdin.read())
    task = job["task"]
    out: dict[str, Any] = {"client": client, "task": task, "library": describe()}
    try:
        if task not in tasks:
            raise Skip(f"{client} has no way to do {task}")
        function = tasks[task]
        if is_async:
            out.update(asyncio.run(_run_async(connect, function, close, job)))
        else:
            out.update(_run_blocking(connect, function, close, job))
    except Skip as reason:
        out["skipped"] = str(reason)
    except BaseException as error:  # report, never hang the orchestrator
        out["error"] = f"{type(error).__name__}: {error}"[:500]
        out["traceback"] = traceback.format_exc()[-3000:]
    out["peak_rss"] = peak_rss()
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()


def _run_blocking(
    connect: Callable[..., Any], function: Callable[..., Any], close: Callable[..., Any],
    job: dict[str, Any],
) -> dict[str, Any]:
    session = connect(job)
    try:
        rss_before = current_rss()
        profile = cProfile.Profile() if job.get("profile") else None
        usage = _usage()
        start = time.perf_counter()
        result: dict[str, Any]
        if profile is not None:
            result = profile.runcall(function, session, job)
        else:
            result = function(session, job)
        seconds = time.perf_counter() - start
        result.update(_spent(usage))
    finally:
        close(session)
    result.update(seconds=seconds, rss_before=rss_before)
    if profile is not None:
        result["profile"] = _top(profile)
    return result


async def _run_async(
    connect: Callable[..., Any], function: Callable[..., Any], close: Callable[..., Any],
    job: dict[str, Any],
) -> dict[str, Any]:
    session = await connect(job)
    try:
        rss_before = current_rss()
        profile = cProfile.Profile() if job.get("profile") else None
        usage = _usage()
        start = time.perf_counter()
        if profile is not None:
            profile.enable()
        result: dict[str, Any]
        try:
            result = await function(session, job)
        finally:
            if profile is not None:
                profile.disable()
        seconds = time.perf_counter() - start
        result.update(_spent(usage))
    finally:
        await close(session)
    result.update(seconds=seconds, rss_before=rss_before)
    if profile is not None:
        result["profile"] = _top(profile)
    return result
