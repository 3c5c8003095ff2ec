"""Training speed of numpynn's public ``Trainer`` beside a plain PyTorch loop, on the same model.

What is compared (issue 5): the MLP 784-256-128-64-10 (ReLU, softmax cross-entropy) in
float32 on the same data, batch size, learning rate, epochs and thread count, from the same
initial weights (numpynn's ``mlp(..., rng=seed)``, copied into torch) in the same order of
samples (one ``rng.permutation`` per epoch), so all frameworks follow the same trajectory and
end at the same test accuracy up to float32 rounding. The PyTorch side is the loop a course
would write: no DataLoader, batches by ``index_select``, ``zero_grad / backward / step`` and
``loss.item()`` per step (numpynn's Trainer also reads every step's loss, to record it and to
stop on NaN). On request a third framework, ``numpy``, runs
the same training as a hand-written float32 NumPy loop with no library around it
(:mod:`benchmarks.handloop`): the floor, so numpynn's overhead over it is measured.

How it is run (:func:`run_benchmark`):

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

from benchmarks.compare import (  # noqa: F401
    config_trial,
    data_source,
    ratios,
    run_benchmark,
    setup,
    summarise,
    throughput,
    timed_epochs,
)
from benchmarks.network import (  # noqa: F401
    HIDDEN,
    N_CLASSES,
    N_FEATURES,
    count_weights,
    initial_weights,
    mlp_widths,
    run_epochs,
    training_flops,
)
from benchmarks.profile import (  # noqa: F401
    PARTS,
    ProfileEpoch,
    function_table,
    gemm_seconds,
    overhead_seconds,
    profile_epoch,
    run_profile,
)
from benchmarks.scaling import (  # noqa: F401
    BATCH_SWEEP,
    SCALING_FLOPS,
    SCALING_STEPS,
    WIDTH_BATCH,
    WIDTH_SWEEP,
    run_scaling,
    scaling_points,
    scaling_samples,
)
from benchmarks.trials import (  # noqa: F401
    ALL_FRAMEWORKS,
    CONFIGS,
    FRAMEWORKS,
    MEMORY_TARGET,
    MIB,
    OPENBLAS_KERNEL_VARS,
    SPEED_TARGETS,
    STARTUP_SNIPPETS,
    TRAINERS,
    BenchSettings,
    EpochTimer,
    Setting,
    Trial,
    available_frameworks,
    blas_summary,
    fashion_mnist_installed,
    load_data,
    matmul_peak,
    numpynn_trainer,
    peak_job,
    peak_rss_mib,
    run_trial,
    spawn,
    startup_times,
    synthetic_data,
    torch_epoch,
    torch_mlp,
    torch_optimizer,
    worker_env,
)
