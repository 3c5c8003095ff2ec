"""Datasets, splits, preprocessing and minibatches.

Every loader takes ``data_dir=None`` and returns ``(X_train, y_train, X_test, y_test)``:

- ``X`` : ndarray of float32, shape (N, D) — images **flattened** and **scaled to [0, 1]**
  (digits' 0–16 intensities divided by 16, bytes by 255). Each dataset's :class:`Dataset`
  entry in :data:`DATASETS` gives ``image_shape`` and :meth:`Dataset.to_images` for display.
- ``y`` : ndarray of int64, shape (N,) — class indices in ``[0, n_classes)``.

======================  ============  ================  =========================================
name                    N train/test  D (image_shape)   source
======================  ============  ================  =========================================
``digits``              899/898       64 (8, 8)         scikit-learn, seeded 50/50 shuffle split
``digits-binary``       899/898       64 (8, 8)         the same, label 1 for digits 0–4
``mnist``               60000/10000   784 (28, 28)      official IDX files
``fashion-mnist``       60000/10000   784 (28, 28)      official IDX files (or Debian package)
``cifar10``             50000/10000   3072 (32, 32, 3)  official *binary* batches, rows are CHW
``circle``, ``xor``,    200/200       2 (2,)            drawn from a seed (:mod:`points`), noise 0.2
``gaussians``,
``spiral``, ``moons``
======================  ============  ================  =========================================

Where files are looked for and how they are downloaded: :mod:`numpynn.data.fetch`.
Preprocessing functions are pure and fit on the training set only.

>>> X_train, y_train, X_test, y_test = load_digits(binary=True)
>>> X_train.shape, X_train.dtype.name, y_train.dtype.name, sorted(set(y_train.tolist()))
((899, 64), 'float32', 'int64', [0, 1])
"""
import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from numpynn._helpers.extras import require
from numpynn._helpers.validation import (as_generator, check_array, check_int, check_labels,
                                         check_positive, check_range, choose)
from numpynn.data.fetch import (CHECKSUMS, MIRRORS, ChecksumError, DatasetNotFoundError,
                             DownloadError, cache_dir, locate)
from numpynn.data import points
from numpynn.data.formats import (CIFAR_BATCHES, IDX_COUNTS, IDX_FILES, DataError,
                                  parse_cifar_batch, read_cifar, read_idx_pair, resolve_cifar,
                                  resolve_idx)

__all__ = [
    "DATASETS", "Dataset", "load", "load_digits", "load_mnist", "load_fashion_mnist",
    "load_cifar10", "train_val_split", "standardize", "standardization", "subtract_mean_image",
    "scale_01",
    "one_hot", "batches", "MIRRORS", "CHECKSUMS", "DataError", "ChecksumError",
    "DatasetNotFoundError", "DownloadError", "cache_dir",
]

DIGITS_MAX = 16.0  # sklearn's digits count set pixels in 4x4 blocks: intensities 0..16
BYTE_MAX = 255.0


# ---------------------------------------------------------------------------------- loaders
def load_digits(binary=False, data_dir=None, test_fraction=0.5, seed=0):
    """scikit-learn's 8×8 handwritten digits (1,797 images), split by a seeded shuffle.

    Digits have no official split: a permutation drawn from ``np.random.default_rng(seed)``
    puts ``round(test_fraction * 1797)`` samples in the test set (898 of 1,797 by default: the
    course's 50/50 split) and the rest in the training set.

    Parameters
    ----------
    binary : bool
        The course's binary task: label 1 for digits 0–4, else 0.
    data_dir : None
        Accepted for a uniform loader signature; the data ship with scikit-learn.
    test_fraction : float in (0, 1)
    seed : int

    Returns
    -------
    X_train : ndarray of float32, shape (N_train, 64), values in [0, 1] (intensity / 16)
    y_train : ndarray of int64, shape (N_train,), in [0, 10) or {0, 1} when ``binary``
    X_test, y_test : the same for the test samples
    """
    require("sklearn", "the digits dataset")  # it ships the images
    from sklearn.datasets import load_digits as sklearn_digits

    check_range(test_fraction, "test_fraction", 0, 1, low_open=True, high_open=True,
                where="load_digits")
    X, y = sklearn_digits(return_X_y=True)  # (1797, 64) float64 in 0..16, (1797,)
    X = (X / DIGITS_MAX).astype(np.float32)
    y = (y <= 4).astype(np.int64) if binary else y.astype(np.int64)
    train, test = _split_indices(len(y), round(test_fraction * len(y)), as_generator(seed))
    return X[train], y[train], X[test], y[test]


