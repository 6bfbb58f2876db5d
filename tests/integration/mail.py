"""Building raw test messages byte for byte (CRLF line ends), so that tests know their
exact sizes, headers and bodies."""

from __future__ import annotations

import base64
from collections.abc import Sequence

CRLF = "\r\n"


def encoded_word(text: str) -> str:
    """``text`` as an RFC 2047 encoded word (UTF-8, base64) for a header."""
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def message(
    subject: str,
    body: str = "Hello.\r\n",
    *,
    sender: str = "Bob Martin <bob@example.com>",
    to: str | None = "Alice <alice@example.org>",
    cc: str | None = None,
    date: str = "Mon, 04 Mar 2024 09:12:00 +0100",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A single-part text/plain message. Non-ASCII in ``subject`` is sent as an encoded
    word; non-ASCII in ``body`` as 8bit UTF-8."""
    if not subject.isascii():
        subject = encoded_word(subject)
    lines = [f"From: {sender}"]
    if to is not None:
        lines.append(f"To: {to}")
    if cc is not None:
        lines.append(f"Cc: {cc}")
    lines += [f"Subject: {subject}", f"Date: {date}"]
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    if in_reply_to is not None:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append("References: " + " ".join(references))
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: " + ("7bit" if body.isascii() else "8bit"),
    ]
    return (CRLF.join(lines) + CRLF + CRLF + body).encode("utf-8")


def split(raw: bytes) -> tuple[bytes, bytes]:
    """A message's header (with the blank line that ends it) and its body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", body


def base64_lines(data: bytes) -> str:
    """``data`` base64-encoded in lines of 76 characters, each ending in CRLF."""
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i : i + 76] + CRLF for i in range(0, len(text), 76))


BOUNDARY = "=-=-=boundary-4f2a-=-=-="


def multipart_message(
    subject: str,
    text: str,
    attachment: bytes,
    *,
    date: str = "Tue, 05 Mar 2024 14:30:00 +0000",
    filename: str = "data.bin",
) -> bytes:
    """multipart/mixed with two base64 parts: part 1 text/plain (UTF-8 ``text``),
    part 2 application/octet-stream (``attachment``)."""
    parts = [
        "From: Carol Diaz <carol@example.net>",
        "To: Alice <alice@example.org>",
        f"Subject: {subject}",
        f"Date: {date}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"',
        "",
        "This is a multi-part message in MIME format.",
        f"--{BOUNDARY}",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        base64_lines(text.encode("utf-8")) + f"--{BOUNDARY}",
        "Content-Type: application/octet-stream",
        f'Content-Disposition: attachment; filename="{filename}"',
        "Content-Transfer-Encoding: base64",
        "",
        base64_lines(attachment) + f"--{BOUNDARY}--",
        "",
    ]
    return CRLF.join(parts).encode("ascii")
