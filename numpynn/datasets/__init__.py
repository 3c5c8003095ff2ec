"""File formats and downloads behind :mod:`numpynn.data` (use that module; this is plumbing).

- :mod:`numpynn.datasets.formats` parses the official IDX (MNIST, Fashion-MNIST) and CIFAR-10
  binary formats and says which file is corrupt and how.
- :mod:`numpynn.datasets.fetch` finds the files on disk (``data_dir``, ``$NUMPYNN_DATA``, the
  user cache, system packages) and downloads them from the official mirrors, verified by SHA-256
  and written atomically.
"""
