# %% [markdown]
# # 3. Norms, exact fits and a network by hand
#
# NYU's first deep-learning homework, worked with numpynn:
#
# 1. the gradients of the L1 and L2 regression losses, closed form against autograd;
# 2. a 1-4-1 ReLU network through the course's 13 points **exactly** (`nn.fit_points`), and
#    the forward pass of the course's 1-4-1 network at $x = 2$ by hand;
# 3. a small NumPy network trained sample by sample (`batch_size=1`).

# %%
import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn.course import matrix_calculus as mc
from numpynn.course import networks
from numpynn.gradcheck import numerical_gradient, rel_error

# %% [markdown]
# ## 3.1 Gradients of the L1 and L2 losses
#
# For a linear model $\hat y = Xw$:
#
# * $L_2(w) = \lVert Xw - y \rVert_2^2$ has $\nabla_w L_2 = 2X^\top (Xw - y)$;
# * $L_1(w) = \lVert Xw - y \rVert_1$ has $\nabla_w L_1 = X^\top \operatorname{sign}(Xw - y)$
#   (a subgradient where a residual is 0).
#
# `numpynn.course.matrix_calculus` returns autograd's gradient and the closed form; the third
# column is centred finite differences.

# %%
rng = np.random.default_rng(0)
X, w, y = rng.normal(size=(20, 3)), rng.normal(size=3), rng.normal(size=20)
losses = {
    "L2 = ‖Xw − y‖²": (mc.least_squares_grad, lambda v: float(np.sum((X @ v - y) ** 2))),
    "L1 = ‖Xw − y‖₁": (mc.l1_regression_grad, lambda v: float(np.sum(np.abs(X @ v - y)))),
}
for name, (grad, loss) in losses.items():
    pair = grad(X, w, y)
    numeric = numerical_gradient(loss, w.copy())
    print(f"{name}\n  closed form {pair.closed_form.round(6)}\n  autograd    {pair.autograd.round(6)}"
          f"\n  numerical   {numeric.round(6)}\n  rel errors: autograd {rel_error(pair.closed_form, pair.autograd):.1e},"
          f" numerical {rel_error(pair.closed_form, numeric):.1e}")

# %% [markdown]
# The L2 gradient grows with the residuals; the L1 gradient only sees their signs, which is why
# L1 is robust to outliers. Along one coordinate of $w$:

# %%
ts = np.linspace(-3, 3, 121)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
for ax, (name, (grad, loss)) in zip(axes, losses.items()):
    values, slopes = [], []
    for t in ts:
        v = w.copy(); v[0] = t
        values.append(loss(v)); slopes.append(grad(X, v, y).closed_form[0])
    ax.plot(ts, values, label=name)
    ax.plot(ts, slopes, "--", label="∂/∂w₀ (closed form)")
    ax.set(xlabel="w₀", title=name); ax.legend(fontsize=8)

# %% [markdown]
# ## 3.2 A 1-4-1 ReLU network through 13 points, exactly
#
# The course's points zig-zag: $y = 8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8$ at $x = 0, \ldots, 12$.
# A ReLU network is piecewise linear with one kink per hidden unit, and these points change
# slope exactly four times, so four units can pass through all 13 points. Plain gradient
# descent stalls (dead units, kinks outside the data); `nn.fit_points` places the kinks where
# the slope changes, solves the output layer by least squares and refines everything with
# Levenberg–Marquardt.

# %%
x_pts = np.arange(13.0)
y_pts = np.array([8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8.0])
fit = nn.fit_points(x_pts, y_pts, hidden=4)
print(f"max |f(x_i) − y_i| = {fit.max_abs_error:.5e}")
print("f(x_i) =", fit.model.forward(x_pts.reshape(-1, 1)).ravel().round(10) + 0.0)  # + 0.0: no -0.
fit.model

# %%
xs = np.linspace(-1, 13, 400).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, fit.model.forward(xs), label="1-4-1 ReLU network")
ax.plot(x_pts, y_pts, "o", label="the 13 points")
ax.set(xlabel="x", ylabel="y", title=f"An exact fit (max error {fit.max_abs_error:.1e})")
ax.legend();

# %% [markdown]
# ### The course's 1-4-1 network at $x = 2$, by hand
#
# The bundled example `relu-1-4-1` holds the homework's weights. `explain` works the forward
# pass ($z_1 = x W_1 + b_1$, $a_1 = \mathrm{ReLU}(z_1)$, $z_2 = a_1 W_2 + b_2$), the loss,
# the backward pass and one SGD step, every number shown as on the sheet:

# %%
worked = networks.load_network(networks.example_path("relu-1-4-1")).explain()
print("z1 =", worked.z[0].tolist(), " a1 =", worked.a[0].tolist(), " output =", worked.output.tolist())
print(worked)

# %% [markdown]
# In Jupyter the same result also shows as tables:

# %%
worked

# %% [markdown]
# ## 3.3 A NumPy network trained sample by sample
#
# Stochastic gradient descent in its original form: one sample per step (`batch_size=1`), a
# 1-16-1 tanh network learning $\sin(x)$ from 64 noisy samples.

# %%
x_train = rng.uniform(-3, 3, size=(64, 1))
y_train = np.sin(x_train) + 0.1 * rng.normal(size=x_train.shape)
model = nn.Sequential(nn.Linear(1, 16, rng=0), nn.Tanh(), nn.Linear(16, 1, rng=1))
trainer = nn.Trainer(model, nn.MSE(), nn.SGD(model.params(), lr=0.02), rng=0, progress=False)
history = trainer.fit(x_train, y_train, epochs=60, batch_size=1)
print(f"{len(history.iteration_loss)} steps of one sample; training MSE "
      f"{history.history['loss'][0]:.4f} after epoch 1, {history.history['loss'][-1]:.4f} after 60")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
axes[0].plot(history.iteration_loss, lw=0.3)
axes[0].set(xlabel="step (one sample each)", ylabel="loss", yscale="log", title="Every step's loss")
order = np.argsort(x_train[:, 0])
axes[1].plot(x_train, y_train, ".", label="samples")
axes[1].plot(xs[100:300], np.sin(xs[100:300]), ":", label="sin x")
axes[1].plot(x_train[order], model.predict(x_train[order]), label="network")
axes[1].set(xlabel="x", title="The fit"); axes[1].legend();
