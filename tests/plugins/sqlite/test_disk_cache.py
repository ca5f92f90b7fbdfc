"""DiskCache: persistent, signed, process-safe node-result cache (SPEC CA7)."""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import pickle
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import hypergraph
from hypergraph import DiskCache
from hypergraph.plugins import list_plugins


def key_for(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def entry_path(cache_dir: Path, key: str) -> Path:
    """Where DiskCache keeps the entry of ``key`` (documented layout: ``ab/cdef...``)."""
    return cache_dir / key[:2] / key[2:]


class MarkerBomb:
    """Unpickling this object writes ``path``: proof that a payload was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.write_text, (self.path, "unpickled!"))


# ---------------------------------------------------------------------------- the plugin
def test_disk_cache_is_imported_from_hypergraph_through_the_registry():
    """``from hypergraph import DiskCache`` resolves hypergraph-sqlite's registration."""
    sqlite = next(p for p in list_plugins() if p.distribution == "hypergraph-sqlite")
    assert [(r.name, r.kind) for r in sqlite.registrations] == [
        ("DiskCache", "cache"),
        ("SqliteCheckpointer", "checkpointer"),
    ]
    assert DiskCache.__module__ == "hypergraph_sqlite.disk_cache"
    assert hypergraph.DiskCache is DiskCache


def test_default_folder_is_the_user_cache():
    """Without arguments the cache lives in ``~/.cache/hypergraph``."""
    default = inspect.signature(DiskCache).parameters["cache_dir"].default
    assert default == "~/.cache/hypergraph"


def test_folder_may_be_given_positionally_or_by_keyword(cache_dir):
    """``DiskCache(path)`` and ``DiskCache(cache_dir=path)`` share the same entries."""
    DiskCache(cache_dir).set(key_for("a"), 1)
    assert DiskCache(cache_dir=cache_dir).get(key_for("a")) == (True, 1)


def test_folder_and_signing_key_are_private(cache_dir):
    """The new folder is 0700 and the 32-byte signing key 0600."""
    DiskCache(cache_dir)
    key_file = cache_dir / "hmac.key"
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32


@pytest.mark.parametrize(
    "key", ["../" + "a" * 61, "g" * 64, "ab/cd", "AB" * 32, "", "ab", "a" * 129, 12345]
)
def test_anything_but_a_lowercase_hex_key_is_refused(cache_dir, key):
    """Keys that could name another path, or are not lowercase hex, raise ``ValueError``."""
    cache = DiskCache(cache_dir)
    with pytest.raises(ValueError, match="lowercase hex"):
        cache.get(key)
    with pytest.raises(ValueError, match="lowercase hex"):
        cache.set(key, "value")


# ---------------------------------------------------------------------------- a planted key
posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")
OTHER_UID = 12345


def plant_key(cache_dir: Path, mode: int = 0o600) -> Path:
    """Write a known 32-byte key into ``cache_dir``, as an attacker sharing the folder could."""
    cache_dir.mkdir(mode=0o700, exist_ok=True)
    key_file = cache_dir / "hmac.key"
    key_file.write_bytes(b"k" * 32)
    key_file.chmod(mode)
    return key_file


@posix_only
@pytest.mark.parametrize("mode", [0o666, 0o644, 0o640, 0o602])
def test_a_key_others_can_read_or_write_is_refused(cache_dir, mode):
    """A key with any group/other permission bit may be known to someone else: refused."""
    key_file = plant_key(cache_dir, mode)
    with pytest.raises(PermissionError) as caught:
        DiskCache(cache_dir)
    message = str(caught.value)
    assert str(key_file) in message and "chmod 600" in message


@posix_only
def test_a_folder_others_can_write_is_refused_even_if_it_exists(cache_dir):
    """``mkdir(mode=0o700, exist_ok=True)`` does not tighten a folder: it is checked instead."""
    cache_dir.mkdir()
    cache_dir.chmod(0o777)
    with pytest.raises(PermissionError) as caught:
        DiskCache(cache_dir)
    message = str(caught.value)
    assert str(cache_dir) in message and f"chmod 700 {cache_dir}" in message
    assert not (cache_dir / "hmac.key").exists()


@posix_only
def test_a_group_writable_folder_is_refused(cache_dir):
    """Group write is enough to plant a key: refused too."""
    cache_dir.mkdir()
    cache_dir.chmod(0o770)
    with pytest.raises(PermissionError, match="writable by group or others"):
        DiskCache(cache_dir)


@posix_only
def test_a_symlinked_key_is_refused_even_if_the_target_looks_private(cache_dir, tmp_path):
    """The key is opened with O_NOFOLLOW: a symlink is refused, wherever it points."""
    target = plant_key(tmp_path / "elsewhere")
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "hmac.key").symlink_to(target)
    with pytest.raises(PermissionError, match="symbolic link"):
        DiskCache(cache_dir)


