"""No input can exhaust memory: decompression bombs and impossible sizes, each run in a child
process whose peak memory is measured.

Every bomb is a real file built here in a temp folder, small on disk and huge inflated (a
.npz whose member inflates to 1 GiB, a gzip IDX whose header claims more images than any
official file, a CIFAR tar.gz whose batch member claims 1 GiB). Building them costs no
compression time: a deflate stream of zeros is one compressed 16 MiB segment repeated, and a
gzip file may hold many members one after another.

Each child runs under an address-space limit (:data:`LIMIT_AS`), so a regression fails fast
with a MemoryError instead of swapping, and reports how far its own peak resident memory grew
during the call (``ru_maxrss`` after the imports, then after the call).
"""
import gzip
import io
import json
import os
import re
import resource
import struct
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import numpynn as nn

ROOT = Path(__file__).resolve().parents[1]
LIMIT_AS = 2 * 2**30      # the child's address space: 2 GiB
GROWTH_MAX = 256 * 2**20  # what one call may add to the child's peak resident memory
BOMB_BYTES = 2**30        # what each bomb inflates to
SEGMENT = 16 * 2**20      # zeros compressed once, repeated BOMB_BYTES / SEGMENT times

CHILD = """
import json, resource
{imports}
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
base = peak()
try:
    result = {call}
    outcome = f"returned {{result!r}}"[:300]
except BaseException as err:
    outcome = f"{{type(err).__name__}}: {{err}}"
print(json.dumps({{"outcome": outcome, "growth": peak() - base}}))
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def run_child(imports, call, timeout=60):
    """Run ``call`` (an expression) in a fresh interpreter under :data:`LIMIT_AS`; return
    ``(outcome, growth in bytes, stderr)``, outcome ``"returned …"`` or ``"Error: message"``."""
    code = CHILD.format(imports=imports, call=call)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limit_memory,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    lines = proc.stdout.strip().splitlines()
    assert lines, f"the child printed nothing (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    report = json.loads(lines[-1])
    return report["outcome"], report["growth"], proc.stderr


def assert_refused(outcome, growth, error, pattern):
    assert outcome.startswith(f"{error}: "), outcome
    assert re.search(pattern, outcome), outcome
    assert "\n" not in outcome.split("\nhelp:")[0], outcome  # one line, then the help line
    assert growth < GROWTH_MAX, f"peak memory grew {growth / 2**20:.0f} MiB: {outcome}"


# ------------------------------------------------------------------- bombs, built cheaply
def deflate_segments(prefix, n_zeros):
    """Raw deflate of ``prefix`` + ``n_zeros`` zero bytes as a list of byte strings.

    After a full flush a compressor starts afresh, so the segments of separate compressors
    concatenate into one valid stream, and the segment of ``SEGMENT`` zeros is computed once.
    """
    def segment(data, mode):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(mode)
    zeros = segment(bytes(SEGMENT), zlib.Z_FULL_FLUSH)
    assert n_zeros % SEGMENT == 0
    return ([segment(prefix, zlib.Z_FULL_FLUSH)] + [zeros] * (n_zeros // SEGMENT)
            + [segment(b"", zlib.Z_FINISH)])


def crc_of(prefix, n_zeros):
    crc, block = zlib.crc32(prefix), bytes(SEGMENT)
    for _ in range(n_zeros // SEGMENT):
        crc = zlib.crc32(block, crc)
    return crc


def write_zip(path, members):
    """A zip of deflated members written by hand: ``members`` is a list of ``(name, prefix,
    n_zeros)``, each member holding ``prefix`` then ``n_zeros`` zero bytes (sizes honest)."""
    central, offset = [], 0
    with open(path, "wb") as f:
        for name, prefix, n_zeros in members:
            parts, crc = deflate_segments(prefix, n_zeros), crc_of(prefix, n_zeros)
            csize, usize, encoded = sum(map(len, parts)), len(prefix) + n_zeros, name.encode()
            sizes = struct.pack("<HHHHHIII", 20, 0, 8, 0, 33, crc, csize, usize)
            f.write(b"PK\x03\x04" + sizes + struct.pack("<HH", len(encoded), 0) + encoded)
            for part in parts:
                f.write(part)
            central.append(b"PK\x01\x02" + struct.pack("<H", 20) + sizes
                           + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
            offset = f.tell()
        directory = b"".join(central)
        f.write(directory + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(central),
                                                        len(central), len(directory), offset, 0))


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape, descr="<f4"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def model_members(model):
    """``(name, prefix, 0)`` members of a real model file: its metadata and arrays."""
    spec, arrays = nn.serialization.to_arrays(model)
    meta = np.frombuffer(json.dumps(spec).encode(), np.uint8)
    return [("__meta__.npy", npy_bytes(meta), 0),
            *((f"{name}.npy", npy_bytes(a), 0) for name, a in arrays.items())]


def npz_bomb(path, header_shape):
    """A model file of Linear(4, 3) whose member ``0.W`` inflates to BOMB_BYTES of zeros
    behind a header of ``header_shape`` (the bomb's own shape, or the honest (4, 3))."""
    members = [m for m in model_members(nn.Sequential(nn.Linear(4, 3, rng=0)))
               if m[0] != "0.W.npy"]
    members.append(("0.W.npy", npy_header(header_shape), BOMB_BYTES))
    write_zip(path, members)
    assert path.stat().st_size < BOMB_BYTES / 500  # small on disk
    return path


def idx_bytes(array):
    header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def gzip_zeros(prefix, n_zeros):
    """gzip members: ``prefix``, then ``n_zeros`` zero bytes (one member repeated)."""
    block = gzip.compress(bytes(SEGMENT), 9)
    return gzip.compress(prefix) + block * (n_zeros // SEGMENT)


def idx_folder(folder, train_images):
    """The four MNIST files, small and valid but for ``train-images-idx3-ubyte.gz``."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, array in [("train-labels-idx1-ubyte", rng.integers(0, 10, 20)),
                        ("t10k-images-idx3-ubyte", rng.integers(0, 256, (10, 28, 28))),
                        ("t10k-labels-idx1-ubyte", rng.integers(0, 10, 10))]:
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
    (folder / "train-images-idx3-ubyte.gz").write_bytes(train_images)
    return folder


def cifar_bomb(path):
    """A cifar-10-binary.tar.gz whose data_batch_1.bin member is BOMB_BYTES of zeros."""
    info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
    info.size = BOMB_BYTES  # a multiple of 512: no padding before the next header
    rest = io.BytesIO()
    with tarfile.open(fileobj=rest, mode="w") as tar:  # the other batches, then the end marker
        for name in [f"data_batch_{i}.bin" for i in range(2, 6)] + ["test_batch.bin"]:
            small = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            small.size = 3073
            tar.addfile(small, io.BytesIO(bytes(3073)))
    path.write_bytes(gzip_zeros(info.tobuf(tarfile.GNU_FORMAT), BOMB_BYTES)
                     + gzip.compress(rest.getvalue()))
    return path


# ------------------------------------------------------------------------------ the bombs
def test_npz_bomb_is_refused_by_its_header_before_inflating(tmp_path):
    path = npz_bomb(tmp_path / "bomb.npz", (BOMB_BYTES // 4,))
    outcome, growth, _ = run_child("import numpynn as nn", f"nn.load({str(path)!r})")
    assert_refused(outcome, growth, "ModelFileError",
                   r"bomb\.npz: array '0\.W' has shape \(268435456,\) and dtype float32; the "
                   r"architecture needs \(4, 3\) float32")


def test_npz_member_longer_than_its_header_stops_at_the_declared_size(tmp_path):
    path = npz_bomb(tmp_path / "long.npz", (4, 3))
    outcome, growth, _ = run_child("import numpynn as nn", f"nn.load({str(path)!r})")
    assert_refused(outcome, growth, "ModelFileError",
                   r"long\.npz: array '0\.W' is longer than its header says \(48 bytes\)")


def test_npz_bomb_through_read_npz_is_bounded_by_the_free_memory(tmp_path):
    # read_npz (checkpoints) knows no architecture: the headers' total is checked against
    # the memory the child may still allocate, before anything is inflated
    path = tmp_path / "big.npz"
    write_zip(path, [("__meta__.npy", npy_bytes(np.frombuffer(b"{}", np.uint8)), 0),
                     ("a.npy", npy_header((2 * BOMB_BYTES // 4,)), BOMB_BYTES)])
    outcome, growth, _ = run_child("from numpynn.serialization import read_npz",
                                   f"read_npz({str(path)!r})")
    assert_refused(outcome, growth, "ModelFileError",
                   r"big\.npz: reading its arrays needs 2 GiB; about [\d.]+ [MG]iB of memory is "
                   r"available")


@pytest.mark.parametrize("case", ["count", "trailing"])
def test_idx_gzip_bomb_stops_at_the_header_count(tmp_path, case):
    if case == "count":  # a header claiming 1.4 million images, and the zeros to match
        header, pattern = struct.pack(">IIII", 0x803, BOMB_BYTES // 784, 28, 28), (
            r"the header says 1,369,568 images; an official file holds at most 60,000")
    else:                # an honest header of 20 images, then a gigabyte more
        header, pattern = struct.pack(">IIII", 0x803, 20, 28, 28), (
            r"file is longer than its header says: the header says 20 images \(15,696 bytes\)")
    folder = idx_folder(tmp_path / "mnist", gzip_zeros(header, BOMB_BYTES))
    assert (folder / "train-images-idx3-ubyte.gz").stat().st_size < BOMB_BYTES / 500
    outcome, growth, _ = run_child("from numpynn import data",
                                   f"data.load_mnist(data_dir={str(folder)!r}, download=False)")
    assert_refused(outcome, growth, "DataError", r"train-images-idx3-ubyte\.gz: " + pattern)


def test_cifar_tar_bomb_is_refused_by_its_member_header(tmp_path):
    path = cifar_bomb(tmp_path / "cifar-10-binary.tar.gz")
    assert path.stat().st_size < BOMB_BYTES / 500
    outcome, growth, _ = run_child("from numpynn import data",
                                   f"data.load_cifar10(data_dir={str(tmp_path)!r}, "
                                   "download=False)")
    assert_refused(outcome, growth, "DataError",
                   r"data_batch_1\.bin: 1,073,741,824 bytes; a CIFAR-10 batch holds 10,000 "
                   r"records \(30,730,000 bytes\)")


def test_huge_extracted_cifar_batch_is_refused_by_its_size(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        with open(folder / name, "wb") as f:
            f.truncate(BOMB_BYTES if name == "test_batch.bin" else 3073)  # sparse: no disk used
    outcome, growth, _ = run_child("from numpynn import data",
                                   f"data.load_cifar10(data_dir={str(tmp_path)!r}, "
                                   "download=False)")
    assert_refused(outcome, growth, "DataError", r"test_batch\.bin: 1,073,741,824 bytes")


# ---------------------------------------------------------------------- impossible sizes
CLI = "from numpynn.cli import main"


@pytest.mark.parametrize("argv,pattern", [
    (["train", "--hidden", "1000000000"],
     r"numpynn train: error: mlp: the model \(75,000,000,010 float32 parameters, ×4 for "
     r"gradients and Adam's two moments\) needs 1\.09 TiB; about [\d.]+ [MG]iB of memory is "
     r"available\n  help: use fewer or narrower hidden layers"),
    (["train", "--hidden", "30000000"], r"numpynn train: error: mlp: the model .* needs 33\.5 GiB"),
    (["fit", "--x", "0,1,2", "--y", "0,1,0", "--hidden", "1000000000"],
     r"numpynn fit: error: fit_points: a 1-1000000000-1 fit needs 250 EiB"),
    (["train", "--config", "/dev/zero"],
     r"numpynn train: error: /dev/zero: larger than 4 MiB, the most numpynn reads"),
])
def test_impossible_sizes_are_one_line_errors(tmp_path, argv, pattern):
    argv = [*argv, "--out", str(tmp_path / "run")] if argv[0] == "train" else argv
    outcome, growth, stderr = run_child(CLI, f"main({argv!r})")
    assert outcome == "returned 2", (outcome, stderr)
    assert re.search(pattern, stderr), stderr
    assert growth < GROWTH_MAX, f"peak memory grew {growth / 2**20:.0f} MiB"


def test_npy_header_claiming_a_trillion_floats_is_refused(tmp_path):
    path = tmp_path / "huge.npz"
    members = [m for m in model_members(nn.Sequential(nn.Linear(4, 3, rng=0)))
               if m[0] != "0.W.npy"]
    write_zip(path, [*members, ("0.W.npy", npy_header((10**12,)), 0)])
    outcome, growth, _ = run_child("import numpynn as nn", f"nn.load({str(path)!r})")
    assert_refused(outcome, growth, "ModelFileError",
                   r"huge\.npz: the arrays declare 3\.64 TiB; numpynn reads at most 4 GiB")


def test_every_test_the_promises_name_exists():
    text = (ROOT / "docs" / "promises.md").read_text(encoding="utf-8")
    section = text.split("\n## Files and sizes\n")[1].split("\n## ")[0]
    named = set(re.findall(r"`(test_\w+\.py)::(test_\w+)`", section))
    assert len(named) >= 25, named
    missing = [f"{file}::{name}" for file, name in sorted(named)
               if f"def {name}(" not in (ROOT / "tests" / file).read_text(encoding="utf-8")]
    assert missing == []
