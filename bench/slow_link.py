"""A slow link between a browser and the server: a TCP proxy on 127.0.0.1 that delays
every byte by half the round trip each way and lets through at most the link's rate.

DevTools' network emulation does not throttle page navigations in the Chromium at hand
(a 40 kB page arrived in 0.1 s "over" 256 kbit/s), so the benches that measure a slow
link put this between the two instead: what the browser sees is what a satellite link
would give it, navigations, scripts, data and cache revalidations alike.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CHUNK = 4096


@dataclass(frozen=True)
class Link:
    round_trip_ms: float
    kilobits_per_second: float

    @property
    def bytes_per_second(self) -> float:
        return self.kilobits_per_second * 1000 / 8


class _Direction:
    """One way of one link: bytes leave when the line is free, arrive half a round trip
    later, in order."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.free_at = 0.0

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = asyncio.create_task(self._deliver(queue, writer))
        try:
            while data := await reader.read(CHUNK):
                now = time.monotonic()
                self.free_at = max(now, self.free_at) + len(data) / self.link.bytes_per_second
                queue.put_nowait((self.free_at + self.link.round_trip_ms / 2000, data))
        finally:
            queue.put_nowait((0.0, b""))
            await deliver

    @staticmethod
    async def _deliver(
        queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter
    ) -> None:
        while True:
            arrives, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, arrives - time.monotonic()))
            writer.write(data)
            await writer.drain()
        writer.close()


async def _serve(link: Link, port: int, upstream: int, ready: threading.Event) -> None:
    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _Direction(link).pump(reader, up_writer),
            _Direction(link).pump(up_reader, writer),
            return_exceptions=True,
        )

    server = await asyncio.start_server(connect, "127.0.0.1", port)
    ready.set()
    async with server:
        await server.serve_forever()


@contextmanager
def slow_link(link: Link, port: int, upstream: int) -> Iterator[str]:
    """Serve 127.0.0.1:``port`` as ``upstream`` over ``link``; yields the base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    task = loop.create_task(_serve(link, port, upstream, ready))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    if not ready.wait(timeout=10):
        raise RuntimeError("the slow link did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(task.cancel)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
