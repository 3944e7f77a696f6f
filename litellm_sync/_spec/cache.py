"""The load cache: a successful load's validated, resolved spec, pickled, keyed by everything that produced it.

JSON is not used on purpose: it turns non-string mapping keys into strings (`map: {true: ...}` would read
back as `{"true": ...}`), so a warm load could mean something else than the cold one. A pickle round-trips
the loaded Python values exactly. The key is a hash of the library version, the Python version, the source
of the spec loader (schema included), and the name and bytes of every file of the load, so any edit, upgrade
or schema change misses the cache and the files are validated again.

The cache lives in the platform's user cache directory (`$XDG_CACHE_HOME/litellm_sync` or
`~/.cache/litellm_sync` on Linux, `~/Library/Caches/litellm_sync` on macOS, `%LOCALAPPDATA%\\litellm_sync\\Cache`
on Windows) and is only written when that place is writable; `LITELLM_SYNC_CACHE_DIR` moves it and
`LITELLM_SYNC_CACHE_DIR=off` turns it off. Because unpickling runs code, a cache file is only read from a
directory owned by the current user that no one else can write to, and only when the file is ours too.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CACHE_ENV = "LITELLM_SYNC_CACHE_DIR"
_FORMAT = b"litellm_sync spec cache 2"


def user_cache_dir() -> Path:
    """The platform's per-user cache directory for this library."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
        return Path(base) / "litellm_sync" / "Cache"
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~")) / "Library" / "Caches" / "litellm_sync"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "litellm_sync"


def cache_dir() -> Path | None:
    """Where loads are cached: LITELLM_SYNC_CACHE_DIR, else the user cache dir; None when turned off."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured.lower() == "off":
        return None
    return Path(configured) if configured else user_cache_dir()


def _sources() -> bytes:
    """The spec loader's own source (schema and model included): a cached load is only valid for it."""
    digest = hashlib.sha256(_FORMAT)
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.digest()


# Taken once, when the loader is imported: the key must describe the code that runs, even if the files on
# disk change under a running process (an upgrade), or it would store old objects under the new key.
_SOURCES = _sources()


def cache_key(files: Sequence[tuple[str, bytes]]) -> str:
    """The cache key of a load made of these (name, content) files, in order."""
    from .. import __version__

    digest = hashlib.sha256(_SOURCES)
    digest.update(f"{__version__}|{sys.version_info[0]}.{sys.version_info[1]}".encode())
    for name, content in files:
        digest.update(b"\0%d\0" % len(name.encode()) + name.encode() + b"\0%d\0" % len(content) + content)
    return digest.hexdigest()


def _trusted(path: Path) -> bool:
    """A file (or directory) we may unpickle from: ours, and writable by nobody else (POSIX)."""
    if not hasattr(os, "getuid"):
        return True  # Windows: the per-user profile directory is private by default
    try:
        info = path.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read(key: str) -> Any:
    """The cached value for a key, or None (missing, unreadable, untrusted or from an incompatible run)."""
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"spec-{key}.pickle"
    try:
        if not (_trusted(directory) and _trusted(path)):
            return None
        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception:  # a damaged or incompatible cache entry only costs speed: load from the files
        return None


def write(key: str, value: Any) -> None:
    """Store a value under a key when the cache directory can be created and written; never raises."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK) or not _trusted(directory):
            return
        temporary = directory / f".spec-{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, directory / f"spec-{key}.pickle")
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass  # a read-only or full disk only costs speed
