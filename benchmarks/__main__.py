"""``python -m benchmarks [options]`` from the repository's root: see :mod:`benchmarks.cli`."""
import sys

from benchmarks.cli import main

sys.exit(main())
