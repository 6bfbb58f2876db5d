"""The blocking IMAPClient and the asyncio AsyncIMAPClient present the same API, and
neither front end holds any command logic of its own.

* Surface: every public method of IMAPClient is a coroutine function of AsyncIMAPClient
  with the same parameters (names, kinds, defaults); the properties are properties on
  both; the exception aliases are the same classes; AsyncIMAPClient adds only
  ``connect``, ``create`` and ``idle_events``, and ``async with`` where IMAPClient has
  ``with``.
* No logic twice: see :func:`command_logic_in` for the source check of client.py and
  aio.py, and :func:`test_operations_are_the_same_objects` for the check that both wrap
  the very same operation of :mod:`imapclient.commands`.
* The test adapter (tests/frontends.py) that runs the integration scenarios through
  AsyncIMAPClient presents IMAPClient's surface, and never leaks its loop thread.
"""

from __future__ import annotations

import ast
import gc
import inspect
import re
import threading
import types
from typing import Any

import pytest
from fakeserver import Script
from frontends import BlockingAdapter

import imapclient.aio
import imapclient.client
from imapclient import IMAPClient
from imapclient.aio import AsyncIMAPClient

PROPERTIES = {"welcome", "debug", "log_file"}
ASYNC_ONLY = {"connect", "create", "idle_events"}
#: Methods each front end writes itself, because they are about its I/O (the
#: transport, the loop, waiting while idling) rather than about a command. Any other
#: method must be generated from an operation of imapclient.commands.
#: Iterators that loop over an operation (fetch_many) in each front end: a generator on
#: IMAPClient, an async generator on AsyncIMAPClient.
ITERATORS = {"iter_fetch"}

HAND_WRITTEN = {
    "iter_fetch",
    "drain_unsolicited",
    "idle",
    "idle_check",
    "idle_done",
    "logout",
    "shutdown",
    "socket",
    "starttls",
}


def public_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def blocking_methods() -> list[str]:
    return sorted(
        name
        for name in public_names(IMAPClient)
        if inspect.isfunction(inspect.getattr_static(IMAPClient, name))
    )


def parameters(func: Any) -> list[tuple[str, Any, Any]]:
    """(name, kind, default) of each parameter, without ``self``/``cls``."""
    params = list(inspect.signature(func).parameters.values())
    if inspect.isfunction(func) and params and params[0].name == "self":
        params = params[1:]
    return [(p.name, p.kind, p.default) for p in params]


# -- the surface ------------------------------------------------------------------------


def test_the_blocking_client_has_methods_to_compare() -> None:
    methods = blocking_methods()
    assert len(methods) > 50
    assert {"login", "fetch", "search", "idle_check", "logout", "socket"} <= set(methods)


@pytest.mark.parametrize("name", blocking_methods())
def test_every_blocking_method_is_a_coroutine_with_the_same_parameters(name: str) -> None:
    blocking = getattr(IMAPClient, name)
    assert not inspect.iscoroutinefunction(blocking)
    assert hasattr(AsyncIMAPClient, name), f"AsyncIMAPClient has no {name}"
    awaitable = getattr(AsyncIMAPClient, name)
    if inspect.isgeneratorfunction(blocking):  # an iterator: an async iterator there
        assert inspect.isasyncgenfunction(awaitable), f"AsyncIMAPClient.{name} is not async"
    else:
        assert inspect.iscoroutinefunction(awaitable), f"AsyncIMAPClient.{name} is not async"
    assert parameters(awaitable) == parameters(blocking)


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_properties_are_properties_on_both(name: str) -> None:
    for cls in (IMAPClient, AsyncIMAPClient):
        assert isinstance(inspect.getattr_static(cls, name), property), (cls, name)
    # Both inherit them from the same base: one implementation.
    assert inspect.getattr_static(IMAPClient, name) is inspect.getattr_static(AsyncIMAPClient, name)


