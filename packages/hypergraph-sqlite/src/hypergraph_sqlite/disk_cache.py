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
import time
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
# O_NONBLOCK: a FIFO planted as the key must not hang the open.
_KEY_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class DiskCache:
    """A persistent cache backend: pickled values in ``cache_dir``, signed with an HMAC key.

    ``DiskCache(".cache")`` and ``DiskCache(cache_dir=".cache")`` are the same; ``~`` expands.
    Keys must be lowercase hex strings (what ``hypergraph.cache.cache_key`` returns); anything
    else raises ``ValueError``, so a key can never name a path outside the folder. Values that
    cannot be pickled are skipped with a warning on the ``hypergraph.cache.disk`` logger. Safe for
    concurrent threads and processes sharing one folder.

    Raises ``PermissionError`` when ``cache_dir`` or its ``hmac.key`` could have been written by
    someone else (see the module docstring): use a private folder, or ``chmod 700`` the folder
    and ``chmod 600`` the key, or delete the key to have a new one made.
    """

    def __init__(self, cache_dir: str | os.PathLike[str] = "~/.cache/hypergraph") -> None:
        self.cache_dir = Path(cache_dir).expanduser()
        self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private_folder(self.cache_dir)
        self._secret = _load_or_create_secret(self.cache_dir / KEY_FILE)

    def get(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` for a valid stored entry; ``(False, None)`` otherwise.

        An entry whose signature does not verify, or that cannot be unpickled, is deleted.
        """
        path = self._path(key)
        try:
            with path.open("rb") as file:
                inode = os.fstat(file.fileno()).st_ino
                data = file.read()
        except FileNotFoundError:
            return False, None
        except OSError as exc:
            logger.warning("Cannot read cache entry %s (%s: %s); treating it as a miss.",
                           path, type(exc).__name__, exc)
            return False, None
        payload = self._verified_payload(key, data)
        if payload is None:
            logger.warning("Cache entry %s failed its integrity check; evicting it.", path)
            _evict(path, inode)
            return False, None
        try:
            return True, pickle.loads(payload)
        except Exception as exc:
            # Signed by us, so not tampered with: typically a class that was renamed or removed.
            logger.warning("Cache entry %s cannot be unpickled (%s: %s); evicting it.",
                           path, type(exc).__name__, exc)
            _evict(path, inode)
            return False, None

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` atomically; an unpicklable value is skipped with a warning."""
        path = self._path(key)
        payload = dump_entry(key, value)
        if payload is None:
            return
        data = _MAGIC + self._sign(key, payload) + payload
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            _write_atomically(path, data)
        except OSError as exc:
            logger.warning("Not caching entry %s: cannot write %s (%s: %s).",
                           key, path, type(exc).__name__, exc)

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

    def __repr__(self) -> str:
        return f"DiskCache({str(self.cache_dir)!r})"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a private temporary file next to ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # created with mode 0600
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


def _load_or_create_secret(path: Path) -> bytes:
    """Read the signing key, creating it first if no process has yet."""
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


def _read_secret(path: Path) -> bytes:
    while True:
        secret, info = _read_private_key(path)
        if len(secret) == _SECRET_BYTES:
            return secret
        # A short key younger than a second is still being written by another process (only
        # possible on the exclusive-create fallback); anything else is damage.
        if time.time() - info.st_mtime > 1.0:
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
