"""IMAP modified UTF-7, the mailbox name encoding of RFC 3501 section 5.1.3.

Printable US-ASCII characters (0x20-0x7e) represent themselves, except ``&``
which is written ``&-``.  Every other run of characters is converted to
UTF-16BE, encoded with base64 using ``,`` instead of ``/`` and without ``=``
padding, and wrapped in ``&`` ... ``-``.

Example (from the RFC)::

    >>> encode("~peter/mail/台北/日本語")
    b'~peter/mail/&U,BTFw-/&ZeVnLIqe-'
    >>> decode(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-")
    '~peter/mail/台北/日本語'

Decoding is lenient by default because real servers do return malformed
names, and a folder listing must not fail because of one of them; pass
``strict=True`` to get a :class:`ValueError` instead.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["decode", "encode"]

# A lone "&", or a maximal run of characters that cannot represent themselves.
# Maximal runs guarantee that two base64 sections are never adjacent.
_ENCODE_RE = re.compile("&|[^\x20-\x7e]+")

# "&", optional modified-base64 text, and the closing "-" if there is one.  A
# missing "-" means the shift is unterminated (or contains a foreign
# character such as "=" or "/"), which the replacement function reports.
_DECODE_RE = re.compile(r"&([A-Za-z0-9+,]*)(-?)")

# Characters that may not appear anywhere in strictly valid input.
_NOT_PRINTABLE_RE = re.compile("[^\x20-\x7e]")


def _encode_run(match: re.Match[str]) -> str:
    run = match.group()
    if run == "&":
        return "&-"
    try:
        utf16 = run.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        # Lone surrogates (e.g. from surrogateescape) have no UTF-16 form.
        raise ValueError(f"cannot encode {run!r} as modified UTF-7: {exc.reason}") from None
    b64 = base64.b64encode(utf16).rstrip(b"=").replace(b"/", b",")
    return "&" + b64.decode("ascii") + "-"


def encode(s: str | bytes) -> bytes:
    """Encode a mailbox name to IMAP modified UTF-7.

    A ``str`` is encoded; ``bytes`` are returned unchanged because callers
    that pass bytes have already encoded the name (or deliberately send raw
    bytes, e.g. with UTF8=ACCEPT).  The result only ever contains printable
    US-ASCII (0x20-0x7e), so it never contains CR, LF or NUL.

    Raises:
        TypeError: ``s`` is neither ``str`` nor ``bytes``.
        ValueError: ``s`` contains a lone surrogate code point, which has no
            UTF-16 representation.
    """
    if isinstance(s, bytes):
        return s
    if not isinstance(s, str):
        raise TypeError(f"expected str or bytes, got {type(s).__name__}")
    return _ENCODE_RE.sub(_encode_run, s).encode("ascii")


def _decode_b64_run(b64: str) -> str:
    """Decode the text between ``&`` and ``-``; raise ValueError if malformed."""
    if len(b64) % 4 == 1:
        # No whole byte can be formed from the last sextet.
        raise ValueError("invalid base64 length")
    padded = b64.replace(",", "/") + "=" * (-len(b64) % 4)
    try:
        utf16 = base64.b64decode(padded, validate=True)
    except binascii.Error as exc:  # pragma: no cover - regex admits only base64 chars
        raise ValueError(f"invalid base64: {exc}") from None
    if len(utf16) % 2:
        raise ValueError("odd number of UTF-16 bytes")
    try:
        return utf16.decode("utf-16-be")
    except UnicodeDecodeError:
        raise ValueError("unpaired UTF-16 surrogate") from None


def _decode_run_lenient(match: re.Match[str]) -> str:
    b64, dash = match.groups()
    if not dash:
        # Unterminated shift: keep the "&" and what follows literally.
        return match.group()
    if not b64:
        return "&"
    try:
        return _decode_b64_run(b64)
    except ValueError:
        return match.group()


def _decode_run_strict(match: re.Match[str]) -> str:
    b64, dash = match.groups()
    if not dash:
        raise ValueError(
            f"unterminated or invalid '&' shift at offset {match.start()} in {match.string!r}"
        )
    if not b64:
        return "&"
    try:
        decoded = _decode_b64_run(b64)
        # Printable ASCII inside a shift, or non-zero padding bits, would make
        # two spellings of one name; RFC 3501 allows only the canonical one.
        if _ENCODE_RE.sub(_encode_run, decoded) != match.group():
            raise ValueError("non-canonical encoding")
    except ValueError as exc:
        raise ValueError(
            f"malformed shift {match.group()!r} at offset {match.start()} "
            f"in {match.string!r}: {exc}"
        ) from None
    return decoded


def decode(s: bytes | str, strict: bool = False) -> str:
    """Decode an IMAP modified UTF-7 mailbox name to ``str``.

    A ``str`` is returned unchanged (it is assumed to be decoded already).

    With ``strict=False`` (the default) decoding never fails:

    * a malformed ``&...`` section (bad base64 length, odd UTF-16 length, an
      unpaired surrogate, a character outside the modified base64 alphabet,
      or no closing ``-``) is kept literally, e.g. ``b"&Jjo"`` decodes to
      ``"&Jjo"``;
    * bytes outside US-ASCII, which some servers send as raw UTF-8, are
      decoded as UTF-8, or as latin-1 if the input is not valid UTF-8.

    With ``strict=True`` any of those problems, any byte outside 0x20-0x7e,
    or a non-canonical shift (one that encodes printable ASCII, such as
    ``&AGE-`` for ``"a"``, or has non-zero padding bits) raises
    :class:`ValueError` describing the problem.

    Raises:
        TypeError: ``s`` is neither ``bytes`` nor ``str``.
        ValueError: only with ``strict=True``, for malformed input.
    """
    if isinstance(s, str):
        return s
    if not isinstance(s, bytes):
        raise TypeError(f"expected bytes or str, got {type(s).__name__}")
    if s.isascii():
        text = s.decode("ascii")
    elif strict:
        raise ValueError(f"non-ASCII byte in modified UTF-7 name {s!r}")
    else:
        try:
            text = s.decode("utf-8")
        except UnicodeDecodeError:
            text = s.decode("latin-1")
    if strict:
        bad = _NOT_PRINTABLE_RE.search(text)
        if bad is not None:
            raise ValueError(
                f"non-printable character {bad.group()!r} in modified UTF-7 name {s!r}"
            )
    if "&" not in text:
        return text
    return _DECODE_RE.sub(_decode_run_strict if strict else _decode_run_lenient, text)
