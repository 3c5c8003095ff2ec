"""Tests for numpynn.data: loaders on files written here in the official formats, corrupt
files, lookup order, downloads from a local http.server, splits, preprocessing and batches,
plus one run on the real Fashion-MNIST files of Debian's dataset-fashion-mnist package."""
import gzip
import hashlib
import http.server
import io
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.preprocessing import StandardScaler

from numpynn import data
from numpynn.data import fetch, formats

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
CIFAR_DIR = "cifar-10-batches-bin"
CIFAR_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]


# ------------------------------------------------------------ writers of the official formats
def idx_bytes(array):
    """IDX file bytes, written from the format's definition: magic 0x0000080<ndim>, sizes."""
    header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_file(path, raw):
    """Write ``raw`` to ``path``, gzipping it for IDX ``*.gz`` names (a .tar.gz is already)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    gzipped = path.suffix == ".gz" and not path.name.endswith(".tar.gz")
    path.write_bytes(gzip.compress(raw) if gzipped else raw)
    return path


def write_idx_set(folder, rng, n_train=20, n_test=10, gz=True):
    """Write the four official IDX files into ``folder``; return the arrays written."""
    arrays = {
        IDX_NAMES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        IDX_NAMES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        IDX_NAMES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        IDX_NAMES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_file(Path(folder) / (name + (".gz" if gz else "")), idx_bytes(array))
    return arrays


def cifar_batch(rng, n):
    """n records of 1 label byte + 3072 CHW pixel bytes; returns (bytes, pixels, labels)."""
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    pixels = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([labels[:, None], pixels.reshape(n, -1)], axis=1)  # (n, 3073)
    return records.tobytes(), pixels, labels


def cifar_set(rng, n=4):
    return {name: cifar_batch(rng, n + i) for i, name in enumerate(CIFAR_FILES)}


def cifar_tar_bytes(batches, extra=()):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        members = [(f"{CIFAR_DIR}/{name}", raw) for name, (raw, _, _) in batches.items()]
        for name, raw in [*members, *extra]:
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def as_float(pixels):
    return pixels.reshape(len(pixels), -1).astype(np.float64) / 255.0


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real network, no user cache, no $NUMPYNN_DATA: every test sees only what it wrote."""
    monkeypatch.delenv("NUMPYNN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in list(fetch.MIRRORS):
        monkeypatch.setitem(fetch.MIRRORS, name, ("http://127.0.0.1:9/",))  # discard: refused


# ------------------------------------------------------------------------------ IDX loaders
@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("loader", [data.load_mnist, data.load_fashion_mnist])
def test_idx_round_trip(tmp_path, loader, gz):
    arrays = write_idx_set(tmp_path / "files", np.random.default_rng(0), gz=gz)
    X_train, y_train, X_test, y_test = loader(data_dir=tmp_path / "files", download=False)
    assert X_train.shape == (20, 784) and X_test.shape == (10, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(X_train, as_float(arrays[IDX_NAMES[0]]), rtol=1e-6, atol=0)
    np.testing.assert_allclose(X_test, as_float(arrays[IDX_NAMES[2]]), rtol=1e-6, atol=0)
    np.testing.assert_array_equal(y_train, arrays[IDX_NAMES[1]])
    np.testing.assert_array_equal(y_test, arrays[IDX_NAMES[3]])


def test_idx_found_in_subfolder_named_after_dataset(tmp_path):
    arrays = write_idx_set(tmp_path / "root" / "fashion-mnist", np.random.default_rng(1))
    _, y_train, _, _ = data.load_fashion_mnist(data_dir=tmp_path / "root", download=False)
    np.testing.assert_array_equal(y_train, arrays[IDX_NAMES[1]])


def test_lookup_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    write_idx_set(tmp_path / "given", rng, n_train=11)
    write_idx_set(tmp_path / "env" / "mnist", rng, n_train=12)
    write_idx_set(tmp_path / "cache" / "numpynn" / "mnist", rng, n_train=13)
    monkeypatch.setenv("NUMPYNN_DATA", str(tmp_path / "env"))
    assert len(data.load_mnist(data_dir=tmp_path / "given", download=False)[0]) == 11
    assert len(data.load_mnist(download=False)[0]) == 12
    monkeypatch.delenv("NUMPYNN_DATA")
    assert len(data.load_mnist(download=False)[0]) == 13
    # Without XDG_CACHE_HOME the cache is ~/.cache/numpynn/<dataset>.
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_idx_set(tmp_path / "home" / ".cache" / "numpynn" / "mnist", rng, n_train=14)
    assert len(data.load_mnist(download=False)[0]) == 14


def test_incomplete_folder_is_skipped(tmp_path):
    write_idx_set(tmp_path / "given", np.random.default_rng(3), n_train=11)
    (tmp_path / "given" / "t10k-labels-idx1-ubyte.gz").unlink()
    write_idx_set(tmp_path / "cache" / "numpynn" / "mnist", np.random.default_rng(4), n_train=13)
    assert len(data.load_mnist(data_dir=tmp_path / "given", download=False)[0]) == 13


# ---------------------------------------------------------------------------- corrupt files
def corrupt_case(folder, case):
    """Damage one file of a good set in ``folder``; return the regex the error must match."""
    images, labels = folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte"
    raw = idx_bytes(np.zeros((20, 28, 28), np.uint8))
    if case == "magic":
        write_file(images, b"\x00\x00\x08\x01" + raw[4:])
        return rf"{images}: wrong magic number 0x00000801; expected 0x00000803"
    if case == "truncated":
        write_file(images, raw[:-100])
        return rf"{images}: file is truncated: the header says 20 images \(15,696 bytes\)"
    if case == "count":
        write_file(labels, idx_bytes(np.zeros(19, np.uint8)))
        return rf"mismatch: {images} holds 20 images but {labels} holds 19 labels"
    if case == "dims":
        write_file(images, idx_bytes(np.zeros((20, 27, 28), np.uint8)))
        return rf"{images}: IDX images of size \(27, 28\); expected \(28, 28\)"
    if case == "label-range":
        write_file(labels, idx_bytes(np.full(20, 10, np.uint8)))
        return rf"{labels}: label value 10 out of range"
    if case == "bad-gzip":
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot a gzip stream")
        return rf"{folder / 't10k-images-idx3-ubyte.gz'}: corrupt gzip file"
    whole = gzip.compress(idx_bytes(np.zeros((10, 28, 28), np.uint8)))  # "truncated-gzip"
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(whole[:len(whole) // 2])
    return rf"{folder / 't10k-images-idx3-ubyte.gz'}: corrupt gzip file"


@pytest.mark.parametrize("case", ["magic", "truncated", "count", "dims", "label-range",
                                  "bad-gzip", "truncated-gzip"])
def test_corrupt_idx_names_the_file(tmp_path, case):
    folder = tmp_path / "files"
    write_idx_set(folder, np.random.default_rng(5), gz=False)
    (folder / "t10k-images-idx3-ubyte").unlink()  # replaced by a .gz for the gzip cases
    write_file(folder / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((10, 28, 28), np.uint8)))
    pattern = corrupt_case(folder, case)
    with pytest.raises(data.DataError, match=pattern):
        data.load_mnist(data_dir=folder, download=False)


def test_trailing_bytes_are_an_error(tmp_path):
    folder = tmp_path / "files"
    write_idx_set(folder, np.random.default_rng(6), gz=False)
    with open(folder / "train-labels-idx1-ubyte", "ab") as f:
        f.write(b"\x00")
    with pytest.raises(data.DataError, match="longer than its header says"):
        data.load_mnist(data_dir=folder, download=False)


def test_idx_counts_are_bounded_by_the_official_files_before_reading(tmp_path):
    folder = tmp_path / "files"
    write_idx_set(folder, np.random.default_rng(6), gz=False)
    header = struct.pack(">IIII", 0x803, 10_001, 28, 28)  # a t10k file holds 10,000 images
    write_file(folder / "t10k-images-idx3-ubyte", header)
    with pytest.raises(data.DataError, match=r"t10k-images-idx3-ubyte: the header says 10,001 "
                                             r"images; an official file holds at most 10,000"):
        data.load_mnist(data_dir=folder, download=False)


# -------------------------------------------------------------------------------- CIFAR-10
def check_cifar(result, batches):
    X_train, y_train, X_test, y_test = result
    train = [batches[name] for name in CIFAR_FILES[:5]]
    pixels = np.concatenate([p for _, p, _ in train])  # (N, 3, 32, 32)
    assert X_train.shape == (len(pixels), 3072) and X_train.dtype == np.float32
    np.testing.assert_allclose(X_train, as_float(pixels), rtol=1e-6, atol=0)  # CHW order kept
    np.testing.assert_array_equal(y_train, np.concatenate([lab for _, _, lab in train]))
    np.testing.assert_array_equal(y_test, batches["test_batch.bin"][2])
    assert y_test.dtype == np.int64
    images = data.DATASETS["cifar10"].to_images(X_test)  # (N, 32, 32, 3) channels last
    np.testing.assert_allclose(images * 255, batches["test_batch.bin"][1].transpose(0, 2, 3, 1),
                               rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("layout", ["extracted", "flat", "archive"])
def test_cifar_round_trip(tmp_path, layout):
    batches = cifar_set(np.random.default_rng(7))
    folder = tmp_path / "cifar"
    if layout == "archive":
        write_file(folder / "cifar-10-binary.tar.gz", cifar_tar_bytes(batches))
    for name, (raw, _, _) in batches.items() if layout != "archive" else ():
        write_file(folder / (CIFAR_DIR if layout == "extracted" else "") / name, raw)
    check_cifar(data.load_cifar10(data_dir=folder, download=False), batches)


def test_cifar_archive_is_read_without_extracting_hostile_members(tmp_path):
    batches = cifar_set(np.random.default_rng(8))
    hostile = [("../escaped.bin", b"x"), ("/tmp/absolute-escape.bin", b"y")]
    write_file(tmp_path / "cifar" / "cifar-10-binary.tar.gz", cifar_tar_bytes(batches, hostile))
    check_cifar(data.load_cifar10(data_dir=tmp_path / "cifar", download=False), batches)
    assert not (tmp_path / "escaped.bin").exists()
    assert sorted(p.name for p in (tmp_path / "cifar").iterdir()) == ["cifar-10-binary.tar.gz"]


def test_cifar_truncated_batch_names_the_file(tmp_path):
    batches = cifar_set(np.random.default_rng(9))
    folder = tmp_path / CIFAR_DIR
    for name, (raw, _, _) in batches.items():
        write_file(folder / name, raw[:-1] if name == "data_batch_3.bin" else raw)
    with pytest.raises(data.DataError, match=r"data_batch_3\.bin: 18,437 bytes is not a whole"):
        data.load_cifar10(data_dir=tmp_path, download=False)


def test_cifar_archive_reading_is_bounded(tmp_path, monkeypatch):
    batches = cifar_set(np.random.default_rng(11))
    fillers = [(f"filler/{i}", b"") for i in range(64)]  # 64 members before the batches
    members = [(f"{CIFAR_DIR}/{name}", raw) for name, (raw, _, _) in batches.items()]
    path = write_file(tmp_path / "many" / "cifar-10-binary.tar.gz",
                      cifar_tar_bytes({}, fillers + members))
    with pytest.raises(data.DataError, match=r"cifar-10-binary\.tar\.gz: more than 64 members"):
        data.load_cifar10(data_dir=path.parent, download=False)
    monkeypatch.setattr(formats, "CIFAR_ARCHIVE_BYTES", 20_000)  # the batches are 6 x ~15 KB
    path = write_file(tmp_path / "big" / "cifar-10-binary.tar.gz", cifar_tar_bytes(batches))
    with pytest.raises(data.DataError, match=r"inflates to more than 20,000 bytes"):
        data.load_cifar10(data_dir=path.parent, download=False)


def test_cifar_corrupt_archive_names_the_file(tmp_path):
    archive = write_file(tmp_path / "cifar-10-binary.tar.gz",
                         cifar_tar_bytes(cifar_set(np.random.default_rng(10)))[:300])
    with pytest.raises(data.DataError, match=rf"{archive}: corrupt tar.gz archive"):
        data.load_cifar10(data_dir=tmp_path, download=False)


# -------------------------------------------------------------------------------- downloads
class Handler(http.server.BaseHTTPRequestHandler):
    """/good/<f> serves FILES[f]; /bad/<f> serves other bytes; /drop/<f> closes halfway."""

    files = {}
    hits = []

    def do_GET(self):
        self.hits.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        if name not in self.files:
            self.send_error(404)
            return
        body = self.files[name] if mode != "bad" else b"tampered" + self.files[name]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if mode != "drop" else body[:len(body) // 2])
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.files, Handler.hits = {}, []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def make_idx_arrays(rng):
    return {IDX_NAMES[0]: rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
            IDX_NAMES[1]: rng.integers(0, 10, 6, dtype=np.uint8),
            IDX_NAMES[2]: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
            IDX_NAMES[3]: rng.integers(0, 10, 3, dtype=np.uint8)}


def publish(monkeypatch, base, modes, name="mnist", files=None, checksums=None):
    """Serve ``files`` and point the dataset's mirrors at ``base/<mode>/`` for each mode."""
    Handler.files = files
    monkeypatch.setitem(fetch.MIRRORS, name, tuple(f"{base}/{mode}/" for mode in modes))
    monkeypatch.setitem(fetch.CHECKSUMS, name, checksums or
                        {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})


def mnist_files(seed):
    arrays = make_idx_arrays(np.random.default_rng(seed))
    return arrays, {name + ".gz": gzip.compress(idx_bytes(a)) for name, a in arrays.items()}


def test_download_verifies_and_caches(tmp_path, monkeypatch, server):
    arrays, files = mnist_files(11)
    publish(monkeypatch, server, ["missing", "good"], files=files)  # first mirror 404s: the next is tried
    X_train, y_train, X_test, y_test = data.load_mnist()
    np.testing.assert_allclose(X_train, as_float(arrays[IDX_NAMES[0]]), rtol=1e-6, atol=0)
    np.testing.assert_array_equal(y_test, arrays[IDX_NAMES[3]])
    cache = tmp_path / "cache" / "numpynn" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)  # no .part left over
    assert all((cache / n).read_bytes() == b for n, b in files.items())
    hits = len(Handler.hits)
    data.load_mnist()  # second load: from the cache, no request
    assert len(Handler.hits) == hits


def test_download_wrong_checksum_leaves_nothing(tmp_path, monkeypatch, server):
    _, files = mnist_files(12)
    publish(monkeypatch, server, ["bad"], files=files,
            checksums={n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    name = "train-images-idx3-ubyte.gz"
    got = hashlib.sha256(b"tampered" + files[name]).hexdigest()
    want = hashlib.sha256(files[name]).hexdigest()
    with pytest.raises(data.ChecksumError, match=rf"{name} downloaded from .* has SHA-256 {got}; "
                                                 rf"expected {want}"):
        data.load_mnist()
    cache = tmp_path / "cache" / "numpynn" / "mnist"
    assert list(cache.iterdir()) == []


def test_download_dropped_connection_leaves_nothing(tmp_path, monkeypatch, server):
    _, files = mnist_files(13)
    publish(monkeypatch, server, ["drop"], files=files)
    size = len(files["train-images-idx3-ubyte.gz"])
    with pytest.raises(data.DatasetNotFoundError,
                       match=rf"connection closed after {size // 2:,} of {size:,} bytes"):
        data.load_mnist()
    assert list((tmp_path / "cache" / "numpynn" / "mnist").iterdir()) == []


def test_download_cifar_archive(tmp_path, monkeypatch, server):
    batches = cifar_set(np.random.default_rng(14), n=2)
    publish(monkeypatch, server, ["good"], "cifar10",
            files={"cifar-10-binary.tar.gz": cifar_tar_bytes(batches)})
    check_cifar(data.load_cifar10(), batches)
    assert (tmp_path / "cache" / "numpynn" / "cifar10" / "cifar-10-binary.tar.gz").is_file()


def test_no_files_no_network_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.SYSTEM_DIRS, "fashion-mnist", (str(tmp_path / "not-installed"),))
    with pytest.raises(FileNotFoundError) as info:
        data.load_fashion_mnist(data_dir=tmp_path / "empty")
    message = str(info.value)
    assert isinstance(info.value, data.DatasetNotFoundError)
    for expected in ["apt-get install dataset-fashion-mnist", "--data-dir", "127.0.0.1:9",
                     str(tmp_path / "empty"), str(tmp_path / "cache" / "numpynn"),
                     str(tmp_path / "not-installed"), "train-images-idx3-ubyte.gz"]:
        assert expected in message
    with pytest.raises(data.DatasetNotFoundError, match="Not downloaded: download=False"):
        data.load_mnist(download=False)


# ------------------------------------------------------------------------- digits, registry
def test_digits_shapes_split_and_binary_labels():
    X_train, y_train, X_test, y_test = data.load_digits()
    assert X_train.shape == (899, 64) and X_test.shape == (898, 64)  # round(898.5) = 898
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    # The split is a partition of sklearn's 1,797 samples, scaled 0..16 -> [0, 1].
    X_all, y_all = sklearn_digits(return_X_y=True)
    X_ours = np.concatenate([X_train, X_test])
    order_ours, order_ref = np.lexsort(X_ours.T), np.lexsort(X_all.T)
    np.testing.assert_allclose(X_ours[order_ours] * 16, X_all[order_ref], rtol=0, atol=1e-5)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == sorted(y_all.tolist())
    Xb_train, yb_train, Xb_test, yb_test = data.load_digits(binary=True)
    np.testing.assert_array_equal(Xb_train, X_train)  # same seed, same split
    np.testing.assert_array_equal(yb_train, (y_train <= 4).astype(np.int64))
    np.testing.assert_array_equal(yb_test, (y_test <= 4).astype(np.int64))
    assert len(data.load_digits(test_fraction=0.2)[2]) == 359
    assert not np.array_equal(data.load_digits(seed=1)[1], y_train)
    with pytest.raises(ValueError, match=r"^load_digits: test_fraction must be in \(0, 1\); "
                                         r"got 0$"):
        data.load_digits(test_fraction=0)


@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_registry_entries_match_their_loaders(tmp_path, name):
    entry = data.DATASETS[name]
    rng = np.random.default_rng(15)
    if name in ("mnist", "fashion-mnist"):
        write_idx_set(tmp_path, rng)
    elif name == "cifar10":
        for batch, (raw, _, _) in cifar_set(rng).items():
            write_file(tmp_path / batch, raw)
    drawn = name.startswith("digits") or name in data.points.CLASSIFICATION  # no files
    X_train, y_train, X_test, _ = data.load(name, data_dir=tmp_path, **(
        {} if drawn else {"download": False}))
    assert X_train.shape[1] == entry.n_features == X_test.shape[1]
    assert entry.n_classes == len(entry.class_names) and y_train.max() < entry.n_classes
    if name not in data.points.CLASSIFICATION:  # pixels; points fill [-6, 6]²
        assert 0 <= X_train.min() and X_train.max() <= 1
    assert entry.to_images(X_train[:2]).shape == (2, *entry.image_shape)


def test_unknown_dataset_lists_choices():
    with pytest.raises(ValueError, match="^load: unknown dataset 'mnsit'; choose one of: digits, "
                                         "digits-binary, mnist, fashion-mnist, cifar10"):
        data.load("mnsit")


# ---------------------------------------------------------------------------------- splits
def test_train_val_split_is_a_seeded_partition():
    rng = np.random.default_rng(16)
    X = np.arange(50000, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)  # row i = i
    y = np.arange(50000)
    X_train, y_train, X_val, y_val = data.train_val_split(X, y, n_val=1000, rng=0)
    assert len(X_train) == 49000 and len(X_val) == 1000  # the course's 49,000/1,000
    np.testing.assert_array_equal(X_train[:, 0], y_train)  # rows stay with their labels
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_val])), y)
    np.testing.assert_array_equal(data.train_val_split(X, y, n_val=1000, rng=0)[3], y_val)
    assert not np.array_equal(data.train_val_split(X, y, n_val=1000, rng=1)[3], y_val)
    half = data.train_val_split(X[:11], y[:11], val_fraction=0.5, rng=rng)
    assert (len(half[0]), len(half[2])) == (5, 6)  # round(5.5) = 6 (banker's rounding)
    with pytest.raises(ValueError, match="give exactly one of n_val and val_fraction"):
        data.train_val_split(X, y)
    with pytest.raises(ValueError, match=r"^train_val_split: n_val must be an integer in "
                                         r"\[1, 49999\]; got 50000$"):
        data.train_val_split(X, y, n_val=50000)
    with pytest.raises(ValueError, match=r"^train_val_split: val_fraction must be in \(0, 1\); "
                                         r"got nan$"):
        data.train_val_split(X, y, val_fraction=float("nan"))
    with pytest.raises(ValueError, match=r"y has shape \(3,\); expected \(50000, \.\.\.\)"):
        data.train_val_split(X, y[:3], n_val=10)


# --------------------------------------------------------------------------- preprocessing
def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(17)
    X_train = rng.normal(3.0, 2.0, (200, 5)).astype(np.float32)
    X_train[:, 2] = 7.0  # constant feature: centred, not divided by ~0
    X_test = rng.normal(-1.0, 5.0, (50, 5)).astype(np.float32)
    out_train, out_test = data.standardize(X_train, X_test)
    scaler = StandardScaler().fit(X_train.astype(np.float64))  # same rule for zero variance
    np.testing.assert_allclose(out_train, scaler.transform(X_train), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out_test, scaler.transform(X_test), rtol=1e-5, atol=1e-5)
    assert out_train.dtype == np.float32
    # The test set never leaks into the statistics.
    np.testing.assert_array_equal(data.standardize(X_train, X_test * 100)[0], out_train)
    (glob,) = data.standardize(X_train, per_feature=False)
    ref = X_train.astype(np.float64)
    np.testing.assert_allclose(glob, (ref - ref.mean()) / ref.std(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"argument 2 has shape \(50, 4\); expected \(M, 5\)"):
        data.standardize(X_train, X_test[:, :4])


def test_mean_image_and_scale_01():
    rng = np.random.default_rng(18)
    X_train = rng.integers(0, 256, (30, 12)).astype(np.uint8)
    X_test = rng.integers(0, 256, (7, 12)).astype(np.uint8)
    centred_train, centred_test = data.subtract_mean_image(X_train, X_test)
    mean = X_train.astype(np.float64).mean(axis=0)  # (12,)
    np.testing.assert_allclose(centred_test, X_test - mean, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(centred_train.mean(axis=0), 0, atol=1e-4)
    assert centred_train.dtype == np.float32
    scaled_train, scaled_test = data.scale_01(X_train, X_test)
    low, high = float(X_train.min()), float(X_train.max())
    np.testing.assert_allclose([scaled_train.min(), scaled_train.max()], [0, 1], atol=1e-7)
    np.testing.assert_allclose(scaled_test, (X_test - low) / (high - low), rtol=1e-6, atol=1e-6)


@pytest.mark.torch
def test_one_hot_matches_torch():
    y = np.random.default_rng(19).integers(0, 7, 40)
    expected = torch.nn.functional.one_hot(torch.from_numpy(y), 7).numpy()
    out = data.one_hot(y, 7)
    assert out.dtype == np.float32 and out.shape == (40, 7)
    np.testing.assert_allclose(out, expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"one_hot: y must lie in \[0, 5\)"):
        data.one_hot(y, 5)
    with pytest.raises(ValueError, match=r"^one_hot: n_classes must be an integer >= 1; got 0$"):
        data.one_hot(y, 0)


# --------------------------------------------------------------------------------- batches
def test_batches_are_a_fresh_permutation_each_epoch():
    X = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)  # row i = i
    y = np.arange(10)
    rng = np.random.default_rng(20)
    epochs = [list(data.batches(X, y, 4, rng=rng)) for _ in range(3)]
    orders = []
    for epoch in epochs:
        assert [len(yb) for _, yb in epoch] == [4, 4, 2]  # last partial batch kept
        for xb, yb in epoch:
            np.testing.assert_array_equal(xb[:, 0], yb)  # pairs stay together
        order = np.concatenate([yb for _, yb in epoch])
        np.testing.assert_array_equal(np.sort(order), y)  # each sample exactly once
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])  # reshuffled with the same Generator
    again = [yb for _, yb in data.batches(X, y, 4, rng=np.random.default_rng(20))]
    np.testing.assert_array_equal(np.concatenate(again), orders[0])  # reproducible
    plain = [yb for _, yb in data.batches(X, y, 3, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(plain), y)
    assert [len(b) for b in plain] == [3, 3, 3, 1]


def test_batches_validate_eagerly():
    X, y = np.zeros((5, 2), np.float32), np.arange(5)
    with pytest.raises(ValueError, match=r"^batches: batch_size must be an integer >= 1; got 0$"):
        data.batches(X, y, 0)
    with pytest.raises(TypeError, match=r"^batches: batch_size must be an integer >= 1; got 2\.0"):
        data.batches(X, y, 2.0)
    with pytest.raises(ValueError, match=r"y has shape \(4,\); expected \(5, \.\.\.\)"):
        data.batches(X, y[:4], 2)


# ------------------------------------------------------------------- the real Fashion-MNIST
def test_real_fashion_mnist_from_debian_package():
    if not all((DEBIAN_FASHION / f"{n}.gz").is_file() for n in IDX_NAMES):
        pytest.fail(f"Fashion-MNIST files missing from {DEBIAN_FASHION}\n"
                    "help: apt-get install dataset-fashion-mnist (CI installs it)")
    X_train, y_train, X_test, y_test = data.load_fashion_mnist(data_dir=DEBIAN_FASHION,
                                                               download=False)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 6000))  # balanced classes
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 1000))
    assert (X_train.min(), X_train.max(), X_test.min(), X_test.max()) == (0, 1, 0, 1)
    assert y_train[0] == 9  # the first training image is an ankle boot
