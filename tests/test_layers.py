"""Every layer: finite differences (float64), PyTorch parity (float64, 1e-10), behaviour."""
import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.gradcheck import check_layer

TOL = dict(rtol=1e-10, atol=1e-10)


def away_from_kinks(x, margin=1e-2):
    """Move entries off 0, where ReLU-like derivatives jump (finite differences straddle it)."""
    return np.where(np.abs(x) < margin, x + 2 * margin, x)


# layer factory, input shape: every layer in the registry appears here
LAYER_CASES = {
    "Linear": (lambda: nn.Linear(5, 3, rng=0), (4, 5)),
    "Linear3D": (lambda: nn.Linear(6, 2, rng=0), (3, 2, 3)),
    "ReLU": (nn.ReLU, (4, 5)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), (4, 5)),
    "Sigmoid": (nn.Sigmoid, (4, 5)),
    "Tanh": (nn.Tanh, (4, 5)),
    "ScaledTanh": (nn.ScaledTanh, (4, 5)),
    "Swish": (nn.Swish, (4, 5)),
    "GELU": (nn.GELU, (4, 5)),
    "ELU": (lambda: nn.ELU(0.7), (4, 5)),
    "Dropout": (lambda: nn.Dropout(0.3, rng=0), (6, 5)),
    "BatchNorm": (lambda: nn.BatchNorm(5), (6, 5)),
    "LayerNorm": (lambda: nn.LayerNorm(5), (6, 5)),
    "Flatten": (nn.Flatten, (3, 2, 2)),
    "Normalize": (lambda: nn.Normalize(5, mean=np.arange(5.0), std=np.linspace(0.5, 2, 5)),
                  (4, 5)),
    "Unflatten": (lambda: nn.Unflatten((2, 3, 2)), (3, 12)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1, rng=0), (2, 2, 5, 5)),
    "Conv2dStrided": (lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(0, 1), rng=0),
                      (2, 2, 6, 5)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 3, 4, 4)),
    "MaxPool2dOverlapping": (lambda: nn.MaxPool2d(3, stride=2), (2, 2, 7, 7)),
    "AvgPool2d": (lambda: nn.AvgPool2d((2, 3), stride=1), (2, 2, 4, 5)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 2, 3)),
}


def test_every_registered_layer_has_a_case():
    assert set(nn.LAYERS) <= set(LAYER_CASES)


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer_gradients_match_finite_differences(name):
    make, shape = LAYER_CASES[name]
    x = away_from_kinks(np.random.default_rng(1).normal(size=shape))
    errors = check_layer(make(), x)
    assert set(errors) >= {"x"}
    assert max(errors.values()) < 1e-7, errors


def _torch_module(layer):
    """The torch function computing the same thing, and our grad key -> torch parameter
    (with the transform that brings its .grad to our layout)."""
    t = torch.nn
    simple = {nn.ReLU: t.ReLU, nn.Sigmoid: t.Sigmoid, nn.Tanh: t.Tanh, nn.Swish: t.SiLU,
              nn.GELU: t.GELU, nn.Flatten: t.Flatten}
    conv = _torch_conv_module(layer)
    if conv is not None:
        return conv
    if type(layer) in simple:
        return simple[type(layer)](), {}
    if isinstance(layer, nn.LeakyReLU):
        return t.LeakyReLU(layer.negative_slope), {}
    if isinstance(layer, nn.ELU):
        return t.ELU(layer.alpha), {}
    if isinstance(layer, nn.ScaledTanh):
        return (lambda x: 1.7159 * torch.tanh(2 * x / 3)), {}
    if isinstance(layer, nn.Normalize):
        mean, std = (torch.from_numpy(layer.buffers[k]) for k in ("mean", "std"))
        return (lambda x: (x - mean) / std), {}
    if isinstance(layer, nn.Linear):
        module = t.Linear(layer.n_in, layer.n_out).double()
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(layer.W.T.copy()))
            module.bias.copy_(torch.from_numpy(layer.b.copy()))
        return ((lambda x: module(x.reshape(x.shape[0], -1))),
                {"W": (module.weight, np.transpose), "b": (module.bias, None)})
    norms = {nn.BatchNorm: lambda: t.BatchNorm1d(layer.num_features, eps=layer.eps,
                                                 momentum=layer.momentum),
             nn.BatchNorm2d: lambda: t.BatchNorm2d(layer.num_features, eps=layer.eps,
                                                   momentum=layer.momentum),
             nn.LayerNorm: lambda: t.LayerNorm(layer.num_features, eps=layer.eps)}
    module = norms[type(layer)]().double()
    return module, {"gamma": (module.weight, None), "beta": (module.bias, None)}


