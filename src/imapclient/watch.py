"""Watching a folder for changes with IDLE, for as long as a program runs.

:class:`IdleWatcher` (blocking) and :class:`AsyncIdleWatcher` (asyncio) yield
:class:`~imapclient.commands.watch.WatchEvent` values (``new``, ``flags``, ``expunged``,
``reset``) with UIDs. They end and re-issue IDLE every ``renew_interval`` seconds (RFC 2177
asks for under 29 minutes; Gmail drops idle clients after about 10), notice a dead
connection (EOF, BYE, or no answer to DONE within the client's read timeout), and then
raise, or with ``reconnect=True`` connect again, re-select and report what happened in
between (new and expunged messages by UID; flag changes too where the server has
CONDSTORE), so no event is lost.

The watcher opens its connections itself through ``connect``, a function returning a
logged-in client (give it a read ``timeout`` so a silent dead connection is noticed)::

    def connect():
        client = IMAPClient("imap.example.com", timeout=60)
        client.login(user, password)
        return client

    for event in IdleWatcher(connect, "INBOX", reconnect=True):
        print(event.kind, event.uid, event.flags)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from .aio import IDLE_RENEW_INTERVAL, AsyncIMAPClient
from .client import IMAPClient
from .commands.watch import WatchEvent, WatchState
from .exceptions import IMAPClientAbortError

__all__ = ["AsyncIdleWatcher", "IdleWatcher", "WatchEvent"]

logger = logging.getLogger("imapclient")


class _Settings:
    def __init__(
        self,
        folder: str | bytes,
        renew_interval: float,
        reconnect: bool,
        max_reconnects: int,
        reconnect_delay: float,
        on_idle: Callable[[], object] | None,
    ) -> None:
        if renew_interval <= 0:
            raise ValueError("renew_interval must be positive")
        self.state = WatchState(folder)
        self.renew_interval = renew_interval
        self.reconnect = reconnect
        self.max_reconnects = max_reconnects
        self.reconnect_delay = reconnect_delay
        self.reconnects = 0  # how many times the connection was re-established
        #: Called each time the server has accepted IDLE (e.g. to signal readiness).
        self.on_idle = on_idle

    def idling(self) -> None:
        if self.on_idle is not None:
            self.on_idle()

    def retry_after(self, attempts: int, error: IMAPClientAbortError) -> float:
        """Seconds to wait before reconnecting, or raise ``error`` when giving up."""
        if not self.reconnect or attempts > self.max_reconnects:
            raise error
        logger.info("connection lost (%s); reconnecting (attempt %d)", error, attempts)
        return self.reconnect_delay * min(1 << (attempts - 1), 32)


class IdleWatcher(_Settings):
    """Yields the changes to ``folder`` as they happen (see the module docstring)."""

    def __init__(
        self,
        connect: Callable[[], IMAPClient],
        folder: str | bytes = "INBOX",
        *,
        renew_interval: float = IDLE_RENEW_INTERVAL,
        reconnect: bool = False,
        max_reconnects: int = 5,
        reconnect_delay: float = 1.0,
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            folder, renew_interval, reconnect, max_reconnects, reconnect_delay, on_idle
        )
        self._connect = connect
        self.client: IMAPClient | None = None

    def __iter__(self) -> Iterator[WatchEvent]:
        attempts = 0
        try:
            while True:
                try:
                    self.client = client = self._connect()
                    yield from client._run(self.state.open(client))
                    attempts = 0
                    yield from self._watch(client)
                except IMAPClientAbortError as error:
                    self._drop()
                    attempts += 1
                    time.sleep(self.retry_after(attempts, error))
                    self.reconnects += 1
        finally:
            self._drop(logout=True)

    def _watch(self, client: IMAPClient) -> Iterator[WatchEvent]:
        state = self.state
        while True:
            client.idle()
            self.idling()
            deadline = time.monotonic() + self.renew_interval
            while (remaining := deadline - time.monotonic()) > 0:
                events, new_mail = state.on_updates(client.idle_check(timeout=remaining))
                yield from events
                if new_mail:
                    _, rest = client.idle_done()
                    yield from state.on_updates(rest)[0]
                    yield from client._run(state.fetch_new(client))
                    client.idle()
                    self.idling()
            # Renewal: DONE must be answered within the read timeout, or the connection
            # is dead.
            _, rest = client.idle_done()
            events, new_mail = state.on_updates(rest)
            yield from events
            if new_mail:
                yield from client._run(state.fetch_new(client))

    def _drop(self, logout: bool = False) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if logout:
                client.logout()
        except Exception:
            logger.debug("logout while closing the watcher failed", exc_info=True)
        finally:
            client.shutdown()


class AsyncIdleWatcher(_Settings):
    """:class:`IdleWatcher` for asyncio: ``async for event in AsyncIdleWatcher(connect)``
    where ``connect`` is a coroutine function returning a logged-in AsyncIMAPClient."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[AsyncIMAPClient]],
        folder: str | bytes = "INBOX",
        *,
        renew_interval: float = IDLE_RENEW_INTERVAL,
        reconnect: bool = False,
        max_reconnects: int = 5,
        reconnect_delay: float = 1.0,
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            folder, renew_interval, reconnect, max_reconnects, reconnect_delay, on_idle
        )
        self._connect = connect
        self.client: AsyncIMAPClient | None = None

    async def __aiter__(self) -> AsyncIterator[WatchEvent]:
        attempts = 0
        try:
            while True:
                try:
                    self.client = client = await self._connect()
                    for event in await client._run(self.state.open(client)):
                        yield event
                    attempts = 0
                    async for event in self._watch(client):
                        yield event
                except IMAPClientAbortError as error:
                    await self._drop()
                    attempts += 1
                    await asyncio.sleep(self.retry_after(attempts, error))
                    self.reconnects += 1
        finally:
            await self._drop(logout=True)

    async def _watch(self, client: AsyncIMAPClient) -> AsyncIterator[WatchEvent]:
        state = self.state
        loop = asyncio.get_running_loop()
        while True:
            await client.idle()
            self.idling()
            deadline = loop.time() + self.renew_interval
            while (remaining := deadline - loop.time()) > 0:
                events, new_mail = state.on_updates(await client.idle_check(timeout=remaining))
                for event in events:
                    yield event
                if new_mail:
                    _, rest = await client.idle_done()
                    for event in state.on_updates(rest)[0]:
                        yield event
                    for event in await client._run(state.fetch_new(client)):
                        yield event
                    await client.idle()
                    self.idling()
            _, rest = await client.idle_done()
            events, new_mail = state.on_updates(rest)
            for event in events:
                yield event
            if new_mail:
                for event in await client._run(state.fetch_new(client)):
                    yield event

    async def _drop(self, logout: bool = False) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if logout:
                await client.logout()
        except Exception:
            logger.debug("logout while closing the watcher failed", exc_info=True)
        finally:
            await client.shutdown()