def load_mnist(data_dir=None, download=True):
    """MNIST handwritten digits from the official IDX files (60,000 train, 10,000 test).

    Files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte`` (each raw or ``.gz``) are looked for in ``data_dir``,
    ``$NUMPYNN_DATA``, the cache (see :mod:`numpynn.data.fetch`); missing files are
    downloaded when ``download`` is true, else :class:`DatasetNotFoundError` says how to get them.

    Returns
    -------
    X_train : ndarray of float32, shape (60000, 784), row-major 28×28 pixels in [0, 1]
    y_train : ndarray of int64, shape (60000,), in [0, 10)
    X_test, y_test : shapes (10000, 784) and (10000,)
    """
    return _load_idx("mnist", data_dir, download)


def load_fashion_mnist(data_dir=None, download=True):
    """Zalando's Fashion-MNIST from the official IDX files; same format as :func:`load_mnist`.

    Also found where Debian's ``dataset-fashion-mnist`` package installs it
    (``/usr/share/datasets/fashion-mnist/``). Class names: ``DATASETS["fashion-mnist"]``.
    """
    return _load_idx("fashion-mnist", data_dir, download)


def load_cifar10(data_dir=None, download=True):
    """CIFAR-10 from the official *binary* version (never the pickled one).

    Read from a ``cifar-10-batches-bin/`` folder (``data_batch_1.bin`` … ``data_batch_5.bin``,
    ``test_batch.bin``), from those files directly in the folder, or straight out of
    ``cifar-10-binary.tar.gz`` (members read as bytes, nothing extracted).

    Returns
    -------
    X_train : ndarray of float32, shape (50000, 3072), pixels / 255 in the files' CHW order
        (1,024 red, then green, then blue); ``DATASETS["cifar10"].to_images(X)`` gives
        (N, 32, 32, 3) for display.
    y_train : ndarray of int64, shape (50000,), in [0, 10)
    X_test, y_test : shapes (10000, 3072) and (10000,)
    """
    blobs = read_cifar(locate("cifar10", resolve_cifar, data_dir, download))
    train = [parse_cifar_batch(*blobs[name]) for name in CIFAR_BATCHES["train"]]
    X_test, y_test = parse_cifar_batch(*blobs["test_batch.bin"])
    X_train = np.concatenate([x for x, _ in train])  # (50000, 3072)
    y_train = np.concatenate([y for _, y in train])  # (50000,)
    return _to_float(X_train), y_train.astype(np.int64), _to_float(X_test), y_test.astype(np.int64)


def _load_idx(name, data_dir, download):
    """Load an MNIST-format dataset's train and test pairs."""
    paths = locate(name, resolve_idx, data_dir, download)
    arrays = []
    for split, (images_file, labels_file) in IDX_FILES.items():
        images, labels = read_idx_pair(paths[images_file], paths[labels_file], IDX_COUNTS[split])
        arrays += [_to_float(images), labels.astype(np.int64)]
    return tuple(arrays)


def _to_float(pixels):
    """Bytes (N, D) uint8 → float32 in [0, 1]."""
    return np.divide(pixels, np.float32(BYTE_MAX), dtype=np.float32)


