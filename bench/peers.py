"""The benchmark suite against the peers (issue 7): our client, the upstream imapclient
4.1, imaplib, imap-tools and aioimaplib, each against a raw-socket floor.

Run it through ``make bench`` (or ``bash bench/run``), which makes .venv and
.venv-peers first; ``make bench-quick`` (``--quick``) is a 1,000-message smoke run.
bench/README.md says what is measured and how. This file is the orchestrator: it starts a
private Dovecot in a temporary state directory, seeds the mailboxes, runs every
measurement in a fresh process (``bench/runners/*.py``, with the interpreter of the
client's environment; the job goes in on stdin as JSON and the figures come back on
stdout as JSON), interleaving the clients, and prints markdown tables of the medians
with their ratio to the floor. The raw results go to bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RUNNERS = BENCH / "runners"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from mailgen import MIX_10K, MIX_100K, MailFactory, large_message  # noqa: E402

from servers.dovecot import DovecotServer, ensure_installed  # noqa: E402

MB = 1_000_000
OURS_PYTHON = ROOT / ".venv" / "bin" / "python"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"

TASK_TITLES = {
    "search": "UID SEARCH ALL",
    "meta": "FETCH (FLAGS INTERNALDATE RFC822.SIZE)",
    "envelope": "FETCH (ENVELOPE BODYSTRUCTURE)",
    "body": "FETCH BODY.PEEK[]",
    "stream": "stream one large message to a file",
    "idle": "IDLE round trips",
}
BOX_TASKS = ("search", "meta", "envelope", "body")


@dataclass(frozen=True)
class Client:
    key: str
    title: str
    python: Path
    script: str
    extra: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ("search", "meta", "envelope", "body", "stream", "idle")


CLIENTS = [
    Client("floor", "floor: raw socket", OURS_PYTHON, "floor.py"),
    Client("ours", "**imapclient (this), IMAPClient**", OURS_PYTHON, "ours.py"),
    Client("ours-async", "**imapclient (this), AsyncIMAPClient**", OURS_PYTHON, "ours_async.py"),
    Client("ours-iter", "imapclient (this), IMAPClient.iter_fetch", OURS_PYTHON, "ours.py",
           {"iter": True}, ("meta", "body")),
    Client("imapclient-4.1", "imapclient 4.1 (PyPI)", PEERS_PYTHON, "imapclient41.py"),
    Client("imaplib", "imaplib (stdlib, unparsed)", PEERS_PYTHON, "imaplib_runner.py"),
    Client("imap-tools", "imap-tools", PEERS_PYTHON, "imap_tools_runner.py"),
    Client("aioimaplib", "aioimaplib (unparsed lines)", PEERS_PYTHON, "aioimaplib_runner.py"),
    Client("floor-esearch", "floor, ESEARCH form", OURS_PYTHON, "floor.py",
           {"esearch": True}, ("search",)),
]


@dataclass
class Box:
    """A seeded mailbox: who owns it and what a client must hand back from it."""

    key: str
    title: str
    user: str
    password: str
    count: int
    total_bytes: int
    sizes: list[int]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Running one measurement
# --------------------------------------------------------------------------------------


def run_job(client: Client, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One process, one task: the job in on stdin, the result out on stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    payload = json.dumps({**job, **client.extra})
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [str(client.python), str(RUNNERS / client.script)], input=payload, text=True,
            capture_output=True, timeout=timeout, env=env, cwd=str(RUNNERS), check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout: stopped after {timeout:.0f} s", "timeout": True}
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"runner exited {done.returncode}: {done.stderr.strip()[-800:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    result["wall"] = wall
    return result


def check(result: dict[str, Any], task: str, client: Client, expected: dict[str, int]) -> str:
    """Why a result cannot be counted (empty: it can)."""
    if "error" in result or "skipped" in result:
        return ""
    problems = []
    if task in ("search", "meta", "envelope", "body") and "count" in result:
        if result["count"] != expected["count"]:
            problems.append(f"{result['count']} messages, not {expected['count']}")
    elif task in ("meta", "envelope", "body"):
        problems.append("no message count")
    if result.get("unparsed"):
        problems.append(f"{result['unparsed']} items unparsed")
    if task in ("meta", "body") and "bytes" in result and result["bytes"] != expected["bytes"]:
        problems.append(f"{result['bytes']:,} bytes, not {expected['bytes']:,}")
    if task == "stream":
        got, want = result.get("bytes", 0), expected["bytes"]
        if client.key == "floor":
            ok = got >= want
        elif client.key == "imap-tools":  # bytes(msg.obj) re-serialises the message
            ok = abs(got - want) < want * 0.05
        else:
            ok = got == want
        if not ok:
            problems.append(f"wrote {got:,} bytes, the message has {want:,}")
    if task == "idle" and len(result.get("latencies", ())) != expected["rounds"]:
        problems.append(f"{len(result.get('latencies', ()))} round trips, not {expected['rounds']}")
    return "; ".join(problems)


# --------------------------------------------------------------------------------------
# Figures and tables
# --------------------------------------------------------------------------------------


def seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def megabytes(value: float) -> str:
    return f"{value / MB:,.0f} MB" if value >= 10 * MB else f"{value / MB:.1f} MB"


def ratio(value: float, floor: float | None) -> str:
    if not floor:
        return "-"
    r = value / floor
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


class Results:
    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.stopped: dict[tuple[str, str, str], str] = {}

    def add(self, box: str, task: str, client: Client, rep: int, result: dict[str, Any],
            problem: str) -> None:
        self.runs.append({**result, "box": box, "task": task, "client": client.key,
                          "rep": rep, "problem": problem})
        if "error" in result:
            self.stopped[(box, task, client.key)] = result["error"]
        elif "skipped" in result:
            self.stopped[(box, task, client.key)] = "skipped: " + result["skipped"]

    def good(self, box: str, task: str, client: str) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["box"] == box and r["task"] == task
                and r["client"] == client and "seconds" in r and not r["problem"]]

    def median(self, box: str, task: str, client: str, key: str = "seconds") -> float | None:
        values = [r[key] for r in self.good(box, task, client) if key in r]
        return statistics.median(values) if values else None

    def why_missing(self, box: str, task: str, client: str) -> str:
        if (box, task, client) in self.stopped:
            return self.stopped[(box, task, client)]
        bad = [r["problem"] for r in self.runs if r["box"] == box and r["task"] == task
               and r["client"] == client and r["problem"]]
        return "failed the sanity check: " + bad[0] if bad else ""

    def notes(self, box: str, task: str, client: str) -> str:
        for r in self.runs:
            if (r["box"], r["task"], r["client"]) == (box, task, client) and r.get("note"):
                return str(r["note"])
        return ""


class Report:
    """Markdown, printed and kept; footnotes collected per table."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def box_table(report: Report, results: Results, box: Box, clients: list[Client],
              tasks: list[str]) -> None:
    mean = box.total_bytes / box.count
    median = statistics.median(box.sizes)
    small = sum(1 for s in box.sizes if s <= 4096) / box.count
    large = sum(1 for s in box.sizes if s > 65536) / box.count
    report.add(
        f"### {box.title}: {box.count:,} messages, {megabytes(box.total_bytes)}",
        "",
        f"Sizes {min(box.sizes):,} B to {max(box.sizes):,} B, median {median / 1024:.1f} KB, "
        f"mean {mean / 1024:.1f} KB; {small:.0%} at most 4 KB, {large:.0%} over 64 KB. "
        "Each cell: median time (ratio to the floor).",
        "",
    )
    shown = [t for t in tasks if t in BOX_TASKS]
    report.add("| client | " + " | ".join(TASK_TITLES[t] for t in shown) + " |",
               "|---|" + "---|" * len(shown))
    footnotes: list[str] = []
    for client in clients:
        if not any(t in client.tasks for t in shown):
            continue
        cells = []
        for task in shown:
            if task not in client.tasks:
                cells.append("")
                continue
            value = results.median(box.key, task, client.key)
            floor = results.median(box.key, task, "floor")
            n = len(results.good(box.key, task, client.key))
            if value is None:
                why = results.why_missing(box.key, task, client.key) or "not run"
                footnotes.append(f"{client.title}, {TASK_TITLES[task]}: {why}")
                cells.append(f"- [{len(footnotes)}]")
                continue
            cell = f"{seconds(value)} ({ratio(value, floor)})"
            if n < max(1, results_reps(results, box.key)):
                cell += f" n={n}"
            note = results.notes(box.key, task, client.key)
            if note and client.key not in ("floor",) and task != "search":
                if note not in footnotes:
                    footnotes.append(note)
                cell += f" [{footnotes.index(note) + 1}]"
            cells.append(cell)
        report.add(f"| {client.title} | " + " | ".join(cells) + " |")
    if "body" in shown:
        report.add("", f"Full bodies ({megabytes(box.total_bytes)} of messages): throughput "
                   "and memory: peak RSS of the whole process (the interpreter and the "
                   "library take 20-30 MB of it before the task starts), and how much it "
                   "grew during the task; the payload is the sum of the messages' sizes. "
                   "Where the time went (medians): the client's CPU time in user mode and "
                   "in the kernel (receiving, and the page faults of first touching fresh "
                   "memory: the floor touches none), and the rest of the wall time, spent "
                   "waiting for the server.", "",
                   "| client | MB/s | ratio to floor | peak RSS | peak RSS / payload "
                   "| growth during the task / payload | user | kernel | page faults "
                   "| waiting |",
                   "|---|---|---|---|---|---|---|---|---|---|")
        floor = results.median(box.key, "body", "floor")
        for client in clients:
            if "body" not in client.tasks:
                continue
            value = results.median(box.key, "body", client.key)
            if value is None:
                continue
            rss = results.median(box.key, "body", client.key, "peak_rss") or 0
            growth = statistics.median(
                r["peak_rss"] - r["rss_before"] for r in results.good(box.key, "body", client.key)
            )
            report.add(
                f"| {client.title} | {box.total_bytes / MB / value:,.0f} | "
                f"{ratio(value, floor)} | {megabytes(rss)} | {rss / box.total_bytes:.2f} | "
                f"{max(0, growth) / box.total_bytes:.2f} | "
                + cpu_cells(results.good(box.key, "body", client.key)) + " |"
            )
    if footnotes:
        report.add("")
        report.add(*(f"[{i}] {text}  " for i, text in enumerate(footnotes, 1)))
    report.add("")


