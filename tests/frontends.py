"""Both front ends behind one blocking interface, so that one test runs through each.

:class:`BlockingAdapter` drives an :class:`~imapclient.aio.AsyncIMAPClient` from plain
(blocking) code: it owns a private event loop running in a daemon thread, and every
coroutine method of the async client becomes a plain function that runs the coroutine
on that loop and waits for it. Results and exceptions come back unchanged (the very
objects the coroutine returned or raised), so a test written against the blocking
:class:`~imapclient.IMAPClient` checks the asyncio front end as it stands, without an
``await`` of its own.

:func:`tls_version` and :func:`read_timeout` answer, for either front end, questions
whose answer lives in front-end-specific objects (an ``ssl.SSLSocket`` for the blocking
client; an asyncio transport and a read-timeout watchdog for the async one).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ssl
import threading
import time
import weakref
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from imapclient import IMAPClient
from imapclient.aio import AsyncIMAPClient

__all__ = ["BlockingAdapter", "read_timeout", "tls_version"]

#: Seconds to wait for the loop thread to finish when an adapter is closed.
JOIN_TIMEOUT = 10.0
#: Seconds to let a closing transport finish (TLS close_notify, socket close) before the
#: loop stops, so that no socket is left to the garbage collector.
CLOSE_GRACE = 1.0


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The loop thread: run until stopped, then finish what is left and close the loop."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _fileno(sock: Any) -> int:
    try:
        return int(sock.fileno())
    except (AttributeError, OSError, ValueError):
        return -1


async def _until_closed(sock: Any) -> None:
    """Give a transport that is closing (its socket ``sock``) a moment to finish."""
    await asyncio.sleep(0)
    deadline = time.monotonic() + CLOSE_GRACE
    while _fileno(sock) != -1 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def _closing(client: AsyncIMAPClient, coro: Coroutine[Any, Any, Any]) -> Any:
    """Await ``coro``, which closes the connection (logout, shutdown, ``__aexit__``), and
    then wait for its socket to be closed for real."""
    sock = await client.socket()
    try:
        return await coro
    finally:
        await _until_closed(sock)


async def _wind_down(client: AsyncIMAPClient) -> None:
    """Close the connection without logging out, then stop the loop."""
    try:
        await _closing(client, client.shutdown())
    finally:
        asyncio.get_running_loop().stop()


def _stop(
    loop: asyncio.AbstractEventLoop, thread: threading.Thread, client: AsyncIMAPClient
) -> None:
    """Close ``client``'s connection (if still open) and stop ``loop`` and ``thread``.

    Used by :meth:`BlockingAdapter.close` and as the adapter's finalizer, so it holds no
    reference to the adapter. Safe to call from the loop thread itself (a garbage
    collection can run anywhere): then it only asks the loop to stop."""
    if loop.is_closed() or not thread.is_alive():
        return
    coro = _wind_down(client)
    try:
        asyncio.run_coroutine_threadsafe(coro, loop)
    except RuntimeError:  # the loop closed in the meantime
        coro.close()
        return
    if threading.current_thread() is not thread:
        thread.join(JOIN_TIMEOUT)


class BlockingAdapter:
    """An :class:`AsyncIMAPClient` with the blocking API of :class:`IMAPClient`.

    ``BlockingAdapter(*args, **kwargs)`` takes IMAPClient's arguments and runs
    ``AsyncIMAPClient.create(*args, **kwargs)`` on the adapter's own loop, so it
    connects in the constructor and raises what the constructor and ``create()`` raise
    (TypeError and ValueError for bad arguments, ``ssl`` and ``OSError`` errors for the
    connection).

    * Attributes are the async client's; a coroutine method comes back as a plain
      function running the coroutine on the loop (``run_coroutine_threadsafe(...)
      .result()``), so it returns the coroutine's result and raises its exception.
    * Setting a public attribute (``use_uid``, ``folder_encode``, ``normalise_times``,
      ``debug``, ``log_file``) sets it on the async client, on the loop thread.
    * ``with adapter:`` maps onto the async client's ``async with`` (``__aenter__``,
      ``__aexit__``).
    * :meth:`logout`, :meth:`shutdown` and leaving ``with`` close the connection and
      then stop the loop and its thread; so do :meth:`close` (which does not log out)
      and garbage collection. A method called afterwards runs on a short-lived loop of
      its own in the calling thread: the connection is closed, so it only answers from
      local state (``socket()`` is None, commands raise ``IMAPClientAbortError``).
    """

    #: Methods after which the connection is closed, and with it the loop.
    _CLOSING = frozenset({"logout", "shutdown"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name="BlockingAdapter-loop", daemon=True
        )
        self._loop = loop
        self._thread = thread
        self._closed = False
        thread.start()
        try:
            client = self._run_on_loop(AsyncIMAPClient.create(*args, **kwargs))
        except BaseException:
            self._closed = True
            loop.call_soon_threadsafe(loop.stop)
            thread.join(JOIN_TIMEOUT)
            raise
        self._client: AsyncIMAPClient = client
        self._finalizer = weakref.finalize(self, _stop, loop, thread, client)

    # -- running coroutines --------------------------------------------------------------

    def _run_on_loop(self, coro: Coroutine[Any, Any, Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt while waiting: withdraw the call
            raise

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` to completion and return its result (or raise its exception)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("BlockingAdapter methods cannot be called from its loop")
        if self._closed:
            return asyncio.run(coro)
        return self._run_on_loop(coro)

    # -- attribute access --------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called for names the adapter itself lacks: everything of the client's.
        if name.startswith("__") or name in ("_client", "_loop", "_thread", "_closed"):
            raise AttributeError(name)
        attr = getattr(self._client, name)
        if inspect.isasyncgenfunction(attr):
            return functools.wraps(attr)(lambda *a, **k: self._iterate(attr(*a, **k)))
        if not inspect.iscoroutinefunction(attr):
            return attr
        closing = name in self._CLOSING

        @functools.wraps(attr)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            coro = attr(*args, **kwargs)
            if not closing or self._closed:
                return self._call(coro)
            try:
                return self._call(_closing(self._client, coro))
            finally:
                self.close()

        return blocking

    def _iterate(self, agen: Any) -> Any:
        """An async iterator, consumed item by item on the adapter's loop."""
        try:
            while True:
                try:
                    yield self._call(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._call(agen.aclose())

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        client = self._client
        if self._closed:
            setattr(client, name, value)
            return

        async def assign() -> None:
            setattr(client, name, value)

        self._call(assign())

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self._client)))

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return f"<BlockingAdapter for {self._client!r} ({state})>"

    # -- context manager and closing -----------------------------------------------------------

    def __enter__(self) -> BlockingAdapter:
        self._call(self._client.__aenter__())  # already connected: returns at once
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._closed:
            self._call(self._client.__aexit__(exc_type, exc, tb))
            return
        try:
            self._call(_closing(self._client, self._client.__aexit__(exc_type, exc, tb)))
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection if still open (without logging out), then stop the loop
        and join its thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._finalizer()

    @property
    def async_client(self) -> AsyncIMAPClient:
        """The wrapped AsyncIMAPClient."""
        return self._client

    @property
    def loop_thread(self) -> threading.Thread:
        """The thread running the adapter's event loop."""
        return self._thread


# -- front-end-specific facts, asked the same way ------------------------------------------------


def tls_version(client: IMAPClient | BlockingAdapter) -> str | None:
    """The TLS version the connection negotiated ("TLSv1.3" ...), or None if it is not
    TLS: from the ``ssl.SSLSocket`` of the blocking client, and from the ``ssl_object``
    of the async client's transport."""
    if isinstance(client, BlockingAdapter):
        transport = client.async_client._transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is None:
            return None
        assert isinstance(ssl_object, (ssl.SSLObject, ssl.SSLSocket))
        return ssl_object.version()
    sock = client.socket()
    if not isinstance(sock, ssl.SSLSocket):
        return None
    return sock.version()


def read_timeout(client: IMAPClient | BlockingAdapter) -> float | None:
    """The read timeout in force: the socket's timeout for the blocking client; the
    interval of the async client's read-timeout watchdog (its sockets are non-blocking,
    so their own timeout says nothing)."""
    if isinstance(client, BlockingAdapter):
        return client.async_client._timeout.read
    sock = client.socket()
    assert sock is not None
    return sock.gettimeout()  # type: ignore[no-any-return]
