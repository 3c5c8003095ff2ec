"""Environment check that CI runs after the tests: numpynn's SGD update goes through the OpenBLAS
that NumPy's wheel bundles.

    python scripts/check_env.py

Prints which BLAS ``numpynn._speed.blas.axpy`` uses and exits 1 when it is not NumPy's bundled
OpenBLAS. This is a check of the machine, not of the code: a NumPy built on MKL or a system
BLAS (conda, some Linux distributions) runs numpynn correctly on the slower NumPy fallback, so
a student with one should see no failing unit test; CI, which installs NumPy's wheel, must keep
the fast path and fails here if it is lost.
"""
import os
import sys

import numpy as np

from numpynn._speed import blas


def main():
    library = blas._library()
    print(f"NumPy {np.__version__} at {np.__file__}")
    print(f"bundled OpenBLAS: {os.path.normpath(library._name) if library else 'not found'}")
    print(f"axpy backend: {blas.BACKEND} (dtypes with a checked BLAS routine: "
          f"{', '.join(sorted(d.name for d in blas._ROUTINES)) or 'none'})")
    expected = {np.dtype(np.float32), np.dtype(np.float64)}
    if library is None or blas.BACKEND != "blas" or set(blas._ROUTINES) != expected:
        print("check_env: error: numpynn's axpy does not run on NumPy's bundled OpenBLAS\n"
              "help: install NumPy's wheel from PyPI (pip install --force-reinstall numpy); "
              "NUMPYNN_BLAS=numpy in the environment also forces the fallback", file=sys.stderr)
        return 1
    print("check_env: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
