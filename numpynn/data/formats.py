"""Readers for the official dataset file formats, with errors that name the broken file.

IDX (MNIST, Fashion-MNIST; http://yann.lecun.com/exdb/mnist/): a big-endian header, then raw
``uint8`` data. The 4-byte magic number is ``0x00 0x00 <type> <ndim>``; type ``0x08`` is
unsigned byte, so images (N, 28, 28) have magic ``0x00000803`` and labels (N,) ``0x00000801``.
Each dimension follows as a 4-byte big-endian integer.

CIFAR-10 binary (https://www.cs.toronto.edu/~kriz/cifar.html): each record is 1 label byte and
3,072 pixel bytes, the 1,024 red values first, then green, then blue, each channel row-major
(so a row reshapes to (3, 32, 32), channels first).

Every reader checks the sizes a file declares before it inflates or allocates anything, and
reads no further than them: an IDX header's count against the official file's
(:data:`IDX_COUNTS`), then exactly count × item bytes from the (gunzipped) stream; a CIFAR-10
batch against its 10,000 records, each archive member by its tar header before it is read (one
streaming pass, nothing extracted). A small file that inflates to gigabytes stops at the first
byte too many.
"""
import contextlib
import gzip
import math
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

N_CLASSES = 10  # all three file-based datasets have ten classes
IMAGE_SIZE = (28, 28)
IDX_FORMATS = {  # kind -> (magic number, shape of one item)
    "images": (0x00000803, IMAGE_SIZE),
    "labels": (0x00000801, ()),
}
IDX_COUNTS = {"train": 60_000, "test": 10_000}  # split -> items in its official files (at most)
CIFAR_PIXELS = 3 * 32 * 32
CIFAR_RECORD = 1 + CIFAR_PIXELS  # label byte + CHW pixels
CIFAR_RECORDS = 10_000  # records in one official batch file
CIFAR_BATCH_BYTES = CIFAR_RECORDS * CIFAR_RECORD
CIFAR_MAX_MEMBERS = 64  # entries read from the archive (the official one has 9)
# the most the archive may inflate to: six batches, plus room for headers, readme and names
CIFAR_ARCHIVE_BYTES = 6 * CIFAR_BATCH_BYTES + 8 * 2**20
READ_CHUNK = 2**20      # streams are inflated 1 MiB at a time, into the final array
CIFAR_FOLDER = "cifar-10-batches-bin"
CIFAR_BATCHES = {
    "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("test_batch.bin",),
}
CIFAR_NAMES = CIFAR_BATCHES["train"] + CIFAR_BATCHES["test"]
CIFAR_ARCHIVE = "cifar-10-binary.tar.gz"
IDX_FILES = {  # split -> (images file, labels file), official names without ".gz"
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

REDOWNLOAD_HELP = "\nhelp: delete the file and download it again (or point data_dir at a good copy)"


class DataError(ValueError):
    """A dataset file exists but is corrupt: wrong magic number, truncated, inconsistent."""


@contextlib.contextmanager
def open_stream(path):
    """``path`` opened for reading bytes, gunzipped on the fly when its name ends in ``.gz``;
    a corrupt gzip stream, wherever it breaks, is a :class:`DataError` naming the file."""
    path = Path(path)
    if path.suffix != ".gz":
        with open(path, "rb") as f:
            yield f
        return
    try:
        with gzip.open(path, "rb") as f:
            yield f
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DataError(f"{path}: corrupt gzip file ({exc}){REDOWNLOAD_HELP}") from None


def read_at_most(f, n):
    """Read up to ``n`` bytes of the stream ``f`` into a new uint8 array of size ``n``, 1 MiB
    at a time (no temporary of the whole size); returns ``(array, bytes read)``."""
    out = np.empty(n, np.uint8)
    done = 0
    while done < n and (chunk := f.read(min(READ_CHUNK, n - done))):
        out[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
        done += len(chunk)
    return out, done


def read_idx(path, kind, max_count=IDX_COUNTS["train"]):
    """Read one IDX file (raw or ``.gz``), checking its header before reading any data.

    1. The header: the magic number and item shape of ``kind``, and a count of at most
       ``max_count`` (an official file's count), so the header alone fixes the size;
    2. exactly count × item size bytes from the (inflated) stream, in bounded chunks;
    3. nothing after them: a longer or shorter file is an error, and an endless gzip stream
       is never inflated past the first byte too many.

    Parameters
    ----------
    path : str or Path
    kind : {"images", "labels"}
    max_count : int

    Returns
    -------
    ndarray of uint8, shape (N, 784) for images (flattened row-major) or (N,) for labels
    """
    item_shape = IDX_FORMATS[kind][1]
    header_size = _idx_header_size(item_shape)
    with open_stream(path) as f:
        n = _check_idx_header(f.read(header_size), kind, path, max_count)
        item_size = math.prod(item_shape)  # 784 for images, 1 for labels
        values, got = read_at_most(f, n * item_size)
        longer = bool(f.read(1))
    if got < n * item_size or longer:
        state = "longer than its header says" if longer else "truncated"
        held = "more" if longer else f"{header_size + got:,} bytes"
        raise DataError(f"{path}: file is {state}: the header says {n:,} {kind} "
                        f"({header_size + n * item_size:,} bytes) but it holds {held}"
                        f"{REDOWNLOAD_HELP}")
    return values.reshape(n, item_size) if item_shape else values  # (N, 784) or (N,)


def _check_idx_header(header, kind, name, max_count):
    """The item count of a valid IDX header of ``kind``; raise naming the file otherwise."""
    magic, item_shape = IDX_FORMATS[kind]
    size = _idx_header_size(item_shape)
    if len(header) < size:
        raise DataError(f"{name}: {len(header)} bytes is too short for an IDX {kind} header "
                        f"({size} bytes){REDOWNLOAD_HELP}")
    got = int.from_bytes(header[:4], "big")
    if got != magic:
        raise DataError(f"{name}: wrong magic number 0x{got:08x}; expected 0x{magic:08x} "
                        f"(IDX {kind})\nhelp: check that this is the {kind} file of the pair")
    dims = [int.from_bytes(header[i:i + 4], "big") for i in range(4, size, 4)]
    n, shape = dims[0], tuple(dims[1:])
    if shape != item_shape:
        raise DataError(f"{name}: IDX {kind} of size {shape}; expected {item_shape}")
    if n > max_count:
        raise DataError(f"{name}: the header says {n:,} {kind}; an official file holds at most "
                        f"{max_count:,}, so numpynn reads no more{REDOWNLOAD_HELP}")
    return n


def _idx_header_size(item_shape):
    return 4 + 4 * (1 + len(item_shape))  # magic + one 4-byte size per dimension


def check_label_values(labels, name):
    """Raise unless every label byte is a class index below :data:`N_CLASSES`."""
    if labels.size and labels.max() >= N_CLASSES:
        raise DataError(f"{name}: label value {int(labels.max())} out of range "
                        f"[0, {N_CLASSES}){REDOWNLOAD_HELP}")


def read_idx_pair(images_path, labels_path, max_count=IDX_COUNTS["train"]):
    """Read an IDX images file and its labels file; their counts must agree.

    ``max_count`` bounds both counts (:data:`IDX_COUNTS` of the split).

    Returns
    -------
    images : ndarray of uint8, shape (N, 784)
    labels : ndarray of uint8, shape (N,)
    """
    images = read_idx(images_path, "images", max_count)
    labels = read_idx(labels_path, "labels", max_count)
    if len(images) != len(labels):
        raise DataError(f"image/label count mismatch: {images_path} holds {len(images):,} "
                        f"images but {labels_path} holds {len(labels):,} labels\n"
                        "help: the two files must come from the same split (train or t10k)")
    check_label_values(labels, labels_path)
    return images, labels


def parse_cifar_batch(data, name):
    """Split one CIFAR-10 binary batch into pixels and labels.

    Returns
    -------
    pixels : ndarray of uint8, shape (N, 3072), each row in CHW order
    labels : ndarray of uint8, shape (N,)
    """
    check_cifar_size(len(data), name)
    if not data or len(data) % CIFAR_RECORD:
        raise DataError(f"{name}: {len(data):,} bytes is not a whole number of CIFAR-10 records "
                        f"({CIFAR_RECORD} bytes each: 1 label + {CIFAR_PIXELS} pixels); the file "
                        f"is truncated or not a CIFAR-10 binary batch{REDOWNLOAD_HELP}")
    records = np.frombuffer(data, np.uint8).reshape(-1, CIFAR_RECORD)  # (N, 3073)
    check_label_values(records[:, 0], name)
    return records[:, 1:], records[:, 0]


def check_cifar_size(size, name):
    """Raise when a batch of ``size`` bytes holds more than :data:`CIFAR_RECORDS` records."""
    if size > CIFAR_BATCH_BYTES:
        raise DataError(f"{name}: {size:,} bytes; a CIFAR-10 batch holds {CIFAR_RECORDS:,} "
                        f"records ({CIFAR_BATCH_BYTES:,} bytes), so numpynn reads no more"
                        f"{REDOWNLOAD_HELP}")


def read_cifar_file(path):
    """One batch file's bytes, its size checked before reading and the read bounded."""
    check_cifar_size(os.stat(path).st_size, path)
    with open(path, "rb") as f:
        data = f.read(CIFAR_BATCH_BYTES + 1)  # a file that grew meanwhile still stops here
    check_cifar_size(len(data), path)
    return data


def read_tar_members(path, names):
    """Return ``{name: bytes}`` for the regular files ``names`` inside the tar.gz ``path``.

    Members are read as bytes in one streaming pass, nothing is extracted to disk (hostile
    member paths ``../``, absolute or links can do no harm), and every size is bounded before
    it is read: each wanted member by its header (:func:`check_cifar_size`), the members by
    :data:`CIFAR_MAX_MEMBERS` and the whole inflated stream by the official archive's size.
    """
    wanted, found = set(names), {}
    try:
        with gzip.open(path, "rb") as gz, tarfile.open(
                fileobj=_BoundedReader(gz, CIFAR_ARCHIVE_BYTES, path), mode="r|") as tar:
            for count, member in enumerate(tar, start=1):
                if count > CIFAR_MAX_MEMBERS:
                    raise DataError(f"{path}: more than {CIFAR_MAX_MEMBERS} members; the "
                                    f"official archive holds 9{REDOWNLOAD_HELP}")
                if member.isfile() and member.name in wanted:
                    check_cifar_size(member.size, f"{path}:{member.name}")
                    found[member.name] = tar.extractfile(member).read(CIFAR_BATCH_BYTES + 1)
                    if len(found) == len(wanted):
                        break
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt tar.gz archive ({exc}){REDOWNLOAD_HELP}") from None
    missing = sorted(wanted - set(found))
    if missing:
        raise DataError(f"{path}: archive lacks {', '.join(missing)}{REDOWNLOAD_HELP}")
    return found


class _BoundedReader:
    """A read-only stream that refuses to deliver more than ``limit`` bytes in all (tarfile
    buffers some headers, such as long names, whole: this bounds them too)."""

    def __init__(self, raw, limit, name):
        self.raw, self.left, self.name = raw, limit, name

    def read(self, n=-1):
        data = self.raw.read(self.left + 1 if n is None or n < 0 else min(n, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise DataError(f"{self.name}: inflates to more than {CIFAR_ARCHIVE_BYTES:,} bytes, "
                            f"the official archive's size{REDOWNLOAD_HELP}")
        return data


def resolve_idx(folder):
    """Map each official IDX name to its raw or gzipped file in ``folder``; None if one lacks."""
    found = {}
    for name in (f for pair in IDX_FILES.values() for f in pair):
        candidates = [folder / name, folder / f"{name}.gz"]
        found[name] = next((p for p in candidates if p.is_file()), None)
    return found if all(found.values()) else None


def resolve_cifar(folder):
    """Find the six batch files (extracted) or the archive in ``folder``; None if neither."""
    for batch_dir in (folder / CIFAR_FOLDER, folder):
        if all((batch_dir / n).is_file() for n in CIFAR_NAMES):
            return {"batches": batch_dir}
    archive = folder / CIFAR_ARCHIVE
    return {"archive": archive} if archive.is_file() else None


def read_cifar(found):
    """Return ``{batch file: (bytes, name for messages)}`` from the folder or the archive."""
    if "batches" in found:
        return {n: (read_cifar_file(found["batches"] / n), found["batches"] / n)
                for n in CIFAR_NAMES}
    members = read_tar_members(found["archive"], [f"{CIFAR_FOLDER}/{n}" for n in CIFAR_NAMES])
    return {n: (members[f"{CIFAR_FOLDER}/{n}"], f"{found['archive']}:{CIFAR_FOLDER}/{n}")
            for n in CIFAR_NAMES}
