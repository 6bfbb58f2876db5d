"""Size limits the protocol core enforces on what a server sends.

Every limit is checked as bytes arrive, before anything is allocated for them: a literal
announced as ``{9999999999}`` fails at once instead of reserving memory.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds on server responses. Exceeding one raises
    :class:`~imapclient.exceptions.LimitExceededError` and ends the connection.

    The defaults admit every legitimate response seen in practice (a SEARCH answer with a
    million UIDs is about 8 MiB on one line) while keeping a hostile server from exhausting
    memory.
    """

    #: Longest single line, literal data excluded.
    max_line_length: int = 32 * MiB
    #: Largest literal (``{n}`` or ``~{n}``).
    max_literal_size: int = 512 * MiB
    #: Largest complete response: all its lines and literals together.
    max_response_size: int = 1024 * MiB
    #: Deepest nesting of parenthesised lists in one response.
    max_depth: int = 100
    #: Most untagged responses kept unread for the caller (unsolicited ones, and updates
    #: received during IDLE). Read them with ``noop()``, ``idle_check()`` or
    #: ``drain_unsolicited()``; exceeding this raises rather than silently dropping any.
    max_unsolicited: int = 100_000

    def __post_init__(self) -> None:
        for name in (
            "max_line_length",
            "max_literal_size",
            "max_response_size",
            "max_depth",
            "max_unsolicited",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, not {value!r}")


DEFAULT_LIMITS = Limits()