# --------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Dataset:
    """One entry of :data:`DATASETS`: how to load a dataset and how to show its samples.

    Attributes
    ----------
    name : str
    loader : callable
        ``loader(data_dir=None, **kwargs) -> (X_train, y_train, X_test, y_test)``.
    image_shape : tuple of int
        Display shape of one sample: (H, W) grey or (H, W, 3) colour (channels last).
    class_names : tuple of str
        Index ``c`` names class ``c``.
    channels_first : bool
        Rows are stored as (C, H, W) (CIFAR-10's byte order), so :meth:`to_images` transposes.
    """

    name: str
    loader: Callable
    image_shape: tuple
    class_names: tuple
    channels_first: bool = False

    @property
    def n_classes(self):
        return len(self.class_names)

    @property
    def n_features(self):
        """D, the length of one flattened sample."""
        return int(np.prod(self.image_shape))

    def load(self, data_dir=None, **kwargs):
        """Call the loader: ``(X_train, y_train, X_test, y_test)``."""
        return self.loader(data_dir=data_dir, **kwargs)

    def to_images(self, X):
        """Reshape rows (N, D) into displayable images (N, H, W) or (N, H, W, C)."""
        X = check_array(X, "X", ndim=2, dtype_kind="fiu", where=f"DATASETS[{self.name!r}]")
        if X.shape[1] != self.n_features:
            raise ValueError(f"DATASETS[{self.name!r}].to_images: X has shape {X.shape}; "
                             f"expected (N, {self.n_features})")
        if not self.channels_first:
            return X.reshape(len(X), *self.image_shape)  # (N, H, W[, C])
        height, width, channels = self.image_shape
        return X.reshape(len(X), channels, height, width).transpose(0, 2, 3, 1)  # (N, H, W, C)


