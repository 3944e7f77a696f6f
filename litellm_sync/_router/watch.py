"""A daemon thread that calls back when a file's modification time or size changes (the Router's hot reload)."""

from __future__ import annotations

import os
import threading
from typing import Callable

from .._engine.redact import get_logger

log = get_logger()


class Watcher:
    """Polls `path` every `interval` seconds and calls `on_change` (in the watcher thread) when it changed."""

    def __init__(self, path: str, interval: float, on_change: Callable[[], None]) -> None:
        self.path = path
        self.interval = interval
        self.on_change = on_change
        self._stop = threading.Event()
        self._seen = self._signature()
        self._thread = threading.Thread(target=self._run, name=f"router-watch-{os.path.basename(path)}", daemon=True)
        self._thread.start()

    def _signature(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            signature = self._signature()
            if signature is None or signature == self._seen:
                continue
            self._seen = signature
            try:
                self.on_change()
            except Exception as error:  # the watcher must outlive a failed reload
                log.error("router watcher: reload of %s failed: %s", self.path, error)

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
