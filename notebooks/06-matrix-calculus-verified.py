# %% [markdown]
# # 6. Matrix calculus, verified
#
# Three derivations from the matrix-calculus homework, each checked three ways: the **closed
# form** derived on paper, numpynn's **autograd**, and **finite differences** (the referee that
# knows no calculus). `numpynn.course.matrix_calculus` returns the first two; the docstrings
# hold the derivations.
#
# 1. the linear autoencoder $L(W) = \frac12 \lVert W^\top W x - x \rVert^2$;
# 2. $\log\det K$;
# 3. a two-layer network with a Swish hidden layer.

# %%
import matplotlib.pyplot as plt
import numpy as np

from numpynn.course import matrix_calculus as mc
from numpynn.gradcheck import numerical_gradient, rel_error

rng = np.random.default_rng(0)
checks = {}   # name -> (closed form vs autograd, closed form vs finite differences)


def compare(name, closed, auto, numeric):
    checks[name] = (rel_error(closed, auto), rel_error(closed, numeric))
    print(f"{name:10s} closed vs autograd {checks[name][0]:.1e}   closed vs finite differences "
          f"{checks[name][1]:.1e}")

# %% [markdown]
# ## 6.1 The autoencoder $\frac12 \lVert W^\top W x - x \rVert^2$
#
# With $h = Wx$ and the reconstruction error $r = W^\top W x - x$,
# $dL = r^\top (dW^\top h + W^\top dW\, x)$, so
# $$\frac{\partial L}{\partial W} = W x r^\top + W r x^\top = W (x r^\top + r x^\top).$$

# %%
W, x = rng.normal(size=(2, 4)), rng.normal(size=4)
pair = mc.autoencoder_grad(W, x)
r = W.T @ W @ x - x
by_hand = W @ (np.outer(x, r) + np.outer(r, x))
numeric = numerical_gradient(lambda V: 0.5 * float(np.sum((V.T @ V @ x - x) ** 2)), W.copy())
print("closed form\n", pair.closed_form.round(6), "\nautograd\n", pair.autograd.round(6),
      "\nfinite differences\n", numeric.round(6))
print("the formula typed here equals the library's closed form:", np.allclose(by_hand, pair.closed_form))
compare("autoencoder", pair.closed_form, pair.autograd, numeric)

# %% [markdown]
# ## 6.2 $\log \det K$
#
# Jacobi's formula $d \det K = \det K \operatorname{tr}(K^{-1} dK)$ gives
# $d \log\det K = \operatorname{tr}(K^{-1} dK)$, so $\nabla_K \log\det K = K^{-\top}$.

# %%
A = rng.normal(size=(3, 3))
K = A @ A.T + 3 * np.eye(3)            # positive definite: log det is defined
pair = mc.logdet_grad(K)
numeric = numerical_gradient(lambda M: float(np.linalg.slogdet(M)[1]), K.copy())
print("K⁻ᵀ =\n", pair.closed_form.round(6))
compare("log det", pair.closed_form, pair.autograd, numeric)

# %% [markdown]
# ## 6.3 A two-layer Swish network
#
# $Z = XW_1 + b_1$, $H = Z \odot \sigma(Z)$, $\hat Y = HW_2 + b_2$,
# $L = \frac{1}{2N}\sum_n \lVert \hat y_n - y_n \rVert^2$. With
# $\mathrm{swish}'(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z))$:
# $\Delta_2 = (\hat Y - Y)/N$, $\partial L/\partial W_2 = H^\top \Delta_2$,
# $\Delta_1 = (\Delta_2 W_2^\top) \odot \mathrm{swish}'(Z)$, $\partial L/\partial W_1 = X^\top \Delta_1$,
# and the biases sum the $\Delta$s over the batch.

# %%
N, D, Hd, M = 6, 3, 5, 2
X, Y = rng.normal(size=(N, D)), rng.normal(size=(N, M))
params = {"W1": rng.normal(size=(D, Hd)), "b1": rng.normal(size=Hd),
          "W2": rng.normal(size=(Hd, M)), "b2": rng.normal(size=M)}


def swish_loss(p):
    Z = X @ p["W1"] + p["b1"]                  # (N, H)
    H = Z / (1 + np.exp(-Z))                   # (N, H): z·σ(z)
    return float(np.sum((H @ p["W2"] + p["b2"] - Y) ** 2) / (2 * N))


pair = mc.swish_network_grads(X, Y, params)
for name in params:
    numeric = numerical_gradient(lambda v: swish_loss({**params, name: v}), params[name].copy())
    compare(f"swish {name}", pair.closed_form[name], pair.autograd[name], numeric)

# %% [markdown]
# ## All checks at a glance
#
# Closed form and autograd agree to rounding (often exactly: they do the same arithmetic in a
# different order); finite differences, with their $O(h^2)$ truncation and rounding error,
# agree to $10^{-8}$ or better (rel_error is the worst element's, so a small entry counts fully).

# %%
names = list(checks)
auto_err = [max(checks[n][0], 1e-17) for n in names]   # exact agreement drawn at 1e-17
num_err = [checks[n][1] for n in names]
fig, ax = plt.subplots(figsize=(8, 3.2))
pos = np.arange(len(names))
ax.bar(pos - 0.2, auto_err, 0.4, label="closed form vs autograd")
ax.bar(pos + 0.2, num_err, 0.4, label="closed form vs finite differences")
ax.set(yscale="log", ylim=(1e-18, 1e-4), xticks=pos, ylabel="relative error",
       title="Matrix calculus, verified")
ax.set_xticklabels(names, rotation=20)
ax.legend(fontsize=8);
