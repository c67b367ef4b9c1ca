"""Per-document time limits that hold in any thread: the CLI's main thread, a Prefect task's
worker thread, a Dask worker.

A signal (SIGALRM) can only interrupt the main thread, so the limit is enforced by one watchdog
thread per process instead. Each guarded block registers its thread; when the block has used
its time, the watchdog raises :class:`TimeLimitExceeded` *in that thread* (CPython's
``PyThreadState_SetAsyncExc``), and raises it again every half second in case the code under
the limit swallowed it. Arming is one dictionary store under an uncontended lock, cheap enough
for every stage of every document.

The time counted is the thread's own CPU time (``pthread_getcpuclockid``), not the wall clock:
on a loaded machine (a nightly run sharing its cores, a Dask worker with busy neighbours) a
document that needs 5 s of CPU can take a minute of wall time, and a wall-clock limit would
reject it on one night and keep it on the next. A wall-clock backstop of ``WALL_FACTOR`` times
the limit still ends a block that waits without using CPU.

Limits: the exception arrives when the thread next runs Python bytecode, so a single long call
into C (one huge regular expression match, one lxml parse) finishes first; that is why HTML
pages also get a structural pre-check (``ingest.html.precheck``) before they are parsed.
``TimeLimitExceeded`` derives from BaseException so that library code catching ``Exception``
cannot hide it.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from typing import Iterator

POLL_SECONDS = 0.05
REFIRE_SECONDS = 0.5
WALL_FACTOR = 10.0


class TimeLimitExceeded(BaseException):
    """Raised inside a block that ran past its time limit."""


class _Watchdog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # thread ident -> _Armed
        self.armed: dict[int, _Armed] = {}
        self.fired: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="cleancorpus-time-limit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            if not self.armed:
                continue
            now = time.monotonic()
            with self.lock:
                for ident, entry in self.armed.items():
                    if now >= entry.next_fire and entry.over(now):
                        _raise_in(ident, TimeLimitExceeded)
                        self.fired.add(ident)
                        entry.next_fire = now + REFIRE_SECONDS


class _Armed:
    """One guarded block: its thread's CPU clock and where it started, and the wall backstop."""

    __slots__ = ("clock", "cpu_start", "seconds", "wall_deadline", "next_fire")

    def __init__(self, seconds: float) -> None:
        try:
            self.clock: int | None = time.pthread_getcpuclockid(threading.get_ident())
            self.cpu_start = time.clock_gettime(self.clock)
        except (AttributeError, OSError):  # no per-thread CPU clock here: wall time only
            self.clock, self.cpu_start = None, 0.0
        now = time.monotonic()
        self.seconds = seconds
        self.wall_deadline = now + (seconds * WALL_FACTOR if self.clock is not None else seconds)
        self.next_fire = now + (seconds if self.clock is None else 0.0)

    def over(self, now: float) -> bool:
        if now >= self.wall_deadline:
            return True
        if self.clock is None:
            return False
        try:
            return time.clock_gettime(self.clock) - self.cpu_start >= self.seconds
        except OSError:  # the thread is gone; its entry is about to be removed
            return False


def _raise_in(ident: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc) if exc else None)


_watchdog: _Watchdog | None = None
_start_lock = threading.Lock()


def _get_watchdog() -> _Watchdog:
    global _watchdog
    if _watchdog is None:
        with _start_lock:
            if _watchdog is None:
                _watchdog = _Watchdog()
    return _watchdog


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in this thread if the block runs over ``seconds``
    (0 or less: no limit). Blocks do not nest: an inner limit replaces the outer one."""
    if not seconds or seconds <= 0:
        yield
        return
    wd = _get_watchdog()
    ident = threading.get_ident()
    entry = _Armed(seconds)
    with wd.lock:
        wd.armed[ident] = entry
    try:
        yield
    finally:
        # the exception may arrive while we disarm (before the lock is taken): disarm again
        while True:
            try:
                _disarm(wd, ident)
                break
            except TimeLimitExceeded:
                continue


def _disarm(wd: _Watchdog, ident: int) -> None:
    with wd.lock:
        wd.armed.pop(ident, None)
        if ident in wd.fired:
            wd.fired.discard(ident)
            # the block ended before a pending exception was delivered: withdraw it, so it
            # cannot surface later in code that is not under the limit
            _raise_in(ident, None)
