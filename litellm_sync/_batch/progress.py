"""Batch progress on a terminal (tqdm when installed, else one self-rewriting line; nothing when not a TTY) and
the final summary's text."""

from __future__ import annotations

import sys
import threading
import time
from decimal import Decimal
from typing import Any, TextIO

from .runner import Totals

REFRESH = 0.2  # seconds between redraws of the built-in line


def usd(value: Decimal) -> str:
    """A USD amount: to the cent from $1, with more digits below (batches of small calls add up slowly)."""
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${value:.6f}" if abs(value) < Decimal("0.01") else f"${value:.4f}"


def duration(seconds: float) -> str:
    """1.2s, 3m05s, 2h01m."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def status_text(totals: Totals, elapsed: float) -> str:
    """errors, spend and ETA, as shown after the bar."""
    rate = totals.done / elapsed if elapsed > 0 else 0.0
    left = totals.total - totals.done
    eta = duration(left / rate) if rate > 0 and left > 0 else "-"
    spend = usd(totals.cost) + ("+?" if totals.unpriced else "")
    return f"{totals.failed} errors, {totals.retries} retries, {spend}, ETA {eta}"


class Progress:
    """Redraws after records; `close` ends the line. `enabled=None` shows it only when `stream` is a terminal."""

    def __init__(self, total: int, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._drawn = 0.0
        self._width = 0
        self._bar: Any = None
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, unit="item", file=self.stream, dynamic_ncols=True, smoothing=0.1)

    def update(self, totals: Totals) -> None:
        """Show the totals (throttled; called by worker threads after each record)."""
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if self._bar is not None:
                self._bar.n = totals.done
                if now - self._drawn >= REFRESH or totals.done == totals.total:
                    self._drawn = now
                    self._bar.set_postfix_str(status_text(totals, now - self.started), refresh=False)
                    self._bar.refresh()
                return
            if now - self._drawn < REFRESH and totals.done != totals.total:
                return
            self._drawn = now
            elapsed = now - self.started
            rate = totals.done / elapsed if elapsed > 0 else 0.0
            line = f"{totals.done}/{totals.total} done, {rate:.1f}/s, {status_text(totals, elapsed)}"
            self.stream.write("\r" + line + " " * max(self._width - len(line), 0))
            self._width = len(line)
            self.stream.flush()

    def close(self) -> None:
        """End the display (the summary prints after it)."""
        if not self.enabled:
            return
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            else:
                self.stream.write("\n")
                self.stream.flush()
