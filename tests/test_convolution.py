"""Convolution, pooling and spatial batch norm kernels: CS231n's printed numbers, the fast path
against the reference loops (1e-10, float64), PyTorch (1e-10), finite differences, errors."""
import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn import functional as F
from numpynn._speed import im2col
from numpynn.gradcheck import array_rel_error, numerical_gradient_array, rel_error

TOL = dict(rtol=1e-10, atol=1e-10)

# (x shape, W shape, stride, padding): strides that do not tile, non-square kernels and pairs
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 6), (2, 3, 3, 2), 2, 1),
    ((3, 2, 8, 5), (3, 2, 2, 3), (2, 1), (1, 2)),
    ((1, 1, 6, 7), (2, 1, 4, 4), 3, 1),
    ((2, 4, 4, 4), (5, 4, 1, 1), 1, 0),
]
# (x shape, kernel_size, stride): overlapping windows (stride < kernel), non-square, non-tiling
POOL_CASES = [
    ((2, 3, 4, 4), 2, None),
    ((2, 2, 7, 6), 3, 2),
    ((1, 3, 5, 8), (2, 3), (1, 2)),
    ((2, 1, 5, 5), 2, 1),
    ((2, 2, 5, 7), 2, None),   # non-overlapping windows that do not tile: the border is left out
    ((1, 2, 6, 6), 2, 3),      # gaps between the windows
]


def _conv_inputs(case, seed=0):
    x_shape, w_shape, stride, padding = case
    rng = np.random.default_rng(seed)
    return (rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0]),
            stride, padding)


