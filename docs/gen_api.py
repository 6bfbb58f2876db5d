"""Generate docs/api.md, the API reference, from the docstrings.

Run ``python docs/gen_api.py`` after changing a public docstring or signature; the test
suite fails if docs/api.md is out of date or a public name has no docstring.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import imapclient
from imapclient import aio, client, config, exceptions, oauth2, response_types, sasl, transport

OUT = Path(__file__).with_name("api.md")

HEADER = """# API reference

Generated from the docstrings by `docs/gen_api.py`; do not edit by hand.
See also [concepts.md](concepts.md) and [migrating.md](migrating.md).
"""


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def public_methods(cls: type) -> list[tuple[str, Any]]:
    """The public methods and properties of ``cls`` (not inherited from object)."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # base classes first; subclasses override
        for name, member in vars(klass).items():
            if name.startswith("_") and name not in ("__enter__", "__exit__"):
                continue
            if inspect.isfunction(member) or isinstance(member, property):
                found[name] = member
    return sorted(found.items())


def render() -> str:
    parts = [HEADER]
    parts.append("## `imapclient.IMAPClient`\n")
    parts.append(f"```python\nIMAPClient{_signature(client.IMAPClient.__init__)}\n```\n")
    parts.append(_doc(client.IMAPClient) + "\n")
    for name, member in public_methods(client.IMAPClient):
        if isinstance(member, property):
            parts.append(f"### `{name}` (property)\n\n{_doc(member)}\n")
        else:
            sig = _signature(member).replace("(self, ", "(").replace("(self)", "()")
            parts.append(f"### `{name}{sig}`\n\n{_doc(member)}\n")

    parts.append("## `imapclient.AsyncIMAPClient`\n")
    parts.append(_doc(aio.AsyncIMAPClient) + "\n")
    parts.append(
        "Every method of `IMAPClient` above is a coroutine of the same name, arguments and "
        "result here (a test checks the signatures match). In addition:\n"
    )
    blocking = {name for name, _ in public_methods(client.IMAPClient)}
    for name, member in public_methods(aio.AsyncIMAPClient):
        if name in blocking:
            continue
        sig = _signature(member).replace("(self, ", "(").replace("(self)", "()")
        parts.append(f"### `{name}{sig}`\n\n{_doc(member)}\n")
    parts.append(f"### `IdleEvents`\n\n{_doc(aio.IdleEvents)}\n")
    for name, member in public_methods(aio.IdleEvents):
        sig = _signature(member).replace("(self, ", "(").replace("(self)", "()")
        parts.append(f"#### `IdleEvents.{name}{sig}`\n\n{_doc(member)}\n")

    parts.append("## Constants\n")
    for name in ("DELETED", "SEEN", "ANSWERED", "FLAGGED", "DRAFT", "RECENT"):
        parts.append(f"- `imapclient.{name}` = `{getattr(imapclient, name)!r}`")
    for name in ("ALL", "ARCHIVE", "DRAFTS", "JUNK", "SENT", "TRASH"):
        parts.append(f"- `imapclient.{name}` = `{getattr(imapclient, name)!r}` (special use)")
    parts.append("")

    for title, module in (
        ("Response types (`imapclient.response_types`)", response_types),
        ("Exceptions (`imapclient.exceptions`)", exceptions),
        ("Transport options (`imapclient.transport`)", transport),
        ("SASL mechanisms (`imapclient.sasl`)", sasl),
        ("Configuration files (`imapclient.config`)", config),
        ("OAuth2 tokens (`imapclient.oauth2`)", oauth2),
    ):
        parts.append(f"## {title}\n")
        parts.append(_doc(module) + "\n")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                bases = ", ".join(b.__name__ for b in obj.__bases__ if b is not object)
                parts.append(f"### `{name}`" + (f" ({bases})" if bases else "") + "\n")
                parts.append(_doc(obj) + "\n")
            elif callable(obj):
                parts.append(f"### `{name}{_signature(obj)}`\n\n{_doc(obj)}\n")
    return "\n".join(parts).rstrip() + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        return 0 if OUT.exists() and OUT.read_text() == text else 1
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