def test_public_names_are_methods_properties_or_the_exception_aliases() -> None:
    """Nothing public on IMAPClient escapes the two checks above."""
    aliases = {"Error", "AbortError", "ReadOnlyError"}
    assert public_names(IMAPClient) == set(blocking_methods()) | PROPERTIES | aliases
    for alias in aliases:
        assert getattr(AsyncIMAPClient, alias) is getattr(IMAPClient, alias)


def test_the_async_client_adds_only_connect_create_and_idle_events() -> None:
    extra = public_names(AsyncIMAPClient) - public_names(IMAPClient)
    assert extra == ASYNC_ONLY
    for name in public_names(AsyncIMAPClient) - ASYNC_ONLY - PROPERTIES:
        attr = getattr(AsyncIMAPClient, name)
        if callable(attr) and not isinstance(attr, type):
            if name in ITERATORS:  # async iterators over an operation
                assert inspect.isasyncgenfunction(attr), name
                continue
            assert inspect.iscoroutinefunction(attr), name
    assert inspect.iscoroutinefunction(AsyncIMAPClient.connect)
    assert inspect.iscoroutinefunction(AsyncIMAPClient.create)
    assert isinstance(inspect.getattr_static(AsyncIMAPClient, "create"), classmethod)
    assert not inspect.iscoroutinefunction(AsyncIMAPClient.idle_events)  # an async iterator


def test_context_managers_match() -> None:
    assert inspect.iscoroutinefunction(AsyncIMAPClient.__aenter__)
    assert inspect.iscoroutinefunction(AsyncIMAPClient.__aexit__)
    assert parameters(AsyncIMAPClient.__aexit__) == parameters(IMAPClient.__exit__)
    assert not hasattr(AsyncIMAPClient, "__enter__")
    assert not hasattr(IMAPClient, "__aenter__")


def test_constructors_take_the_same_arguments() -> None:
    assert parameters(AsyncIMAPClient.__init__) == parameters(IMAPClient.__init__)
    assert parameters(AsyncIMAPClient.create) == [
        ("args", inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.empty),
        ("kwargs", inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty),
    ]


# -- no logic twice ---------------------------------------------------------------------


def test_operations_are_the_same_objects() -> None:
    """Every method that is not about I/O is generated, in both front ends, from the very
    same operation (generator function) of :mod:`imapclient.commands`: the request
    building and result shaping of a command exist once, in that operation."""
    for name in blocking_methods():
        blocking = inspect.getattr_static(IMAPClient, name)
        awaitable = inspect.getattr_static(AsyncIMAPClient, name)
        if name in HAND_WRITTEN:
            assert not hasattr(blocking, "__wrapped__"), name
            continue
        op = getattr(blocking, "__wrapped__", None)
        assert op is not None, f"IMAPClient.{name} is not generated from an operation"
        assert getattr(awaitable, "__wrapped__", None) is op, name
        assert op.__module__.startswith("imapclient.commands."), (name, op.__module__)
        assert inspect.isgeneratorfunction(op), name


