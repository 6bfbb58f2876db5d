"""Fuzz target: the framer (src/imapclient/protocol/framing.py).

Input layout (through a FuzzedDataProvider; ``ConsumeIntInRange`` reads from the back,
``ConsumeBytes`` from the front):

* four choices: BARE_LF tolerated or not, then ``max_line_length`` (1-64),
  ``max_literal_size`` (1-64) and ``max_response_size`` (1-256); a response size of 256
  means "the default limits" instead;
* then, while bytes remain, a chunk length (0-32) and that many bytes: the server's stream,
  fed to the framer in those chunks.

Checks:

1. only :class:`ProtocolError` (``LimitExceededError`` included) escapes ``feed`` and
   ``next_response``; only :class:`ConnectionClosedError` escapes ``eof``;
2. every response returned is the next slice of the stream, followed in the stream by
   CRLF (or a bare LF when BARE_LF is tolerated): nothing is lost, reordered or invented;
3. ``buffered`` is exactly what was fed and not yet returned (with its line end), and
   whenever ``next_response`` returns None it is at most ``max_response_size``. The bound
   comes from the code: with no literal pending, a buffer longer than
   ``max_response_size`` without a line end raises; with a literal pending, the literal's
   end (``lf + 1 + size``) was checked against ``max_response_size`` when announced and
   the buffer is shorter than that end;
4. feeding the same bytes in one piece gives the same responses, and raises (during the
   stream or at EOF) exactly when the chunked run raises;
5. a framer that saw EOF refuses more data with ProtocolError.
"""

from __future__ import annotations

import re

import _common

with _common.instrumented():
    from imapclient.exceptions import ConnectionClosedError, ProtocolError
    from imapclient.protocol.framing import Framer
    from imapclient.protocol.limits import DEFAULT_LIMITS, Limits
    from imapclient.protocol.tolerances import STRICT, Tolerance

MAX_CHUNK = 32
_ANNOUNCEMENT = re.compile(rb"~?\{(\d+)\}\Z")


class Outcome:
    """What one run of the framer over a stream produced."""

    def __init__(self) -> None:
        self.responses: list[bytes] = []
        self.error: ProtocolError | None = None  # raised while feeding or framing
        self.eof_error: ConnectionClosedError | None = None  # raised by eof()


def _check_shape(response: bytes, limits: Limits, bare_lf: bool) -> None:
    """An independent reading of one framed response: lines within ``max_line_length``,
    each line but the last ending in a literal announcement within ``max_literal_size``
    whose data is all there, and the last line announcing nothing."""
    pos = 0
    while True:
        lf = response.find(b"\n", pos)
        if lf < 0:
            last = response[pos:]
            assert len(last) <= limits.max_line_length, (last, limits)
            assert _ANNOUNCEMENT.search(last) is None, response
            return
        line_end = lf - 1 if lf > pos and response[lf - 1] == 0x0D else lf
        assert line_end == lf - 1 or bare_lf, response
        line = response[pos:line_end]
        assert len(line) <= limits.max_line_length, (line, limits)
        m = _ANNOUNCEMENT.search(line)
        assert m is not None, ("a line end inside a response after no literal", response)
        size = int(m.group(1))
        assert size <= limits.max_literal_size, (size, limits)
        pos = lf + 1 + size
        assert pos <= len(response), ("literal cut short", response)


def _drain(
    framer: Framer, stream: bytes, fed: int, state: dict[str, int], out: Outcome, bare_lf: bool
) -> None:
    """Take every complete response out of ``framer`` and check it against the stream."""
    limits = framer.limits
    while True:
        response = framer.next_response()  # may raise ProtocolError: the caller records it
        if response is None:
            buffered = framer.buffered
            assert buffered == fed - state["offset"], (buffered, fed, state)
            assert buffered <= limits.max_response_size, (buffered, limits)
            return
        offset = state["offset"]
        end = offset + len(response)
        assert stream[offset:end] == response, (offset, response, stream)
        if stream.startswith(b"\r\n", end):
            end += 2
        else:
            assert bare_lf and stream.startswith(b"\n", end), (end, stream)
            end += 1
        assert end <= fed, (end, fed)
        assert end - offset <= limits.max_response_size, (response, limits)
        _check_shape(response, limits, bare_lf)
        state["offset"] = end
        out.responses.append(response)
        assert framer.buffered == fed - end, (framer.buffered, fed, end)


def run(
    stream: bytes, chunks: list[bytes], limits: Limits, tolerances: Tolerance, into: bool = False
) -> Outcome:
    """Frame ``stream`` arriving as ``chunks``: fed, or with ``into`` written into the
    framer's receive buffer (which may offer less than a chunk at a time)."""
    out = Outcome()
    framer = Framer(limits, tolerances)
    bare_lf = bool(tolerances & Tolerance.BARE_LF)
    state = {"offset": 0}
    fed = 0
    try:
        for chunk in chunks:
            if not into:
                framer.feed(chunk)
                fed += len(chunk)
                _drain(framer, stream, fed, state, out, bare_lf)
                continue
            done = 0
            while done < len(chunk):
                view = framer.receive_buffer(len(chunk) - done)
                n = min(len(view), len(chunk) - done)
                assert n > 0, "receive_buffer() offered no room"
                view[:n] = chunk[done : done + n]
                view.release()
                framer.commit(n)
                done += n
                fed += n
                _drain(framer, stream, fed, state, out, bare_lf)
    except ProtocolError as exc:
        out.error = exc
        return out
    try:
        framer.eof()
    except ConnectionClosedError as exc:
        out.eof_error = exc
        assert state["offset"] < len(stream), "eof() failed with nothing buffered"
    else:
        assert state["offset"] == len(stream), "eof() accepted an incomplete response"
    try:
        framer.feed(b"x")
    except ProtocolError:
        pass
    else:
        raise AssertionError("feed() after eof() was accepted")
    return out


def test_one_input(data: bytes) -> None:
    fdp = _common.provider(data)
    bare_lf = fdp.ConsumeIntInRange(0, 1) == 1
    line = fdp.ConsumeIntInRange(1, 64)
    literal = fdp.ConsumeIntInRange(1, 64)
    response = fdp.ConsumeIntInRange(1, 256)
    if response == 256:
        limits = DEFAULT_LIMITS
    else:
        limits = Limits(max_line_length=line, max_literal_size=literal, max_response_size=response)
    tolerances = Tolerance.BARE_LF if bare_lf else STRICT
    chunks = []
    while fdp.remaining_bytes():
        n = fdp.ConsumeIntInRange(0, MAX_CHUNK)
        chunks.append(fdp.ConsumeBytes(n))
    stream = b"".join(chunks)

    chunked = run(stream, chunks, limits, tolerances)
    whole = run(stream, [stream], limits, tolerances)
    into = run(stream, chunks, limits, tolerances, into=True)
    assert into.responses == chunked.responses, (into.responses, chunked.responses)
    assert (into.error is None) == (chunked.error is None), (into.error, chunked.error)
    assert (into.eof_error is None) == (chunked.eof_error is None)
    assert chunked.responses == whole.responses, (chunked.responses, whole.responses)
    assert (chunked.error is None) == (whole.error is None), (chunked.error, whole.error)
    assert (chunked.eof_error is None) == (whole.eof_error is None), (
        chunked.eof_error,
        whole.eof_error,
    )


if __name__ == "__main__":
    _common.main("framing", test_one_input)
