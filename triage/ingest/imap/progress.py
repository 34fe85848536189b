"""Progress through a folder's backlog: a bar on a terminal, a line every few seconds in logs."""

from __future__ import annotations

import logging
import time
from typing import Protocol

log = logging.getLogger("triage.imap")


class Reporter(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


class LogReporter:
    """Periodic progress lines: at most one every ``every`` seconds, and one at the end."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.label, self.total, self.done = "", 0, 0
        self.t0 = self.last = 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.t0 = self.last = time.monotonic()
        log.info("%s: %d new message(s) to read", label, total)

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line(now)

    def finish(self) -> None:
        if self.total:
            self._line(time.monotonic())

    def _line(self, now: float) -> None:
        rate = self.done / max(now - self.t0, 1e-9)
        log.info("%s: %d of %d messages (%.0f msg/s)", self.label, self.done, self.total, rate)


class RichReporter:
    """A progress bar on the terminal (rich), one per folder backlog."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: object = None

    def start(self, label: str, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)  # type: ignore[arg-type]

    def finish(self) -> None:
        self._progress.stop()


def make_reporter(tty: bool) -> Reporter:
    return RichReporter() if tty else LogReporter()
