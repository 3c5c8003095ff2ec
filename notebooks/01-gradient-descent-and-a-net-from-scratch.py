# %% [markdown]
# # 1. Gradient descent and a network from scratch
#
# The first assignment of the Radboud deep-learning course, worked with numpynn:
#
# 1. gradient descent on $f(x, y) = x^2 + y^2 + x(y + 2) + \cos(3x)$ with a fixed and a
#    decaying step, and the optimizers compared on the same contours;
# 2. the building blocks (sigmoid, ReLU, binary cross-entropy, Linear) with their forward,
#    backward and update, each checked against finite differences;
# 3. the Net on the digits (digits 0–4 against 5–9): learning curves, a learning rate too
#    high and too low, batch sizes 1, 10 and 100, and the depth ablation.
#
# **Shortened for CI:** the course trains 100 epochs; this notebook trains 30 (15 for the
# sweeps), which is enough to see every effect. `experiments/digits-binary*.toml` hold the
# course's full settings (`numpynn train --config experiments/digits-binary.toml`).

# %%
import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn import data, plot
from numpynn.course.descent import grid_function
from numpynn.gradcheck import check_layer, numerical_gradient, rel_error

# %% [markdown]
# ## 1.1 Gradient descent with a fixed and a decaying step
#
# `nn.descent` takes the function as an expression (parsed safely, never `eval`-ed) and gets
# the gradient from numpynn's autograd, so nothing is derived by hand. Step $t$ uses
# $\eta_t = \eta_0 \cdot d^t$: $d = 1$ is the fixed step, $d = 0.95$ the decaying one.

# %%
F_EXPR = "x**2 + y**2 + x*(y + 2) + cos(3*x)"
start, lr, steps = [2.0, 2.0], 0.1, 50
fixed = nn.descent(F_EXPR, start, lr=lr, steps=steps)
decaying = nn.descent(F_EXPR, start, lr=lr, steps=steps, decay=0.95)
for name, run in [("fixed step", fixed), ("decaying step", decaying)]:
    print(f"{name:14s} ends at ({run.path[-1, 0]:+.4f}, {run.path[-1, 1]:+.4f}), "
          f"f = {run.values[-1]:.6f}, last step size {run.lrs[-1]:.4f}")

# %%
f_grid = grid_function(F_EXPR)   # the same f, vectorised over a grid for the contours
plot.descent_contours(f_grid, [fixed.path, decaying.path],
                      labels=[f"fixed η = {lr}", f"η = {lr}·0.95ᵗ"])

# %% [markdown]
# The fixed step reaches the basin quickly and keeps its full step size; the decaying step
# slows down as $\eta_t$ shrinks ($0.1 \cdot 0.95^{49} \approx 0.008$), so it stops a little
# short of the minimum. The right panel shows $f$ along each path.
#
# ## 1.2 Optimizers on the same contours
#
# The same start and learning rate for plain gradient descent, SGD with momentum 0.9 (by a
# callable, as any numpynn optimizer can be passed), RMSProp and Adam.

# %%
optimizers = {
    "gd": None,
    "momentum 0.9": lambda params: nn.SGD(params, lr=lr, momentum=0.9),
    "rmsprop": "rmsprop",
    "adam": "adam",
}
runs = {name: nn.descent(F_EXPR, start, lr=lr, steps=steps, optimizer=opt)
        for name, opt in optimizers.items()}
for name, run in runs.items():
    print(f"{name:13s} f after {steps} steps = {run.values[-1]:.6f}")
plot.descent_contours(f_grid, [run.path for run in runs.values()], labels=list(runs))

# %% [markdown]
# The same $\eta$ is not the same step for each rule: momentum 0.9 adds up past gradients, an
# effective step of about $\eta / (1 - 0.9) = 10\eta$, and RMSProp and Adam divide by the
# gradient's running size, so their first steps are about $\eta$ long whatever the slope. On
# this bumpy $f$ momentum and RMSProp overshoot at $\eta = 0.1$ and wander; plain descent and
# Adam settle. A smaller $\eta$ for the first two is the fix (try it).

# %% [markdown]
# ## 1.3 The building blocks, each checked against finite differences
#
# Every numpynn layer has `forward(x)` (caching what backward reads) and `backward(dout)`
# (returning $\partial L / \partial x$ and writing the parameter gradients in place).
# `check_layer` compares them with centred differences $\frac{f(x + h) - f(x - h)}{2h}$ on a
# float64 copy; a relative error around $10^{-10}$ means the backward pass is right.

# %%
rng = np.random.default_rng(0)
x = rng.normal(size=(5, 4))
for layer in [nn.Sigmoid(), nn.ReLU(), nn.Linear(4, 3, rng=0)]:
    errors = check_layer(layer, x)
    print(f"{layer!r:14s}", ", ".join(f"d{k}: {v:.1e}" for k, v in errors.items()))

# %% [markdown]
# Binary cross-entropy $L = -\frac{1}{N}\sum_n t_n \log p_n + (1 - t_n)\log(1 - p_n)$ has
# $\partial L / \partial p_n = \frac{p_n - t_n}{N p_n (1 - p_n)}$:

# %%
p = 1 / (1 + np.exp(-rng.normal(size=(6, 1))))
t = rng.integers(0, 2, size=(6, 1)).astype(float)
bce = nn.BCE()
loss, dp = bce(p, t)
dp_num = numerical_gradient(lambda q: bce(q, t)[0], p.copy())
print(f"BCE = {loss:.6f}; dL/dp analytic vs numerical: rel_error {rel_error(dp, dp_num):.1e}")
print("closed form agrees:", np.allclose(dp, (p - t) / (len(p) * p * (1 - p))))

