# %% [markdown]
# # 8. Convolutional networks
#
# CS231n's assignment 2 notebook *ConvolutionalNetworks*, worked with numpynn: the naive
# convolution checked against the assignment's printed numbers, two image-processing filters
# on two photographs, gradient checks of the convolution and of max pooling, the naive loops
# against the fast im2col path, a tiny convolution worked by hand, spatial batch norm, CS231n's
# three-layer convnet, and a small convnet trained on Fashion-MNIST with its filters and
# feature maps.
#
# **Shortened for CI:** the timing uses 10 images instead of CS231n's 100 (the loops take
# seconds; `python -m benchmarks --conv` times the full shapes), and the convnet trains on a
# seeded subset of 6,000 Fashion-MNIST images for 2 epochs (the full run reaching ≥ 92 % is
# `numpynn run experiments/fashion-mnist-cnn.toml`).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import numpynn as nn
from numpynn import data, plot
from numpynn import functional as F
from numpynn.gradcheck import numerical_gradient_array, rel_error

# %% [markdown]
# ## 8.1 The naive forward pass
#
# `F.conv2d_forward(x, W, b, stride, padding, fast=False)` runs CS231n's four loops, one output
# pixel at a time:
#
# $$\text{out}[n, f, i, j] = b_f + \sum_{c, p, q} W[f, c, p, q]\,\tilde x[n, c, s i + p, s j + q]$$
#
# with $\tilde x$ the zero-padded input. CS231n checks it on `linspace` inputs with stride 2
# and padding 1 and prints the expected output to 8 digits.

