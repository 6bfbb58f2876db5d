"""Framing a large literal delivered one byte per read: the cost must be linear.

Run: ``python bench/literal_byte_by_byte.py [sizes in MB ...]`` (default 1 10 100). Feeds
the sans-IO :class:`~imapclient.protocol.framing.Framer` a ``* 1 FETCH (BODY[] {n}``
response whose literal is ``n`` bytes, one byte per ``feed`` + ``next_response`` call, as
a server trickling one byte per TCP segment would. No sockets. Prints seconds and
nanoseconds per byte for each size: with linear framing the ns/byte column stays flat;
a framer that rescanned its buffer on every call would grow tenfold per row.

The "loop only" column is the same Python loop without the framer calls, the floor any
byte-at-a-time driver pays. It asserts only that the framed response is exact.
"""

from __future__ import annotations

import sys
import time

from imapclient.protocol.framing import Framer

MB = 1_000_000


def wire_for(size: int) -> tuple[bytes, bytes]:
    # CR, LF and braces inside the literal must be taken as data, never as line ends or
    # announcements.
    unit = b"data\r\n{5}\r\n"
    body = (unit * (size // len(unit) + 1))[:size]
    assert len(body) == size
    head = b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % size
    return head + body + b")\r\n", body


def frame_byte_by_byte(wire: bytes) -> tuple[float, list[bytes]]:
    framer = Framer()
    feed, next_response = framer.feed, framer.next_response
    responses = []
    start = time.perf_counter()
    for i in range(len(wire)):
        feed(wire[i : i + 1])  # a 1-byte slice is a cached object: no allocation
        response = next_response()
        if response is not None:
            responses.append(response)
    return time.perf_counter() - start, responses


def loop_only(wire: bytes) -> float:
    sink = []
    append = sink.append
    start = time.perf_counter()
    for i in range(len(wire)):
        append(wire[i : i + 1])
        sink.clear()
    return time.perf_counter() - start


def main(sizes_mb: list[int]) -> None:
    print(
        f"{'literal':>9} {'bytes fed':>12} {'framer s':>9} {'ns/byte':>8} "
        f"{'loop only s':>11} {'ns/byte':>8}"
    )
    for mb in sizes_mb:
        wire, body = wire_for(mb * MB)
        seconds, responses = frame_byte_by_byte(wire)
        assert responses == [wire[:-2]], "framing is wrong"
        assert responses[0].endswith(body + b")")
        del responses
        floor = loop_only(wire)
        n = len(wire)
        print(
            f"{mb:>6} MB {n:>12,} {seconds:>9.2f} {seconds / n * 1e9:>8.0f} "
            f"{floor:>11.2f} {floor / n * 1e9:>8.0f}"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 100])
