"""``python -m benchmarks --conv``: the fast convolution path against the reference loops and
against PyTorch, on CS231n's benchmark shapes.

CS231n (assignment 2, "Fast layers") times its naive loops against its Cython im2col on
x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1 (13.7× forward, 30.6× backward there)
and max pooling on (100, 3, 32, 32) with 2×2 windows, stride 2. Here each path runs on the
same float64 arrays and thread count; the reference loops run once (they take seconds), the
fast path and torch the best of ``repeats``.
"""
import time

import numpy as np

from numpynn import functional as F
from numpynn.threads import threads as thread_limit

CONV_SHAPES = {"x": (100, 3, 31, 31), "w": (25, 3, 3, 3), "stride": 2, "padding": 1}
POOL_SHAPE = (100, 3, 32, 32)


def _best(fn, repeats):
    """The shortest of ``repeats`` timed calls of ``fn()`` (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _pair_times(forward, backward, args, fast, repeats):
    """(forward seconds, backward seconds) of one path."""
    out, cache = forward(*args, fast=fast)
    dout = np.random.default_rng(1).normal(size=out.shape)
    return (_best(lambda: forward(*args, fast=fast), repeats),
            _best(lambda: backward(dout, cache), repeats))


def _torch_conv_seconds(x, w, b, stride, padding, repeats):
    """Forward + backward of torch.nn.functional.conv2d (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dout = torch.ones(tuple(torch.nn.functional.conv2d(tx, tw, tb, stride, padding).shape),
                      dtype=torch.float64)

    def step():
        torch.nn.functional.conv2d(tx, tw, tb, stride, padding).backward(dout)
    return _best(step, repeats)


def run_conv_benchmark(threads=None, repeats=5, log=print):
    """Seconds of each path and the ratios; a dict (printed by :func:`print_conv`)."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=CONV_SHAPES["x"]), rng.normal(size=CONV_SHAPES["w"])
    b = rng.normal(size=CONV_SHAPES["w"][0])
    conv_args = (x, w, b, CONV_SHAPES["stride"], CONV_SHAPES["padding"])
    pool_args = (rng.normal(size=POOL_SHAPE), 2, 2)
    with thread_limit(threads) if threads else _nothing():
        log("conv2d: the reference loops (seconds)")
        naive = _pair_times(F.conv2d_forward, F.conv2d_backward, conv_args, False, 1)
        fast = _pair_times(F.conv2d_forward, F.conv2d_backward, conv_args, True, repeats)
        log("max_pool2d")
        pool_naive = _pair_times(F.max_pool2d_forward, F.max_pool2d_backward, pool_args, False, 1)
        pool_fast = _pair_times(F.max_pool2d_forward, F.max_pool2d_backward, pool_args, True,
                                repeats)
        log("torch conv2d")
        torch_seconds = _torch_conv_seconds(*conv_args, repeats)
    return {"conv_naive": naive, "conv_fast": fast, "pool_naive": pool_naive,
            "pool_fast": pool_fast, "torch_conv": torch_seconds, "threads": threads}


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def print_conv(results, markdown=False):
    """The table of :func:`run_conv_benchmark`'s results."""
    rows = [("conv2d forward", results["conv_naive"][0], results["conv_fast"][0]),
            ("conv2d backward", results["conv_naive"][1], results["conv_fast"][1]),
            ("max_pool2d forward", results["pool_naive"][0], results["pool_fast"][0]),
            ("max_pool2d backward", results["pool_naive"][1], results["pool_fast"][1])]
    bar = "|" if markdown else ""
    sep = " | " if markdown else "  "
    print(f"{bar}{'kernel':<20}{sep}{'reference':>10}{sep}{'fast':>10}{sep}{'speed-up':>9}{bar}")
    if markdown:
        print("|---|---:|---:|---:|")
    for name, slow, quick in rows:
        print(f"{bar}{name:<20}{sep}{slow * 1e3:>8.1f}ms{sep}{quick * 1e3:>8.2f}ms{sep}"
              f"{slow / quick:>8.1f}×{bar}")
    fast_total = sum(results["conv_fast"])
    if results["torch_conv"] is not None:
        print(f"conv2d forward+backward: numpynn {fast_total * 1e3:.2f} ms, torch "
              f"{results['torch_conv'] * 1e3:.2f} ms (numpynn/torch = "
              f"{fast_total / results['torch_conv']:.2f}×)")