def cpu_cells(runs: list[dict[str, Any]]) -> str:
    """user | kernel | page faults | waiting, medians over runs (a runner that predates
    the CPU figures gives dashes)."""
    runs = [r for r in runs if "user" in r]
    if not runs:
        return "- | - | - | -"
    user = statistics.median(r["user"] for r in runs)
    kernel = statistics.median(r["system"] for r in runs)
    faults = statistics.median(r["faults"] for r in runs)
    waiting = statistics.median(max(0.0, r["seconds"] - r["user"] - r["system"]) for r in runs)
    return f"{seconds(user)} | {seconds(kernel)} | {faults:,.0f} | {seconds(waiting)}"


def too_slow(results: Results, previous: Box | None, box: Box, task: str, client: Client,
             timeout: float) -> str:
    """Why a client is not run on a larger box: it was stopped on the previous (smaller)
    one, or its time there, scaled by the number of messages, already exceeds the limit."""
    if previous is None:
        return ""
    stopped = results.stopped.get((previous.key, task, client.key))
    if stopped:
        return f"not run: on the {previous.title} it failed ({stopped})"
    before = results.median(previous.key, task, client.key)
    if before is None:
        return ""
    scale = box.count / previous.count
    if before * scale > timeout:
        return (f"not run: {seconds(before)} on the {previous.title}, so at least "
                f"{before * scale:.0f} s here (linear scaling), over the {timeout:.0f} s limit")
    return ""


