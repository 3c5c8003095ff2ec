# %% [markdown]
# # 4. Modular layers, a fully connected net, dropout, batch norm, a Solver and tuning
#
# UCLA's HW3 (CS231n's assignment 2), worked with numpynn: the two-layer net's toy numbers,
# each layer's gradient check, a fully connected net with dropout and batch normalisation, SGD
# against momentum and learning-rate decay, a small search over learning rate × regularisation
# on the validation set, and the first layer's weights as images.
#
# **Shortened for CI:** the course trains on 49,000 CIFAR-10 images for tens of epochs; here
# every run uses a seeded subset of 8,000 training and 1,000 validation images for a few
# epochs, and the search is 3 × 2 settings of 3 epochs each.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import numpynn as nn
from numpynn import data, plot
from numpynn.gradcheck import check_layer, check_model
from numpynn.optim import ExponentialLR

try:
    X_full, y_full, X_test, y_test = data.load("cifar10", download=False)
    DATASET = "cifar10"
    note = "CIFAR-10's files found: this notebook runs on **CIFAR-10**."
except data.DatasetNotFoundError:
    X_full, y_full, X_test, y_test = data.load("fashion-mnist", download=False)
    DATASET = "fashion-mnist"
    note = ("**CIFAR-10's files are not on this machine, so this notebook runs on Fashion-MNIST** "
            "(Debian's `dataset-fashion-mnist`); the code is the same for both. Put "
            "`cifar-10-binary.tar.gz` in `~/.cache/numpynn/cifar10` to run it on CIFAR-10.")
display(Markdown(note))
INFO = data.DATASETS[DATASET]

# %% [markdown]
# ## 4.1 The two-layer net's toy numbers
#
# CS231n checks its two-layer net on a toy model: 5 inputs of 4 features, 10 hidden ReLU units,
# 3 classes, weights $0.1 \cdot \mathcal N(0, 1)$ drawn by NumPy's legacy generator with seed 0
# and inputs $10 \cdot \mathcal N(0, 1)$ with seed 1. Its scores and its loss (reg 0.05, written
# there as $\text{reg}\cdot\sum W^2$, numpynn's $\frac12 \cdot 0.1 \cdot \sum W^2$) are printed in
# the assignment; numpynn reproduces them.

# %%
weights, inputs = np.random.RandomState(0), np.random.RandomState(1)
toy = nn.Sequential(nn.Linear(4, 10, dtype=np.float64), nn.ReLU(), nn.Linear(10, 3, dtype=np.float64))
toy[0].W, toy[0].b = 0.1 * weights.randn(4, 10), np.zeros(10)
toy[2].W, toy[2].b = 0.1 * weights.randn(10, 3), np.zeros(3)
X_toy, y_toy = 10 * inputs.randn(5, 4), np.array([0, 1, 2, 2, 1])

correct_scores = np.array([[-0.81233741, -1.27654624, -0.70335995],
                           [-0.17129677, -1.18803311, -0.47310444],
                           [-0.51590475, -1.01354314, -0.8504215],
                           [-0.15419291, -0.48629638, -0.52901952],
                           [-0.00618733, -0.12435261, -0.15226949]])
scores = toy.forward(X_toy)
loss, _ = nn.SoftmaxCrossEntropy()(scores, y_toy)
penalty, _ = nn.l2_penalty(toy.params(), reg=0.1)
print("scores:\n", scores.round(8))
print(f"max |scores − CS231n's| = {np.abs(scores - correct_scores).max():.1e}")
print(f"loss = {loss + penalty:.11f} (CS231n: 1.30378789133)")
print("gradient check of the whole toy net:",
      {k: f"{v:.1e}" for k, v in check_model(toy, nn.SoftmaxCrossEntropy(), X_toy, y_toy, reg=0.1).items()})

# %% [markdown]
# ## 4.2 Each layer's gradient check
#
# `check_layer` compares every layer's backward pass with centred differences (dropout's mask
# is replayed for every evaluation; batch norm is checked in training mode).

# %%
rng = np.random.default_rng(0)
x = rng.normal(size=(6, 5))
for layer in [nn.Linear(5, 4, rng=0), nn.ReLU(), nn.Sigmoid(), nn.Dropout(0.3, rng=0),
              nn.BatchNorm(5), nn.LayerNorm(5)]:
    errors = check_layer(layer, x)
    print(f"{layer!r:22s}", "  ".join(f"d{k}: {v:.1e}" for k, v in errors.items()))

# %% [markdown]
# ## 4.3 A fully connected net with dropout and batch norm
#
# `nn.mlp` builds CS231n's `FullyConnectedNet`: `[Linear → BatchNorm → ReLU → Dropout] × L →
# Linear`. Its whole gradient checks out too, with one instructive exception: the biases of the
# Linear layers *before* a batch norm (`0.b`, `4.b`) have a gradient of exactly zero, because
# batch norm subtracts the batch mean and so cancels any constant added before it. Their
# "relative error" of 1 compares that 0 with finite-difference noise of about 1e-12.

# %%
fc = nn.mlp(5, (8, 8), 3, batchnorm=True, dropout=0.2, rng=0)
print({k: f"{v:.1e}" for k, v in check_model(fc, nn.SoftmaxCrossEntropy(), x, rng.integers(0, 3, 6),
                                             reg=0.01).items()})
