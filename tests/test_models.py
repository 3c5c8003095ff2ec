"""numpynn.models: the MLP builder's layer stacks, checked against PyTorch for the numbers."""
import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn.layers import BatchNorm, Dropout, Linear, ReLU, Sigmoid
from numpynn.losses import LOSSES
from numpynn.models import ACTIVATION_CHOICES, HEADS, auto_loss, mlp


def _types(model):
    return [type(layer).__name__ for layer in model]


@pytest.mark.parametrize("hidden, activation, output, expected", [
    ((), "relu", "sigmoid", ["Linear", "Sigmoid"]),                      # logistic regression
    ((32,), "linear", "sigmoid", ["Linear", "Linear", "Sigmoid"]),       # course variant
    ((32, 32, 32), "none", "sigmoid", ["Linear"] * 4 + ["Sigmoid"]),     # four linear layers
    ((256, 128, 64), "relu", None, ["Linear", "ReLU"] * 3 + ["Linear"]),
    ((64,), "scaled_tanh", None, ["Linear", "ScaledTanh", "Linear"]),
])
def test_mlp_layer_stacks(hidden, activation, output, expected):
    model = mlp(64, hidden, 10, activation=activation, output=output, rng=0)
    assert _types(model) == expected
    widths = [layer.W.shape for layer in model if isinstance(layer, Linear)]
    dims = (64, *hidden, 10)
    assert widths == list(zip(dims[:-1], dims[1:]))


def test_mlp_batchnorm_and_dropout_order():
    model = mlp(8, (16, 4), 3, activation="relu", batchnorm=True, dropout=0.25, rng=0)
    assert _types(model) == ["Linear", "BatchNorm", "ReLU", "Dropout"] * 2 + ["Linear"]
    assert [layer.p for layer in model if isinstance(layer, Dropout)] == [0.25, 0.25]
    assert [layer.num_features for layer in model if isinstance(layer, BatchNorm)] == [16, 4]


def test_mlp_same_seed_same_weights_and_dtype():
    a = mlp(10, (7,), 3, init="he_normal", rng=5, dtype=np.float64)
    b = mlp(10, (7,), 3, init="he_normal", rng=5, dtype=np.float64)
    c = mlp(10, (7,), 3, init="he_normal", rng=6, dtype=np.float64)
    for name, value in a.params().items():
        np.testing.assert_array_equal(value, b.params()[name])
        assert value.dtype == np.float64
    assert not np.array_equal(a[0].W, c[0].W)
    # he_normal: std sqrt(2/fan_in); a loose check that the init name reached the layers
    big = mlp(1000, (), 500, init="he_normal", rng=0)
    np.testing.assert_allclose(big[0].W.std(), np.sqrt(2 / 1000), rtol=0.02)


@pytest.mark.torch
def test_mlp_forward_backward_match_pytorch():
    """Forward and all gradients of Linear-BN-ReLU-Linear-Sigmoid against torch (float64)."""
    rng = np.random.default_rng(0)
    model = mlp(6, (5,), 1, activation="relu", batchnorm=True, output="sigmoid", rng=1,
                dtype=np.float64)
    x = rng.normal(size=(8, 6))
    dout = rng.normal(size=(8, 1))
    out = model.forward(x)
    dx = model.backward(dout)

    lin1, bn, _, lin2, _ = model.layers
    t_lin1, t_lin2 = torch.nn.Linear(6, 5).double(), torch.nn.Linear(5, 1).double()
    t_bn = torch.nn.BatchNorm1d(5).double()
    with torch.no_grad():
        for t_layer, layer in ((t_lin1, lin1), (t_lin2, lin2)):
            t_layer.weight.copy_(torch.from_numpy(layer.W.T))  # ours (D, M), torch (M, D)
            t_layer.bias.copy_(torch.from_numpy(layer.b))
    net = torch.nn.Sequential(t_lin1, t_bn, torch.nn.ReLU(), t_lin2, torch.nn.Sigmoid())
    tx = torch.from_numpy(x).requires_grad_(True)
    t_out = net(tx)
    t_out.backward(torch.from_numpy(dout))
    tol = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, t_out.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(lin1.dW, t_lin1.weight.grad.numpy().T, **tol)
    np.testing.assert_allclose(bn.dgamma, t_bn.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(lin2.db, t_lin2.bias.grad.numpy(), **tol)


def test_heads_are_losses_and_auto_loss():
    assert set(HEADS) <= set(LOSSES)
    assert auto_loss(2) == "bce" and HEADS["bce"].binary and HEADS["bce"].activation == "sigmoid"
    assert auto_loss(10) == "cross_entropy" and not HEADS["cross_entropy"].binary
    assert {"linear", "none", "relu", "sigmoid", "scaled_tanh"} <= set(ACTIVATION_CHOICES)
    assert ACTIVATION_CHOICES["relu"] is ReLU and ACTIVATION_CHOICES["sigmoid"] is Sigmoid


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(hidden=(4, 0)), ValueError, r"^mlp: hidden\[1\] must be an integer >= 1; got 0$"),
    (dict(hidden=(4.0,)), TypeError, r"^mlp: hidden\[0\] must be an integer >= 1; got 4\.0\n"),
    (dict(hidden="64"), TypeError, "sequence of layer widths"),
    (dict(activation="rleu"), ValueError, "^mlp: unknown activation 'rleu'; choose one of: relu"),
    (dict(output="softmax"), ValueError, "^mlp: unknown output activation 'softmax'"),
    (dict(dropout=1.0), ValueError, r"^mlp: dropout must be in \[0, 1\); got 1\.0$"),
    (dict(dropout=float("nan")), ValueError, r"^mlp: dropout must be in \[0, 1\); got nan$"),
])
def test_mlp_rejects_bad_arguments(kwargs, error, match):
    args = dict(hidden=(4,), activation="relu", output=None, dropout=0.0) | kwargs
    with pytest.raises(error, match=match):
        mlp(3, args.pop("hidden"), 2, rng=0, **args)


def test_a_model_that_cannot_fit_in_memory_is_refused_before_allocating():
    # --hidden 1e9 on digits: 64·10⁹ + 10⁹ + 10⁹·10 + 10 parameters, held four times
    with pytest.raises(ValueError, match=r"^mlp: the model \(75,000,000,010 float32 parameters, "
                                         r"×4 for gradients and Adam's two moments\) needs "
                                         r"1\.09 TiB; about [\d.]+ [KMGT]iB of memory is "
                                         r"available\nhelp: use fewer or narrower hidden layers"):
        mlp(64, (10**9,), 10)
    with pytest.raises(ValueError, match=r"^Linear\(1000000, 1000000\): the layer needs 14\.6 TiB"):
        Linear(10**6, 10**6)
