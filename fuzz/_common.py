"""Shared driver for the fuzz targets in this folder.

Each target (``fuzz_<name>.py``) defines ``test_one_input(data: bytes) -> None`` and calls
:func:`main`. Two ways to run one:

* ``python fuzz/fuzz_parser.py [libFuzzer flags] [corpus dirs]``: coverage-guided fuzzing
  with atheris (``scripts/fuzz`` passes the flags and directories);
* ``python fuzz/fuzz_parser.py --corpus-only [files or dirs]``: no atheris needed; runs the
  target once on every file of its seed corpus (``fuzz/corpus/<name>/``) and its saved
  regressions (``fuzz/regressions/<name>/``), or on the paths given, and exits 1 if any
  input fails a check. A deterministic regression check for CI.

The fuzzer's bytes are decoded with a ``FuzzedDataProvider``: atheris's own when fuzzing,
and :class:`Provider` (a re-implementation of the few methods the targets use, with the
same byte semantics) otherwise, so a corpus file means the same input in both modes.
:func:`check_provider` compares the two when atheris is importable.

The library is imported from this checkout's ``src/`` (put first on ``sys.path``), so the
targets test the working tree even from a Python that has not installed the project.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

FUZZ_DIR = Path(__file__).resolve().parent
ROOT = FUZZ_DIR.parent
SRC = ROOT / "src"

if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

CORPUS_ONLY = "--corpus-only" in sys.argv[1:]

try:
    if CORPUS_ONLY and os.environ.get("FUZZ_NO_ATHERIS"):
        raise ImportError("FUZZ_NO_ATHERIS is set")
    import atheris  # type: ignore[import-untyped]
except ImportError:
    atheris = None


def instrumented() -> contextlib.AbstractContextManager[Any]:
    """Wrap the imports of the code under test: with atheris (and not --corpus-only) they
    are instrumented for coverage feedback; otherwise this does nothing."""
    if atheris is not None and not CORPUS_ONLY:
        manager: contextlib.AbstractContextManager[Any]
        manager = atheris.instrument_imports(include=["imapclient"])
        return manager
    return contextlib.nullcontext()


class Provider:
    """The subset of ``atheris.FuzzedDataProvider`` the targets use, byte for byte:

    * ``ConsumeBytes(n)`` takes up to ``n`` bytes from the front;
    * ``ConsumeIntInRange(lo, hi)`` takes whole bytes from the *back* (most significant
      first, as many as ``hi - lo`` needs) and reduces them modulo ``hi - lo + 1``; with
      no bytes left it gives ``lo``;
    * ``remaining_bytes()`` counts what neither end has taken.
    """

    __slots__ = ("_data", "_end", "_start")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._start = 0
        self._end = len(self._data)

    def remaining_bytes(self) -> int:
        return self._end - self._start

    def ConsumeBytes(self, count: int) -> bytes:
        n = max(0, min(count, self._end - self._start))
        out = self._data[self._start : self._start + n]
        self._start += n
        return out

    def ConsumeIntInRange(self, lo: int, hi: int) -> int:
        if hi < lo:
            raise ValueError("ConsumeIntInRange: min must be <= max")
        delta = hi - lo
        if delta.bit_length() > 64:
            raise NotImplementedError("ranges wider than 64 bits are not used here")
        result = 0
        offset = 0
        while offset < delta.bit_length() and (delta >> offset) > 0 and self._end > self._start:
            self._end -= 1
            result = (result << 8) | self._data[self._end]
            offset += 8
        if delta != 2**64 - 1:
            result %= delta + 1
        return lo + result


def provider(data: bytes) -> Any:
    """A FuzzedDataProvider for ``data``: atheris's when fuzzing, :class:`Provider` when
    checking a corpus (identical results; see :func:`check_provider`)."""
    if atheris is not None and not CORPUS_ONLY:
        return atheris.FuzzedDataProvider(data)
    return Provider(data)


def check_provider(rounds: int = 2000) -> None:
    """Assert that :class:`Provider` decodes random inputs exactly as atheris does."""
    if atheris is None:
        return
    rng = random.Random(6)
    for _ in range(rounds):
        data = rng.randbytes(rng.randrange(0, 40))
        ours, theirs = Provider(data), atheris.FuzzedDataProvider(data)
        for _ in range(12):
            a: object
            b: object
            if rng.random() < 0.5:
                n = rng.randrange(0, 8)
                a, b = ours.ConsumeBytes(n), theirs.ConsumeBytes(n)
            else:
                lo = rng.choice((0, 1, -3, 7))
                hi = lo + rng.choice((0, 1, 3, 8, 63, 255, 256, 1023, 4097, 2**20, 2**40))
                a, b = ours.ConsumeIntInRange(lo, hi), theirs.ConsumeIntInRange(lo, hi)
            assert a == b, (data, a, b)
            assert ours.remaining_bytes() == theirs.remaining_bytes(), data


class SeedWriter:
    """Builds a corpus file for a target that reads it through a provider: ``take(b)``
    stands for a ``ConsumeBytes`` that returns ``b``, ``choose(lo, hi, v)`` for a
    ``ConsumeIntInRange(lo, hi)`` that returns ``v``. Calls must come in the order the
    target makes them."""

    def __init__(self) -> None:
        self.front = bytearray()
        self.back: list[int] = []

    def take(self, data: bytes) -> SeedWriter:
        self.front += data
        return self

    def choose(self, lo: int, hi: int, value: int) -> SeedWriter:
        if not lo <= value <= hi:
            raise ValueError(f"{value} is not in [{lo}, {hi}]")
        width = (hi - lo).bit_length()
        nbytes = (width + 7) // 8
        offset = value - lo
        # Consumed from the back, most significant byte first.
        self.back.extend((offset >> (8 * i)) & 0xFF for i in reversed(range(nbytes)))
        return self

    def data(self) -> bytes:
        return bytes(self.front) + bytes(reversed(self.back))


def _inputs(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name[0] != ".")
        elif path.is_file():
            yield path


def run_corpus(name: str, test_one_input: Callable[[bytes], None], args: list[str]) -> int:
    """Run the target on every input file; print failures; return the exit status."""
    check_provider()
    paths = [Path(a) for a in args] or [
        FUZZ_DIR / "corpus" / name,
        FUZZ_DIR / "regressions" / name,
    ]
    passed = failed = 0
    for path in _inputs(paths):
        try:
            test_one_input(path.read_bytes())
        except Exception:
            failed += 1
            print(f"FAIL {path}", file=sys.stderr)
            traceback.print_exc()
        else:
            passed += 1
    if passed + failed == 0:
        print(f"{name}: no corpus files found in {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    print(f"{name}: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main(name: str, test_one_input: Callable[[bytes], None]) -> None:
    """Entry point of a target script (see the module docstring)."""
    argv = sys.argv[1:]
    if CORPUS_ONLY:
        sys.exit(run_corpus(name, test_one_input, [a for a in argv if a != "--corpus-only"]))
    if atheris is None:
        print(
            "atheris is not installed: run scripts/fuzz (which installs it), or pass "
            "--corpus-only to check the corpus without it",
            file=sys.stderr,
        )
        sys.exit(2)
    atheris.Setup([sys.argv[0], *argv], test_one_input)
    atheris.Fuzz()