# %%
x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
b = np.linspace(-0.1, 0.2, num=3)
out, _ = F.conv2d_forward(x, w, b, stride=2, padding=1, fast=False)
correct_out = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                         [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                         [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                        [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                         [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                         [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
print(f"difference from CS231n's output: {rel_error(out, correct_out):.1e} (about 1e-8 expected)")

# %% [markdown]
# ## 8.2 Aside: image processing with convolutions
#
# A convolution with hand-made filters: the first filter turns a colour image into grey (0.3 of
# red, 0.6 of green, 0.1 of blue at the centre tap), the second detects horizontal edges in the
# blue channel (a Sobel filter), with a bias of 128 so that no edge is mid-grey. The two
# photographs are scikit-learn's bundled sample images, cropped square and shrunk to 200 × 200.

# %%
from sklearn.datasets import load_sample_images

def square(image, size=200):
    """Centre crop to a square, then shrink by block averaging to about size × size."""
    h, w, _ = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top:top + side, left:left + side].astype(np.float64)
    k = side // size
    crop = crop[:k * size, :k * size].reshape(size, k, size, k, 3).mean(axis=(1, 3))
    return crop.transpose(2, 0, 1)                                   # (3, size, size)

photos = np.stack([square(img) for img in load_sample_images().images])   # (2, 3, 200, 200)
filters = np.zeros((2, 3, 3, 3))
filters[0, :, 1, 1] = [0.3, 0.6, 0.1]                                # grayscale
filters[1, 2] = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]                 # edges in the blue channel
out, _ = F.conv2d_forward(photos, filters, np.array([0.0, 128.0]), padding=1)

fig, axes = plt.subplots(2, 3, figsize=(9, 6))
for row in range(2):
    axes[row, 0].imshow(photos[row].transpose(1, 2, 0).astype(np.uint8))
    for col in range(2):
        channel = out[row, col]
        axes[row, col + 1].imshow((channel - channel.min()) / np.ptp(channel), cmap="gray")
for ax, title in zip(axes[0], ["original", "grayscale", "horizontal edges"]):
    ax.set_title(title)
for ax in axes.ravel():
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 8.3 The naive backward pass and max pooling
#
# Each backward pass is checked against centred finite differences of $\sum \text{out} \odot
# \text{dout}$ (`numerical_gradient_array`, float64), as in the assignment: relative errors
# around 1e-8 or smaller mean the gradient is right. Max pooling is checked the same way,
# after its forward pass is compared with CS231n's printed output.

# %%
rng = np.random.default_rng(231)
x, w, b = rng.normal(size=(4, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
dout = rng.normal(size=(4, 2, 5, 5))
out, cache = F.conv2d_forward(x, w, b, stride=1, padding=1, fast=False)
dx, dw, db = F.conv2d_backward(dout, cache)
conv = lambda x_, w_, b_: F.conv2d_forward(x_, w_, b_, 1, 1, fast=False)[0]
print("conv backward: "
      f"dx {rel_error(dx, numerical_gradient_array(lambda v: conv(v, w, b), x, dout)):.1e}, "
      f"dw {rel_error(dw, numerical_gradient_array(lambda v: conv(x, v, b), w, dout)):.1e}, "
      f"db {rel_error(db, numerical_gradient_array(lambda v: conv(x, w, v), b, dout)):.1e}")

x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
out, _ = F.max_pool2d_forward(x, 2, 2, fast=False)
correct_out = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                         [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                         [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                        [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                         [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                         [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
print(f"max pool forward vs CS231n: {rel_error(out, correct_out):.1e}")
x, dout = rng.normal(size=(3, 2, 8, 8)), rng.normal(size=(3, 2, 4, 4))
_, cache = F.max_pool2d_forward(x, 2, fast=False)
pool = lambda v: F.max_pool2d_forward(v, 2, fast=False)[0]
numeric = numerical_gradient_array(pool, x, dout)
print(f"max pool backward: dx {rel_error(F.max_pool2d_backward(dout, cache), numeric):.1e}")

# %% [markdown]
# ## 8.4 Naive loops against the fast path
#
# The default `fast=True` computes the same numbers through im2col (every receptive field
# copied once into a column matrix), one matrix product, and col2im for the input gradient
# (`numpynn/_speed/im2col.py`). CS231n's Cython version is 13.7× faster than its loops forward
# and 30.6× backward; here, in NumPy alone (10 images instead of 100):

# %%
def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start

x, w, b = rng.normal(size=(10, 3, 31, 31)), rng.normal(size=(25, 3, 3, 3)), rng.normal(size=25)
(out_naive, cache_naive), t_naive = timed(lambda: F.conv2d_forward(x, w, b, 2, 1, fast=False))
(out_fast, cache_fast), t_fast = timed(lambda: F.conv2d_forward(x, w, b, 2, 1))
dout = rng.normal(size=out_fast.shape)
grads_naive, tb_naive = timed(lambda: F.conv2d_backward(dout, cache_naive))
grads_fast, tb_fast = timed(lambda: F.conv2d_backward(dout, cache_fast))
print(f"forward:  naive {t_naive * 1e3:7.1f} ms, fast {t_fast * 1e3:6.2f} ms, "
      f"{t_naive / t_fast:5.0f}× faster, difference {rel_error(out_naive, out_fast):.1e}")
print(f"backward: naive {tb_naive * 1e3:7.1f} ms, fast {tb_fast * 1e3:6.2f} ms, "
      f"{tb_naive / tb_fast:5.0f}× faster, difference "
      f"{max(rel_error(a, b) for a, b in zip(grads_naive, grads_fast)):.1e}")

x = rng.normal(size=(10, 3, 32, 32))
(out_naive, cache_naive), t_naive = timed(lambda: F.max_pool2d_forward(x, 2, 2, fast=False))
(out_fast, cache_fast), t_fast = timed(lambda: F.max_pool2d_forward(x, 2, 2))
dout = rng.normal(size=out_fast.shape)
dx_naive, tb_naive = timed(lambda: F.max_pool2d_backward(dout, cache_naive))
dx_fast, tb_fast = timed(lambda: F.max_pool2d_backward(dout, cache_fast))
print(f"max pool: forward {t_naive / t_fast:.0f}×, backward {tb_naive / tb_fast:.0f}× faster; "
      f"differences {rel_error(out_naive, out_fast):.1e}, {rel_error(dx_naive, dx_fast):.1e}")

# %% [markdown]
# ## 8.5 A tiny convolution and a max pool, by hand
#
# `nn.explain_conv` writes every output as its sum with the numbers plugged in, and the
# backward pass the same way: $db$ sums `dout`, $dW$ correlates the padded input with `dout`,
# and $dx$ is a *full convolution* of `dout` with the filter (each input pixel collects
# `dout · W` from every window that covers it), which it also computes as one convolution of
# the padded `dout` with the filter rotated by 180°. `nn.explain_pool` shows max pooling's
# routing: each gradient goes to its window's maximum. (`numpynn explain --conv` and
# `numpynn explain --pool` print the same from the command line.)

# %%
from numpynn.course.explain_conv import TINY_CONV, TINY_POOL

print(nn.explain_conv(**TINY_CONV))
print()
print(nn.explain_pool(**TINY_POOL))

# %% [markdown]
# ## 8.6 Spatial batch normalisation
#
# `nn.BatchNorm2d` normalises each channel over N, H and W. In training mode the output's
# per-channel means are β and its standard deviations γ; at test time the running averages are
# used, so after many training batches a test batch comes out with means near β and standard
# deviations near γ as well.

# %%
bn = nn.BatchNorm2d(3, dtype=np.float64)
bn.gamma[...], bn.beta[...] = [1.0, 2.0, 3.0], [0.0, 1.0, 2.0]
x = 4 * rng.normal(size=(2, 3, 4, 5)) + 10
y = bn.forward(x)
print("train: means", y.mean(axis=(0, 2, 3)).round(6), "stds", y.std(axis=(0, 2, 3)).round(6))
for _ in range(50):
    bn.forward(4 * rng.normal(size=(2, 3, 4, 5)) + 10)
bn.eval()
y = bn.forward(4 * rng.normal(size=(2, 3, 4, 5)) + 10)
print("test:  means", y.mean(axis=(0, 2, 3)).round(2), "stds", y.std(axis=(0, 2, 3)).round(2))
bn.train()
x, dout = 5 * rng.normal(size=(2, 3, 4, 5)) + 12, rng.normal(size=(2, 3, 4, 5))
bn.forward(x)
dx = bn.backward(dout)
numeric = numerical_gradient_array(bn.forward, x, dout)     # training mode: batch statistics
print(f"batch norm backward: dx {rel_error(dx, numeric):.1e}")

# %% [markdown]
# ## 8.7 CS231n's three-layer convnet
#
# `conv − ReLU − 2×2 max pool − affine − ReLU − affine − softmax`, every weight drawn from
# $\mathcal N(0, 0.001^2)$: its initial loss on CIFAR-10-shaped inputs is about
# $\log 10 \approx 2.3026$, as CS231n's sanity check expects, and adding L2 regularisation
# raises it a little.

# %%
net = nn.three_layer_convnet(rng=0, dtype=np.float64)
X_toy, y_toy = rng.normal(size=(50, 3, 32, 32)), rng.integers(10, size=50)
loss, _ = nn.SoftmaxCrossEntropy()(net.forward(X_toy), y_toy)
penalty, _ = nn.l2_penalty(net.params(), reg=0.5)
print(f"initial loss (no regularisation): {loss:.4f}   (log 10 = {np.log(10):.4f})")
print(f"initial loss (reg = 0.5):         {loss + penalty:.4f}")
net

# %% [markdown]
# ## 8.8 A small convnet on Fashion-MNIST
#
# `nn.convnet` is what `numpynn train --conv 8,16 --hidden 64` builds: flat rows unflattened
# to (1, 28, 28), two blocks of 3×3 convolution + ReLU + 2×2 max pool, then a hidden layer.
# Two epochs on 6,000 images; the full configuration in `experiments/fashion-mnist-cnn.toml`
# (32 and 64 filters, all 60,000 images) is the one that reaches 92 %.

# %%
X_all, y_all, X_test, y_test = data.load("fashion-mnist", download=False)
_, _, X_sub, y_sub = data.train_val_split(X_all, y_all, n_val=7_000, rng=0)
X_train, y_train, X_val, y_val = data.train_val_split(X_sub, y_sub, n_val=1_000, rng=1)
model = nn.convnet((1, 28, 28), conv=(8, 16), hidden=(64,), n_out=10, rng=0)
trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), nn.Adam(model.params(), lr=2e-3), rng=0,
                     progress="auto")
history = trainer.fit(X_train, y_train, X_val, y_val, epochs=2, batch_size=64)
print(f"validation accuracy {history.history['val_acc'][-1]:.3f}, test accuracy "
      f"{trainer.evaluate(X_test[:2000], y_test[:2000])['acc']:.3f} (first 2,000 test images)")
model

# %% [markdown]
# ## 8.9 What the first layer learned
#
# The first convolution's eight 3×3 filters, and the eight maps they compute for one test
# image: edges and strokes in different directions, the features the next layers combine.

# %%
plot.conv_filters(model[1].W)

# %%
plot.feature_maps(model, X_test[0], n=8)