# -- CS231n's printed numbers (assignment 2, ConvolutionalNetworks.ipynb) -----------------------
@pytest.mark.parametrize("fast", [False, True])
def test_conv_forward_matches_cs231n(fast):
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = F.conv2d_forward(x, w, b, stride=2, padding=1, fast=fast)
    correct_out = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                             [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                             [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                            [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                             [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                             [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
    assert rel_error(out, correct_out) < 1e-7  # the notebook prints 8 digits


@pytest.mark.parametrize("fast", [False, True])
def test_max_pool_forward_matches_cs231n(fast):
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    out, _ = F.max_pool2d_forward(x, 2, 2, fast=fast)
    correct_out = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                             [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                             [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                            [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                             [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                             [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
    assert rel_error(out, correct_out) < 1e-7


# -- fast path == reference loops ----------------------------------------------------------------
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_fast_equals_naive(case):
    x, w, b, stride, padding = _conv_inputs(case)
    out_fast, cache_fast = F.conv2d_forward(x, w, b, stride, padding)
    out_naive, cache_naive = F.conv2d_forward(x, w, b, stride, padding, fast=False)
    np.testing.assert_allclose(out_fast, out_naive, **TOL)
    dout = np.random.default_rng(1).normal(size=out_fast.shape)
    for g_fast, g_naive in zip(F.conv2d_backward(dout, cache_fast),
                               F.conv2d_backward(dout, cache_naive)):
        np.testing.assert_allclose(g_fast, g_naive, **TOL)


def test_conv_fast_path_chunks_the_batch_without_changing_the_result(monkeypatch):
    x, w, b, stride, padding = _conv_inputs(((7, 3, 6, 6), (4, 3, 3, 3), 1, 1))
    out, cache = F.conv2d_forward(x, w, b, stride, padding)
    dout = np.random.default_rng(1).normal(size=out.shape)
    grads = F.conv2d_backward(dout, cache)
    row_bytes = (2 * 3 * 3 * 3 + 4) * 6 * 6 * 8  # one sample's columns, their gradient, product
    monkeypatch.setattr(im2col, "COLUMN_BYTES", 2 * row_bytes)  # chunks of 2, 2, 2, 1 samples
    assert im2col.sample_bytes(w.shape, (6, 6), 8) == row_bytes
    assert len(im2col._chunks(7, row_bytes)) == 4
    out_chunked, cache = F.conv2d_forward(x, w, b, stride, padding)
    np.testing.assert_allclose(out_chunked, out, **TOL)
    for g_chunked, g in zip(F.conv2d_backward(dout, cache), grads):
        np.testing.assert_allclose(g_chunked, g, **TOL)


@pytest.mark.parametrize("fast", [False, True])
def test_conv_backward_without_dx_gives_the_same_parameter_gradients(fast):
    x, w, b, stride, padding = _conv_inputs(CONV_CASES[1])
    out, cache = F.conv2d_forward(x, w, b, stride, padding, fast=fast)
    dout = np.random.default_rng(1).normal(size=out.shape)
    dx, dW, db = F.conv2d_backward(dout, cache)
    none, dW_only, db_only = F.conv2d_backward(dout, cache, need_dx=False)
    assert none is None and dx.shape == x.shape
    np.testing.assert_array_equal(dW_only, dW)
    np.testing.assert_array_equal(db_only, db)


def test_conv_backward_from_kept_or_rebuilt_columns_agree():
    """A Conv2d in training mode keeps the forward's column matrix for backward; in eval mode
    (or when the batch is chunked) backward rebuilds it: the same gradients either way."""
    x, w, b, stride, padding = _conv_inputs(CONV_CASES[2])
    kept = F._conv2d_forward(x, w, b, (2, 1), (1, 2), keep_columns=True)
    rebuilt = F._conv2d_forward(x, w, b, (2, 1), (1, 2), keep_columns=False)
    assert kept[1][-1] is not None and rebuilt[1][-1] is None
    np.testing.assert_array_equal(kept[0], rebuilt[0])
    dout = np.random.default_rng(1).normal(size=kept[0].shape)
    for g_kept, g_rebuilt in zip(F._conv2d_backward(dout, kept[1]),
                                 F._conv2d_backward(dout, rebuilt[1])):
        np.testing.assert_allclose(g_kept, g_rebuilt, **TOL)


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_fast_equals_naive(kind, case):
    forward, backward = {"max": (F.max_pool2d_forward, F.max_pool2d_backward),
                         "avg": (F.avg_pool2d_forward, F.avg_pool2d_backward)}[kind]
    x_shape, kernel, stride = case
    x = np.random.default_rng(0).normal(size=x_shape)
    out_fast, cache_fast = forward(x, kernel, stride)
    out_naive, cache_naive = forward(x, kernel, stride, fast=False)
    np.testing.assert_allclose(out_fast, out_naive, **TOL)
    dout = np.random.default_rng(1).normal(size=out_fast.shape)
    np.testing.assert_allclose(backward(dout, cache_fast), backward(dout, cache_naive), **TOL)


@pytest.mark.parametrize("fast", [False, True])
def test_max_pool_tie_sends_the_gradient_to_the_first_maximum(fast):
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, :, 2:] = 1.0  # window 0 all zeros, window 1 all ones: ties everywhere
    _, cache = F.max_pool2d_forward(x, 2, fast=fast)
    dx = F.max_pool2d_backward(np.array([[[[3.0, 5.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[3, 0, 5, 0], [0, 0, 0, 0]]]])


# -- finite differences ----------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [False, True])
def test_conv_gradients_match_finite_differences(fast):
    x, w, b, stride, padding = _conv_inputs(CONV_CASES[2])
    out, cache = F.conv2d_forward(x, w, b, stride, padding, fast=fast)
    dout = np.random.default_rng(2).normal(size=out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    f = lambda: F.conv2d_forward(x, w, b, stride, padding, fast=fast)[0]
    for name, array, grad in (("x", x, dx), ("W", w, dw), ("b", b, db)):
        numeric = numerical_gradient_array(lambda _: f(), array, dout)
        assert array_rel_error(numeric, grad) < 1e-8, name


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_gradients_match_finite_differences(kind):
    forward, backward = {"max": (F.max_pool2d_forward, F.max_pool2d_backward),
                         "avg": (F.avg_pool2d_forward, F.avg_pool2d_backward)}[kind]
    x = np.random.default_rng(0).permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 10.0  # no ties
    out, cache = forward(x, 3, 2)
    dout = np.random.default_rng(1).normal(size=out.shape)
    numeric = numerical_gradient_array(lambda v: forward(v, 3, 2)[0], x, dout)
    assert array_rel_error(numeric, backward(dout, cache)) < 1e-8


def test_batchnorm2d_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(3, 2, 3, 2)), rng.normal(size=2), rng.normal(size=2)
    f = lambda: F.batchnorm2d_forward(x, gamma, beta, np.zeros(2), np.ones(2), True)[0]
    out = f()
    dout = rng.normal(size=out.shape)
    grads = F.batchnorm2d_backward(dout, F.batchnorm2d_forward(x, gamma, beta, np.zeros(2),
                                                               np.ones(2), True)[1])
    for array, grad in zip((x, gamma, beta), grads):
        assert array_rel_error(numerical_gradient_array(lambda _: f(), array, dout), grad) < 1e-8


# -- PyTorch ---------------------------------------------------------------------------------------
def _torch_grads(fn, *arrays, dout_seed=3):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    dout = np.random.default_rng(dout_seed).normal(size=tuple(out.shape))
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), dout, [t.grad.numpy() for t in tensors]


@pytest.mark.torch
@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_pytorch(case, fast):
    x, w, b, stride, padding = _conv_inputs(case)
    expected, dout, torch_grads = _torch_grads(
        lambda tx, tw, tb: torch.nn.functional.conv2d(tx, tw, tb, stride, padding), x, w, b)
    out, cache = F.conv2d_forward(x, w, b, stride, padding, fast=fast)
    np.testing.assert_allclose(out, expected, **TOL)
    for ours, theirs in zip(F.conv2d_backward(dout, cache), torch_grads):
        np.testing.assert_allclose(ours, theirs, **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_matches_pytorch(kind, case, fast):
    ours = {"max": (F.max_pool2d_forward, F.max_pool2d_backward, torch.nn.functional.max_pool2d),
            "avg": (F.avg_pool2d_forward, F.avg_pool2d_backward, torch.nn.functional.avg_pool2d)}
    forward, backward, theirs = ours[kind]
    x_shape, kernel, stride = case
    x = np.random.default_rng(0).normal(size=x_shape)
    expected, dout, (dx_torch,) = _torch_grads(lambda tx: theirs(tx, kernel, stride), x)
    out, cache = forward(x, kernel, stride, fast=fast)
    np.testing.assert_allclose(out, expected, **TOL)
    np.testing.assert_allclose(backward(dout, cache), dx_torch, **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("fast", [False, True])
def test_max_pool_ties_match_pytorch(fast):
    x = np.round(np.random.default_rng(0).normal(size=(2, 2, 6, 6)))  # many equal values
    expected, dout, (dx_torch,) = _torch_grads(
        lambda tx: torch.nn.functional.max_pool2d(tx, 3, 1), x)
    out, cache = F.max_pool2d_forward(x, 3, 1, fast=fast)
    np.testing.assert_allclose(out, expected, **TOL)
    np.testing.assert_allclose(F.max_pool2d_backward(dout, cache), dx_torch, **TOL)


@pytest.mark.torch
def test_batchnorm2d_matches_pytorch_with_running_statistics():
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.normal(2, 3, size=(4, 3, 5, 2)), rng.normal(size=3), rng.normal(size=3)
    mean, var = np.zeros(3), np.ones(3)
    t_mean, t_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    expected, dout, torch_grads = _torch_grads(
        lambda tx, tg, tb: torch.nn.functional.batch_norm(tx, t_mean, t_var, tg, tb, True, 0.2),
        x, gamma, beta)
    out, cache = F.batchnorm2d_forward(x, gamma, beta, mean, var, True, momentum=0.2)
    np.testing.assert_allclose(out, expected, **TOL)
    for ours, theirs in zip(F.batchnorm2d_backward(dout, cache), torch_grads):
        np.testing.assert_allclose(ours, theirs, **TOL)
    np.testing.assert_allclose(mean, t_mean.numpy(), **TOL)
    np.testing.assert_allclose(var, t_var.numpy(), **TOL)
    out_eval, _ = F.batchnorm2d_forward(x, gamma, beta, mean, var, False)
    expected_eval = torch.nn.functional.batch_norm(torch.from_numpy(x), t_mean, t_var,
                                                   torch.from_numpy(gamma),
                                                   torch.from_numpy(beta), False)
    np.testing.assert_allclose(out_eval, expected_eval.numpy(), **TOL)


# -- dtype and errors ------------------------------------------------------------------------------
def test_float32_in_float32_out():
    x = np.ones((2, 3, 6, 6), dtype=np.float32)
    w, b = np.ones((4, 3, 3, 3), dtype=np.float32), np.zeros(4, dtype=np.float32)
    out, cache = F.conv2d_forward(x, w, b, padding=1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.conv2d_backward(np.ones_like(out), cache))
    pooled, cache = F.max_pool2d_forward(x, 2)
    assert pooled.dtype == np.float32
    assert F.max_pool2d_backward(np.ones_like(pooled), cache).dtype == np.float32


def test_errors_name_the_shapes():
    x, w, b = np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"conv2d_forward: x has shape \(2, 2, 5, 5\); "
                                         r"expected \(N, 3, H, W\)"):
        F.conv2d_forward(np.zeros((2, 2, 5, 5)), w, b)
    with pytest.raises(ValueError, match=r"x has shape \(2, 75\); expected \(N, 3, H, W\)\n"
                                         r"help: .*reshape"):
        F.conv2d_forward(np.zeros((2, 75)), w, b)
    with pytest.raises(ValueError, match=r"the kernel 9×9 is larger than the padded input 7×7 "
                                         r"\(x of shape \(2, 3, 5, 5\)\)"):
        F.conv2d_forward(x, np.zeros((4, 3, 9, 9)), b, padding=1)
    with pytest.raises(ValueError, match=r"b has shape \(3,\); expected \(4,\)"):
        F.conv2d_forward(x, w, np.zeros(3))
    with pytest.raises(ValueError, match=r"stride must be an integer >= 1; got 0"):
        F.conv2d_forward(x, w, b, stride=0)
    with pytest.raises(ValueError, match=r"padding must be an int or a pair of ints"):
        F.conv2d_forward(x, w, b, padding=(1, 1, 1))
    with pytest.raises(ValueError, match=r"max_pool2d_forward: the window 6×6 is larger than "
                                         r"the input 5×5"):
        F.max_pool2d_forward(x, 6)
    _, cache = F.conv2d_forward(x, w, b)
    with pytest.raises(ValueError, match=r"conv2d_backward: dout has shape \(2, 4, 5, 5\); "
                                         r"expected \(2, 4, 3, 3\)"):
        F.conv2d_backward(np.zeros((2, 4, 5, 5)), cache)


# -- layers and models -----------------------------------------------------------------------------
import numpynn as nn  # noqa: E402


def test_three_layer_convnet_initial_loss_is_log_10():
    model = nn.models.three_layer_convnet(rng=0, dtype=np.float64)  # CS231n's defaults
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3, 32, 32)), rng.integers(10, size=50)
    loss, _ = F.softmax_cross_entropy(model.forward(x), y)
    assert loss == pytest.approx(np.log(10), abs=1e-3)


def test_three_layer_convnet_gradients_match_finite_differences():
    model = nn.models.three_layer_convnet(input_dim=(3, 8, 8), num_filters=3, filter_size=3,
                                          hidden_dim=7, weight_scale=1e-1, rng=0,
                                          dtype=np.float64)
    from numpynn.gradcheck import check_model
    rng = np.random.default_rng(1)
    errors = check_model(model, nn.SoftmaxCrossEntropy(), rng.normal(size=(2, 3, 8, 8)),
                         rng.integers(10, size=2))
    assert max(errors.values()) < 1e-6, errors


def test_convnet_save_load_and_summary(tmp_path):
    model = nn.convnet((1, 8, 8), (4, 6), (16,), 10, rng=0)
    x = np.random.default_rng(0).normal(size=(3, 64)).astype(np.float32)
    nn.save(model, tmp_path / "cnn.npz")
    loaded = nn.load(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(loaded.forward(x), model.eval().forward(x))
    assert [repr(layer) for layer in loaded] == [repr(layer) for layer in model]
    table = model.summary(print_fn=None)
    assert "(N, 4, 8, 8)" in table and "(N, 6, 2, 2)" in table and "(N, 24)" in table
    pools = nn.Sequential(nn.AvgPool2d((2, 3), stride=1), nn.BatchNorm2d(2), nn.Flatten())
    nn.save(pools, tmp_path / "pools.npz")
    again = nn.load(tmp_path / "pools.npz")
    assert again[0].kernel_size == (2, 3) and again[0].stride == (1, 1)


def test_lenet_shapes_and_small_images_refused():
    model = nn.models.lenet(rng=0)
    assert model.forward(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape == (2, 10)
    assert model.num_params() == 61706  # LeNet-5's conv and Linear layers with 10 classes
    with pytest.raises(ValueError, match=r"lenet: images of 8×8 are too small"):
        nn.models.lenet((1, 8, 8))
    with pytest.raises(ValueError, match=r"conv block 3 gets 1×1 feature maps"):
        nn.convnet((1, 8, 8), (2, 2, 2, 2), (), 10)


def test_conv_layer_errors_and_init():
    layer = nn.Conv2d(3, 16, 5, rng=0, dtype=np.float64)
    assert layer.W.shape == (16, 3, 5, 5)
    assert np.std(layer.W) == pytest.approx(np.sqrt(2 / 75), rel=0.1)  # He normal, fan_in C·HH·WW
    with pytest.raises(ValueError, match=r"Conv2d\(3, 16, 5\)\.forward: x has shape \(2, 4, 8, 8\)"
                                         r"; expected \(N, 3, H, W\)"):
        layer.forward(np.zeros((2, 4, 8, 8)))
    with pytest.raises(ValueError, match=r"the kernel 5×5 is larger than the input 4×4"):
        layer.forward(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 16, 0\): kernel_size must be an integer "
                                         r">= 1; got 0"):
        nn.Conv2d(3, 16, 0)
    with pytest.raises(ValueError, match=r"Unflatten\(\(1, 8, 8\)\)\.forward: x has shape "
                                         r"\(2, 63\); expected \(N, 64\)"):
        nn.Unflatten((1, 8, 8)).forward(np.zeros((2, 63)))


def test_train_conv_on_digits_end_to_end(tmp_path, capsys):
    from numpynn.cli import main
    out = tmp_path / "run"
    code = main(["train", "--conv", "4", "--hidden", "16", "--epochs", "1", "--out", str(out)])
    assert code in (0, None), capsys.readouterr().err
    assert "CNN (conv 4" in capsys.readouterr().out
    model = nn.load(out / "model.npz")
    assert [type(layer).__name__ for layer in model][:4] == ["Normalize", "Unflatten", "Conv2d",
                                                             "ReLU"]
    assert (out / "first_layer_weights.png").is_file()
    assert "conv = [4]" in (out / "config.toml").read_text()


def test_run_config_conv_field():
    from numpynn.cli.config import RunConfig
    assert RunConfig().conv == ()
    assert RunConfig(conv="32,64").conv == (32, 64)
    with pytest.raises(ValueError, match=r"conv blocks use ReLU.*\nhelp: drop --activation"):
        RunConfig(conv=(4,), activation="tanh")
    assert RunConfig(conv=(4,), dropout=0.3, batchnorm=True).dropout == 0.3


def test_convnet_dropout_and_batchnorm_are_layers_of_the_model():
    from numpynn.cli.config import RunConfig
    from numpynn.cli.run import build_model
    cfg = RunConfig(dataset="digits", conv=(4,), hidden=(16,), dropout=0.25, batchnorm=True)
    names = [type(layer).__name__ for layer in build_model(cfg, 64, 10)]
    assert names == ["Unflatten", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear",
                     "BatchNorm", "ReLU", "Dropout", "Linear"]
    plain = nn.models.convnet((1, 8, 8), (4,), (16,), 10, rng=0)   # the defaults add neither
    assert "Dropout" not in [type(layer).__name__ for layer in plain]
    with pytest.raises(ValueError, match=r"Invalid conv: 0"):
        RunConfig(conv=(0,))
