"""Convnet training epochs, numpynn's Trainer beside a plain PyTorch loop (``--conv``).

The same network on both sides: numpynn builds it (``lenet`` or ``convnet``, He-normal weights
from ``rng=seed``), :func:`torch_twin` copies it layer by layer into ``torch.nn`` (weights
included); then both train with Adam (lr 1e-3) at batch 64 on the same float32 rows (the
first ``n_train`` Fashion-MNIST training images when the files are installed, else
Fashion-MNIST-shaped synthetic data), in the same order of samples (one
``default_rng(seed).permutation`` per epoch on both sides) and thread count. PyTorch's side is
:func:`benchmarks.trials.torch_epoch`, the loop of the MLP benchmark. The two frameworks
alternate, epoch by epoch, in one process; the first epoch of each is an untimed warm-up, and
each keeps its fastest epoch.
"""
from time import perf_counter

import numpy as np

from benchmarks.tables import render
from benchmarks.trials import EpochTimer, fashion_mnist_installed, synthetic_data, torch_epoch
from numpynn import layers as L
from numpynn.losses import SoftmaxCrossEntropy
from numpynn.models import convnet, lenet
from numpynn.optim import Adam
from numpynn.training.trainer import Trainer

IMAGE = (1, 28, 28)
BATCH, LR, SEED = 64, 1e-3, 0
MODELS = {   # name -> numpynn builder, input rows (N, 784)
    "lenet": lambda: lenet(IMAGE, flat_input=True, rng=SEED),
    "conv 32,64 + 128": lambda: convnet(IMAGE, conv=(32, 64), hidden=(128,), n_out=10, rng=SEED),
}


def torch_twin(model):
    """``torch.nn.Sequential`` with ``model``'s layers and a copy of its weights (float32)."""
    import torch
    nn = torch.nn
    twins = {
        L.Unflatten: lambda layer: nn.Unflatten(1, layer.shape),
        L.Conv2d: lambda layer: nn.Conv2d(layer.in_channels, layer.out_channels,
                                          layer.kernel_size, layer.stride, layer.padding),
        L.ReLU: lambda layer: nn.ReLU(),
        L.MaxPool2d: lambda layer: nn.MaxPool2d(layer.kernel_size, layer.stride),
        L.Flatten: lambda layer: nn.Flatten(),
        L.Linear: lambda layer: nn.Linear(layer.n_in, layer.n_out),
    }
    modules = []
    for layer in model.layers:
        module = twins[type(layer)](layer)
        with torch.no_grad():
            if isinstance(layer, L.Conv2d):
                module.weight.copy_(torch.from_numpy(layer.W))          # (F, C, HH, WW)
                module.bias.copy_(torch.from_numpy(layer.b))
            elif isinstance(layer, L.Linear):
                module.weight.copy_(torch.from_numpy(layer.W.T))        # torch: (D_out, D_in)
                module.bias.copy_(torch.from_numpy(layer.b))
        modules.append(module)
    return nn.Sequential(*modules)


def _data(n_train):
    """(X (n, 784) float32, y (n,) int64, source name)."""
    if fashion_mnist_installed():
        from numpynn.data import load_fashion_mnist
        X, y, _, _ = load_fashion_mnist(download=False)
        return (np.ascontiguousarray(X[:n_train], dtype=np.float32), y[:n_train].astype(np.int64),
                "fashion-mnist")
    X, y, _, _ = synthetic_data(n_train, 1, seed=SEED)
    return X, y, "synthetic"


def epoch_times(n_train=3200, repeats=2, log=print):
    """Seconds of the fastest of ``repeats`` epochs per framework and model, after a warm-up."""
    import torch
    X, y, source = _data(n_train)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    results = {"data": source, "n_train": len(X), "batch_size": BATCH, "models": {}}
    for name, build in MODELS.items():
        log(f"epochs: {name}")
        model = build()
        net = torch_twin(model)
        timer, trainer = EpochTimer(), Trainer(model, SoftmaxCrossEntropy(),
                                               Adam(model.params(), lr=LR), rng=SEED,
                                               progress=False)
        optimizer, order_rng = torch.optim.Adam(net.parameters(), lr=LR), \
            np.random.default_rng(SEED)
        torch_seconds = []
        for _ in range(1 + repeats):
            trainer.fit(X, y, epochs=trainer.epoch + 1, batch_size=BATCH, callbacks=[timer])
            start = perf_counter()
            torch_epoch(net, optimizer, tX, ty, torch.from_numpy(order_rng.permutation(len(X))),
                        BATCH)
            torch_seconds.append(perf_counter() - start)
        results["models"][name] = {"numpynn": min(timer.seconds[1:]),
                                   "torch": min(torch_seconds[1:]),
                                   "steps": -(-len(X) // BATCH)}
    return results


EPOCH_COLUMNS = (("model", "name", "{}"), ("numpynn epoch", "numpynn", "{:.2f} s"),
                 ("numpynn step", "numpynn_step", "{:.1f} ms"),
                 ("torch epoch", "torch", "{:.2f} s"), ("torch step", "torch_step", "{:.1f} ms"),
                 ("speed numpynn/torch", "ratio", "{:.2f}×"))


def print_epochs(results, markdown=False):
    """The table of :func:`epoch_times`; ``speed numpynn/torch`` = torch's time / numpynn's."""
    print(f"\ntraining epochs: {results['n_train']} {results['data']} images, batch "
          f"{results['batch_size']}, Adam")
    print(render(EPOCH_COLUMNS, [
        {"name": name, "numpynn": r["numpynn"], "numpynn_step": r["numpynn"] / r["steps"] * 1e3,
         "torch": r["torch"], "torch_step": r["torch"] / r["steps"] * 1e3,
         "ratio": r["torch"] / r["numpynn"]} for name, r in results["models"].items()], markdown))