def _torch_conv_module(layer):
    """The torch counterpart of an image layer (None for the others)."""
    t = torch.nn
    if isinstance(layer, nn.Unflatten):
        return t.Unflatten(1, layer.shape), {}
    if isinstance(layer, nn.MaxPool2d):
        return t.MaxPool2d(layer.kernel_size, layer.stride), {}
    if isinstance(layer, nn.AvgPool2d):
        return t.AvgPool2d(layer.kernel_size, layer.stride), {}
    if isinstance(layer, nn.Conv2d):
        module = t.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                          layer.stride, layer.padding).double()
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(layer.W.copy()))
            module.bias.copy_(torch.from_numpy(layer.b.copy()))
        return module, {"W": (module.weight, None), "b": (module.bias, None)}
    return None


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(set(LAYER_CASES) - {"Dropout"}))
def test_layer_matches_pytorch(name):
    make, shape = LAYER_CASES[name]
    layer = nn.Sequential(make()).astype(np.float64)[0]
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    module, torch_params = _torch_module(layer)
    tx = torch.tensor(x, requires_grad=True)
    tout = module(tx)
    dout = rng.normal(size=tuple(tout.shape))
    tout.backward(torch.from_numpy(dout))

    np.testing.assert_allclose(layer.forward(x), tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(layer.backward(dout), tx.grad.numpy(), **TOL)
    assert set(torch_params) == set(layer.grads)
    for key, (param, transform) in torch_params.items():
        expected = param.grad.numpy()
        np.testing.assert_allclose(layer.grads[key], transform(expected) if transform else expected,
                                   **TOL)


@pytest.mark.torch
def test_batchnorm_running_statistics_and_eval_match_pytorch():
    rng = np.random.default_rng(3)
    layer = nn.BatchNorm(4, momentum=0.2, dtype=np.float64)
    module = torch.nn.BatchNorm1d(4, momentum=0.2).double()
    for _ in range(5):
        x = rng.normal(2.0, 3.0, size=(8, 4))
        layer.forward(x)
        module(torch.from_numpy(x))
    np.testing.assert_allclose(layer.buffers["running_mean"], module.running_mean.numpy(), **TOL)
    np.testing.assert_allclose(layer.buffers["running_var"], module.running_var.numpy(), **TOL)
    layer.eval(), module.eval()
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(layer.forward(x), module(torch.from_numpy(x)).detach().numpy(), **TOL)


def test_dropout_modes():
    x = np.ones((1000, 10), dtype=np.float32)
    layer = nn.Dropout(0.25, rng=0)
    out = layer.forward(x)
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)  # same mask
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    assert not layer.training


def test_linear_defaults_attributes_and_init():
    layer = nn.Linear(64, 32, rng=0)
    assert layer.W.shape == (64, 32) and layer.b.shape == (32,)
    assert layer.W.dtype == np.float32 and layer.b.dtype == np.float32
    assert not layer.b.any()
    bound = np.sqrt(6 / (64 + 32))
    assert np.abs(layer.W).max() <= bound
    assert layer.params["W"] is layer.W and layer.grads["W"] is layer.dW
    np.testing.assert_array_equal(nn.Linear(64, 32, rng=0).W, layer.W)
    assert np.std(nn.Linear(500, 400, init="normal", std=0.05, rng=0).W) == pytest.approx(0.05, rel=0.02)


def test_gradients_are_written_in_place():
    layer = nn.Linear(3, 2, rng=0)
    dW = layer.grads["W"]
    x = np.ones((4, 3), dtype=np.float32)
    layer.forward(x)
    layer.backward(np.ones((4, 2), dtype=np.float32))
    assert layer.grads["W"] is dW
    np.testing.assert_array_equal(dW, np.full((3, 2), 4.0))