#: The issue's targets for our client, as ratios to the floor.
TIME_TARGETS = {"meta": 2.0, "envelope": 6.0, "body": 1.2}
BODY_RSS_TARGET = 1.5  # peak RSS / payload
STREAM_RSS_TARGET = 64 * 2**20


def misses_target(results: Results, box: Box, task: str, client: str) -> bool:
    value = results.median(box.key, task, client)
    floor = results.median(box.key, task, "floor")
    return bool(value and floor and value / floor > TIME_TARGETS[task])


def targets_table(report: Report, results: Results, boxes: list[Box], stream_bytes: int) -> None:
    report.add("### Our client against the issue's targets", "",
               "| box | what | target | IMAPClient | AsyncIMAPClient |", "|---|---|---|---|---|")

    def verdict(value: float | None, limit: float, text: str) -> str:
        if value is None:
            return "-"
        return f"{text} {'met' if value <= limit else '**missed**'}"

    for box in boxes:
        for task, limit in TIME_TARGETS.items():
            floor = results.median(box.key, task, "floor")
            cells = []
            for client in ("ours", "ours-async"):
                value = results.median(box.key, task, client)
                r = value / floor if value and floor else None
                cells.append(verdict(r, limit, f"{r:.2f}x" if r else ""))
            report.add(f"| {box.count:,} | {TASK_TITLES[task]} time | within {limit:g}x "
                       f"of the floor | {cells[0]} | {cells[1]} |")
        cells = []
        for client in ("ours", "ours-async"):
            rss = results.median(box.key, "body", client, "peak_rss")
            r = rss / box.total_bytes if rss else None
            runs = results.good(box.key, "body", client)
            growth = statistics.median(x["peak_rss"] - x["rss_before"] for x in runs) if runs else 0
            text = f"{r:.2f}x (grew {growth / box.total_bytes:.2f}x)" if r else ""
            cells.append(verdict(r, BODY_RSS_TARGET, text))
        report.add(f"| {box.count:,} | {TASK_TITLES['body']} peak RSS | at most "
                   f"{BODY_RSS_TARGET:g}x the payload | {cells[0]} | {cells[1]} |")
    if stream_bytes:
        cells = []
        for client in ("ours", "ours-async"):
            rss = results.median("stream", "stream", client, "peak_rss")
            cells.append(verdict(rss, STREAM_RSS_TARGET, megabytes(rss) if rss else ""))
        report.add(f"| - | streaming {stream_bytes / 2**20:.0f} MiB, peak RSS | under 64 MiB "
                   f"| {cells[0]} | {cells[1]} |")
    report.add("")


