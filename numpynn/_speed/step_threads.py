"""How many BLAS threads a ``Trainer.fit`` runs on when the user chose none: one for small steps.

Why: at batch 1 a step of the course MLP (784-256-128-64-10) is about 1.5 MFLOP of
matrix-vector products plus an ``axpy`` over its 235k weights. OpenBLAS splits the ``axpy``
(above 10,000 entries) and the larger products over its threads, and waking and joining a
second thread costs more than it saves on such small pieces of work; on a shared machine,
where the other core is busy, a split call waits for it (the ``axpy`` of a batch-1 step took
1.9 ms on two threads against 50 µs on one, measured in docs/performance.md). PyTorch is
faster on one thread at batch 1 too. So a fit whose steps are below :data:`ONE_THREAD_FLOPS`
trains on one BLAS thread, and the count is put back after each epoch's steps (evaluation,
in chunks of 1024 samples, keeps every thread).

Who decides: the user first. A count set with ``numpynn.set_threads``, inside
``numpynn.threads.threads(n)``, or through ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` /
``MKL_NUM_THREADS`` (:func:`numpynn.threads.chosen`) is never overridden.

How: chosen once per fit, set around each epoch's steps through NumPy's OpenBLAS itself (:func:`~numpynn._speed.blas.set_threads`,
about 1 µs; threadpoolctl is not needed). Without that OpenBLAS nothing changes.
"""
import contextlib

from numpynn import threads
from numpynn._speed import blas

# training FLOPs of one step (6 per weight per sample: 2 forward, 4 backward) below which one
# BLAS thread is faster. Measured on the seed MLP (1.41e6 a sample), one process alternating 1
# and 2 threads: one thread 1.41x faster at batch 2 and 1.23-1.81x at batch 4 (5.6e6); two
# threads 1.10x faster at batch 6 (8.5e6), even at 8 to 32, 1.24x at 64 (docs/performance.md)
ONE_THREAD_FLOPS = 8e6


def step_flops(model, batch_size):
    """Training FLOPs of one step: 6 × weights (matrix entries, not biases) × batch size."""
    return 6 * batch_size * sum(p.size for p in model.params().values() if p.ndim >= 2)


def threads_for(model, batch_size):
    """The BLAS thread count for a fit of ``model`` at ``batch_size``: 1 for small steps, None
    (leave the count as it is) for the rest or when the user chose a count."""
    if threads.chosen() is not None or step_flops(model, batch_size) >= ONE_THREAD_FLOPS:
        return None
    return 1


@contextlib.contextmanager
def blas_threads(n):
    """Context manager: NumPy's OpenBLAS on ``n`` threads inside (None: unchanged), the
    previous count after."""
    before = blas.get_threads()
    if n is None or before is None or n == before:
        yield
        return
    blas.set_threads(n)
    try:
        yield
    finally:
        blas.set_threads(before)
