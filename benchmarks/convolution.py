"""``python -m benchmarks --conv``: the fast convolution path against the reference loops and
against PyTorch, the memory its im2col buffers take, and convnet training epochs beside PyTorch.

1. **Kernels** on CS231n's benchmark shapes (assignment 2, "Fast layers"): x (100, 3, 31, 31),
   w (25, 3, 3, 3), stride 2, pad 1 (CS231n's Cython im2col: 13.7× forward, 30.6× backward
   over its loops there), and max pooling on (100, 3, 32, 32) with 2×2 windows, stride 2. Each
   path runs on the same float32 arrays (numpynn's default dtype) and thread count; the
   reference loops run once (they take seconds), the fast path and torch the best of
   ``repeats``, numpynn and torch alternating so that a slow spell hits both.
2. **Memory**: the traced peak (``tracemalloc``; NumPy reports its buffers to it) of one
   forward + backward on a batch whose im2col buffers would need several times
   ``im2col.COLUMN_BYTES``, beside that bound.
3. **Epochs** (:mod:`benchmarks.convnets`): LeNet and ``numpynn train --conv 32,64``'s network
   trained by numpynn's Trainer and by a plain PyTorch loop on the same data, batch, optimizer,
   initial weights, order of samples and threads.
"""
import time
import tracemalloc

import numpy as np

from benchmarks.tables import render
from numpynn import functional as F
from numpynn._speed import im2col
from numpynn.convolution import output_hw
from numpynn.threads import available_cores
from numpynn.threads import threads as thread_limit

DTYPE = np.float32
CONV_SHAPES = {"x": (100, 3, 31, 31), "w": (25, 3, 3, 3), "stride": 2, "padding": 1}
POOL_SHAPE = (100, 3, 32, 32)
# the second convolution of `numpynn train --conv 32,64` on a large evaluation batch: its
# im2col buffers, unchunked, are (2·288 + 64)·196·4 bytes per image, 490 MiB for 1024 images
MEMORY_SHAPES = {"x": (1024, 32, 14, 14), "w": (64, 32, 3, 3), "stride": 1, "padding": 1}
MIB = 2 ** 20


def _best(fn, repeats):
    """The shortest of ``repeats`` timed calls of ``fn()`` (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _arrays(rng, *shapes):
    return [rng.standard_normal(shape).astype(DTYPE) for shape in shapes]


def _numpynn_pair(forward, backward, args, fast, repeats):
    """(forward seconds, backward seconds) of one numpynn path."""
    out, cache = forward(*args, fast=fast)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(DTYPE)
    return (_best(lambda: forward(*args, fast=fast), repeats),
            _best(lambda: backward(dout, cache), repeats))


def _torch_pair(torch_fn, arrays, repeats, **kwargs):
    """(forward seconds, forward + backward seconds) of a torch.nn.functional kernel."""
    import torch
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    dout = torch.ones_like(torch_fn(*tensors, **kwargs))

    def both():
        torch_fn(*tensors, **kwargs).backward(dout)
    both()  # untimed: the first backward starts autograd's machinery
    with torch.no_grad():
        forward = _best(lambda: torch_fn(*tensors, **kwargs), repeats)
    return forward, _best(both, repeats)


def kernel_times(repeats=5, batch=None, log=print):
    """Seconds of each path on CS231n's shapes (``batch`` images instead of 100 if given); a
    dict of (forward, backward) pairs, torch's as (forward, forward + backward)."""
    import torch
    rng = np.random.default_rng(0)
    x_shape, pool_shape = _batch(CONV_SHAPES["x"], batch), _batch(POOL_SHAPE, batch)
    x, w, pool_x = _arrays(rng, x_shape, CONV_SHAPES["w"], pool_shape)
    b, = _arrays(rng, CONV_SHAPES["w"][:1])
    stride, padding = CONV_SHAPES["stride"], CONV_SHAPES["padding"]
    log("conv2d and max_pool2d: the reference loops (seconds)")
    results = {
        "conv_naive": _numpynn_pair(F.conv2d_forward, F.conv2d_backward,
                                    (x, w, b, stride, padding), False, 1),
        "pool_naive": _numpynn_pair(F.max_pool2d_forward, F.max_pool2d_backward,
                                    (pool_x, 2, 2), False, 1)}
    log("conv2d and max_pool2d: the fast path and torch, alternating")
    results["conv_fast"], results["pool_fast"] = (0, 0), (0, 0)
    results["torch_conv"], results["torch_pool"] = (0, 0), (0, 0)
    for round_ in range(repeats):   # alternate; keep each path's best
        pairs = {
            "conv_fast": _numpynn_pair(F.conv2d_forward, F.conv2d_backward,
                                       (x, w, b, stride, padding), True, 1),
            "pool_fast": _numpynn_pair(F.max_pool2d_forward, F.max_pool2d_backward,
                                       (pool_x, 2, 2), True, 1),
            "torch_conv": _torch_pair(torch.nn.functional.conv2d, (x, w, b), 1,
                                      stride=stride, padding=padding),
            "torch_pool": _torch_pair(torch.nn.functional.max_pool2d, (pool_x,), 1,
                                      kernel_size=2, stride=2)}
        for key, pair in pairs.items():
            results[key] = pair if round_ == 0 else tuple(map(min, results[key], pair))
    return results


def _batch(shape, n):
    return shape if n is None else (n, *shape[1:])