def results_reps(results: Results, box: str) -> int:
    reps = [r["rep"] for r in results.runs if r["box"] == box]
    return max(reps) + 1 if reps else 0


def stream_table(report: Report, results: Results, size: int, clients: list[Client]) -> None:
    report.add(f"### Streaming one {size / 2**20:.0f} MiB message to a file", "",
               "Median time (ratio to the floor), throughput, and peak RSS of the process.",
               "",
               "| client | time | MB/s | peak RSS | how |", "|---|---|---|---|---|")
    floor = results.median("stream", "stream", "floor")
    for client in clients:
        if "stream" not in client.tasks:
            continue
        value = results.median("stream", "stream", client.key)
        if value is None:
            why = results.why_missing("stream", "stream", client.key) or "not run"
            report.add(f"| {client.title} | - | | | {why} |")
            continue
        rss = results.median("stream", "stream", client.key, "peak_rss") or 0
        how = results.notes("stream", "stream", client.key)
        report.add(f"| {client.title} | {seconds(value)} ({ratio(value, floor)}) | "
                   f"{size / MB / value:,.0f} | {megabytes(rss)} | {how} |")
    report.add("")


def idle_table(report: Report, results: Results, rounds: int, clients: list[Client]) -> None:
    report.add(
        f"### IDLE: {rounds} round trips", "",
        "Latency from an APPEND sent by a second connection (a raw socket, the same for "
        "every client) to the watching client handing back the EXISTS. Dovecot waits "
        "about 0.5 s after a change before it notifies IDLE sessions, so every figure "
        "includes that; the column 'over floor' is what the client adds.", "",
        "| client | median | p95 | ratio to floor (median) | over floor (median) |",
        "|---|---|---|---|---|",
    )
    floor_runs = results.good("idle", "idle", "floor")
    floor = statistics.median(floor_runs[0]["latencies"]) if floor_runs else None
    for client in clients:
        if "idle" not in client.tasks:
            continue
        runs = results.good("idle", "idle", client.key)
        if not runs:
            why = results.why_missing("idle", "idle", client.key) or "not run"
            report.add(f"| {client.title} | - | - | - | {why} |")
            continue
        latencies = sorted(x for r in runs for x in r["latencies"])
        med = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        over = f"{(med - floor) * 1000:+.2f} ms" if floor else "-"
        report.add(f"| {client.title} | {med * 1000:.1f} ms | {p95 * 1000:.1f} ms | "
                   f"{ratio(med, floor)} | {over} |")
    report.add("")


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def seed_box(server: DovecotServer, key: str, title: str, count: int,
             mix: Any) -> Box:
    account = server.new_account(key)
    factory = MailFactory(mix, seed=count)
    sizes: list[int] = []
    start = time.perf_counter()
    for batch in factory.messages(count):
        account.seed(batch)
        sizes.extend(len(raw) for raw, _ in batch)
    log(f"seeded {title}: {count:,} messages, {sum(sizes) / MB:.0f} MB in "
        f"{time.perf_counter() - start:.1f} s")
    return Box(key, title, account.username, account.password, count, sum(sizes), sizes)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="The benchmark suite against the peers (bench/README.md).")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a 1,000-message box, 3 repetitions, a 20 MB "
                             "message to stream, 10 IDLE round trips")
    parser.add_argument("--reps", type=int, help="repetitions (default 9; quick 3)")
    parser.add_argument("--reps-large", type=int,
                        help="repetitions on the 100,000-message box (default 3)")
    parser.add_argument("--boxes", help="comma-separated message counts "
                                        "(default 10000,100000; quick 1000)")
    parser.add_argument("--clients", help="comma-separated client keys (default: all): "
                        + ", ".join(c.key for c in CLIENTS))
    parser.add_argument("--tasks", help="comma-separated tasks (default: all): "
                        + ", ".join(TASK_TITLES))
    parser.add_argument("--stream-mb", type=int, help="size of the streamed message in MiB "
                                                      "(default 200; quick 20)")
    parser.add_argument("--idle-rounds", type=int, help="IDLE round trips (default 100; "
                                                        "quick 10)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds one measurement may take before it is stopped and "
                             "that client is not run again on that task (default 60)")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds of measured time per client, task and box after which "
                             "no more repetitions are run for it (default 30; at least one "
                             "run is always made)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile run of our client")
    parser.add_argument("--profile-task", choices=BOX_TASKS,
                        help="profile only this task (default: every task on which our "
                             "client misses its target on the largest box, and "
                             "ENVELOPE+BODYSTRUCTURE), on the first box")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    options = parser.parse_args()

    quick = options.quick
    reps = options.reps or (3 if quick else 9)
    reps_large = options.reps_large or min(reps, 3)
    counts = [int(c) for c in (options.boxes or ("1000" if quick else "10000,100000")).split(",")]
    stream_size = (options.stream_mb or (20 if quick else 200)) * 1024 * 1024
    rounds = options.idle_rounds or (10 if quick else 100)
    timeout = options.timeout
    wanted = options.clients.split(",") if options.clients else [c.key for c in CLIENTS]
    clients = [c for c in CLIENTS if c.key in wanted]
    if "floor" not in wanted:
        clients.insert(0, CLIENTS[0])
    tasks = options.tasks.split(",") if options.tasks else list(TASK_TITLES)
    for path in (OURS_PYTHON, PEERS_PYTHON):
        if not path.exists():
            log(f"missing {path}: run `make bench` (bench/run makes both environments)")
            return 2

    versions = {
        "ours": subprocess.run([str(OURS_PYTHON), "-c", "import sys; print(sys.version)"],
                               capture_output=True, text=True).stdout.strip(),
        "peers": subprocess.run([str(PEERS_PYTHON), "-c", "import sys; print(sys.version)"],
                                capture_output=True, text=True).stdout.strip(),
    }
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0))
    began = time.perf_counter()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = Results()
    report = Report()

    ensure_installed()
    state = Path(tempfile.mkdtemp(prefix="imapclient-bench-"))
    sink_dir = Path(tempfile.mkdtemp(prefix="imapclient-bench-sink-"))
    server = DovecotServer(state)
    server.start()
    try:
        log(f"Dovecot on 127.0.0.1:{server.port}, state in {state}")
        boxes = []
        for count in counts:
            mix = MIX_10K if count <= 10_000 else MIX_100K
            title = f"{count:,}-message box"
            if any(t in tasks for t in BOX_TASKS):
                boxes.append(seed_box(server, f"box{count}", title, count, mix))
        stream_account = idle_account = None
        stream_bytes = 0
        if "stream" in tasks:
            stream_account = server.new_account("stream")
            big = large_message(stream_size)
            stream_bytes = len(big)
            stream_account.seed([big])
            del big
        if "idle" in tasks:
            idle_account = server.new_account("idle")
            idle_account.seed([b"Subject: first\r\n\r\nfirst\r\n"])

        def job(task: str, user: str, password: str, **extra: Any) -> dict[str, Any]:
            return {"task": task, "host": server.host, "port": server.port, "user": user,
                    "password": password, "folder": "INBOX", **extra}

        floor = CLIENTS[0]
        # Warm-up: Dovecot builds its index and caches (ENVELOPE, BODYSTRUCTURE) on first
        # use, and the kernel caches the files. Not counted.
        for box in boxes:
            for task in [t for t in BOX_TASKS if t in tasks]:
                for _ in range(2 if task == "envelope" else 1):
                    run_job(floor, job(task, box.user, box.password), 600)
            log(f"warmed up {box.title}")

        previous: Box | None = None
        for box in boxes:
            box_reps = reps if box.count <= 10_000 else reps_large
            expected = {"count": box.count, "bytes": box.total_bytes}
            for task in [t for t in BOX_TASKS if t in tasks]:
                for client in [c for c in clients if task in c.tasks]:
                    why = too_slow(results, previous, box, task, client, timeout)
                    if why:
                        results.stopped[(box.key, task, client.key)] = why
            for rep in range(box_reps):
                for task in [t for t in BOX_TASKS if t in tasks]:
                    runnable = [c for c in clients if task in c.tasks]
                    shift = rep % len(runnable)  # interleaved, in a rotating order
                    for client in runnable[shift:] + runnable[:shift]:
                        if (box.key, task, client.key) in results.stopped:
                            continue
                        spent = sum(r["seconds"] for r in results.good(box.key, task, client.key))
                        if spent > options.budget:
                            continue  # slow enough that fewer runs tell the same
                        result = run_job(client, job(task, box.user, box.password), timeout)
                        problem = check(result, task, client, expected)
                        results.add(box.key, task, client, rep, result, problem)
                        shown = (result.get("error") or result.get("skipped") or
                                 f"{result['seconds']:.3f} s")
                        log(f"{box.title} rep {rep + 1}/{box_reps} {task:<8} {client.key:<15}"
                            f" {shown}{'  CHECK FAILED: ' + problem if problem else ''}")
            previous = box

        if stream_account is not None:
            runnable = [c for c in clients if "stream" in c.tasks]
            expected = {"bytes": stream_bytes}
            for rep in range(reps):
                shift = rep % len(runnable)
                for client in runnable[shift:] + runnable[:shift]:
                    if ("stream", "stream", client.key) in results.stopped:
                        continue
                    if sum(r["seconds"] for r in results.good("stream", "stream", client.key)
                           ) > options.budget:
                        continue
                    sink = sink_dir / f"{client.key}.eml"
                    result = run_job(client, job("stream", stream_account.username,
                                                 stream_account.password, uid=1,
                                                 sink=str(sink)), timeout)
                    sink.unlink(missing_ok=True)
                    problem = check(result, "stream", client, expected)
                    results.add("stream", "stream", client, rep, result, problem)
                    shown = result.get("error") or f"{result.get('seconds', 0):.3f} s"
                    log(f"stream rep {rep + 1}/{reps} {client.key:<15} {shown} peak RSS "
                        f"{result.get('peak_rss', 0) / MB:.0f} MB"
                        f"{'  CHECK FAILED: ' + problem if problem else ''}")

        if idle_account is not None:
            for client in [c for c in clients if "idle" in c.tasks]:
                result = run_job(client, job("idle", idle_account.username,
                                             idle_account.password, rounds=rounds),
                                 max(timeout, rounds * 3.0))
                problem = check(result, "idle", client, {"rounds": rounds})
                results.add("idle", "idle", client, 0, result, problem)
                lat = sorted(result.get("latencies") or [0])
                log(f"idle {client.key:<15} "
                    f"{result.get('error') or result.get('skipped') or ''}"
                    f" median {statistics.median(lat) * 1000:.1f} ms")

        # The report.
        report.add(
            "## Benchmarks against the peers", "",
            f"{dt.datetime.now():%Y-%m-%d %H:%M}, {'quick run' if quick else 'full run'}; "
            f"{cores} cores ({usable} usable) - {platform.processor() or platform.machine()}, "
            f"{platform.system()} {platform.release()}; Python {versions['ours'].split()[0]} "
            f"(both environments: ours `{versions['ours']}`). Server: Dovecot "
            f"{dovecot_version()} on 127.0.0.1, plain IMAP (no TLS), same machine. "
            f"Medians of {reps} runs ({reps_large} on boxes over 10,000 messages), each in "
            "a fresh process, clients interleaved. Time is the task alone (connected, "
            "logged in and the folder selected before the clock starts).", "",
        )
        for box in boxes:
            box_table(report, results, box, clients, tasks)
        if stream_account is not None:
            stream_table(report, results, stream_size, clients)
        if idle_account is not None:
            idle_table(report, results, rounds, clients)

        if boxes or stream_account is not None:
            targets_table(report, results, boxes, stream_bytes)

        # Profiles of our blocking client: every box task that misses its target on the
        # largest box (profiled on the first box, which is quicker), and always the
        # ENVELOPE+BODYSTRUCTURE path (the issue asks for that one).
        profiles: dict[str, str] = {}
        if not options.no_profile and boxes:
            if options.profile_task:
                chosen = [options.profile_task]
            else:
                chosen = [task for task in ("meta", "envelope", "body") if task in tasks
                          and misses_target(results, boxes[-1], task, "ours")]
                if "envelope" in tasks and "envelope" not in chosen:
                    chosen.append("envelope")
            ours = next(c for c in CLIENTS if c.key == "ours")
            box = boxes[0]
            for task in chosen:
                result = run_job(ours, job(task, box.user, box.password, profile=True), 600)
                name = f"{box.title}, {TASK_TITLES[task]}"
                profiles[name] = result.get("profile") or result.get("error", "")
                report.add(f"### Profile of our IMAPClient: {name}", "",
                           "cProfile, top 15 functions by own time (tottime); the "
                           f"profiled run took {result.get('seconds', 0):.2f} s (profiling "
                           "slows it down).", "", "```", profiles[name].rstrip(), "```", "")

        elapsed = time.perf_counter() - began
        report.add(f"Whole run (seeding included): {elapsed / 60:.1f} minutes.")
        text = report.text()
        print(text)
        options.results.mkdir(parents=True, exist_ok=True)
        name = f"peers-{'quick-' if quick else ''}{stamp}"
        (options.results / f"{name}.md").write_text(text)
        raw = {
            "when": stamp, "quick": quick, "cores": cores, "usable_cores": usable,
            "python": versions, "dovecot": dovecot_version(), "reps": reps,
            "reps_large": reps_large, "timeout": timeout, "idle_rounds": rounds,
            "stream_size": stream_size,
            "boxes": [{"key": b.key, "count": b.count, "total_bytes": b.total_bytes,
                       "sizes": b.sizes} for b in boxes],
            "runs": results.runs, "profiles": profiles, "elapsed": elapsed,
        }
        (options.results / f"{name}.json").write_text(json.dumps(raw, indent=1))
        log(f"wrote {options.results / name}.md and .json")
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(sink_dir, ignore_errors=True)
    return 0


def dovecot_version() -> str:
    try:
        return subprocess.run(["dovecot", "--version"], capture_output=True, text=True,
                              env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}).stdout.split()[0]
    except (OSError, IndexError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
