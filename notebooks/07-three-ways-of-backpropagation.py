# %% [markdown]
# # 7. Three ways of backpropagation
#
# One network, one input, one loss, and its gradients computed three ways, as courses teach
# them:
#
# 1. **by hand**: `explain` works the chain rule layer by layer, δ by δ, as on paper;
# 2. **per layer**: each layer's backward rule from `numpynn.functional`
#    (`linear_backward` returns $dx = dout\,W^\top$, $dW = x^\top dout$, $db = \sum dout$),
#    chained by `Sequential.backward`;
# 3. **by autograd**: `numpynn.autograd.Tensor` records the operations and walks them back;
#
# and a fourth referee, **PyTorch**, when it is installed. The three numpynn ways agree digit
# for digit; PyTorch, summing in its own order, at most in the 16th significant digit.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import numpynn as nn
from numpynn.autograd import Tensor

try:
    import torch
except ImportError:   # the notebook runs without PyTorch; only the fourth column is missing
    torch = None
display(Markdown(f"PyTorch {torch.__version__} is installed: it is the fourth referee."
                 if torch is not None else
                 "**PyTorch is not installed here, so its column is left out** "
                 "(`pip install torch` adds it); the three numpynn ways still agree."))

# %% [markdown]
# ## The network
#
# A 3-4-2 network, tanh then sigmoid, float64 throughout; one input $x$, target $t$ and the
# courses' squared error $E = \frac12 \sum_k (a_{2,k} - t_k)^2$.

# %%
rng = np.random.default_rng(0)
model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, rng=0), nn.Tanh(),
                      nn.Linear(4, 2, dtype=np.float64, rng=1), nn.Sigmoid())
x, t = rng.normal(size=3), np.array([0.2, 0.9])
model

# %% [markdown]
# ## 1. By hand: `explain`

# %%
by_hand = model.explain(x, t, "half_sse", lr=0.1)
print(by_hand.to_text(precision=6))
hand = {"0.W": by_hand.grads["W1"], "0.b": by_hand.grads["b1"],
        "2.W": by_hand.grads["W2"], "2.b": by_hand.grads["b2"]}

# %% [markdown]
# ## 2. Per layer: forward caches, backward in reverse
#
# `model.forward` runs each layer's `F.*_forward` and keeps its cache; the loss gives
# $\partial E / \partial a_2 = a_2 - t$, and `model.backward` runs the layers' backward rules
# in reverse order, writing $dW$ and $db$ into `model.grads()`.

# %%
a2 = model.forward(x.reshape(1, 3))              # (1, 2): a batch of one sample
dx = model.backward(a2 - t.reshape(1, 2))        # (1, 3); ∂E/∂a2 = a2 − t for ½·Σ(a − t)²
per_layer = {k: g.copy() for k, g in model.grads().items()}
print({k: g.shape for k, g in per_layer.items()}, "∂E/∂x =", dx.ravel().round(6))

# %% [markdown]
# ## 3. By autograd: record the operations, walk them back

# %%
p = {k: Tensor(v.copy(), requires_grad=True) for k, v in model.params().items()}
a1 = (Tensor(x) @ p["0.W"] + p["0.b"]).tanh()
out = (a1 @ p["2.W"] + p["2.b"]).sigmoid()
E = 0.5 * ((out - Tensor(t)) ** 2).sum()
E.backward()
autograd = {k: v.grad for k, v in p.items()}
print(f"E = {E.item():.12f} (explain: {by_hand.loss:.12f})")

# %% [markdown]
# ## 4. PyTorch, if it is installed

# %%
ways = {"by hand": hand, "per layer": per_layer, "autograd": autograd}
if torch is not None:
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in model.params().items()}
    ta1 = torch.tanh(torch.tensor(x) @ tp["0.W"] + tp["0.b"])
    tout = torch.sigmoid(ta1 @ tp["2.W"] + tp["2.b"])
    (0.5 * ((tout - torch.tensor(t)) ** 2).sum()).backward()
    ways["PyTorch"] = {k: v.grad.numpy() for k, v in tp.items()}
else:
    print("PyTorch is not installed: comparing the three numpynn ways only.")

# %% [markdown]
# ## Digit for digit
#
# Every gradient entry, printed to 15 significant digits by each way, and the largest
# difference from the hand-worked value over all entries.

# %%
names = list(ways)
print(f"{'entry':10s}" + "".join(f"{n:>24s}" for n in names))
for key in hand:
    for idx in np.ndindex(hand[key].shape):
        label = f"{key}[{','.join(map(str, idx))}]"
        print(f"{label:10s}" + "".join(f"{ways[n][key][idx]:24.15e}" for n in names))
for n in names[1:]:
    worst = max(np.abs(ways[n][k] - hand[k]).max() for k in hand)
    print(f"max |{n} − by hand| = {worst:.1e}")

# %%
fig, axes = plt.subplots(1, len(names), figsize=(3 * len(names), 3), sharey=True)
for ax, n in zip(axes, names):
    ax.imshow(ways[n]["0.W"], cmap="coolwarm", vmin=-np.abs(hand["0.W"]).max(), vmax=np.abs(hand["0.W"]).max())
    ax.set(title=f"∂E/∂W1, {n}", xlabel="hidden unit j", ylabel="input i")
fig.suptitle("The same gradient, computed each way");