def column_memory(batch=None):
    """The traced peak of one fast forward and one backward beside ``im2col.COLUMN_BYTES``.

    Returns a dict of bytes: ``forward`` and ``backward``, the traced peak of each pass over
    what existed before it; ``columns``, the larger of the two once the arrays of the batch's
    size that a pass must make are taken out (forward: the padded input and the output;
    backward: the padded input, dx's padded buffer and dx); ``unchunked``, what the im2col
    buffers would take for the whole batch at once; and ``bound``, COLUMN_BYTES.
    """
    shapes, rng = MEMORY_SHAPES, np.random.default_rng(0)
    x, w = _arrays(rng, _batch(shapes["x"], batch), shapes["w"])
    b, = _arrays(rng, shapes["w"][:1])
    stride, padding = (shapes["stride"],) * 2, (shapes["padding"],) * 2
    out_hw = output_hw(x.shape, w.shape[2:], stride, padding)
    padded = x.itemsize * x.shape[0] * x.shape[1] * (x.shape[2] + 2 * padding[0]) \
        * (x.shape[3] + 2 * padding[1])
    dout = np.ones((x.shape[0], w.shape[0], *out_hw), dtype=DTYPE)
    tracemalloc.start()
    try:
        out, cache = F.conv2d_forward(x, w, b, stride, padding)
        forward, start = tracemalloc.get_traced_memory()[1], tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        F.conv2d_backward(dout, cache)
        backward = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    columns = max(forward - padded - out.nbytes, backward - 2 * padded - x.nbytes)
    return {"forward": forward, "backward": backward, "columns": columns,
            "unchunked": x.shape[0] * im2col.sample_bytes(w.shape, out_hw, x.itemsize),
            "bound": im2col.COLUMN_BYTES, "x": list(x.shape), "w": list(w.shape)}


def run_conv_benchmark(threads=None, repeats=None, smoke=False, n_train=3200, log=print):
    """Every measurement of ``--conv`` in one dict (printed by :func:`print_conv`).

    ``repeats``: timed calls of each fast kernel (default 15: they take milliseconds on a
    shared machine) and timed epochs per model (default 2), each after a warm-up. ``smoke``:
    CI's quick run, one repeat, 4 images for the kernels, 64 for the memory, 128 for the
    epochs.
    """
    import torch  # noqa: F401  (imported first so that thread_limit sets its pool too)

    from benchmarks.convnets import epoch_times
    threads = threads or available_cores()
    kernel_repeats, epoch_repeats = (repeats, repeats) if repeats else (1, 1) if smoke else (15, 2)
    with thread_limit(threads):
        results = {"threads": threads, "dtype": np.dtype(DTYPE).name,
                   "kernels": kernel_times(kernel_repeats, 4 if smoke else None, log)}
        log("im2col memory (tracemalloc)")
        results["memory"] = column_memory(64 if smoke else None)
        results["epochs"] = epoch_times(128 if smoke else n_train, epoch_repeats, log=log)
    return results


def print_conv(results, markdown=False):
    """The tables of :func:`run_conv_benchmark`'s results."""
    print(f"{results['dtype']}, {results['threads']} thread(s)")
    _print_kernels(results["kernels"], markdown)
    memory = results["memory"]
    print(f"\nim2col memory, conv2d on x {tuple(memory['x'])}, w {tuple(memory['w'])}: "
          f"traced peak {memory['forward'] / MIB:.0f} MiB forward, "
          f"{memory['backward'] / MIB:.0f} MiB backward, of which im2col buffers "
          f"{memory['columns'] / MIB:.1f} MiB (bound COLUMN_BYTES = {memory['bound'] / MIB:.0f} "
          f"MiB; unchunked: {memory['unchunked'] / MIB:.0f} MiB)")
    if "epochs" in results:
        from benchmarks.convnets import print_epochs
        print_epochs(results["epochs"], markdown)


KERNEL_COLUMNS = (("kernel", "name", "{}"), ("reference", "naive", "{:.1f} ms"),
                  ("fast", "fast", "{:.2f} ms"), ("speed-up", "speedup", "{:.1f}×"),
                  ("torch", "torch", "{:.2f} ms"), ("speed fast/torch", "ratio", "{:.2f}×"))


def _print_kernels(kernels, markdown):
    """reference vs fast vs torch (ms); ``speed fast/torch`` = torch's time / the fast path's."""
    conv, pool = kernels["conv_fast"], kernels["pool_fast"]
    torch_conv, torch_pool = kernels["torch_conv"], kernels["torch_pool"]
    rows = [("conv2d forward", kernels["conv_naive"][0], conv[0], torch_conv[0]),
            ("conv2d backward", kernels["conv_naive"][1], conv[1], torch_conv[1] - torch_conv[0]),
            ("conv2d forward+backward", sum(kernels["conv_naive"]), sum(conv), torch_conv[1]),
            ("max_pool2d forward", kernels["pool_naive"][0], pool[0], torch_pool[0]),
            ("max_pool2d forward+backward", sum(kernels["pool_naive"]), sum(pool),
             torch_pool[1])]
    print(render(KERNEL_COLUMNS, [
        {"name": name, "naive": slow * 1e3, "fast": quick * 1e3, "speedup": slow / quick,
         "torch": torch_s * 1e3, "ratio": torch_s / quick} for name, slow, quick, torch_s in rows],
        markdown))