DIGIT_NAMES = tuple(str(d) for d in range(10))
DATASETS = {d.name: d for d in (
    Dataset("digits", load_digits, (8, 8), DIGIT_NAMES),
    Dataset("digits-binary", functools.partial(load_digits, binary=True), (8, 8),
            ("5-9", "0-4")),
    Dataset("mnist", load_mnist, (28, 28), DIGIT_NAMES),
    Dataset("fashion-mnist", load_fashion_mnist, (28, 28),
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot")),
    Dataset("cifar10", load_cifar10, (32, 32, 3),
            ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"), channels_first=True),
    # 2-D point sets drawn from a seed (numpynn.data.points): 200 train / 200 test each
    *(Dataset(name, loader, (2,), ("0", "1")) for name, loader in points.loaders().items()),
)}


def load(name, data_dir=None, **kwargs):
    """Load dataset ``name`` (a key of :data:`DATASETS`): ``(X_train, y_train, X_test, y_test)``.

    >>> load("digits")[0].shape
    (899, 64)
    """
    return choose(name, DATASETS, "dataset", where="load").load(data_dir=data_dir, **kwargs)


# ----------------------------------------------------------------------------------- splits
def _split_indices(n, n_second, rng):
    """A seeded permutation of ``range(n)`` cut into (first n - n_second, last n_second)."""
    order = rng.permutation(n)  # (n,)
    return order[n_second:], order[:n_second]


def train_val_split(X, y, n_val=None, val_fraction=None, rng=0):
    """Hold out a random validation set: ``(X_train, y_train, X_val, y_val)``.

    Give exactly one of ``n_val`` (e.g. the course's 1,000 of CIFAR-10's 50,000, leaving
    49,000) or ``val_fraction`` (e.g. 0.5). The split is a permutation drawn from ``rng``,
    so the same seed gives the same split.

    Parameters
    ----------
    X : ndarray of shape (N, ...)
    y : ndarray of shape (N, ...)
    n_val : int in [1, N - 1], optional
    val_fraction : float in (0, 1), optional
    rng : int, Generator or None
    """
    X, y = _check_pair(X, y, "train_val_split")
    n = len(X)
    if (n_val is None) == (val_fraction is None):
        raise ValueError("train_val_split: give exactly one of n_val and val_fraction; got "
                         f"n_val={n_val!r}, val_fraction={val_fraction!r}\n"
                         "help: train_val_split(X, y, n_val=1000) or val_fraction=0.5")
    if val_fraction is not None:
        check_range(val_fraction, "val_fraction", 0, 1, low_open=True, high_open=True,
                    where="train_val_split")
        n_val = round(val_fraction * n)
    n_val = check_int(n_val, "n_val", minimum=1, maximum=n - 1, where="train_val_split")
    train, val = _split_indices(n, n_val, as_generator(rng))
    return X[train], y[train], X[val], y[val]


# ---------------------------------------------------------------------------- preprocessing
def standardize(X_train, *others, per_feature=True, min_std=1e-8):
    r"""Standardise with the training set's statistics: :math:`x' = (x - \mu) / \sigma`.

    :math:`\mu, \sigma` come from ``X_train`` only — per feature (column) by default, or one
    global mean and std over every value with ``per_feature=False`` (the course's digits
    preprocessing) — and are applied unchanged to ``others`` (validation, test).
    A :math:`\sigma` below ``min_std`` (a pixel constant on the training set) is replaced by 1,
    so such features are centred but not blown up (scikit-learn's ``StandardScaler`` rule).

    Parameters
    ----------
    X_train : ndarray of shape (N, D)
    *others : ndarray of shape (M, D)
    per_feature : bool
    min_std : float

    Returns
    -------
    tuple of ndarray, one per argument in order, float (float32 for integer input):
    ``X_train, X_test = standardize(X_train, X_test)``; ``(X_train,) = standardize(X_train)``.
    """
    arrays = _check_features(X_train, others, "standardize")
    return _shift_scale(arrays, *standardization(arrays[0], per_feature, min_std))


def standardization(X_train, per_feature=True, min_std=1e-8):
    """The statistics :func:`standardize` applies: ``(mean, std)`` of ``X_train`` in float64.

    What a model carries as its first layer, ``nn.Normalize(D, mean=mean, std=std)``, to
    predict on raw data exactly as :func:`standardize` prepared its training data.

    Returns
    -------
    mean, std : ndarray of shape (D,), or () with ``per_feature=False``
    """
    X_train = check_array(X_train, "X_train", dtype_kind="fiu", where="standardization")
    check_positive(min_std, "min_std", where="standardize")
    axis = 0 if per_feature else None
    mean = X_train.mean(axis=axis, dtype=np.float64)  # (D,) or ()
    std = X_train.std(axis=axis, dtype=np.float64)    # (D,) or ()
    return mean, np.where(std < min_std, 1.0, std)


def subtract_mean_image(X_train, *others):
    r"""Subtract the training set's mean image from every set: :math:`x' = x - \bar{x}_{train}`.

    Parameters
    ----------
    X_train : ndarray of shape (N, D)
    *others : ndarray of shape (M, D)

    Returns
    -------
    tuple of ndarray, one per argument in order (see :func:`standardize`).
    """
    arrays = _check_features(X_train, others, "subtract_mean_image")
    return _shift_scale(arrays, arrays[0].mean(axis=0, dtype=np.float64), 1.0)  # mean (D,)


def scale_01(X_train, *others):
    r"""Min-max scale with the training set's global range: :math:`x' = (x - m) / (M - m)`.

    ``X_train`` lands in [0, 1]; ``others`` use the same :math:`m, M` and may fall slightly
    outside. Meant for raw data (the loaders already return [0, 1]). A constant ``X_train``
    is only shifted.

    Returns
    -------
    tuple of ndarray, one per argument in order (see :func:`standardize`).
    """
    arrays = _check_features(X_train, others, "scale_01")
    low, high = float(arrays[0].min()), float(arrays[0].max())
    return _shift_scale(arrays, low, (high - low) or 1.0)


def one_hot(y, n_classes):
    """One-hot encode class indices: ``out[i, y[i]] = 1``.

    Parameters
    ----------
    y : ndarray of int, shape (N,), values in [0, n_classes)
    n_classes : int

    Returns
    -------
    ndarray of float32, shape (N, n_classes)
    """
    check_int(n_classes, "n_classes", minimum=1, where="one_hot")
    y = check_labels(y, n_classes, name="y", where="one_hot")
    out = np.zeros((len(y), n_classes), dtype=np.float32)  # (N, C)
    out[np.arange(len(y)), y] = 1.0
    return out


def _shift_scale(arrays, shift, scale):
    """Apply ``(x - shift) / scale`` to each array, keeping float32 data float32."""
    return tuple(((x - shift) / scale).astype(x.dtype if x.dtype.kind == "f" else np.float32,
                                              copy=False) for x in arrays)


def _check_features(X_train, others, where):
    """Check that every array is numeric with X_train's feature shape."""
    arrays = [check_array(x, f"X{i}" if i else "X_train", dtype_kind="fiu", where=where)
              for i, x in enumerate((X_train, *others))]
    if arrays[0].ndim < 1 or len(arrays[0]) == 0:
        raise ValueError(f"{where}: X_train has shape {arrays[0].shape}; expected (N, D), N > 0")
    for i, x in enumerate(arrays[1:], start=1):
        if x.shape[1:] != arrays[0].shape[1:]:
            raise ValueError(f"{where}: argument {i + 1} has shape {x.shape}; expected "
                             f"(M, {', '.join(map(str, arrays[0].shape[1:]))}) like X_train")
    return arrays


# ---------------------------------------------------------------------------------- batches
def batches(X, y, batch_size, shuffle=True, rng=None):
    """Iterate over one epoch in minibatches ``(X_batch, y_batch)``.

    With ``shuffle`` the order is a fresh permutation drawn from ``rng`` when ``batches`` is
    called (every sample exactly once per epoch: no sampling with replacement), so calling it
    again with the same Generator reshuffles. The last batch keeps the ``N % batch_size``
    leftover samples when ``N`` is not a multiple of ``batch_size``.

    Parameters
    ----------
    X : ndarray of shape (N, ...)
    y : ndarray of shape (N, ...)
    batch_size : int >= 1
    shuffle : bool
    rng : int, Generator or None

    Yields
    ------
    X_batch : ndarray of shape (B, ...), B = batch_size except maybe the last
    y_batch : ndarray of shape (B, ...)

    >>> rng = np.random.default_rng(0)
    >>> [len(xb) for xb, yb in batches(np.zeros((10, 2)), np.arange(10), 4, rng=rng)]
    [4, 4, 2]
    """
    X, y = _check_pair(X, y, "batches")
    batch_size = check_int(batch_size, "batch_size", minimum=1, where="batches")
    order = as_generator(rng).permutation(len(X)) if shuffle else None  # drawn now, not lazily
    return _iterate(X, y, batch_size, order)


def _iterate(X, y, batch_size, order):
    for start in range(0, len(X), batch_size):
        if order is None:
            yield X[start:start + batch_size], y[start:start + batch_size]
        else:
            index = order[start:start + batch_size]  # (B,)
            yield X[index], y[index]


def _check_pair(X, y, where):
    """Check X (numeric, N ≥ 1 rows) and y (one entry per row)."""
    X = check_array(X, "X", dtype_kind="fiu", where=where)
    y = check_array(y, "y", dtype_kind="fiub", finite=False, where=where)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"{where}: X has shape {X.shape}; expected (N, ...) with N > 0")
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(f"{where}: y has shape {y.shape}; expected ({len(X)}, ...) "
                         "(one entry per row of X)")
    return X, y

