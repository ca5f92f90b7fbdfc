"""``DiskCache``: node results pickled to files, signed, shared safely between processes (SPEC CA7).

Layout of ``cache_dir``::

    hmac.key          32 random bytes, mode 0600: the signing key (created once, atomically)
    ab/cdef...        one file per entry, named by its hex key (first two digits = subfolder)

An entry file is ``MAGIC | HMAC-SHA256(key file, MAGIC + entry key + payload) | payload``, where
the payload is the pickled value. The signature covers the entry's own key, so a valid entry
copied under another name is rejected too. ``get`` checks the signature with
``hmac.compare_digest`` *before* ``pickle.loads``: a tampered, truncated, foreign or unsigned
file is never unpickled; it is deleted and reported as a miss. Anyone who can read ``hmac.key``
can forge entries, so the key is as sensitive as the code you run: keep the folder private.

Because a planted key would let anyone forge "signed" entries, the key is only trusted when no
one else could have written it: ``DiskCache`` refuses (``PermissionError``, naming the path and
the fix) a ``cache_dir`` that is not owned by the current user or is writable by group or others,
and a ``hmac.key`` that is a symlink (it is opened with ``O_NOFOLLOW``), is not a regular file,
is not owned by the current user or is readable or writable by group or others. A folder this
class creates is 0700 and its key 0600, so the normal path never trips these checks; an existing
folder is checked, not silently tightened.

Why one file per entry with ``os.replace`` rather than SQLite in WAL mode: entries are independent
blobs that are written once and read many times, which needs no transactions. Writing to a
temporary file in the same folder and renaming it over the entry is atomic on POSIX and Windows,
so a reader sees the old entry, the new one or none — never half of one — without taking any
lock; two processes writing the same key simply leave the last complete write. No writer ever
waits for another (SQLite serialises writers and surfaces ``database is locked`` under
contention, and WAL does not work on network file systems). A crash mid-write leaves at most a
stray ``.tmp-*`` file; a file cut short by a crash after the rename fails its signature and is a
miss, so no ``fsync`` is needed on the hot path. The signing key itself is published with
``os.link``, which fails if the name exists: two processes starting at once both read the one
key that won.

Faults degrade to a miss or a clear error, never a hang or an unbounded read:

- the folder path is resolved once, at construction, and every later call uses that resolved
  folder, so a symlink swapped in afterwards is never followed;
- entry subfolders are checked on every access like the folder itself (a real directory, yours,
  not group/other-writable); one that fails is a miss, and nothing is written into it;
- entries are opened with ``O_NOFOLLOW | O_NONBLOCK`` and must be regular files; a FIFO, device
  or symlink at an entry path is a logged miss and is removed, and at most the file's size is read;
- a signing key shorter than 32 bytes is waited for at most two seconds (a writer on the
  exclusive-create fallback), then reported as corrupt;
- when ``hmac.key`` is replaced (rotated, or the folder deleted and recreated by another
  process), the next write or failed check notices the new file and adopts its key instead of
  evicting the other processes' entries; a deleted folder is recreated on the next write;
- temporary files left by a writer killed mid-write are swept when a ``DiskCache`` is created
  (those older than ten minutes).

``max_bytes`` bounds the total size of the entries: a hit marks an entry recently used (its
modification time), and a write that takes the folder past the limit deletes the least recently
used entries until the total is at most 90 % of it. Several processes may share a bounded folder;
each enforces the limit for what it sees.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import os
import pickle
import re
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path
from typing import Any

from hypergraph.cache import dump_entry

__all__ = ["DiskCache"]

logger = logging.getLogger("hypergraph.cache.disk")

KEY_FILE = "hmac.key"
_SECRET_BYTES = 32
_MAGIC = b"HGC1"
_SIGNATURE_BYTES = sha256().digest_size
_HEADER = len(_MAGIC) + _SIGNATURE_BYTES
_VALID_KEY = re.compile(r"[0-9a-f]{3,128}")
# POSIX only: on Windows the ownership and mode checks are skipped (NTFS uses ACLs instead).
_POSIX_PERMISSIONS = hasattr(os, "getuid")
# O_NONBLOCK: a FIFO planted as the key or an entry must not hang the open.
_KEY_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_ENTRY_OPEN_FLAGS = _KEY_OPEN_FLAGS | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_KEY_WAIT_SECONDS = 2.0
_STALE_TEMP_SECONDS = 600.0
_TEMP_PREFIX = ".tmp-"
_SUBFOLDER = re.compile(r"[0-9a-f]{2}")
_ENTRY_NAME = re.compile(r"[0-9a-f]{1,126}")
_EVICT_TO = 0.9


class DiskCache:
    """A persistent cache backend: pickled values in ``cache_dir``, signed with an HMAC key.

    ``DiskCache(".cache")`` and ``DiskCache(cache_dir=".cache")`` are the same; ``~`` expands.
    Keys must be lowercase hex strings (what ``hypergraph.cache.cache_key`` returns); anything
    else raises ``ValueError``, so a key can never name a path outside the folder. Values that
    cannot be pickled are skipped with a warning on the ``hypergraph.cache.disk`` logger. Safe for
    concurrent threads and processes sharing one folder.

    ``max_bytes`` (optional) bounds the total size of the stored entries, evicting the least
    recently used ones; ``len(cache)`` counts the entries and ``clear()`` deletes them all.

    Raises ``PermissionError`` when ``cache_dir`` or its ``hmac.key`` could have been written by
    someone else (see the module docstring): use a private folder, or ``chmod 700`` the folder
    and ``chmod 600`` the key, or delete the key to have a new one made.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] = "~/.cache/hypergraph",
        *,
        max_bytes: int | None = None,
    ) -> None:
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1
        ):
            raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")
        requested = Path(cache_dir).expanduser()
        requested.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Resolved once: later calls never re-resolve a symlink that may have been swapped.
        self.cache_dir = requested.resolve(strict=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        _check_private_folder(self.cache_dir)
        self._secret, self._key_id = _load_or_create_secret(self.cache_dir / KEY_FILE)
        self._sweep_stale_temporaries()
        self._approx_bytes = self._total_bytes() if max_bytes is not None else 0

    # -- the backend protocol ---------------------------------------------------------------

    def get(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` for a valid stored entry; ``(False, None)`` otherwise.

        An entry whose signature does not verify, or that cannot be unpickled, is deleted.
        """
        path = self._path(key)
        if not self._subfolder_ok(path.parent, create=False):
            return False, None
        read = _read_entry(path)
        if read is None:
            return False, None
        data, inode = read
        payload = self._verified_payload(key, data)
        if payload is None and self._adopt_new_key():
            payload = self._verified_payload(key, data)
        if payload is None:
            logger.warning("Cache entry %s failed its integrity check; evicting it.", path)
            _evict(path, inode)
            return False, None
        try:
            value = pickle.loads(payload)
        except Exception as exc:
            # Signed by us, so not tampered with: typically a class that was renamed or removed.
            logger.warning("Cache entry %s cannot be unpickled (%s: %s); evicting it.",
                           path, type(exc).__name__, exc)
            _evict(path, inode)
            return False, None
        if self.max_bytes is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used, for the size limit
        return True, value

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` atomically; an unpicklable value is skipped with a warning."""
        path = self._path(key)
        payload = dump_entry(key, value)
        if payload is None:
            return
        try:
            self._adopt_new_key()
            data = _MAGIC + self._sign(key, payload) + payload
            if not self._subfolder_ok(path.parent, create=True):
                return
            _write_atomically(path, data)
        except OSError as exc:
            logger.warning("Not caching entry %s: cannot write %s (%s: %s).",
                           key, path, type(exc).__name__, exc)
            return
        if self.max_bytes is not None:
            self._account(len(data))

    # -- housekeeping -------------------------------------------------------------------------

    def clear(self) -> None:
        """Delete every entry (the signing key stays, so other processes keep working)."""
        for path, _info in self._entries():
            with contextlib.suppress(OSError):
                os.unlink(path)
        with self._lock:
            self._approx_bytes = 0

    def __len__(self) -> int:
        """How many entries the folder holds now (it scans the folder)."""
        return sum(1 for _ in self._entries())

    def __repr__(self) -> str:
        limit = f", max_bytes={self.max_bytes!r}" if self.max_bytes is not None else ""
        return f"DiskCache({str(self.cache_dir)!r}{limit})"

    # -- internals ----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or not _VALID_KEY.fullmatch(key):
            raise ValueError(
                f"DiskCache keys are lowercase hex strings of 3 to 128 digits, got {key!r}"
            )
        return self.cache_dir / key[:2] / key[2:]

    def _sign(self, key: str, payload: bytes) -> bytes:
        message = hmac.new(self._secret, _MAGIC, sha256)
        message.update(key.encode("ascii"))
        message.update(payload)
        return message.digest()

    def _verified_payload(self, key: str, data: bytes) -> bytes | None:
        if len(data) < _HEADER or not data.startswith(_MAGIC):
            return None
        signature, payload = data[len(_MAGIC):_HEADER], data[_HEADER:]
        if not hmac.compare_digest(signature, self._sign(key, payload)):
            return None
        return payload

    def _adopt_new_key(self) -> bool:
        """Re-read ``hmac.key`` if it is another file than the one loaded; True if it changed.

        A deleted folder (or key) is recreated, with a new key, as a fresh ``DiskCache`` would.
        """
        path = self.cache_dir / KEY_FILE
        try:
            current = _file_id(os.lstat(path))
        except FileNotFoundError:
            current = None
        if current == self._key_id:
            return False
        with self._lock:
            if current is None:
                self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            _check_private_folder(self.cache_dir)
            secret, key_id = _load_or_create_secret(path)
            changed = secret != self._secret
            self._secret, self._key_id = secret, key_id
        if changed:
            logger.info("Cache signing key %s changed; using the new key.", path)
        return changed

    def _subfolder_ok(self, folder: Path, *, create: bool) -> bool:
        """The entry subfolder is a real, private directory of ours (created when asked)."""
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            if not create:
                return False
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            info = os.lstat(folder)
        problem = _folder_problem(info)
        if problem is None:
            return True
        logger.warning(
            "Ignoring cache subfolder %s: it %s, so its entries may not be ours. Delete it, or "
            "`chmod 700 %s` it if it is yours.", folder, problem, folder,
        )
        return False

    def _entries(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every entry file (path, lstat) in the private subfolders; temporaries excluded."""
        try:
            subfolders = list(os.scandir(self.cache_dir))
        except OSError:
            return
        for sub in subfolders:
            if not _SUBFOLDER.fullmatch(sub.name) or not sub.is_dir(follow_symlinks=False):
                continue
            try:
                if _folder_problem(sub.stat(follow_symlinks=False)) is not None:
                    continue
                children = list(os.scandir(sub.path))
            except OSError:
                continue
            for child in children:
                if _ENTRY_NAME.fullmatch(child.name):
                    with contextlib.suppress(OSError):
                        info = child.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode):
                            yield child.path, info

    def _sweep_stale_temporaries(self) -> None:
        """Delete ``.tmp-*`` files that a writer killed mid-write left behind."""
        cutoff = time.time() - _STALE_TEMP_SECONDS
        folders = [self.cache_dir]
        with contextlib.suppress(OSError):
            folders += [
                Path(e.path) for e in os.scandir(self.cache_dir)
                if _SUBFOLDER.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
            ]
        for folder in folders:
            try:
                children = list(os.scandir(folder))
            except OSError:
                continue
            for child in children:
                if not child.name.startswith(_TEMP_PREFIX):
                    continue
                with contextlib.suppress(OSError):
                    info = child.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                        os.unlink(child.path)

    def _total_bytes(self) -> int:
        return sum(info.st_size for _path, info in self._entries())

    def _account(self, written: int) -> None:
        """Add a write to the running total; past ``max_bytes``, evict the least recently used."""
        assert self.max_bytes is not None
        with self._lock:
            self._approx_bytes += written
            if self._approx_bytes <= self.max_bytes:
                return
            entries = sorted(self._entries(), key=lambda e: e[1].st_mtime_ns)
            total = sum(info.st_size for _path, info in entries)
            target = int(self.max_bytes * _EVICT_TO)
            for path, info in entries:
                if total <= target:
                    break
                with contextlib.suppress(OSError):
                    os.unlink(path)
                total -= info.st_size
            self._approx_bytes = total


def _file_id(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


def _folder_problem(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory"
    if _POSIX_PERMISSIONS and info.st_uid != os.getuid():
        return f"is owned by uid {info.st_uid}, not by you (uid {os.getuid()})"
    if _POSIX_PERMISSIONS and info.st_mode & 0o022:
        return f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def _read_entry(path: Path) -> tuple[bytes, int] | None:
    """An entry's bytes and inode; ``None`` (a miss) when absent or not a regular file.

    Never blocks on a FIFO and never follows a symlink; reads at most the file's size.
    """
    try:
        fd = os.open(path, _ENTRY_OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            logger.warning("Cache entry %s is a symbolic link; removing it.", path)
            with contextlib.suppress(OSError):
                os.unlink(path)
        else:
            logger.warning("Cannot read cache entry %s (%s: %s); treating it as a miss.",
                           path, type(exc).__name__, exc)
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            logger.warning("Cache entry %s is not a regular file; removing it.", path)
            _evict(path, info.st_ino)
            return None
        chunks = []
        remaining = info.st_size
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks), info.st_ino
    except OSError as exc:
        logger.warning("Cannot read cache entry %s (%s: %s); treating it as a miss.",
                       path, type(exc).__name__, exc)
        return None
    finally:
        os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a private temporary file next to ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)  # created with mode 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _evict(path: Path, inode: int) -> None:
    """Delete ``path`` unless another writer has meanwhile replaced it (a new file, a new inode)."""
    with contextlib.suppress(OSError):
        if os.stat(path).st_ino == inode:
            os.unlink(path)


def _check_private_folder(folder: Path) -> None:
    """Refuse a cache folder that another user owns or that group or others may write to."""
    if not _POSIX_PERMISSIONS:
        return
    info = os.stat(folder)
    problems = []
    if info.st_uid != os.getuid():
        problems.append(f"is owned by uid {info.st_uid}, not by you (uid {os.getuid()})")
    if info.st_mode & 0o022:
        problems.append(f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):o})")
    if problems:
        raise PermissionError(
            f"Refusing to use the cache folder {folder}: it {' and '.join(problems)}, so someone "
            f"else could plant the signing key and make this process unpickle their data. Use a "
            f"private folder of your own, or fix this one with `chmod 700 {folder}` (as its owner)."
        )