def test_assigning_weights_keeps_the_array():
    layer = nn.Linear(2, 2, rng=0)
    W = layer.W
    layer.W = [[1, 2], [3, 4]]
    assert layer.W is W
    np.testing.assert_array_equal(W, [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"W must have shape \(2, 2\); got \(3,\)"):
        layer.W = [1, 2, 3]


def test_float32_layers_stay_float32():
    rng = np.random.default_rng(0)
    for name, (make, shape) in LAYER_CASES.items():
        layer = make()
        x = rng.normal(size=shape).astype(np.float32)
        out = layer.forward(x)
        dx = layer.backward(np.ones_like(out))
        assert out.dtype == np.float32 and dx.dtype == np.float32, name
        assert all(g.dtype == np.float32 for g in layer.grads.values()), name


def test_bad_input_errors():
    with pytest.raises(ValueError, match=r"Linear\(4, 3\)\.forward: x has shape \(32, 5\); "
                                         r"expected \(N, 4\)"):
        nn.Linear(4, 3).forward(np.zeros((32, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm\(4\)\.forward: x has shape \(2, 3\)"):
        nn.BatchNorm(4).forward(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        nn.ReLU().backward(np.ones(3))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        nn.Sequential(nn.Linear(2, 2)).astype(np.float64).backward(np.ones((1, 2)))
    eval_dropout = nn.Dropout(0.5).eval()  # its cache is None, yet forward did run
    eval_dropout.forward(np.ones((2, 2)))
    np.testing.assert_array_equal(eval_dropout.backward(np.ones((2, 2))), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Linear\(0, 3\): n_in must be an integer >= 1; got 0"):
        nn.Linear(0, 3)
    with pytest.raises(TypeError, match=r"n_out must be an integer >= 1; got 3.0\nhelp: pass an "
                                        r"int, n_out=3"):
        nn.Linear(2, 3.0)
    with pytest.raises(TypeError, match="dtype must be one of float16, float32, float64; got int64"):
        nn.Linear(2, 3, dtype=np.int64)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\); got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"Linear\(2, 3\): unknown init 'glorot'"):
        nn.Linear(2, 3, init="glorot")
    for layer, arg in ((nn.LeakyReLU, "negative_slope"), (nn.ELU, "alpha")):
        with pytest.raises(ValueError, match=rf"{layer.__name__}: {arg} must be a real number, "
                                             "not NaN"):
            layer(float("nan"))
    with pytest.raises(ValueError, match=r"BatchNorm\(4\): momentum must be in \[0, 1\]; "
                                         r"got 1.5"):
        nn.BatchNorm(4, momentum=1.5)
    with pytest.raises(TypeError, match=r"layer 1 must be a numpynn Layer; got str\nhelp: pass "
                                        r"layer objects"):
        nn.Sequential(nn.Linear(2, 2), "relu")
    with pytest.raises(TypeError, match=r"got type\nhelp: call it: ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


def test_normalize_applies_the_training_statistics_as_standardize_does():
    """Bit for bit what numpynn.data.standardize gives the training data, per feature or
    global, so a model carrying it predicts on raw data exactly as it was trained."""
    from numpynn import data
    rng = np.random.default_rng(4)
    X_train, X_test = (rng.uniform(size=(n, 6)).astype(np.float32) for n in (50, 20))
    X_train[:, 2] = 0.5                                   # a constant feature: σ replaced by 1
    for per_feature in (True, False):
        _, expected = data.standardize(X_train, X_test, per_feature=per_feature)
        mean, std = data.standardization(X_train, per_feature=per_feature)
        layer = nn.Normalize(6, mean=mean, std=std)
        np.testing.assert_array_equal(layer.forward(X_test), expected)
        assert layer.forward(X_test).dtype == np.float32


def test_normalize_rejects_bad_statistics():
    with pytest.raises(ValueError, match=r"Normalize\(3\): std must be > 0"):
        nn.Normalize(3, std=[1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"mean has shape \(2,\); expected a number or \(3,\)"):
        nn.Normalize(3, mean=[1.0, 2.0])
    with pytest.raises(ValueError, match="std contains NaN"):
        nn.Normalize(3, std=float("nan"))


def test_a_registered_custom_layer_round_trips_and_an_unregistered_one_is_refused(tmp_path):
    class Scale(nn.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = float(factor)

        def forward(self, x):
            return x * self.factor

        def backward(self, dout):
            return dout * self.factor

        def config(self):
            return {"factor": self.factor}

    model = nn.Sequential(nn.Linear(3, 2, rng=0), Scale(3.0))
    with pytest.raises(TypeError, match=r"help: register your class first: "
                                        r"numpynn.register_layer\(Scale\)"):
        nn.save(model, tmp_path / "m.npz")
    nn.register_layer(Scale)
    try:
        nn.save(model, tmp_path / "m.npz")
        loaded = nn.load(tmp_path / "m.npz")
        assert isinstance(loaded[1], Scale) and loaded[1].factor == 3.0
        x = np.ones((2, 3), np.float32)
        np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
        with pytest.raises(ValueError, match="is taken by"):
            nn.register_layer(type("Scale", (nn.Layer,), {}))
        with pytest.raises(TypeError, match="expected a subclass of numpynn.Layer"):
            nn.register_layer(int)
    finally:
        del nn.LAYERS["Scale"]
    with pytest.raises(ValueError, match="unknown layer type 'Scale'"):
        nn.load(tmp_path / "m.npz")        # unregistered again: refused, nothing imported


def test_every_registered_layer_has_the_one_protocol():
    """forward(x) and backward(dout), nothing else: Sequential is a loop and a reversed loop."""
    import inspect
    for name, cls in nn.LAYERS.items():
        assert list(inspect.signature(cls.forward).parameters) == ["self", "x"], name
        assert list(inspect.signature(cls.backward).parameters) == ["self", "dout"], name
