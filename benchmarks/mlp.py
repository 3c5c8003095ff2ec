"""The MLP benchmark of issue 5: numpynn's Trainer beside a plain PyTorch loop.

    python benchmarks/mlp.py                  # = numpynn bench (all options are the same)
    python benchmarks/mlp.py --smoke          # CI's quick check
    python benchmarks/mlp.py --scaling --markdown
    python benchmarks/mlp.py --profile
    python benchmarks/mlp.py --frameworks numpynn,numpy,torch

What is measured and how: numpynn/bench/ (the hand-written loop: numpynn/bench/handloop.py);
the flags: numpynn/commands/bench.py.
"""
import sys

from numpynn.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