@posix_only
def test_a_dangling_symlink_as_key_is_refused_and_not_followed(cache_dir, tmp_path):
    """A dangling symlink is not followed to create the key at the attacker's chosen path."""
    target = tmp_path / "attacker-controlled"
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "hmac.key").symlink_to(target)
    with pytest.raises(PermissionError, match="symbolic link"):
        DiskCache(cache_dir)
    assert not target.exists()


@posix_only
@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_a_key_owned_by_someone_else_is_refused(cache_dir):
    """A private-looking key that another user owns could be that user's: refused."""
    key_file = plant_key(cache_dir)
    os.chown(key_file, OTHER_UID, -1)
    with pytest.raises(PermissionError, match=f"owned by uid {OTHER_UID}"):
        DiskCache(cache_dir)


@posix_only
@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_a_folder_owned_by_someone_else_is_refused(cache_dir):
    """A folder another user owns (hence controls) is refused even with mode 0700."""
    cache_dir.mkdir(mode=0o700)
    os.chown(cache_dir, OTHER_UID, -1)
    with pytest.raises(PermissionError, match=f"owned by uid {OTHER_UID}"):
        DiskCache(cache_dir)


@posix_only
def test_forged_entries_under_a_planted_key_are_never_unpickled(cache_dir, tmp_path):
    """The attack end to end: known key + entries signed with it + a shared folder -> refused."""
    import hmac as hmac_module

    plant_key(cache_dir, 0o666)
    key = key_for("planted")
    marker = tmp_path / "marker"
    payload = pickle.dumps(MarkerBomb(marker))
    signature = hmac_module.new(b"k" * 32, b"HGC1" + key.encode() + payload, "sha256").digest()
    path = entry_path(cache_dir, key)
    path.parent.mkdir()
    path.write_bytes(b"HGC1" + signature + payload)
    with pytest.raises(PermissionError):
        DiskCache(cache_dir).get(key)
    assert not marker.exists()


def test_an_existing_private_folder_and_key_are_accepted(cache_dir, run_python):
    """The normal path: a folder and key made by an earlier process are trusted and shared."""
    run_python(
        "from hypergraph import DiskCache\n"
        f"DiskCache({str(cache_dir)!r}).set({key_for('mine')!r}, 'kept')"
    )
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert DiskCache(cache_dir).get(key_for("mine")) == (True, "kept")


# ---------------------------------------------------------------------------- persistence
def test_entries_persist_across_processes(cache_dir, run_python):
    """A value written by another process is a hit here."""
    run_python(
        "from hypergraph import DiskCache\n"
        f"DiskCache({str(cache_dir)!r}).set({key_for('persist')!r}, {{'vector': [1.0, 2.0]}})"
    )
    assert DiskCache(cache_dir).get(key_for("persist")) == (True, {"vector": [1.0, 2.0]})


def test_a_cached_node_result_survives_into_a_new_process(cache_dir, run_python):
    """A node result stored through ``NodeCache`` by one process is a hit in the next."""
    code = (
        "from hypergraph import DiskCache, node\n"
        "from hypergraph.cache import NodeCache\n"
        "@node(output_name='doubled', cache=True)\n"
        "def double(x): return x * 2\n"
        f"nodes = NodeCache(DiskCache({str(cache_dir)!r}))\n"
        "lookup = nodes.lookup(double, {'x': 21})\n"
        "if not lookup.hit: nodes.store(lookup, {'doubled': double.func(21)})\n"
        "print(lookup.hit, lookup.outputs, lookup.reason)\n"
    )
    assert run_python(code).split() == ["False", "None", "first", "time", "seen"]
    assert run_python(code).split() == ["True", "{'doubled':", "42}", "None"]


