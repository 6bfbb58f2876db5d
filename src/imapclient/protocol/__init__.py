"""The sans-IO protocol core: bytes in, typed responses out; commands in, bytes out.

Nothing here touches sockets, threads, asyncio or clocks; the front ends (``client``,
``aio``) move bytes between a transport and :class:`~.session.Session`.
"""
