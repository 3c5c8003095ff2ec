"""Readers for the official dataset file formats, with errors that name the broken file.

IDX (MNIST, Fashion-MNIST; http://yann.lecun.com/exdb/mnist/): a big-endian header, then raw
``uint8`` data. The 4-byte magic number is ``0x00 0x00 <type> <ndim>``; type ``0x08`` is
unsigned byte, so images (N, 28, 28) have magic ``0x00000803`` and labels (N,) ``0x00000801``.
Each dimension follows as a 4-byte big-endian integer.

CIFAR-10 binary (https://www.cs.toronto.edu/~kriz/cifar.html): each record is 1 label byte and
3,072 pixel bytes, the 1,024 red values first, then green, then blue, each channel row-major
(so a row reshapes to (3, 32, 32), channels first).
"""
import gzip
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
CIFAR_PIXELS = 3 * 32 * 32
CIFAR_RECORD = 1 + CIFAR_PIXELS  # label byte + CHW pixels
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


def read_bytes(path):
    """Return the contents of ``path``, gunzipped when its name ends in ``.gz``."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DataError(f"{path}: corrupt gzip file ({exc}){REDOWNLOAD_HELP}") from None


def parse_idx(data, kind, name):
    """Parse one IDX file's bytes into a ``uint8`` array, checking header and exact size.

    Parameters
    ----------
    data : bytes
        The (uncompressed) file contents.
    kind : {"images", "labels"}
    name : str or Path
        The file, named in error messages.

    Returns
    -------
    ndarray of uint8, shape (N, 784) for images (flattened row-major) or (N,) for labels
    """
    magic, item_shape = IDX_FORMATS[kind]
    header = 4 + 4 * (1 + len(item_shape))  # magic + one 4-byte size per dimension
    if len(data) < header:
        raise DataError(f"{name}: {len(data)} bytes is too short for an IDX {kind} header "
                        f"({header} bytes){REDOWNLOAD_HELP}")
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        raise DataError(f"{name}: wrong magic number 0x{got:08x}; expected 0x{magic:08x} "
                        f"(IDX {kind})\nhelp: check that this is the {kind} file of the pair")
    dims = [int(d) for d in np.frombuffer(data, ">u4", count=1 + len(item_shape), offset=4)]
    n, shape = dims[0], tuple(dims[1:])
    if shape != item_shape:
        raise DataError(f"{name}: IDX {kind} of size {shape}; expected {item_shape}")
    item_size = int(np.prod(item_shape, dtype=np.int64))  # 784 for images, 1 for labels
    expected = header + n * item_size
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(f"{name}: file is {state}: the header says {n:,} {kind} "
                        f"({expected:,} bytes) but it holds {len(data):,} bytes{REDOWNLOAD_HELP}")
    values = np.frombuffer(data, np.uint8, offset=header)  # (N * item_size,)
    return values.reshape(n, item_size) if item_shape else values  # (N, 784) or (N,)


def check_label_values(labels, name):
    """Raise unless every label byte is a class index below :data:`N_CLASSES`."""
    if labels.size and labels.max() >= N_CLASSES:
        raise DataError(f"{name}: label value {int(labels.max())} out of range "
                        f"[0, {N_CLASSES}){REDOWNLOAD_HELP}")


def read_idx_pair(images_path, labels_path):
    """Read an IDX images file and its labels file; their counts must agree.

    Returns
    -------
    images : ndarray of uint8, shape (N, 784)
    labels : ndarray of uint8, shape (N,)
    """
    images = parse_idx(read_bytes(images_path), "images", images_path)
    labels = parse_idx(read_bytes(labels_path), "labels", labels_path)
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
    if not data or len(data) % CIFAR_RECORD:
        raise DataError(f"{name}: {len(data):,} bytes is not a whole number of CIFAR-10 records "
                        f"({CIFAR_RECORD} bytes each: 1 label + {CIFAR_PIXELS} pixels); the file "
                        f"is truncated or not a CIFAR-10 binary batch{REDOWNLOAD_HELP}")
    records = np.frombuffer(data, np.uint8).reshape(-1, CIFAR_RECORD)  # (N, 3073)
    check_label_values(records[:, 0], name)
    return records[:, 1:], records[:, 0]


def read_tar_members(path, names):
    """Return ``{name: bytes}`` for the regular files ``names`` inside the tar.gz ``path``.

    Members are read as bytes in one pass; nothing is extracted to disk, so hostile member
    paths (``../``, absolute, links) can do no harm.
    """
    wanted, found = set(names), {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.isfile() and member.name in wanted:
                    found[member.name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt tar.gz archive ({exc}){REDOWNLOAD_HELP}") from None
    missing = sorted(wanted - set(found))
    if missing:
        raise DataError(f"{path}: archive lacks {', '.join(missing)}{REDOWNLOAD_HELP}")
    return found


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
        return {n: (read_bytes(found["batches"] / n), found["batches"] / n) for n in CIFAR_NAMES}
    members = read_tar_members(found["archive"], [f"{CIFAR_FOLDER}/{n}" for n in CIFAR_NAMES])
    return {n: (members[f"{CIFAR_FOLDER}/{n}"], f"{found['archive']}:{CIFAR_FOLDER}/{n}")
            for n in CIFAR_NAMES}
