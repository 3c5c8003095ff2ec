"""Find dataset files on disk, or download them from the official mirrors, verified.

Lookup order for a dataset ``name`` (the first folder holding every file wins):

1. ``data_dir`` itself, then ``data_dir/<name>``;
2. ``$NUMPYNN_DATA``, then ``$NUMPYNN_DATA/<name>``;
3. the user cache :func:`cache_dir`: ``$XDG_CACHE_HOME/numpynn/<name>``, by default
   ``~/.cache/numpynn/<name>``;
4. system packages (:data:`SYSTEM_DIRS`): Debian's ``dataset-fashion-mnist`` installs
   ``/usr/share/datasets/fashion-mnist/``.

Local files are trusted once their headers and sizes check out (see ``formats``); the SHA-256
sums in :data:`CHECKSUMS` guard downloads. They are the official files' sums as published by
tensorflow-datasets (``url_checksums``) and torchvision and agree across independent mirrors.
Note that Debian's Fashion-MNIST ``.gz`` files are recompressed (same pixels, different gzip
bytes), which is why local files are validated by content, not by checksum.
"""
import hashlib
import http.client
import logging
import os
import urllib.request
from pathlib import Path

from numpynn._helpers.io import atomic_path
from numpynn.data.formats import DataError

log = logging.getLogger("numpynn.data")

DOWNLOAD_TIMEOUT = 30.0  # seconds without data before a connection is given up
CHUNK_BYTES = 1 << 20

MIRRORS = {  # dataset -> base URLs, tried in order
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
              "https://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}
CHECKSUMS = {  # dataset -> {file name: SHA-256 of the official download}
    "mnist": {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # 9,912,422 B
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # 28,881 B
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",  # 1,648,877 B
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",  # 4,542 B
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz":
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",  # 26,421,880 B
        "train-labels-idx1-ubyte.gz":
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",  # 29,515 B
        "t10k-images-idx3-ubyte.gz":
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",  # 4,422,102 B
        "t10k-labels-idx1-ubyte.gz":
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",  # 5,148 B
    },
    "cifar10": {
        "cifar-10-binary.tar.gz":
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",  # 170,052,171 B
    },
}
SYSTEM_DIRS = {"fashion-mnist": ("/usr/share/datasets/fashion-mnist",)}
INSTALL_HINTS = {"fashion-mnist": "apt-get install dataset-fashion-mnist"}


class DatasetNotFoundError(FileNotFoundError):
    """The files are nowhere on disk and could not be downloaded; the message says how to get
    them."""


class DownloadError(OSError):
    """A download failed (network error, HTTP error, connection closed early)."""


class ChecksumError(DataError):
    """A downloaded file's SHA-256 differs from :data:`CHECKSUMS`; the file was deleted."""


def cache_dir(name):
    """Return the user cache folder for dataset ``name`` (it may not exist yet)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "numpynn" / name


def search_dirs(name, data_dir=None):
    """Return the folders to look in for dataset ``name``, in lookup order."""
    dirs = []
    for root in (data_dir, os.environ.get("NUMPYNN_DATA")):
        if root:
            root = Path(root).expanduser()
            dirs += [root, root / name]
    dirs.append(cache_dir(name))
    return dirs + [Path(d) for d in SYSTEM_DIRS.get(name, ())]


def locate(name, resolve, data_dir=None, download=True):
    """Find dataset ``name``'s files, downloading them into the cache if they are missing.

    Parameters
    ----------
    name : str
        A key of :data:`MIRRORS` and :data:`CHECKSUMS`.
    resolve : callable
        ``resolve(folder) -> dict or None``: the files the loader needs in ``folder``, or None
        if the folder does not hold them all.
    data_dir : str or Path, optional
    download : bool
        Download missing files from :data:`MIRRORS` into :func:`cache_dir`.

    Returns
    -------
    dict
        What ``resolve`` returned for the first folder that holds everything.
    """
    dirs = search_dirs(name, data_dir)
    for folder in dirs:
        found = folder.is_dir() and resolve(folder)
        if found:
            return found
    failure = "download=False" if not download else None
    if download:
        target = cache_dir(name)
        try:
            for filename in CHECKSUMS[name]:
                if not (target / filename).is_file():
                    fetch(name, filename, target)
        except DownloadError as exc:
            failure = str(exc)
        else:
            found = resolve(target)
            if found:
                return found
            failure = f"the downloaded files in {target} do not form a complete set"
    raise DatasetNotFoundError(not_found_message(name, dirs, failure))


def not_found_message(name, dirs, failure):
    """Say where we looked, why downloading did not help, and every way to get the data."""
    files = ", ".join(CHECKSUMS[name])
    ways = [INSTALL_HINTS[name]] if name in INSTALL_HINTS else []
    ways += [f"download {files} from {MIRRORS[name][0]} into {cache_dir(name)}",
             "pass data_dir=DIR (command line: --data-dir DIR) or set NUMPYNN_DATA=DIR, where "
             f"DIR (or DIR/{name}) holds those files"]
    looked = "\n".join(f"  {d}" for d in dirs)
    return (f"{name}: data files not found. Looked in:\n{looked}\n"
            f"Not downloaded: {failure}\n"
            "help: get the data in one of these ways:\n" + "\n".join(f"  - {w}" for w in ways))


def fetch(name, filename, target_dir, timeout=DOWNLOAD_TIMEOUT):
    """Download ``filename`` of dataset ``name`` into ``target_dir``, trying each mirror.

    Returns the file's path. Raises :class:`ChecksumError` at once on a wrong SHA-256 and
    :class:`DownloadError` when every mirror failed; no partial file is left either way.
    """
    failures = []
    for base in MIRRORS[name]:
        url = base + filename
        try:
            return download_verified(url, Path(target_dir) / filename,
                                     CHECKSUMS[name][filename], timeout)
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, early close
            failures.append(f"{url}: {exc}")
    raise DownloadError("; ".join(failures))


def download_verified(url, path, sha256, timeout=DOWNLOAD_TIMEOUT):
    """Stream ``url`` into ``path`` atomically, checking its length and SHA-256.

    The bytes go to a temporary file beside ``path`` that only replaces ``path`` once complete
    and verified (``_io.atomic_path``); on any error it is deleted.
    """
    log.info("downloading %s", url)
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(path) as tmp:
        declared = response.headers.get("Content-Length")
        received = 0
        with open(tmp, "wb") as out:
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        # urllib returns b"" rather than raising when the server closes early: check ourselves.
        if declared is not None and received != int(declared):
            raise DownloadError(f"connection closed after {received:,} of {int(declared):,} "
                                "bytes")
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"{path.name} downloaded from {url} has SHA-256 {digest.hexdigest()}; expected "
                f"{sha256}. The file was deleted.\nhelp: try again later; if it persists, the "
                f"mirror serves a different file: download it by hand into {path.parent}")
    return path
