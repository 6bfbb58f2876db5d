# ruff: noqa: RUF001 - the non-ASCII names and subjects are the point
"""Realistic synthetic mail for the peer benchmarks (``bench/peers.py``).

Deterministic (a seeded ``random.Random``) and fast: the pieces that are costly to make
(RFC 2047 encoded words, quoted-printable text, base64 attachment data) are made once
into pools, and each message is assembled from them with byte formatting, so that
100,000 messages take seconds, not minutes. Only the standard library is used.

What a message looks like:

* headers as real mail has them: Return-Path, two or three Received, a DKIM-Signature
  (half of the messages), From, To (one to three), Cc (a fifth), Subject, Date,
  Message-ID, In-Reply-To and References (a quarter), MIME-Version, Content-Type,
  X-Mailer or User-Agent, List-Id and List-Unsubscribe (newsletters). About a third of
  the display names and subjects are non-ASCII, sent as RFC 2047 encoded words (UTF-8
  and ISO-8859-1, B and Q encodings);
* a structure drawn from: text/plain (US-ASCII 7bit or UTF-8 quoted-printable);
  multipart/alternative (plain + HTML); multipart/mixed with one to three attachments
  (PDF, JPEG, ZIP, DOCX, some with RFC 2231 non-ASCII file names); multipart/mixed
  holding a forwarded message/rfc822; multipart/related (HTML with an inline image);
* a size drawn from a mix of size bands (see ``MIX_10K`` and ``MIX_100K``); the large
  ones get their bulk from attachments, as real mail does;
* flags: most messages \\Seen, some \\Answered, \\Flagged, $Forwarded.

All line ends are CRLF, so RFC822.SIZE equals the length of the bytes.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.header import Header
from urllib.parse import quote

KB = 1024

#: (weight, smallest, largest) size bands: the 10,000-message box. Mean about 19 KB.
MIX_10K: tuple[tuple[float, int, int], ...] = (
    (0.55, 1 * KB, 4 * KB),
    (0.25, 4 * KB, 16 * KB),
    (0.12, 16 * KB, 64 * KB),
    (0.08, 64 * KB, 200 * KB),
)

#: The 100,000-message box: the same kinds of message, smaller (mean about 2.7 KB), to
#: keep seeding and the full-body task within the time budget.
MIX_100K: tuple[tuple[float, int, int], ...] = (
    (0.70, 1 * KB, 2 * KB),
    (0.25, 2 * KB, 6 * KB),
    (0.05, 6 * KB, 24 * KB),
)

FIRST_NAMES = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
    "Zoë", "José", "Jürgen", "Søren", "Åsa", "Łukasz", "François", "Ольга", "Дмитрий",
    "Αλέξανδρος", "Müller", "Renée", "Çağla", "Ñuño", "陽翔", "さくら", "Þórunn",
]
LAST_NAMES = [
    "Smith", "Jones", "Martin", "Diaz", "Lee", "Walsh", "Nguyen", "Kowalski", "Rossi",
    "García", "Müller", "Dvořák", "Østergaard", "Lefèvre", "Иванова", "Παπαδόπουλος",
    "Yılmaz", "Ångström", "O'Brien", "van der Berg", "Schäfer", "Nowak", "田中",
]
DOMAINS = [
    "example.com", "example.org", "example.net", "mail.example.de", "post.example.fr",
    "lists.example.org", "corp.example.co.uk", "university.example.edu", "shop.example",
    "news.example", "github.example", "bank.example.ch",
]
SUBJECTS = [
    "Lunch on Friday?", "Quarterly report draft", "[project] Build failed on main",
    "Meeting moved to 3pm", "Your order has shipped", "Invoice 2024-0381",
    "Re: Conference talk", "Weekly digest: 40 new articles", "Password expiry notice",
    "Fwd: Holiday photos", "Minutes of the board meeting", "Pull request #4711 merged",
    "Your statement is ready", "Re: Re: budget for Q3", "Team offsite agenda",
    "Réunion à Paris — café ☕", "Überweisung für März", "Привет из Москвы",
    "会議の議事録 (第3回)", "Ελληνικά νέα της εβδομάδας", "Zażółć gęślą jaźń",
    "Angebot für Ihre Anfrage – Nr. 4471", "¿Quedamos el sábado?", "🎉 Party on Saturday!",
    "Ärger mit der Heizung", "Søknad om permisjon", "Tervetuloa! Välkommen!",
]
SENTENCES_ASCII = [
    "Thanks for the quick reply, that works for me.",
    "Please find the figures for the third quarter below.",
    "The build on main failed after the last merge; see the log for details.",
    "Could we move the meeting to Thursday afternoon instead?",
    "I have attached the signed contract and the updated schedule.",
    "Let me know if anything is unclear or if you need more information.",
    "The release notes mention two breaking changes in the configuration format.",
    "We are happy to confirm your reservation for two nights.",
    "Your package is on its way and should arrive within three working days.",
    "As discussed on the phone, here is a summary of the open points.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
    "The server will be down for maintenance on Sunday between 02:00 and 04:00 UTC.",
]
SENTENCES_UTF8 = [
    "Merci beaucoup pour votre réponse rapide, à bientôt !",
    "Die Zahlen für das dritte Quartal finden Sie unten; schöne Grüße aus München.",
    "Спасибо за быстрый ответ, это мне подходит.",
    "会議は木曜日の午後に変更できますか？",
    "Η συνάντηση μεταφέρθηκε για την Πέμπτη.",
    "¿Podemos vernos el sábado por la mañana? Saludos desde Sevilla.",
    "Dziękuję za szybką odpowiedź, pozdrawiam serdecznie.",
    "Tack för igår — vi ses på fredag! ☕",
    "Zaključak sastanka je u prilogu. Čestitke timu!",
]
ATTACHMENTS = [
    ("application", "pdf", "report-q3.pdf"),
    ("application", "pdf", "Rechnung_März_2024.pdf"),
    ("image", "jpeg", "IMG_2041.jpg"),
    ("image", "png", "screenshot.png"),
    ("application", "zip", "logs.zip"),
    ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document",
     "Angebot_Müller.docx"),
    ("application", "vnd.ms-excel", "budget-2024.xls"),
    ("application", "octet-stream", "données.bin"),
]
MAILERS = [
    "X-Mailer: Apple Mail (2.3731.700.6)",
    "User-Agent: Mozilla Thunderbird 115.6.0",
    "X-Mailer: Microsoft Outlook 16.0",
    "User-Agent: Mutt/2.2.12 (2023-09-09)",
    "X-Mailer: PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ZONES = ["+0000", "+0100", "+0200", "-0500", "-0800", "+0900", "+0530", "-0300"]


def encode_word(text: str, rng: random.Random) -> str:
    """``text`` as a header value: plain when ASCII, else RFC 2047 encoded words
    (UTF-8, or ISO-8859-1 where it fits; the email package picks B or Q)."""
    if text.isascii():
        return text
    charset = "utf-8"
    if rng.random() < 0.3:
        try:
            text.encode("iso-8859-1")
            charset = "iso-8859-1"
        except UnicodeEncodeError:
            pass
    return Header(text, charset).encode(maxlinelen=76, linesep="\r\n")


def _qp(text: str) -> bytes:
    """UTF-8 quoted-printable, CRLF line ends, soft breaks at 76 characters."""
    out = []
    for raw_line in text.split("\n"):
        encoded = "".join(
            chr(b) if (33 <= b <= 126 and b != 61) or b == 32 else f"={b:02X}"
            for b in raw_line.encode("utf-8")
        )
        while len(encoded) > 75:
            cut = 75
            while encoded[cut - 1] == "=" or encoded[cut - 2] == "=":  # never split an escape
                cut -= 1
            out.append(encoded[:cut] + "=")
            encoded = encoded[cut:]
        if encoded.endswith(" "):
            encoded = encoded[:-1] + "=20"
        out.append(encoded)
    return ("\r\n".join(out) + "\r\n").encode("ascii")


@dataclass
class Pools:
    """Material made once and reused: names, subjects, text blocks, base64 lines."""

    addresses: list[str]
    subjects: list[str]
    text_ascii: list[bytes]
    text_utf8: list[bytes]
    html_ascii: list[bytes]
    html_utf8: list[bytes]
    b64_lines: list[bytes]
    dkim: list[bytes]


def make_pools(rng: random.Random) -> Pools:
    addresses = []
    for _ in range(400):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".encode("ascii", "ignore").decode().lower().strip(".")
        local = (local or "user").replace(" ", "").replace("'", "") + str(rng.randrange(100))
        address = f"{local}@{rng.choice(DOMAINS)}"
        name = f"{first} {last}"
        if name.isascii():
            shown = f'"{name}"' if "'" in name else name
        else:
            shown = encode_word(name, rng)
        addresses.append(f"{shown} <{address}>")
    subjects = []
    for _ in range(600):
        subject = rng.choice(SUBJECTS)
        if rng.random() < 0.3:
            subject = rng.choice(["Re: ", "RE: ", "Fwd: ", "AW: ", "TR: "]) + subject
        if rng.random() < 0.3:
            subject += f" #{rng.randrange(10000)}"
        subjects.append(encode_word(subject, rng))

    def paragraphs(sentences: list[str], count: int) -> list[str]:
        blocks = []
        for _ in range(count):
            words = " ".join(rng.choice(sentences) for _ in range(rng.randrange(4, 12)))
            lines, line = [], ""
            for word in words.split(" "):  # wrap at 72 like mail clients do
                if len(line) + len(word) + 1 > 72:
                    lines.append(line)
                    line = word
                else:
                    line = f"{line} {word}" if line else word
            lines.append(line)
            blocks.append("\n".join(lines) + "\n\n")
        return blocks

    plain_ascii = paragraphs(SENTENCES_ASCII, 60)
    plain_utf8 = paragraphs(SENTENCES_UTF8 + SENTENCES_ASCII, 60)
    text_ascii = [block.replace("\n", "\r\n").encode("ascii") for block in plain_ascii]
    text_utf8 = [_qp(block) for block in plain_utf8]
    html_ascii = [
        ("<p>" + block.strip().replace("\n", "<br>\r\n") + "</p>\r\n").encode("ascii")
        for block in plain_ascii
    ]
    html_utf8 = [_qp("<p>" + block.strip().replace("\n", "<br>\n") + "</p>\n")
                 for block in plain_utf8]
    data = base64.b64encode(rng.randbytes(3 * 1024 * 1024))
    b64_lines = [data[i : i + 76] + b"\r\n" for i in range(0, len(data), 76)]
    dkim = []
    for _ in range(50):
        signature = base64.b64encode(rng.randbytes(256)).decode()
        body_hash = base64.b64encode(rng.randbytes(32)).decode()
        folded = "\r\n\t ".join(signature[i : i + 70] for i in range(0, len(signature), 70))
        dkim.append(
            (
                f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={rng.choice(DOMAINS)};"
                f"\r\n\ts=selector{rng.randrange(3)}; t={1700000000 + rng.randrange(10**7)};"
                f"\r\n\th=from:to:subject:date:message-id:mime-version:content-type;"
                f"\r\n\tbh={body_hash};\r\n\tb={folded}\r\n"
            ).encode("ascii")
        )
    return Pools(addresses, subjects, text_ascii, text_utf8, html_ascii, html_utf8,
                 b64_lines, dkim)


class MailFactory:
    """Makes message n of a mailbox: ``factory.message(n)`` -> (bytes, flags)."""

    def __init__(self, mix: Sequence[tuple[float, int, int]], seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.pools = make_pools(self.rng)
        self.mix = mix
        self.weights = [band[0] for band in mix]

    # -- pieces ----------------------------------------------------------------------

    def _size(self) -> int:
        _, low, high = self.rng.choices(self.mix, self.weights)[0]
        return int(low * (high / low) ** self.rng.random())  # log-uniform in the band

    def _date(self, n: int) -> str:
        # Two years of mail in UID order, a few minutes apart, with varied time zones.
        rng = self.rng
        day = min(729, n * 730 // max(self.total, 1))
        year, day_of_year = 2023 + day // 365, day % 365
        month = min(11, day_of_year // 31)
        mday = day_of_year % 28 + 1
        weekday = DAYS[(day + 6) % 7]
        return (f"{weekday}, {mday:02d} {MONTHS[month]} {year} {rng.randrange(24):02d}:"
                f"{rng.randrange(60):02d}:{rng.randrange(60):02d} {rng.choice(ZONES)}")

    def _text(self, size: int, utf8: bool, html: bool = False) -> tuple[bytes, bytes]:
        """(part headers, body) of a text part of about ``size`` bytes."""
        pools = self.pools
        pool = (pools.html_utf8 if utf8 else pools.html_ascii) if html else (
            pools.text_utf8 if utf8 else pools.text_ascii)
        chunks, total = [], 0
        if html:
            chunks.append(b"<html><head><meta charset=\"utf-8\"></head><body>\r\n")
            total += len(chunks[0])
        while total < size or not chunks:
            block = self.rng.choice(pool)
            if total + len(block) > size + 100:  # cut the last block at a line end
                cut = block.rfind(b"\r\n", 0, max(2, size - total))
                if cut > 0:
                    block = block[: cut + 2]
            chunks.append(block)
            total += len(block)
        if html:
            chunks.append(b"</body></html>\r\n")
        kind = b"html" if html else b"plain"
        if utf8:
            head = (b"Content-Type: text/" + kind + b"; charset=\"utf-8\"\r\n"
                    b"Content-Transfer-Encoding: quoted-printable\r\n")
        else:
            head = (b"Content-Type: text/" + kind + b"; charset=\"us-ascii\"\r\n"
                    b"Content-Transfer-Encoding: 7bit\r\n")
        return head, b"".join(chunks)

    def _attachment(self, size: int) -> tuple[bytes, bytes]:
        rng = self.rng
        major, minor, filename = rng.choice(ATTACHMENTS)
        lines = self.pools.b64_lines
        count = max(1, size // 78)
        start = rng.randrange(len(lines) - count)
        body = b"".join(lines[start : start + count])
        if filename.isascii():
            name_param = f'name="{filename}"'
            disposition = f'attachment; filename="{filename}"'
        else:  # RFC 2231 for the file name, RFC 2047 for the older name parameter
            name_param = f'name="{Header(filename, "utf-8").encode()}"'
            disposition = f"attachment;\r\n filename*=utf-8''{quote(filename)}"
        head = (f"Content-Type: {major}/{minor};\r\n {name_param}\r\n"
                f"Content-Disposition: {disposition}\r\n"
                f"Content-Transfer-Encoding: base64\r\n").encode("ascii")
        return head, body

    @staticmethod
    def _multipart(subtype: bytes, boundary: bytes, parts: list[tuple[bytes, bytes]],
                   extra: bytes = b"") -> tuple[bytes, bytes]:
        head = (b"Content-Type: multipart/" + subtype + b";\r\n boundary=\"" + boundary
                + b"\"" + extra + b"\r\n")
        body = [b"This is a multi-part message in MIME format.\r\n"]
        for part_head, part_body in parts:
            body += [b"\r\n--", boundary, b"\r\n", part_head, b"\r\n", part_body]
        body.append(b"\r\n--" + boundary + b"--\r\n")
        return head, b"".join(body)

    def _headers(self, n: int, newsletter: bool) -> bytes:
        rng, pools = self.rng, self.pools
        sender = rng.choice(pools.addresses)
        domain = sender.rpartition("@")[2].rstrip(">")
        date = self._date(n)
        lines = [f"Return-Path: <bounce-{n}@{domain}>"]
        for hop in range(rng.randrange(2, 4)):
            lines.append(
                f"Received: from mail{hop}.{domain} "
                f"(mail{hop}.{domain} [192.0.2.{rng.randrange(1, 255)}])"
                f"\r\n\tby mx.example.org (Postfix) with ESMTPS id {rng.randrange(16**10):010X}"
                f"\r\n\tfor <alice@example.org>; {date}"
            )
        head = "\r\n".join(lines).encode("ascii") + b"\r\n"
        if rng.random() < 0.5:
            head += rng.choice(pools.dkim)
        recipients = ["Alice <alice@example.org>"] + [
            rng.choice(pools.addresses) for _ in range(rng.choices((0, 1, 2), (6, 3, 1))[0])
        ]
        lines = [f"From: {sender}", "To: " + ",\r\n ".join(recipients)]
        if rng.random() < 0.2:
            lines.append("Cc: " + ",\r\n ".join(rng.choice(pools.addresses)
                                                 for _ in range(rng.randrange(1, 4))))
        lines += [
            f"Subject: {rng.choice(pools.subjects)}",
            f"Date: {date}",
            f"Message-ID: <{n}.{rng.randrange(16**8):08x}@{domain}>",
        ]
        if rng.random() < 0.25:
            parent = f"<{max(0, n - rng.randrange(1, 50))}.{rng.randrange(16**8):08x}@{domain}>"
            lines += [f"In-Reply-To: {parent}", f"References: {parent}"]
        lines.append("MIME-Version: 1.0")
        lines.append(rng.choice(MAILERS))
        if newsletter:
            lines += [f"List-Id: Weekly news <news.{domain}>",
                      f"List-Unsubscribe: <https://{domain}/unsubscribe?id={n}>,"
                      f"\r\n <mailto:unsubscribe@{domain}?subject={n}>"]
        return head + "\r\n".join(lines).encode("utf-8") + b"\r\n"

    # -- a message -------------------------------------------------------------------

    total = 1

    def message(self, n: int) -> tuple[bytes, list[str]]:
        rng = self.rng
        size = self._size()
        utf8 = rng.random() < 0.35
        boundary = f"=_{n}_{rng.randrange(16**12):012x}".encode()
        kind = rng.random()
        large = size > 16 * KB
        newsletter = (not large) and 0.45 <= kind < 0.85 and rng.random() < 0.4
        headers = self._headers(n, newsletter)
        room = max(200, size - len(headers) - 150)
        if (large and kind < 0.75) or (not large and kind < 0.1):
            # Text plus attachments: most of a large message is its attachments.
            text_size = min(room // 4, rng.randrange(300, 3000))
            count = 1 if room < 8 * KB else rng.randrange(1, 4)
            parts = [self._text(text_size, utf8)]
            left = room - text_size
            for i in range(count):
                share = left if i == count - 1 else left // (count - i) // 2 * rng.randrange(1, 3)
                parts.append(self._attachment(max(100, share * 77 // 100)))  # base64 inflates
                left -= share
            content = self._multipart(b"mixed", boundary, parts)
        elif kind < 0.45:
            content = self._text(room, utf8)
        elif kind < 0.85:
            content = self._multipart(b"alternative", boundary, [
                self._text(room * 2 // 5, utf8), self._text(room * 3 // 5, utf8, html=True)])
        elif kind < 0.93:
            inner_headers = (f"From: {rng.choice(self.pools.addresses)}\r\n"
                             f"To: Alice <alice@example.org>\r\n"
                             f"Subject: {rng.choice(self.pools.subjects)}\r\n"
                             f"Date: {self._date(max(0, n - 100))}\r\n"
                             f"Message-ID: <fwd.{n}@example.net>\r\nMIME-Version: 1.0\r\n"
                             ).encode()
            inner_head, inner_body = self._text(room // 2, not utf8)
            forwarded = (b"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n",
                         inner_headers + inner_head + b"\r\n" + inner_body)
            content = self._multipart(b"mixed", boundary,
                                      [self._text(room // 2, utf8), forwarded])
        else:
            html = self._text(room // 3, utf8, html=True)
            image = self._attachment(max(100, room * 2 // 3 * 77 // 100))
            image = (image[0].replace(b"attachment", b"inline")
                     + f"Content-ID: <img{n}@example.org>\r\n".encode(), image[1])
            content = self._multipart(b"related", boundary, [html, image],
                                      b'; type="text/html"')
        head, body = content
        raw = headers + head + b"\r\n" + body
        flags = []
        if rng.random() < 0.7:
            flags.append("\\Seen")
        if rng.random() < 0.1:
            flags.append("\\Answered")
        if rng.random() < 0.05:
            flags.append("\\Flagged")
        if rng.random() < 0.03:
            flags.append("$Forwarded")
        return raw, flags

    def messages(self, count: int, batch: int = 5000) -> Iterator[list[tuple[bytes, list[str]]]]:
        """All ``count`` messages of a mailbox, in batches (for seeding)."""
        self.total = count
        for first in range(0, count, batch):
            yield [self.message(n) for n in range(first, min(count, first + batch))]


def large_message(size: int, seed: int = 11) -> bytes:
    """One message of ``size`` bytes (give or take a line): a short text part and one
    large base64 attachment (a video), for the streaming task."""
    rng = random.Random(seed)
    unit = b"".join(base64.b64encode(rng.randbytes(57)) + b"\r\n" for _ in range(16384))
    head = (
        b"From: =?utf-8?q?Zo=C3=AB_Dvo=C5=99=C3=A1k?= <zoe@example.net>\r\n"
        b"To: Alice <alice@example.org>\r\n"
        b"Subject: =?utf-8?b?VmlkZW8gdm9tIFVybGF1YiDwn46l?=\r\n"
        b"Date: Mon, 04 Mar 2024 09:12:00 +0100\r\n"
        b"Message-ID: <large.video@example.net>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"LARGE\"\r\n\r\n"
        b"--LARGE\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"The video from the holiday, as promised.\r\n\r\n"
        b"--LARGE\r\nContent-Type: video/mp4; name=\"holiday.mp4\"\r\n"
        b"Content-Disposition: attachment; filename=\"holiday.mp4\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    tail = b"\r\n--LARGE--\r\n"
    need = size - len(head) - len(tail)
    whole, rest = divmod(need, len(unit))
    rest -= rest % 78
    return b"".join([head, unit * whole, unit[:rest], tail])
