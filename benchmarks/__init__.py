"""Training speed of numpynn's public ``Trainer`` beside a plain PyTorch loop, on the same model.

Run from the repository's root (the harness is not installed with numpynn; it imports torch)::

    python -m benchmarks                      # SGD and Adam at batch 64 and 256, 3 repeats
    python -m benchmarks --smoke              # CI's quick check
    python -m benchmarks --frameworks numpynn,numpy,torch   # with the hand-written NumPy loop
    python -m benchmarks --scaling --markdown
    python -m benchmarks --profile

``numpynn bench`` is the same command from a checkout (or an editable install). The options and
the tables: :mod:`benchmarks.cli`; the modules, in the order the data flows:
:mod:`~benchmarks.network` (the MLP, its FLOPs and initial weights) → :mod:`~benchmarks.handloop`
→ :mod:`~benchmarks.trials` (settings, data, one trial, workers) → :mod:`~benchmarks.compare`,
:mod:`~benchmarks.scaling`, :mod:`~benchmarks.profile` → :mod:`~benchmarks.worker`. This file
imports none of them: ``numpynn --help`` reads :mod:`benchmarks.cli`'s options in a checkout,
and must not load NumPy for it.

What is compared: the MLP 784-256-128-64-10 (ReLU, softmax cross-entropy) in
float32 on the same data, batch size, learning rate, epochs and thread count, from the same
initial weights (numpynn's ``mlp(..., rng=seed)``, copied into torch) in the same order of
samples (one ``rng.permutation`` per epoch), so all frameworks follow the same trajectory and
end at the same test accuracy up to float32 rounding. The PyTorch side is the loop a course
would write: no DataLoader, batches by ``index_select``, ``zero_grad / backward / step`` and
``loss.item()`` per step (numpynn's Trainer also reads every step's loss, to record it and to
stop on NaN). On request a third framework, ``numpy``, runs
the same training as a hand-written float32 NumPy loop with no library around it
(:mod:`benchmarks.handloop`): the floor, so numpynn's overhead over it is measured.

How it is run (:func:`benchmarks.compare.run_benchmark`):

1. Every trial runs in a fresh subprocess (``python -m benchmarks.worker trial JSON``, see
   :mod:`benchmarks.worker`), which
   prints one JSON line; so the peak RSS (``ru_maxrss``) is that framework's own, and torch is
   never loaded beside numpynn.
2. Frameworks alternate (numpynn, torch, numpynn, torch, …) and every configuration is
   repeated, so a slow spell on a shared machine hits both.
3. Workers start with ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` set
   and call :func:`numpynn.threads.set_threads` (torch's pool included). For benchmarks (never
   in tests or CI) ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are removed together from
   the workers' environment so OpenBLAS picks its native kernel; the kernel used is reported.

What is timed: each epoch from its start (the shuffle) to its end (the last step and the
epoch's bookkeeping). Loading data, building the model, ``fit``'s one-time input checks and the
test evaluation are not timed. With two or more epochs the first is a warm-up and is left out.
Throughput in GFLOP/s counts 6 FLOPs per weight per sample (2 forward, 4 backward; biases and
element-wise work not counted) and is set against the best of a few large float32
``np.matmul`` products measured in the same kind of worker.
"""
