import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.gradcheck import check_model
from numpynn._speed.segments import packed_vector


def mlp(dtype=np.float32, seed=0):
    """Linear-ReLU-Linear-ReLU-Linear, the issue's reference MLP."""
    return nn.Sequential(nn.Linear(6, 5, rng=seed, dtype=dtype), nn.ReLU(),
                         nn.Linear(5, 4, rng=seed + 1, dtype=dtype), nn.ReLU(),
                         nn.Linear(4, 3, rng=seed + 2, dtype=dtype))


def test_mlp_with_l2_passes_check_model():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 6)), rng.integers(0, 3, size=7)
    errors = check_model(mlp(), nn.SoftmaxCrossEntropy(), X, y, reg=0.1)
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.torch
def test_mlp_matches_pytorch_forward_and_backward():
    rng = np.random.default_rng(1)
    model = mlp(np.float64)
    X, y = rng.normal(size=(8, 6)), rng.integers(0, 3, size=8)
    loss, dscores = nn.SoftmaxCrossEntropy()(model.forward(X), y)
    model.backward(dscores)

    weights = [torch.tensor(model[i].W, requires_grad=True) for i in (0, 2, 4)]
    biases = [torch.tensor(model[i].b, requires_grad=True) for i in (0, 2, 4)]
    h = torch.from_numpy(X)
    for k, (W, b) in enumerate(zip(weights, biases)):
        h = h @ W + b
        h = torch.relu(h) if k < 2 else h
    tloss = torch.nn.functional.cross_entropy(h, torch.from_numpy(y))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), abs=1e-12)
    for i, W, b in zip((0, 2, 4), weights, biases):
        np.testing.assert_allclose(model.grads()[f"{i}.W"], W.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(model.grads()[f"{i}.b"], b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_container_protocol_and_names():
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.BatchNorm(3), nn.ReLU(), nn.Dropout(0.5))
    assert len(model) == 4 and isinstance(model[0], nn.Linear)
    assert isinstance(model[1:], nn.Sequential) and len(model[1:]) == 3
    assert list(model.params()) == ["0.W", "0.b", "1.gamma", "1.beta"]
    assert list(model.grads()) == list(model.params())
    assert list(model.buffers()) == ["1.running_mean", "1.running_var"]
    assert model.params()["0.W"] is model[0].W
    assert model.num_params() == 4 * 3 + 3 + 3 + 3
    assert nn.Sequential([nn.ReLU(), nn.Tanh()]).layers[1].__class__ is nn.Tanh
    model.eval()
    assert not model.training and not model[3].training
    model.train()
    assert model.training


def test_summary_table():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    text = model.summary()
    assert "Linear(784, 256)" in text and "(N, 256)" in text and "200,960" in text
    assert "(N, 10)" in text and "Total params: 203,530 (float32)" in text
    assert "(N, 64)" in nn.Sequential(nn.Flatten(), nn.ReLU()).summary(input_shape=(8, 8))


def test_astype_is_an_independent_copy():
    model = mlp()
    copy64 = model.astype(np.float64)
    assert copy64.dtype == np.float64 and model.dtype == np.float32
    copy64[0].W[...] = 0
    assert model[0].W.any()


def test_forward_casts_and_validates_input():
    model = mlp()
    out = model.forward(np.ones((2, 6), dtype=np.int64))
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="Sequential.forward: x contains 1 NaN or inf"):
        model.forward(np.array([[0, 0, 0, 0, 0, np.nan]]))
    with pytest.raises(ValueError, match=r"x has shape \(6,\); expected a batch"):
        model.forward(np.ones(6))
    with pytest.raises(TypeError, match="layer 1 must be a numpynn Layer; got str"):
        nn.Sequential(nn.ReLU(), "relu")


def test_dropout_rng_states_round_trip():
    model = nn.Sequential(nn.Dropout(0.5, rng=3))
    x = np.ones((4, 8), dtype=np.float32)
    states = model.rng_states()
    first = model.forward(x)
    model.set_rng_states(states)
    np.testing.assert_array_equal(model.forward(x), first)


# -- packed parameters ---------------------------------------------------------------------
def test_parameters_and_gradients_are_packed_in_order_values_unchanged():
    layers = [nn.Linear(6, 5, rng=0), nn.ReLU(), nn.Linear(5, 4, rng=1)]
    before = [a.copy() for layer in layers for a in layer.params.values()]
    model = nn.Sequential(layers)
    for table in (model.params(), model.grads()):
        flat = packed_vector(list(table.values()))
        assert flat is not None and flat.ndim == 1
        np.testing.assert_array_equal(flat, np.concatenate([a.ravel() for a in table.values()]))
    for value, old in zip(model.params().values(), before):
        np.testing.assert_array_equal(value, old)
    assert model.params()["0.W"] is layers[0].W         # the layer holds the view itself
    layers[0].W = np.ones((6, 5))                         # assignment writes into the buffer
    assert packed_vector(list(model.params().values()))[:30].sum() == 30


