"""DiskCache faults degrade to a miss or a clear error: no hang, no unbounded read, no trust leak."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hypergraph import DiskCache

posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX modes and FIFOs")


def key_for(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def entry_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / key[2:]


def test_a_short_key_with_a_future_mtime_fails_within_a_bounded_wait(cache_dir: Path) -> None:
    """A truncated hmac.key dated in the future is reported as corrupt instead of spinning."""
    cache_dir.mkdir(mode=0o700)
    key_file = cache_dir / "hmac.key"
    key_file.write_bytes(b"short")
    key_file.chmod(0o600)
    future = time.time() + 3600
    os.utime(key_file, (future, future))
    started = time.monotonic()
    with pytest.raises(ValueError, match="corrupt"):
        DiskCache(cache_dir)
    assert time.monotonic() - started < 30


@posix_only
def test_a_symlinked_folder_is_resolved_once(tmp_path: Path) -> None:
    """Swapping the symlink to another folder afterwards does not move the cache there."""
    real = tmp_path / "real"
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    link = tmp_path / "link"
    real.mkdir(mode=0o700)
    link.symlink_to(real)
    cache = DiskCache(link)
    link.unlink()
    link.symlink_to(other)
    cache.set(key_for("a"), 1)
    assert entry_path(real, key_for("a")).exists()
    assert not any(other.iterdir())
    assert cache.get(key_for("a")) == (True, 1)


@posix_only
def test_an_entry_subfolder_others_can_write_is_not_trusted(cache_dir: Path) -> None:
    """A subfolder chmodded to 0777 is a miss on read and is not written into."""
    cache = DiskCache(cache_dir)
    key = key_for("a")
    cache.set(key, 1)
    entry_path(cache_dir, key).parent.chmod(0o777)
    assert cache.get(key) == (False, None)
    other = key[:2] + key_for("b")[2:]
    cache.set(other, 2)
    assert not entry_path(cache_dir, other).exists()


@posix_only
def test_a_symlinked_entry_subfolder_is_not_followed(cache_dir: Path, tmp_path: Path) -> None:
    """A subfolder replaced by a symlink to another folder is ignored."""
    cache = DiskCache(cache_dir)
    key = key_for("a")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (cache_dir / key[:2]).symlink_to(elsewhere)
    cache.set(key, 1)
    assert not any(elsewhere.iterdir())
    assert cache.get(key) == (False, None)


@posix_only
def test_a_fifo_at_an_entry_path_is_a_miss_not_a_hang(cache_dir: Path) -> None:
    """get() on a FIFO returns a miss at once (non-blocking open, regular files only)."""
    cache = DiskCache(cache_dir)
    key = key_for("fifo")
    path = entry_path(cache_dir, key)
    path.parent.mkdir(mode=0o700)
    os.mkfifo(path)
    assert cache.get(key) == (False, None)


@posix_only
def test_a_symlink_to_dev_zero_at_an_entry_path_is_a_miss(cache_dir: Path) -> None:
    """An entry that is a symlink (to /dev/zero) is not followed, so nothing unbounded is read."""
    cache = DiskCache(cache_dir)
    key = key_for("zero")
    path = entry_path(cache_dir, key)
    path.parent.mkdir(mode=0o700)
    path.symlink_to("/dev/zero")
    assert cache.get(key) == (False, None)
    assert not path.is_symlink()


def test_a_rotated_key_is_adopted_and_entries_survive(cache_dir: Path) -> None:
    """After another process replaces hmac.key, entries it writes are hits here, not evictions."""
    mine = DiskCache(cache_dir)
    (cache_dir / "hmac.key").unlink()
    theirs = DiskCache(cache_dir)  # makes a new key, as a restarted process would
    key = key_for("shared")
    theirs.set(key, "value")
    assert mine.get(key) == (True, "value")
    mine.set(key_for("mine"), 1)
    assert theirs.get(key_for("mine")) == (True, 1)


def test_a_deleted_and_recreated_folder_is_adopted(cache_dir: Path) -> None:
    """Processes keep sharing entries after the folder is deleted and recreated under them."""
    first = DiskCache(cache_dir)
    shutil.rmtree(cache_dir)
    first.set(key_for("a"), 1)  # recreates the folder and a key
    second = DiskCache(cache_dir)
    assert second.get(key_for("a")) == (True, 1)
    second.set(key_for("b"), 2)
    assert first.get(key_for("b")) == (True, 2)


def test_stale_temporary_files_of_a_killed_writer_are_swept(cache_dir: Path) -> None:
    """A .tmp-* file older than ten minutes disappears when a DiskCache opens the folder."""
    DiskCache(cache_dir)
    sub = cache_dir / "ab"
    sub.mkdir(mode=0o700)
    stale, fresh = sub / ".tmp-stale", sub / ".tmp-fresh"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    DiskCache(cache_dir)
    assert not stale.exists()
    assert fresh.exists()


_KILLED_WRITER = """
import os, sys, tempfile
from pathlib import Path
folder = Path(sys.argv[1]) / "cd"
folder.mkdir(mode=0o700, exist_ok=True)
fd, name = tempfile.mkstemp(prefix=".tmp-", dir=folder)
os.write(fd, b"half an entry")
print(name, flush=True)
os.kill(os.getpid(), 9)
"""


@posix_only
def test_the_temporary_file_of_a_sigkilled_writer_is_swept_once_stale(cache_dir: Path) -> None:
    """A writer killed with SIGKILL mid-write leaves a temp file that a later DiskCache removes."""
    DiskCache(cache_dir)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_WRITER), str(cache_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == -9
    left = Path(done.stdout.strip())
    assert left.exists()
    old = time.time() - 3600
    os.utime(left, (old, old))
    DiskCache(cache_dir)
    assert not left.exists()


def test_len_counts_entries_and_clear_deletes_them(cache_dir: Path) -> None:
    """len() is the number of stored entries; clear() empties the cache but keeps it usable."""
    cache = DiskCache(cache_dir)
    for label in "abc":
        cache.set(key_for(label), label)
    assert len(cache) == 3
    cache.clear()
    assert len(cache) == 0
    assert cache.get(key_for("a")) == (False, None)
    cache.set(key_for("a"), "again")
    assert cache.get(key_for("a")) == (True, "again")


def test_max_bytes_evicts_the_least_recently_used_entries(cache_dir: Path) -> None:
    """Past the size limit, the entries used longest ago are deleted first."""
    blob = b"x" * 10_000
    cache = DiskCache(cache_dir, max_bytes=35_000)
    keys = [key_for(str(i)) for i in range(3)]
    for i, key in enumerate(keys):
        cache.set(key, blob)
        old = time.time() - 100 + i
        os.utime(entry_path(cache_dir, key), (old, old))
    assert cache.get(keys[0])[0]  # now the most recently used
    cache.set(key_for("new"), blob)
    assert cache.get(keys[0])[0]
    assert cache.get(key_for("new"))[0]
    assert not cache.get(keys[1])[0]
    assert sum(p.stat().st_size for p in cache_dir.glob("??/*")) <= 35_000


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_max_bytes_must_be_a_positive_int(cache_dir: Path, bad: object) -> None:
    """A size limit that is not a positive int is a ValueError."""
    with pytest.raises(ValueError, match="max_bytes"):
        DiskCache(cache_dir, max_bytes=bad)  # type: ignore[arg-type]


def test_entry_files_are_private(cache_dir: Path) -> None:
    """Entries and their subfolders are created without group/other access."""
    cache = DiskCache(cache_dir)
    key = key_for("a")
    cache.set(key, 1)
    path = entry_path(cache_dir, key)
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