#: Every IMAP command (RFC 9051, RFC 3501 and the extensions the library speaks) and
#: ``DONE`` (which ends IDLE).
IMAP_COMMANDS = frozenset(
    """
    APPEND AUTHENTICATE CAPABILITY CHECK CLOSE COMPRESS COPY CREATE DELETE DELETEACL
    DONE ENABLE EXAMINE EXPUNGE FETCH GETACL GETMETADATA GETQUOTA GETQUOTAROOT ID IDLE
    LIST LISTRIGHTS LOGIN LOGOUT LSUB MOVE MYRIGHTS NAMESPACE NOOP NOTIFY RENAME SEARCH
    SELECT SETACL SETMETADATA SETQUOTA SORT STARTTLS STATUS STORE SUBSCRIBE THREAD UID
    UNSELECT UNSUBSCRIBE XLIST
    """.split()
)
#: What builds a command (imapclient.protocol.encoder): a front end that names one of
#: these builds a command itself.
COMMAND_BUILDERS = frozenset({"Command", "Atom", "Quoted", "Literal", "ArgList", "encode_command"})
#: The command layer's request type: a front end receives requests from operations (and
#: may name the type in annotations), but constructing one means sending a command that
#: no operation asked for.
REQUEST = "Request"
#: Modules whose job is building arguments or shaping results; the command layer uses
#: them, a front end has no business importing them.
SHAPING_MODULES = (
    "encoder",
    "parser",
    "responses",
    "response_types",
    "datetime_util",
    "imap_utf7",
    "search_criteria",
)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings (prose, not code)."""
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
        ):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _command_word(text: str) -> str | None:
    """The IMAP command a wire-like string starts with (``"UID FETCH 1 ..."``), if any."""
    match = re.match(r"(?:UID )?([A-Z]+)(?:[ (\r]|$)", text)
    return match.group(1) if match and match.group(1) in IMAP_COMMANDS else None


def command_logic_in(source: str) -> list[str]:
    """What in a front end's ``source`` builds a command or shapes a result: the check
    that no command's logic exists in a front end (and so never twice).

    A front end may drive operations, move bytes, and raise errors; it may not

    1. build a command: name anything of the encoder that makes one (``Command``, its
       argument types), or construct the command layer's ``Request`` (which only
       operations yield; the front ends may name the type in annotations);
    2. spell a command: a bytes constant that starts with a command name (what a
       hand-built command line looks like, ``b"UID FETCH "``, ``b"NOOP"``), or a str
       constant that is exactly one (``"SELECT"``, as a name to compare or to send).
       Prose is fine: docstrings are skipped, and messages such as ``"IDLE is active:
       ..."`` are not single command names. Response statuses (``b"BYE"``) are not
       commands;
    3. import a module that builds arguments or shapes results (the encoder, the
       parser, response types, dates, folder-name encoding, search criteria).

    Returns the offences, as readable lines (empty when there are none).
    """
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    offences = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called == REQUEST:
                offences.append(f"line {line}: calls {REQUEST}")
        if isinstance(node, ast.Name) and node.id in COMMAND_BUILDERS:
            offences.append(f"line {line}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in COMMAND_BUILDERS:
            offences.append(f"line {line}: uses .{node.attr}")
        elif isinstance(node, ast.alias) and node.name.split(".")[-1] in COMMAND_BUILDERS:
            offences.append(f"line {line}: imports {node.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [module.split(".")[-1]] + [alias.name for alias in node.names]
            for name in names:
                if name in SHAPING_MODULES:
                    offences.append(f"line {line}: imports {name} (from {module!r})")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[-1] in SHAPING_MODULES:
                    offences.append(f"line {line}: imports {alias.name}")
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            value = node.value
            if isinstance(value, bytes):
                word = _command_word(value.decode("latin-1").upper())
                if word is not None:
                    offences.append(f"line {line}: spells the command {value!r}")
            elif isinstance(value, str) and _command_word(value.strip().upper()) is not None:
                if " " not in value.strip() or value.strip().upper().startswith("UID "):
                    offences.append(f"line {line}: spells the command {value!r}")
    return offences


@pytest.mark.parametrize("module", [imapclient.client, imapclient.aio], ids=["client", "aio"])
def test_front_ends_hold_no_command_logic(module: types.ModuleType) -> None:
    source = inspect.getsource(module)
    assert "Command(" not in source
    assert command_logic_in(source) == []
    # They do drive the command layer.
    assert "from .commands import" in source


@pytest.mark.parametrize(
    ("snippet", "offence"),
    [
        ("def noop(self):\n    return self._run_one(Command(b'NOOP'))", "uses Command"),
        ("from .protocol.encoder import Command", "imports Command"),
        ("async def f(s):\n    await s.send(base.Request(cmd))", "calls Request"),
        ("def f(s, n):\n    s.write(b'A1 ' + b'UID FETCH %d FLAGS' % n)", "UID FETCH"),
        ("def f(s):\n    s.write(b'IDLE\\r\\n')", "IDLE"),
        ("def f(s, name):\n    return name.upper() == 'SELECT'", "'SELECT'"),
        ("def f(s):\n    return s.send('uid store')", "'uid store'"),
        ("from .response_types import Envelope", "imports response_types"),
        ("from . import datetime_util", "imports datetime_util"),
    ],
    ids=[
        "Command-call",
        "Command-import",
        "Request-call",
        "bytes-uid-fetch",
        "bytes-idle",
        "str-select",
        "str-uid-store",
        "response_types",
        "datetime_util",
    ],
)
def test_the_source_check_finds_command_logic(snippet: str, offence: str) -> None:
    """The check is not vacuous: each of these would be caught in a front end."""
    offences = command_logic_in(snippet)
    assert any(offence in line for line in offences), offences


def test_the_source_check_allows_prose_and_statuses() -> None:
    snippet = '''
def idle(self):
    """Start IDLE; LOGOUT ends it. FETCH results are shaped elsewhere."""
    if self._idle is not None:
        raise IllegalStateError("IDLE is active: call idle_done() before other commands")
    if greeting.status == b"BYE":
        raise IMAPClientAbortError("STARTTLS is impossible: the connection is closed")
'''
    assert command_logic_in(snippet) == []


# -- the adapter the integration tests use -------------------------------------------------


def adapter_for(fake_server: Any, script: Script) -> BlockingAdapter:
    server = fake_server(script)
    return BlockingAdapter(server.host, server.port, ssl=False, timeout=5)


def test_the_adapter_presents_the_blocking_api(fake_server: Any) -> None:
    adapter = adapter_for(fake_server, Script().greeting().expect_eof())
    try:
        for name in blocking_methods():
            method = getattr(adapter, name)
            assert callable(method) and not inspect.iscoroutinefunction(method), name
            assert parameters(method) == parameters(getattr(IMAPClient, name)), name
        assert adapter.welcome == b"fake IMAP server ready"
        assert adapter.debug == 0 and adapter.log_file is None
        for name, value in (("use_uid", False), ("folder_encode", False), ("debug", 3)):
            setattr(adapter, name, value)
            assert getattr(adapter.async_client, name) == value
        adapter.debug = 0
        with pytest.raises(ValueError):
            adapter.debug = 9  # the setter's own error, unchanged
    finally:
        adapter.close()
    assert not adapter.loop_thread.is_alive()


def test_the_adapter_raises_the_coroutines_exceptions(fake_server: Any) -> None:
    adapter = adapter_for(fake_server, Script().greeting().expect_eof())
    try:
        with pytest.raises(IMAPClient.Error) as info:
            adapter.fetch([1], ["FLAGS"])  # no folder selected: refused locally
        assert type(info.value).__name__ == "IllegalStateError"
        with pytest.raises(TypeError):
            adapter.noop(1)
    finally:
        adapter.close()


def test_the_adapter_raises_constructor_errors_without_a_thread_left() -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        BlockingAdapter("127.0.0.1", 1, ssl=False, no_such_option=1)
    with pytest.raises(ValueError):
        BlockingAdapter("cat", port=1, stream=True)
    assert not any(t.name == "BlockingAdapter-loop" and t.is_alive() for t in threading.enumerate())


def test_logout_ends_the_loop_and_later_calls_answer_locally(fake_server: Any) -> None:
    adapter = adapter_for(fake_server, Script().greeting().logout().expect_eof())
    assert adapter.socket() is not None
    assert adapter.logout() == b"logging out"  # the BYE text
    assert not adapter.loop_thread.is_alive()
    assert adapter.socket() is None
    with pytest.raises(IMAPClient.AbortError):
        adapter.noop()


def test_garbage_collection_ends_the_loop(fake_server: Any) -> None:
    adapter = adapter_for(fake_server, Script().greeting().expect_eof())
    thread = adapter.loop_thread
    assert thread.is_alive()
    del adapter
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()


def test_with_maps_to_async_with(fake_server: Any) -> None:
    adapter = adapter_for(fake_server, Script().greeting().logout().expect_eof())
    with pytest.raises(KeyError):
        with adapter as entered:
            assert entered is adapter
            raise KeyError("from the body")  # __aexit__ logs out and never masks it
    assert not adapter.loop_thread.is_alive()
    assert adapter.socket() is None