def test_processes_starting_at_once_agree_on_one_signing_key(cache_dir):
    """Several processes creating the same new folder all sign with the one key that won."""
    code = (
        "import sys, hashlib\n"
        "from hypergraph import DiskCache\n"
        "label = sys.argv[1]\n"
        "DiskCache(sys.argv[2]).set(hashlib.sha256(label.encode()).hexdigest(), label)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, f"proc-{n}", str(cache_dir)])
        for n in range(6)
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0] * 6
    cache = DiskCache(cache_dir)
    assert [cache.get(key_for(f"proc-{n}")) for n in range(6)] == [
        (True, f"proc-{n}") for n in range(6)
    ]


def test_two_processes_writing_the_same_folder_leave_only_valid_entries(cache_dir):
    """Concurrent writers and readers in two processes never see or leave a broken entry."""
    DiskCache(cache_dir)
    code = (
        "import sys, hashlib\n"
        "from hypergraph import DiskCache\n"
        "cache, me = DiskCache(sys.argv[1]), sys.argv[2]\n"
        "keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(8)]\n"
        "for i in range(400):\n"
        "    cache.set(keys[i % 8], (me, i, bytes(20000)))\n"
        "    hit, value = cache.get(keys[(i + 3) % 8])\n"
        "    # once this process has written every key, nothing may ever read as missing\n"
        "    assert hit or i < 8, i\n"
        "    assert not hit or (value[0] in ('a', 'b') and len(value[2]) == 20000), value\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(cache_dir), name])
        for name in ("a", "b")
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    cache = DiskCache(cache_dir)
    for i in range(8):
        hit, value = cache.get(key_for(str(i)))
        assert hit and value[0] in ("a", "b") and value[1] % 8 == i
    assert list(cache_dir.rglob(".tmp-*")) == []


# ---------------------------------------------------------------------------- integrity
def test_a_forged_entry_is_a_miss_evicted_and_never_unpickled(cache_dir, tmp_path):
    """A pickle with a made-up signature is deleted unread; its ``__reduce__`` never runs."""
    cache = DiskCache(cache_dir)
    key = key_for("forged")
    marker = tmp_path / "marker"
    bomb = pickle.dumps(MarkerBomb(marker))
    path = entry_path(cache_dir, key)
    path.parent.mkdir()
    path.write_bytes(b"HGC1" + bytes(32) + bomb)

    assert cache.get(key) == (False, None)
    assert not path.exists()
    assert not marker.exists()
    pickle.loads(bomb)  # the payload was live: unpickling it does write the marker
    assert marker.exists()


def test_a_valid_signature_over_a_swapped_payload_is_rejected(cache_dir, tmp_path):
    """Keeping a genuine header but replacing the payload is a miss; the payload never runs."""
    cache = DiskCache(cache_dir)
    key = key_for("swapped")
    cache.set(key, "genuine")
    path = entry_path(cache_dir, key)
    marker = tmp_path / "marker"
    header = 4 + 32  # magic + HMAC-SHA256
    path.write_bytes(path.read_bytes()[:header] + pickle.dumps(MarkerBomb(marker)))

    assert cache.get(key) == (False, None)
    assert not path.exists()
    assert not marker.exists()


def test_an_unsigned_pickle_is_a_miss_and_evicted(cache_dir, tmp_path):
    """A bare pickle file (no header, no signature) is deleted without being unpickled."""
    cache = DiskCache(cache_dir)
    key = key_for("unsigned")
    marker = tmp_path / "marker"
    path = entry_path(cache_dir, key)
    path.parent.mkdir()
    path.write_bytes(pickle.dumps(MarkerBomb(marker)))

    assert cache.get(key) == (False, None)
    assert not path.exists()
    assert not marker.exists()


def test_a_truncated_entry_is_a_miss_and_evicted(cache_dir):
    """An entry cut short (a crash, a full disk) fails its signature and is removed."""
    cache = DiskCache(cache_dir)
    key = key_for("truncated")
    cache.set(key, list(range(1000)))
    path = entry_path(cache_dir, key)
    path.write_bytes(path.read_bytes()[:-10])

    assert cache.get(key) == (False, None)
    assert not path.exists()


def test_a_flipped_byte_is_a_miss(cache_dir):
    """Changing one byte of a valid entry's payload makes it a miss."""
    cache = DiskCache(cache_dir)
    key = key_for("flipped")
    cache.set(key, "abcdef")
    path = entry_path(cache_dir, key)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))

    assert cache.get(key) == (False, None)