# %% [markdown]
# One update of a Linear layer: forward, backward, then an SGD step
# $W \leftarrow W - \eta\,\partial L/\partial W$ lowers the loss.

# %%
layer = nn.Linear(4, 1, dtype=np.float64, rng=0)
head, loss_fn = nn.Sigmoid(), nn.BCE()
X_small, t_small = rng.normal(size=(8, 4)), rng.integers(0, 2, size=(8, 1)).astype(float)
opt = nn.SGD(layer.params, lr=0.5)
for step in range(3):
    loss, dprob = loss_fn(head.forward(layer.forward(X_small)), t_small)
    layer.backward(head.backward(dprob))
    opt.step(layer.grads)
    print(f"step {step}: loss {loss:.6f}, |dW| = {np.abs(layer.grads['W']).sum():.6f}")

# %% [markdown]
# ## 1.4 The Net on the digits
#
# The course's task: scikit-learn's 8×8 digits, label 1 for digits 0–4. Inputs are
# standardised with one mean and standard deviation over all training pixels
# (`per_feature=False`, the course's recipe). The Net is 64-32-1 with ReLU and a sigmoid output,
# trained with BCE and plain SGD at batch 10 (`experiments/digits-binary.toml`).

# %%
X_train, y_train, X_test, y_test = data.load("digits-binary")
X_train, X_test = data.standardize(X_train, X_test, per_feature=False)
print(X_train.shape, X_test.shape, "share of label 1:", y_train.mean().round(3))


def net(hidden=(32,), activation="relu", seed=0):
    """The course's Net: Linear layers (ReLU between them), a sigmoid output for BCE."""
    return nn.mlp(64, hidden, 1, activation=activation, init="he_normal", output="sigmoid", rng=seed)


def train(model, lr=0.01, batch_size=10, epochs=30, progress=False):
    """SGD on BCE; the test half is passed as validation data to draw its curve."""
    trainer = nn.Trainer(model, nn.BCE(), nn.SGD(model.params(), lr=lr), rng=0, progress=progress)
    history = trainer.fit(X_train, y_train, X_test, y_test, epochs=epochs, batch_size=batch_size)
    return trainer, history


model = net()
model

# %%
trainer, history = train(model, progress="auto")   # a widget in Jupyter, lines in CI logs
trainer.evaluate(X_test, y_test)

# %%
plot.learning_curves(history)

# %% [markdown]
# ### Learning rate too high and too low
#
# At $\eta = 0.01$ the loss falls steadily. Ten times smaller and it has barely moved after
# 15 epochs; far larger and the updates overshoot: the loss jumps around and ends higher.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for lr_try in [0.0005, 0.01, 2.0]:
    _, h = train(net(), lr=lr_try, epochs=15)
    ax.plot(np.arange(1, 16), h.history["loss"], marker=".", label=f"lr = {lr_try}")
    print(f"lr = {lr_try:<7} final train loss {h.history['loss'][-1]:.4f}, "
          f"test acc {h.history['val_acc'][-1]:.4f}")
ax.set(xlabel="epoch", ylabel="training loss (BCE)", yscale="log", title="Learning rate")
ax.legend();

# %% [markdown]
# ### Batch size 1, 10 and 100
#
# numpynn averages the gradient over the batch, so the course's rate (0.001 on a summed
# gradient) becomes 0.001 × batch: batch 1 at 0.001, batch 10 at 0.01, batch 100 at 0.1
# (as in `experiments/digits-binary-batch*.toml`). With the rate scaled so, an epoch moves the
# weights about as far whatever the batch, and the three end close together; what differs is
# the number of steps (and the time) per epoch and the noise of each step's loss.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for batch_size, lr_b in [(1, 0.001), (10, 0.01), (100, 0.1)]:
    tr, h = train(net(), lr=lr_b, batch_size=batch_size, epochs=15)
    axes[0].plot(np.arange(1, 16), h.history["val_acc"], marker=".", label=f"batch {batch_size}")
    steps_per_epoch = len(h.iteration_loss) // 15
    axes[1].plot(np.arange(len(h.iteration_loss)) / steps_per_epoch, h.iteration_loss,
                 lw=0.5, alpha=0.7, label=f"batch {batch_size}")
    print(f"batch {batch_size:>3}: {steps_per_epoch} steps per epoch, "
          f"test acc {tr.evaluate(X_test, y_test)['acc']:.4f}")
axes[0].set(xlabel="epoch", ylabel="test accuracy", title="Accuracy per epoch")
axes[1].set(xlabel="epoch", ylabel="loss per step", yscale="log", title="Every step's loss")
axes[0].legend(); axes[1].legend();

# %% [markdown]
# ### Depth without an activation: the depth ablation
#
# A stack of Linear layers with no activation between them is one linear map
# $x W_1 W_2 \cdots W_k$, so one, two or four such layers can only learn what logistic
# regression learns: the three land within a couple of points of each other (their optimisation
# differs, their function class does not). The ReLU net is the one that does better.

# %%
ablation = {
    "logistic regression (1 Linear)": net(hidden=()),
    "2 Linear, no activation": net(hidden=(32,), activation="linear"),
    "4 Linear, no activation": net(hidden=(32, 32, 32), activation="linear"),
    "2 Linear with ReLU (the Net)": net(hidden=(32,)),
}
results = {}
for name, model_k in ablation.items():
    tr, _ = train(model_k)
    results[name] = tr.evaluate(X_test, y_test)["acc"]
    print(f"{name:32s} {model_k.num_params():5d} params, test acc {results[name]:.4f}")

# %%
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.barh(list(results), list(results.values()), color=["C0", "C0", "C0", "C1"])
ax.set(xlim=(0.8, 1.0), xlabel="test accuracy", title="Depth without an activation")
ax.invert_yaxis();
