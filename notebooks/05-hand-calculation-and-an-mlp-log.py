# %% [markdown]
# # 5. A worked hand calculation and an MLP log
#
# The week-12 sheet has two parts:
#
# 1. **by hand**, for a tiny 2-2-2 sigmoid network and one input: the forward values, the
#    squared error, the gradients of two chosen weights and their values after one step of
#    gradient descent (Matt Mazur's step-by-step example, bundled as `mazur-2-2-2`);
# 2. **an MLP on Fashion-MNIST** whose log is read line by line: the loss every 100 batches
#    and the test summary, in the format of PyTorch's MNIST example.
#
# **Shortened for CI:** the MLP trains for 1 epoch on all 60,000 images (the sheet's log runs longer; the lines
# look the same).

# %%
import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn import data, plot
from numpynn.course import networks

# %% [markdown]
# ## 5.1 The hand calculation
#
# The network file holds Mazur's weights, input $x = (0.05, 0.10)$, target
# $t = (0.01, 0.99)$, the loss $E = \sum_k \frac12 (t_k - o_k)^2$ and the rate $\eta = 0.5$.
# In numpynn's layout `W[i, j]` joins unit $i$ to unit $j$, so Mazur's $w_5$ ($h_1 \to o_1$) is
# `W2[1,1]` and his $w_1$ ($i_1 \to h_1$) is `W1[1,1]`.

# %%
sheet = networks.load_network(networks.example_path("mazur-2-2-2"))
e = sheet.explain()
h, o = e.a[0], e.a[1]
print("Forward pass")
print(f"  net_h1 = w1·i1 + w2·i2 + b1 = {e.z[0][0]:.9f}   out_h1 = σ(net_h1) = {h[0]:.9f}")
print(f"  net_h2 = w3·i1 + w4·i2 + b1 = {e.z[0][1]:.9f}   out_h2 = σ(net_h2) = {h[1]:.9f}")
print(f"  net_o1 = w5·out_h1 + w6·out_h2 + b2 = {e.z[1][0]:.9f}   out_o1 = {o[0]:.9f}")
print(f"  net_o2 = w7·out_h1 + w8·out_h2 + b2 = {e.z[1][1]:.9f}   out_o2 = {o[1]:.9f}")
print("Squared error")
print(f"  E_total = ½(t1 − out_o1)² + ½(t2 − out_o2)² = {e.loss:.9f}   (Mazur: 0.298371109)")
print("Two chosen weights")
for name, key, idx, published in [("w5", "W2", (0, 0), 0.35891648), ("w1", "W1", (0, 0), 0.149780716)]:
    print(f"  ∂E/∂{name} = {e.grads[key][idx]:.9f};  {name}⁺ = {name} − η·∂E/∂{name} = "
          f"{e.params[key][idx]:.2f} − 0.5·{e.grads[key][idx]:.9f} = {e.updated[key][idx]:.9f}"
          f"   (Mazur: {published})")

# %% [markdown]
# Each value comes out of the chain rule: for $w_5$,
# $\frac{\partial E}{\partial w_5} = \frac{\partial E}{\partial out_{o1}}
# \frac{\partial out_{o1}}{\partial net_{o1}} \frac{\partial net_{o1}}{\partial w_5}
# = (out_{o1} - t_1) \cdot out_{o1}(1 - out_{o1}) \cdot out_{h1}$:

# %%
by_chain_rule = (o[0] - e.target[0]) * o[0] * (1 - o[0]) * h[0]
print(f"{o[0] - e.target[0]:.9f} · {o[0] * (1 - o[0]):.9f} · {h[0]:.9f} = {by_chain_rule:.9f}")
print("equal to explain's ∂E/∂w5:", np.isclose(by_chain_rule, e.grads["W2"][0, 0], rtol=0, atol=1e-15))

# %% [markdown]
# The whole worked solution, every δ and every parameter, as the sheet prints it
# (`numpynn explain --example mazur-2-2-2` prints the same), and as Jupyter shows it:

# %%
print(e.to_text(precision=9))

# %%
e

# %% [markdown]
# ## 5.2 An MLP on Fashion-MNIST, and its log
#
# A 784-256-128-64-10 ReLU network, plain SGD at $\eta = 0.01$, batch 64, inputs standardised
# per pixel. `Trainer(print_every=100)` prints PyTorch's line every 100 batches; each epoch also
# ends with numpynn's own metrics line. `evaluate(..., verbose=True)` prints the test summary
# and returns the numbers.

# %%
X_train, y_train, X_test, y_test = data.load("fashion-mnist", download=False)
X_train, X_test = data.standardize(X_train, X_test)
model = nn.mlp(784, (256, 128, 64), 10, init="he_normal", rng=0)
trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.params(), lr=0.01), rng=0,
                     progress="lines", print_every=100)
history = trainer.fit(X_train, y_train, epochs=1, batch_size=64)

# %%
result = trainer.evaluate(X_test, y_test, verbose=True)
result

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(history.iteration_loss, lw=0.4, label="every batch")
ax.plot(np.arange(0, len(history.iteration_loss), 100), history.iteration_loss[::100], "o",
        ms=3, label="the logged batches")
ax.set(xlabel="batch", ylabel="loss", title="The log as a curve"); ax.legend();

# %%
names = list(data.DATASETS["fashion-mnist"].class_names)
plot.confusion_matrix(y_test, model.predict(X_test), class_names=names, normalize=True)
