import os
import stat

import pytest

from numpynn._helpers.io import (LockHeld, atomic_path, atomic_write_text, exclusive_lock,
                                 remove_stale_parts)


def test_atomic_write_replaces_whole_file_with_normal_permissions(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    atomic_write_text(path, "a = 1\n")
    assert path.read_text() == "a = 1\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    os.chmod(path, 0o640)
    atomic_write_text(path, "a = 2\n")
    assert path.read_text() == "a = 2\n" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_stale_parts_are_the_temporaries_atomic_path_names_and_nothing_else(tmp_path):
    stale = tmp_path / ".model.npz.ab_12xyz.part"   # as kill -9 inside atomic_path leaves it
    kept = ["notes.part", ".notes.part", ".model.npz.toolong123.part", "model.npz"]
    for name in [stale.name, *kept]:
        (tmp_path / name).write_text("x")
    assert remove_stale_parts(tmp_path) == [stale.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_stale_parts(tmp_path / "missing") == []


def test_an_exclusive_lock_is_refused_while_held_and_free_after(tmp_path):
    lock = tmp_path / ".lock"
    with exclusive_lock(lock):
        with pytest.raises(LockHeld) as info, exclusive_lock(lock):
            pass
        assert info.value.pid == os.getpid()
    with exclusive_lock(lock):
        assert lock.read_text() == f"{os.getpid()}\n"
