"""The floor: a raw socket that sends the task's command and only reads bytes until the
tagged OK. No parsing beyond spotting the tagged line (and counting ``FETCH (`` so that
the floor is checked like every client). Runs on any Python; bench/peers.py runs it with
our .venv's interpreter. With ``"esearch": true`` the search task sends the RFC 4731
form (``UID SEARCH RETURN (ALL) ALL``) that our client uses when the server has ESEARCH.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import _runner

TAG = b"FLOOR"
TAIL = 32  # bytes of the previous read kept in front of the next: patterns can straddle


class Raw:
    def __init__(self, job: dict[str, Any]) -> None:
        self.sock = socket.create_connection((job["host"], job["port"]), timeout=600)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray(TAIL + (1 << 20))
        self.view = memoryview(self.buffer)
        self.counter = 0
        self.run(b"", expect_greeting=True)
        self.run(b"LOGIN %s %s" % (_runner._quoted(job["user"]), _runner._quoted(job["password"])))
        self.run(b"EXAMINE %s" % _runner._quoted(job["folder"]))

    def run(self, command: bytes, *, count: bytes | None = None, sink: Any = None,
            expect_greeting: bool = False) -> tuple[int, int]:
        """Send a command; read until its tagged completion. Returns (bytes, count)."""
        if expect_greeting:
            data = b""
            while b"\r\n" not in data:
                data += self.sock.recv(4096)
            return len(data), 0
        self.counter += 1
        tag = TAG + b"%d" % self.counter
        self.sock.sendall(tag + b" " + command + b"\r\n")
        end = b"\r\n" + tag + b" "
        buffer, view, recv_into = self.buffer, self.view, self.sock.recv_into
        buffer[:TAIL] = b"\r\n" * (TAIL // 2)  # as if a line had just ended
        received = found = 0
        while True:
            n = recv_into(view[TAIL:])
            if not n:
                raise ConnectionError("connection closed")
            received += n
            if sink is not None:
                sink.write(view[TAIL : TAIL + n])
            stop = TAIL + n
            if count is not None:
                found += buffer.count(count, 0, stop)
            at = buffer.find(end, 0, stop)
            if at >= 0:
                line = bytes(buffer[at + 2 : stop])
                while b"\r\n" not in line:  # the tagged line is cut by a read boundary
                    more = self.sock.recv(4096)
                    if not more:
                        raise ConnectionError("connection closed")
                    received += len(more)
                    line += more
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"floor: {line!r}")
                return received, found
            # The last TAIL bytes go in front of the next read, so that a pattern cut by
            # a read boundary is still found; what lies wholly in them is counted then.
            if count is not None:
                found -= buffer.count(count, stop - TAIL, stop)
            buffer[:TAIL] = buffer[stop - TAIL : stop]

    def idle(self, job: dict[str, Any]) -> list[float]:
        appender = _runner.Appender(job)
        latencies = []
        try:
            self.counter += 1
            tag = TAG + b"%d" % self.counter
            self.sock.sendall(tag + b" IDLE\r\n")
            pending = b""
            while b"+ " not in pending:
                pending += self.sock.recv(65536)
            for _ in range(job["rounds"]):
                start = appender.fire()
                pending = b""
                while b" EXISTS\r\n" not in pending:
                    pending += self.sock.recv(65536)
                latencies.append(time.perf_counter() - start)
                appender.finish()
            self.sock.sendall(b"DONE\r\n")
            pending = b"\r\n"
            while b"\r\n" + tag + b" " not in pending:
                pending += self.sock.recv(65536)
        finally:
            appender.close()
        return latencies

    def close(self) -> None:
        try:
            self.sock.sendall(b"Z LOGOUT\r\n")
        finally:
            self.sock.close()


def search(raw: Raw, job: dict[str, Any]) -> dict[str, Any]:
    command = b"UID SEARCH RETURN (ALL) ALL" if job.get("esearch") else b"UID SEARCH ALL"
    received, _ = raw.run(command)
    return {"bytes_received": received}


def _fetch(items: bytes) -> Any:
    def task(raw: Raw, job: dict[str, Any]) -> dict[str, Any]:
        received, count = raw.run(b"UID FETCH 1:* (" + items + b")", count=b" FETCH (")
        return {"count": count, "bytes_received": received}

    return task


def stream(raw: Raw, job: dict[str, Any]) -> dict[str, Any]:
    with open(job["sink"], "wb") as sink:
        received, _ = raw.run(b"UID FETCH %d (BODY.PEEK[])" % job["uid"], sink=sink)
    return {"count": 1, "bytes": received, "note": "writes every byte received"}


def idle(raw: Raw, job: dict[str, Any]) -> dict[str, Any]:
    return {"latencies": raw.idle(job)}


if __name__ == "__main__":
    _runner.main(
        "floor",
        Raw,
        {
            "search": search,
            "meta": _fetch(b"FLAGS INTERNALDATE RFC822.SIZE"),
            "envelope": _fetch(b"ENVELOPE BODYSTRUCTURE"),
            "body": _fetch(b"BODY.PEEK[]"),
            "stream": stream,
            "idle": idle,
        },
        Raw.close,
        describe=lambda: "raw socket",
    )