fc

# %% [markdown]
# ## 4.4 The data and a Solver
#
# The `Trainer` plays CS231n's `Solver`: the model, the update rule and the bookkeeping kept
# apart. Inputs are centred by the training set's mean image, as in CS231n.

# %%
_, _, X_sub, y_sub = data.train_val_split(X_full, y_full, n_val=9_000, rng=0)
X_train, y_train, X_val, y_val = data.train_val_split(X_sub, y_sub, n_val=1_000, rng=1)
X_train, X_val, X_te = data.subtract_mean_image(X_train, X_val, X_test)
D, C = X_train.shape[1], len(INFO.class_names)
print(f"{DATASET}: {len(X_train)} train / {len(X_val)} val / {len(X_te)} test, D = {D}")


def solve(optimizer="sgd", lr=1e-2, momentum=0.0, reg=0.0, decay=1.0, dropout=0.0,
          batchnorm=False, epochs=5, hidden=(100, 100), progress=False):
    model = nn.mlp(D, hidden, C, dropout=dropout, batchnorm=batchnorm, init="he_normal", rng=0)
    opt = nn.SGD(model.params(), lr=lr, momentum=momentum) if optimizer == "sgd" \
        else nn.Adam(model.params(), lr=lr)
    trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), opt, reg=reg, rng=0, progress=progress,
                         schedule=ExponentialLR(opt, gamma=decay))
    history = trainer.fit(X_train, y_train, X_val, y_val, epochs=epochs, batch_size=100)
    return model, trainer, history

# %% [markdown]
# ### SGD, momentum and learning-rate decay

# %%
updates = {"SGD": dict(lr=1e-2), "SGD + momentum 0.9": dict(lr=1e-2, momentum=0.9),
           "momentum + decay 0.8 per epoch": dict(lr=1e-2, momentum=0.9, decay=0.8)}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for name, settings in updates.items():
    _, _, h = solve(**settings)
    steps_per_epoch = len(h.iteration_loss) // len(h.epoch)
    axes[0].plot(np.arange(len(h.iteration_loss)) / steps_per_epoch, h.iteration_loss, lw=0.5, label=name)
    axes[1].plot(np.arange(1, len(h.epoch) + 1), h.history["val_acc"], marker="o", label=name)
    print(f"{name:32s} val acc {h.history['val_acc'][-1]:.4f}, lr in the last epoch {h.history['lr'][-1]:g}")
axes[0].set(xlabel="epoch", ylabel="loss", title="Training loss per step", yscale="log")
axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy")
axes[0].legend(fontsize=8);

# %% [markdown]
# ### Dropout and batch norm

# %%
for name, settings in {"plain": {}, "dropout 0.3": dict(dropout=0.3),
                       "batch norm": dict(batchnorm=True)}.items():
    _, trainer, h = solve(lr=1e-2, momentum=0.9, **settings)
    print(f"{name:12s} train acc {h.history['acc'][-1]:.4f}, val acc {h.history['val_acc'][-1]:.4f}")

# %% [markdown]
# Dropout lowers the training accuracy (30 % of the hidden units are missing at every step)
# but not the validation accuracy, so the gap between the two closes; batch norm gives the
# best validation accuracy of the three here.
#
# ## 4.5 Tuning: learning rate × regularisation on the validation set
#
# Every setting is judged on the validation set only; the test set is used once, at the end,
# for the chosen model.

# %%
grid = {}
for lr in [3e-3, 1e-2, 3e-2]:
    for reg in [1e-4, 1e-2]:
        model, trainer, h = solve(lr=lr, momentum=0.9, reg=reg, epochs=3)
        grid[lr, reg] = (h.history["val_acc"][-1], model, trainer)
        print(f"lr {lr:g}, reg {reg:g}: val acc {grid[lr, reg][0]:.4f}")
(best_lr, best_reg), (best_acc, best_model, best_trainer) = max(grid.items(), key=lambda kv: kv[1][0])
print(f"best: lr {best_lr:g}, reg {best_reg:g}, val acc {best_acc:.4f}; "
      f"its test accuracy {best_trainer.evaluate(X_te, y_test)['acc']:.4f}")

# %%
accs = np.array([[grid[lr, reg][0] for reg in [1e-4, 1e-2]] for lr in [3e-3, 1e-2, 3e-2]])
fig, ax = plt.subplots(figsize=(4, 3.2))
im = ax.imshow(accs, cmap="viridis")
ax.set(xticks=[0, 1], xticklabels=["1e-4", "1e-2"], yticks=[0, 1, 2], yticklabels=["3e-3", "1e-2", "3e-2"],
       xlabel="reg", ylabel="lr", title="validation accuracy")
for (i, j), acc in np.ndenumerate(accs):
    ax.text(j, i, f"{acc:.3f}", ha="center", va="center", color="w")

# %% [markdown]
# ## 4.6 The first layer's weights as images
#
# Each column of the first weight matrix is a filter over the input pixels; after training,
# many look like parts of the classes (edges, outlines).

# %%
plot.weight_grid(best_model[0].W, INFO.image_shape, n=49)
