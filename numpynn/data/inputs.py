"""Samples to predict on, from a user's file: ``.npy``, ``.csv`` or images (PNG, JPEG).

What ``numpynn predict`` reads. Every reader returns float32 rows of shape (N, D), D the
model's input features, with pixels scaled to [0, 1] as the dataset loaders scale them:

- ``.npy``: (N, D), one sample (D,), or images (N, h, w) / (N, C, h, w) with h·w(·C) = D;
  read without pickle;
- ``.csv``: one sample per row, D numbers separated by commas (a header row is skipped);
- ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.gif``: one image, resized to the model's
  image (D = s² for an s×s greyscale model such as MNIST's 28×28, D = 3·s² for an RGB one
  such as CIFAR-10's 3×32×32, channels first), converted to greyscale where the model is.
  Pillow reads them (it comes with matplotlib: ``pip install "numpynn[all]"``).
"""
import math
from pathlib import Path

import numpy as np

from numpynn._helpers.extras import require

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_INPUT_BYTES = 512 * 2**20   # a prediction input larger than this is refused unread


def image_shape(n_features):
    """``(channels, side, side)`` of square images with ``n_features`` values, or None."""
    for channels in (1, 3):
        side = math.isqrt(n_features // channels)
        if channels * side * side == n_features:
            return channels, side, side
    return None


def read_samples(path, n_features):
    """The samples in ``path`` as float32 rows of shape (N, ``n_features``).

    Raises
    ------
    FileNotFoundError
    ValueError
        A format, size or shape the model cannot take; the message names the file and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise ValueError(f"{path}: {path.stat().st_size:,} bytes; the limit is "
                         f"{MAX_INPUT_BYTES:,}\nhelp: predict on smaller files, in parts")
    suffix = path.suffix.lower()
    reader = READERS.get(suffix) or (_read_image if suffix in IMAGE_SUFFIXES else None)
    if reader is None:
        raise ValueError(f"{path}: unknown input type {suffix!r}; choose one of: .npy, .csv, "
                         f"{', '.join(IMAGE_SUFFIXES)}")
    X = reader(path, n_features)
    if X.ndim == 1:
        X = X[None, :]                                    # one sample -> (1, D)
    X = X.reshape(len(X), -1)                             # images -> rows (N, D)
    if X.shape[1] != n_features or len(X) == 0:
        raise ValueError(f"{path}: {X.shape[1]} values per sample; the model takes "
                         f"{n_features}\nhelp: give one sample per row with {n_features} "
                         "values")
    if not np.isfinite(X).all():
        raise ValueError(f"{path}: contains NaN or inf")
    return X.astype(np.float32, copy=False)


def _read_npy(path, n_features):
    try:
        X = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise ValueError(f"{path}: not a plain .npy array ({err}); no pickle is ever loaded") \
            from None
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: expected a numeric array; got {getattr(X, 'dtype', X)!r}")
    return X.astype(np.float32)


def _read_csv(path, n_features):
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [line.split(",") for line in lines]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]                                   # a header row
    try:
        return np.array([[float(v) for v in row] for row in rows], dtype=np.float32)
    except ValueError as err:
        raise ValueError(f"{path}: every row must hold {n_features} numbers separated by "
                         f"commas ({err})") from None


def _numeric(row):
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


def _read_image(path, n_features):
    shape = image_shape(n_features)
    if shape is None:
        raise ValueError(f"{path}: the model takes {n_features} values per sample, which is no "
                         "square image (s×s or 3×s×s)\nhelp: give .npy or .csv rows instead")
    require("PIL", "reading images")
    from PIL import Image

    channels, height, width = shape
    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB").resize((width, height))
        pixels = np.asarray(image, dtype=np.float32) / 255    # (h, w) or (h, w, 3)
    return pixels.reshape(height, width, channels).transpose(2, 0, 1)   # (C, h, w)


READERS = {".npy": _read_npy, ".csv": _read_csv}