def test_packed_model_trains_bit_identically_to_unpacked_arrays():
    """The optimizer's one-vector update of a packed model equals per-array updates."""
    model = mlp()
    rng = np.random.default_rng(0)
    for name in ("sgd", "adam"):
        packed_params = model.astype(np.float32).params()
        loose = {k: v.copy() for k, v in packed_params.items()}
        opts = [nn.optim.OPTIMIZERS[name](p, lr=0.1) for p in (packed_params, loose)]
        for _ in range(3):
            grads = {k: rng.normal(size=v.shape).astype(np.float32) for k, v in loose.items()}
            for opt in opts:
                opt.step(grads)                           # loose grads: gathered into one vector
        for key in loose:
            np.testing.assert_array_equal(packed_params[key], loose[key])
            for buf in opts[0].state[key]:
                np.testing.assert_array_equal(opts[0].state[key][buf], opts[1].state[key][buf])


def test_slicing_a_model_does_not_move_its_parameters():
    model = mlp()
    opt = nn.optim.SGD(model.params(), lr=1.0)
    head = model[2:]                                      # shares layers 2-4
    assert head[0].W is model[2].W
    before = model[4].b.copy()
    model.forward(np.ones((2, 6), dtype=np.float32))
    model.backward(np.ones((2, 3), dtype=np.float32))
    opt.step(model.grads())
    np.testing.assert_array_equal(head[2].b, before - 2.0)   # db = column sums of ones


def test_astype_packs_the_converted_copy():
    copy64 = mlp().astype(np.float64)
    flat = packed_vector(list(copy64.params().values()))
    assert flat is not None and flat.dtype == np.float64


# -- an optimizer built before the model (the layer docs' promise) ----------------------------
def test_an_optimizer_on_a_layer_keeps_training_that_layer_alone():
    lin = nn.Linear(4, 3, rng=0)
    opt = nn.SGD(lin.params, lr=0.1)
    before = lin.W.copy()
    lin.forward(np.ones((2, 4), np.float32))
    lin.backward(np.ones((2, 3), np.float32))
    opt.step(lin.grads)
    np.testing.assert_allclose(lin.W, before - 0.1 * 2.0)   # dW = column sums of x·1


def test_an_optimizer_built_before_the_sequential_refuses_to_step():
    """The reproducer: the Sequential moved lin's arrays into its packed buffer, so stepping
    the old optimizer would train arrays the model no longer reads. It raises instead."""
    lin = nn.Linear(4, 3, rng=0)
    opt = nn.SGD(lin.params, lr=0.1)
    model = nn.Sequential(lin, nn.ReLU(), nn.Linear(3, 2, rng=1))
    model.forward(np.ones((5, 4), np.float32))
    model.backward(np.ones((5, 2), np.float32))
    with pytest.raises(ValueError, match=r"params\['W'\] is no longer the model's array"
                                         r"(.|\n)*help: build the optimizer from the model, e.g. "
                                         r"SGD\(model.params\(\), ...\)"):
        opt.step(lin.grads)
    with pytest.raises(ValueError, match=r"read-only(.|\n)*pass model.params\(\)"):
        nn.SGD({"W": opt.params["W"]})                  # the array left behind
    fixed = nn.SGD(model.params(), lr=0.1)             # what the help line says: it trains
    before = model[0].W.copy()
    fixed.step(model.grads())
    assert not np.array_equal(model[0].W, before)
    assert lin.W is model[0].W


def test_public_passes_always_return_new_arrays():
    model = mlp()
    x1, x2 = np.ones((4, 6), np.float32), np.full((4, 6), 2.0, np.float32)
    first = model.forward(x1)
    kept = first.copy()
    model.forward(x2)
    np.testing.assert_array_equal(first, kept)
    dx = model.backward(np.ones((4, 3), np.float32))
    assert dx.shape == (4, 6)


def test_forward_refuses_input_the_cast_would_turn_into_inf():
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    x = np.array([[1.0, 1e39]])  # float64: finite, but beyond float32
    with pytest.raises(ValueError, match=r"^Sequential\.forward: x holds values up to 1e\+39 in "
                                         r"magnitude, beyond float32's finite range"):
        model.forward(x)
    assert model.astype(np.float64).forward(x).shape == (1, 1)
