"""Lexical pieces shared by the general parser (parser.py) and the compiled FETCH fast
paths (fastfetch.py), so that both read the same grammar."""

from __future__ import annotations

import functools
import re
from datetime import timedelta, timezone

__all__ = ["ATOM_CHARS", "FLAG", "MONTHS", "fixed_zone", "unquote"]

# ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ] ; 8-bit bytes excluded.
ATOM_CHARS = rb"[^\x00-\x20\x7f-\xff(){%*\"\\\]]"

# flag = "\" atom / keyword; flag-perm adds "\*".
FLAG = rb"(?:\\?" + ATOM_CHARS + rb"+|\\\*)"

# date-month of date-time, looked up lower-cased.
MONTHS = {
    name: number
    for number, name in enumerate(b"jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)
}

_QUOTED_ESCAPE = re.compile(rb"\\([\"\\])")


@functools.lru_cache(maxsize=256)
def fixed_zone(offset: bytes) -> timezone:
    """``b'-0700'`` -> the fixed-offset zone (one shared object per offset)."""
    minutes = int(offset[1:3]) * 60 + int(offset[3:5])
    return timezone(timedelta(minutes=-minutes if offset[:1] == b"-" else minutes))


def unquote(content: bytes) -> bytes:
    """The content of a quoted string with its ``\\"`` and ``\\\\`` escapes undone."""
    if b"\\" in content:
        return _QUOTED_ESCAPE.sub(rb"\1", content)
    return content
