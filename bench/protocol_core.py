"""Throughput of the sans-IO protocol core: framing + parsing of typical server output.

Run: ``python bench/protocol_core.py`` (after ``pip install -e .``). It reports figures;
it asserts nothing. Three workloads, each fed in 64 KiB chunks as a socket would deliver:

* ``fetch-meta``: ``* n FETCH (UID n FLAGS (...) RFC822.SIZE n INTERNALDATE "...")``
  for 100,000 messages (what listing a mailbox costs);
* ``fetch-envelope``: FETCH with ENVELOPE and BODYSTRUCTURE for 20,000 messages;
* ``fetch-body``: 2,000 messages of 50 KiB each as BODY[] literals.

For reference, the same bytes are also split by the standard library's ``imaplib``
line reader logic (readline + literal read over an in-memory stream), which only frames
and does not parse; the protocol core does both.
"""

from __future__ import annotations

import io
import re
import statistics
import time
from collections.abc import Callable

from imapclient.protocol.framing import Framer
from imapclient.protocol.parser import Parser

CHUNK = 64 * 1024
REPEAT = 5


def fetch_meta(n: int) -> bytes:
    return b"".join(
        b"* %d FETCH (UID %d FLAGS (\\Seen $Forwarded) RFC822.SIZE %d "
        b'INTERNALDATE "17-Jul-1996 02:44:25 -0700")\r\n' % (i, i + 1000, 1000 + i)
        for i in range(1, n + 1)
    )


ENVELOPE = (
    b'ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" '
    b'"cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")'
    b'("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")'
)
BODYSTRUCTURE = (
    b'BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL)'
    b'("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 4554 NIL ("ATTACHMENT" '
    b'("FILENAME" "a.pdf")) NIL) "MIXED" ("BOUNDARY" "xyz") NIL NIL)'
)


def fetch_envelope(n: int) -> bytes:
    return b"".join(
        b"* %d FETCH (UID %d %s %s)\r\n" % (i, i, ENVELOPE, BODYSTRUCTURE) for i in range(1, n + 1)
    )


def fetch_body(n: int, size: int = 50 * 1024) -> bytes:
    body = (b"x" * 76 + b"\r\n") * (size // 78)
    return b"".join(
        b"* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n" % (i, i, len(body), body)
        for i in range(1, n + 1)
    )


def run_core(data: bytes) -> int:
    framer = Framer()
    parser = Parser()
    count = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        framer.feed(view[start : start + CHUNK])
        while (raw := framer.next_response()) is not None:
            parser.parse(raw)
            count += 1
    return count


_IMAPLIB_LITERAL = re.compile(rb".*{(?P<size>\d+)}$")


def run_imaplib_framing(data: bytes) -> int:
    # What imaplib does per response: readline, and read(size) for each literal.
    stream = io.BufferedReader(io.BytesIO(data), CHUNK)  # type: ignore[arg-type]
    count = 0
    while True:
        line = stream.readline()
        if not line:
            return count
        while (m := _IMAPLIB_LITERAL.match(line.rstrip(b"\r\n"))) is not None:
            stream.read(int(m.group("size")))
            line = stream.readline()
        count += 1


def measure(fn: Callable[[bytes], int], data: bytes) -> tuple[float, int]:
    times = []
    count = 0
    for _ in range(REPEAT):
        start = time.perf_counter()
        count = fn(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main() -> None:
    workloads = {
        "fetch-meta (100k msgs)": fetch_meta(100_000),
        "fetch-envelope (20k msgs)": fetch_envelope(20_000),
        "fetch-body (2k x 50 KiB)": fetch_body(2_000),
    }
    print(f"median of {REPEAT} runs, fed in {CHUNK // 1024} KiB chunks\n")
    header = f"| {'workload':<27} | {'MB':>6} | {'core: frame+parse':>18} | {'resp/s':>10} |"
    header += f" {'MB/s':>7} | {'imaplib framing only':>20} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name, data in workloads.items():
        core_time, count = measure(run_core, data)
        lib_time, lib_count = measure(run_imaplib_framing, data)
        assert count == lib_count, (count, lib_count)
        mb = len(data) / 1e6
        print(
            f"| {name:<27} | {mb:>6.1f} | {core_time:>16.3f} s | {count / core_time:>10,.0f} |"
            f" {mb / core_time:>7.0f} | {lib_time:>18.3f} s |"
        )


if __name__ == "__main__":
    main()