def test_a_valid_entry_copied_under_another_key_is_a_miss(cache_dir):
    """The signature covers the key, so an entry cannot be replayed under another name."""
    cache = DiskCache(cache_dir)
    source, target = key_for("source"), key_for("target")
    cache.set(source, "for source only")
    path = entry_path(cache_dir, target)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(entry_path(cache_dir, source).read_bytes())

    assert cache.get(target) == (False, None)
    assert cache.get(source) == (True, "for source only")


def test_entries_signed_with_another_folders_key_are_misses(tmp_path):
    """An entry from another cache folder (another signing key) is not trusted."""
    first, second = DiskCache(tmp_path / "one"), DiskCache(tmp_path / "two")
    key = key_for("moved")
    first.set(key, "from one")
    path = entry_path(tmp_path / "two", key)
    path.parent.mkdir()
    path.write_bytes(entry_path(tmp_path / "one", key).read_bytes())

    assert second.get(key) == (False, None)


def test_a_signed_entry_that_cannot_be_unpickled_is_a_logged_miss(cache_dir, run_python, caplog):
    """An entry whose class no longer exists is evicted with a warning instead of raising."""
    key = key_for("gone")
    run_python(
        "from hypergraph import DiskCache\n"
        "class OnlyInThatProcess: pass\n"
        f"DiskCache({str(cache_dir)!r}).set({key!r}, OnlyInThatProcess())\n"
    )
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        assert DiskCache(cache_dir).get(key) == (False, None)
    assert "cannot be unpickled" in caplog.text
    assert not entry_path(cache_dir, key).exists()


def test_an_unpicklable_value_is_skipped_with_a_warning(cache_dir, caplog):
    """A value pickle rejects is logged and leaves no entry, not even a partial one."""
    cache = DiskCache(cache_dir)
    key = key_for("lock")
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        cache.set(key, {"ok": list(range(100)), "bad": threading.Lock()})
    assert "cannot be pickled" in caplog.text
    assert cache.get(key) == (False, None)
    assert [p.name for p in cache_dir.rglob("*")] == ["hmac.key"]


def test_a_corrupt_signing_key_is_reported(cache_dir):
    """A signing key of the wrong length stops construction with a message saying what to do."""
    cache_dir.mkdir(mode=0o700)
    key_file = cache_dir / "hmac.key"
    key_file.write_bytes(b"short")
    key_file.chmod(0o600)
    stamp = key_file.stat().st_mtime - 3600  # an old file: not one still being written
    os.utime(key_file, (stamp, stamp))
    with pytest.raises(ValueError, match="Delete the cache folder"):
        DiskCache(cache_dir)


def test_a_gate_decision_of_end_comes_back_as_the_end_sentinel(cache_dir):
    """A cached ``END`` decision read from disk is the very ``END`` object (GT14)."""
    from hypergraph import END, route
    from hypergraph.cache import NodeCache

    @route(targets=["a", END], cache=True)
    def stop(x: int) -> object:
        return END

    writer = NodeCache(DiskCache(cache_dir))
    writer.store(writer.lookup(stop, {"x": 1}), {}, decision=END)
    hit = NodeCache(DiskCache(cache_dir)).lookup(stop, {"x": 1})
    assert hit is not None and hit.hit
    assert hit.decision is END