def _load_or_create_secret(path: Path) -> tuple[bytes, tuple[int, int, int, int]]:
    """Read the signing key (and which file it came from), creating it first if no process has."""
    if not os.path.lexists(path):
        fd, tmp = tempfile.mkstemp(prefix=".tmp-key-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_bytes(_SECRET_BYTES))
                file.flush()
                os.fsync(file.fileno())
            try:
                # Publishes the complete file under its name, or fails if a key already exists.
                os.link(tmp, path)
            except FileExistsError:
                pass
            except OSError:
                # No hard links on this file system: exclusive create, readers wait for 32 bytes.
                _create_exclusively(path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return _read_secret(path)


def _create_exclusively(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(secrets.token_bytes(_SECRET_BYTES))


def _read_secret(path: Path) -> tuple[bytes, tuple[int, int, int, int]]:
    deadline = time.monotonic() + _KEY_WAIT_SECONDS
    while True:
        secret, info = _read_private_key(path)
        if len(secret) == _SECRET_BYTES:
            return secret, _file_id(info)
        # A short key younger than a second may still be being written by another process
        # (only on the exclusive-create fallback): wait for it, but never longer than the
        # deadline, whatever its mtime says (a future mtime must not make us spin forever).
        if time.time() - info.st_mtime > 1.0 or time.monotonic() >= deadline:
            raise ValueError(
                f"The cache signing key {path} is corrupt ({len(secret)} bytes instead of "
                f"{_SECRET_BYTES}). Delete the cache folder {path.parent} to start afresh."
            )
        time.sleep(0.01)


def _read_private_key(path: Path) -> tuple[bytes, os.stat_result]:
    """Read the key file without following a symlink, after checking no one else could write it.

    The checks run on the opened file (``fstat``), so the file cannot be swapped in between.
    """
    fix = (
        f"Delete {path} to have a new key made, or use a private cache folder of your own "
        f"(`chmod 700 {path.parent}`, `chmod 600 {path}`)."
    )
    try:
        fd = os.open(path, _KEY_OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise PermissionError(
                f"Refusing to use the cache signing key {path}: it is a symbolic link, which "
                f"may point at a key someone else chose. {fix}"
            ) from exc
        raise
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        problems = []
        if not stat.S_ISREG(info.st_mode):
            problems.append("is not a regular file")
        if _POSIX_PERMISSIONS and info.st_uid != os.getuid():
            problems.append(f"is owned by uid {info.st_uid}, not by you (uid {os.getuid()})")
        if _POSIX_PERMISSIONS and info.st_mode & 0o077:
            problems.append(
                f"is accessible to group or others (mode {stat.S_IMODE(info.st_mode):o})"
            )
        if problems:
            raise PermissionError(
                f"Refusing to use the cache signing key {path}: it {' and '.join(problems)}, so "
                f"it may be known to someone who could then make this process unpickle their "
                f"data. {fix}"
            )
        return file.read(), info
