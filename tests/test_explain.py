"""Worked solutions: hand-worked values, Mazur's published digits, PyTorch and finite differences."""
import json
import re

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.course import networks
from numpynn.cli import main
from numpynn.gradcheck import numerical_gradient


def _example(name):
    return networks.load_network(networks.example_path(name))


# ------------------------------------------------------------------------ hand-worked values
def test_relu_1_4_1_by_hand():
    # x = 2, W1 = [1, -1, 0.5, 2], b1 = [-1, 1, 0.5, -5]
    # z1 = 2·W1 + b1 = [2 - 1, -2 + 1, 1 + 0.5, 4 - 5] = [1, -1, 1.5, -1]; a1 = relu = [1, 0, 1.5, 0]
    # z2 = a1·W2 + b2 = 1·2 + 0·1 + 1.5·(-1) + 0·0.5 + 0.25 = 0.75 = y
    # L = mean((y - t)²) = (0.75 - 1)² = 0.0625;  ∂L/∂y = 2(y - t) = -0.5 = δ2 (identity output)
    # ∂L/∂W2 = a1·δ2 = [-0.5, 0, -0.75, 0];  ∂L/∂b2 = -0.5
    # ∂L/∂a1 = δ2·W2ᵀ = -0.5·[2, 1, -1, 0.5] = [-1, -0.5, 0.5, -0.25]
    # δ1 = ∂L/∂a1 ⊙ [z1 > 0] = [-1, 0, 0.5, 0];  ∂L/∂W1 = x·δ1 = [-2, 0, 1, 0];  ∂L/∂b1 = δ1
    # lr = 0.1: W1⁺ = [1.2, -1, 0.4, 2], b1⁺ = [-0.9, 1, 0.45, -5], W2⁺ = [2.05, 1, -0.925, 0.5],
    #           b2⁺ = 0.25 + 0.05 = 0.3
    e = _example("relu-1-4-1").explain()
    tol = dict(rtol=0, atol=1e-15)
    np.testing.assert_allclose(e["z1"], [1, -1, 1.5, -1], **tol)
    np.testing.assert_allclose(e["a1"], [1, 0, 1.5, 0], **tol)
    np.testing.assert_allclose(e["z2"], [0.75], **tol)
    np.testing.assert_allclose(e["L"], 0.0625, **tol)
    np.testing.assert_allclose(e["δ2"], [-0.5], **tol)
    np.testing.assert_allclose(e["∂L/∂a1"], [-1, -0.5, 0.5, -0.25], **tol)
    np.testing.assert_allclose(e["δ1"], [-1, 0, 0.5, 0], **tol)
    np.testing.assert_allclose(e["∂L/∂W1"], [[-2, 0, 1, 0]], **tol)
    np.testing.assert_allclose(e["∂L/∂b1"], [-1, 0, 0.5, 0], **tol)
    np.testing.assert_allclose(e["∂L/∂W2"], [[-0.5], [0], [-0.75], [0]], **tol)
    np.testing.assert_allclose(e["∂L/∂b2"], [-0.5], **tol)
    np.testing.assert_allclose(e["W1⁺"], [[1.2, -1, 0.4, 2]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(e["b1⁺"], [-0.9, 1, 0.45, -5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(e["W2⁺"], [[2.05], [1], [-0.925], [0.5]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(e["b2⁺"], [0.3], rtol=0, atol=1e-15)


def test_half_sse_is_half_of_mse_gradient_for_one_output():
    # one output: mse = (y - t)² = 2·(½(y - t)²), so every gradient doubles
    spec = _example("relu-1-4-1")
    half, mse = spec.explain(loss="half_sse"), spec.explain(loss="mse")
    assert half.loss == pytest.approx(0.03125, abs=1e-15)  # ½·0.25²
    for key in half.grads:
        np.testing.assert_allclose(mse.grads[key], 2 * half.grads[key], rtol=0, atol=1e-15)


# Matt Mazur, "A Step by Step Backpropagation Example" (2015), published to 8-9 digits.
MAZUR_TOL = dict(rtol=0, atol=1e-8)


def test_mazur_2_2_2_matches_published_values():
    e = _example("mazur-2-2-2").explain()
    np.testing.assert_allclose(e["z1"], [0.3775, 0.3925], **MAZUR_TOL)
    np.testing.assert_allclose(e["a1"], [0.593269992, 0.596884378], **MAZUR_TOL)
    np.testing.assert_allclose(e["z2"][0], 1.105905967, **MAZUR_TOL)
    np.testing.assert_allclose(e["a2"], [0.75136507, 0.772928465], **MAZUR_TOL)
    np.testing.assert_allclose(e["E"], 0.298371109, **MAZUR_TOL)
    np.testing.assert_allclose(e["∂E/∂W2"][0, 0], 0.082167041, **MAZUR_TOL)   # ∂E/∂w5
    np.testing.assert_allclose(e["∂E/∂a1"][0], 0.036350306, **MAZUR_TOL)      # ∂E_total/∂out_h1
    np.testing.assert_allclose(e["∂E/∂W1"][0, 0], 0.000438568, **MAZUR_TOL)   # ∂E/∂w1
    # W2 = [[w5, w7], [w6, w8]], W1 = [[w1, w3], [w2, w4]]
    np.testing.assert_allclose(e["W2⁺"], [[0.35891648, 0.511301270], [0.408666186, 0.561370121]],
                               **MAZUR_TOL)
    np.testing.assert_allclose(e["W1⁺"], [[0.149780716, 0.24975114], [0.19956143, 0.29950229]],
                               **MAZUR_TOL)


def test_mazur_2_2_1_by_hand():
    # Mazur's network without o2. o1 does not depend on o2, so his published forward values,
    # E_o1 and the output-layer numbers hold unchanged: E = E_o1 = 0.274811083,
    # ∂E/∂w5 = 0.082167041 → w5⁺ = 0.4 - 0.5·0.082167041 = 0.35891648, w6⁺ = 0.408666186.
    # Hidden layer (only o1's term): ∂E/∂out_h1 = δ_o1·w5 = 0.138498562·0.40 = 0.055399425
    # (Mazur's ∂E_o1/∂out_h1), out_h1(1 - out_h1) = 0.241300709, so
    # ∂E/∂w1 = 0.055399425·0.241300709·0.05 = 0.000668396 → w1⁺ = 0.15 - 0.5·0.000668396 = 0.149665802
    # ∂E/∂w2 = 0.055399425·0.241300709·0.10 = 0.001336792 → w2⁺ = 0.2 - 0.000668396 = 0.199331604
    e = _example("mazur-2-2-1").explain()
    np.testing.assert_allclose(e["a2"], [0.75136507], **MAZUR_TOL)
    np.testing.assert_allclose(e["E"], 0.274811083, **MAZUR_TOL)
    np.testing.assert_allclose(e["δ2"], [0.138498562], **MAZUR_TOL)
    np.testing.assert_allclose(e["∂E/∂a1"][0], 0.055399425, **MAZUR_TOL)
    np.testing.assert_allclose(e["∂E/∂W2"].ravel(), [0.082167041, 0.082667628], **MAZUR_TOL)
    np.testing.assert_allclose(e["W2⁺"].ravel(), [0.35891648, 0.408666186], **MAZUR_TOL)
    np.testing.assert_allclose(e["∂E/∂W1"][:, 0], [0.000668396, 0.001336792], **MAZUR_TOL)
    np.testing.assert_allclose(e["W1⁺"][:, 0], [0.149665802, 0.199331604], **MAZUR_TOL)


# ------------------------------------------------------------------------ oracles
ACTS = [("tanh", lambda t: torch.tanh(t)), ("sigmoid", lambda t: torch.sigmoid(t)),
        ("relu", lambda t: torch.relu(t)), ("swish", lambda t: torch.nn.functional.silu(t)),
        ("identity", lambda t: t)]


@pytest.mark.torch
@pytest.mark.parametrize("loss", ["half_sse", "mse"])
def test_matches_pytorch_autograd(loss):
    rng = np.random.default_rng(3)
    sizes = [3, 5, 4, 2]
    names = ["tanh", "swish", "sigmoid"]
    spec = networks.NetworkSpec([rng.normal(size=(m, n)) for m, n in zip(sizes, sizes[1:])],
                          [rng.normal(size=n) for n in sizes[1:]], names,
                          rng.normal(size=3), rng.normal(size=2), loss=loss, lr=0.3)
    e = spec.explain()
    acts = dict(ACTS)
    params = [torch.tensor(a, requires_grad=True) for W, b in zip(spec.weights, spec.biases)
              for a in (W, b)]
    out, zs = torch.tensor(spec.x)[None, :], []
    for (W, b), name in zip(zip(params[::2], params[1::2]), names):
        z = out @ W + b
        z.retain_grad()
        zs.append(z)
        out = acts[name](z)
    diff = out - torch.tensor(spec.y)[None, :]
    total = 0.5 * (diff ** 2).sum() if loss == "half_sse" else (diff ** 2).mean()
    total.backward()
    tol = dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(e.loss, total.item(), **tol)
    for l, z in enumerate(zs):
        np.testing.assert_allclose(e.z[l], z.detach().numpy()[0], **tol)
        np.testing.assert_allclose(e.delta[l], z.grad.numpy()[0], **tol)
    torch.optim.SGD(params, lr=0.3).step()
    keys = [f"{p}{l}" for l in range(1, 4) for p in ("W", "b")]
    for key, p in zip(keys, params):
        np.testing.assert_allclose(e.grads[key], p.grad.numpy(), **tol)
        np.testing.assert_allclose(e.updated[key], p.detach().numpy(), **tol)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    model = nn.Sequential(nn.Linear(2, 3, rng=0, dtype=np.float64), nn.GELU(),
                          nn.Linear(3, 2, rng=1, dtype=np.float64), nn.Tanh())
    x, t = rng.normal(size=2), rng.normal(size=2)
    e = model.explain(x, t, "half_sse", lr=0.1)

    def loss(_):
        out = model.forward(x[None, :])
        return 0.5 * np.sum((out - t) ** 2)

    for l, layer in enumerate(model.layers[::2], start=1):
        for key in ("W", "b"):
            num = numerical_gradient(loss, layer.params[key])
            np.testing.assert_allclose(e.grads[f"{key}{l}"], num, rtol=1e-7, atol=1e-10)


def test_model_is_not_changed():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    before = {k: v.copy() for k, v in model.params().items()}
    grads = model.grads()
    e = model.explain(np.array([0.5, -1.0], dtype=np.float32), [1.0], "mse", lr=0.5)
    for key, value in model.params().items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, before[key])
        np.testing.assert_array_equal(grads[key], 0)
    assert all(g.dtype == np.float64 for g in e.grads.values())
    with pytest.raises(RuntimeError, match="backward called before forward"):
        model.backward(np.ones((1, 1), dtype=np.float32))  # explain ran on a copy, not on model


# ------------------------------------------------------------------------ text
def test_text_has_course_labels_and_precision():
    text = _example("mazur-2-2-2").explain().to_text(precision=4)
    for label in ("z1 =", "a1 =", "z2 =", "a2 =", "E = 0.2984", "δ1 =", "δ2 =", "∂E/∂a1",
                  "∂E/∂p", "W1[1,1]", "b2[2]", "updated", "float64 copy", "lr = 0.5"):
        assert label in text, label
    assert "0.298371109" in _example("mazur-2-2-2").explain().to_text(precision=9)
    row = next(line for line in text.splitlines() if line.strip().startswith("W2[1,1]"))
    assert row.split() == ["W2[1,1]", "0.4000", "0.0822", "0.3589"]


# ------------------------------------------------------------------------ bad input
GOOD = {"x": [1.0, 2.0], "y": [0.5],
        "layers": [{"W": [[1, 2, 3], [4, 5, 6]], "b": [0, 0, 0], "activation": "relu"},
                   {"W": [[1], [2], [3]], "b": [0.1]}]}


def _bad(**changes):
    data = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        *keys, last = path.split("__")
        target = data
        for key in keys:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return data


@pytest.mark.parametrize("changes, message", [
    ({"layers__1__W": [[1], [2]]}, r"layers\[1\]\.W has 2 rows; expected 3"),
    ({"layers__0__b": [0, 0]}, r"layers\[0\]\.b has 2 entries; expected 3"),
    ({"layers__0__activation": "rleu"}, r"layers\[0\]\.activation: unknown activation 'rleu'"),
    ({"layers__0__W": [[1, 2], [3]]}, r"layers\[0\]\.W must be a matrix"),
    ({"x": [1.0]}, r"x has 1 entries; expected 2"),
    ({"y": [1.0, 2.0]}, r"y has 2 entries; expected 1"),
    ({"loss": "mae"}, r"loss: unknown loss 'mae'"),
    ({"lr": -1}, r"Invalid lr"),
    ({"sizes": [2, 4, 1]}, r"sizes = \[2, 4, 1\] but the weights give \[2, 3, 1\]"),
    ({"layers__1__bias": [0]}, r"layers\[1\]: unknown key 'bias'"),
    ({"y": None}, r"missing key 'y'"),
])
def test_bad_network_names_the_key(changes, message):
    with pytest.raises(ValueError, match=message):
        networks.network_from_dict(_bad(**changes))


def test_network_files_toml_and_json(tmp_path):
    (tmp_path / "net.json").write_text(json.dumps(GOOD))
    spec = networks.load_network(tmp_path / "net.json")
    np.testing.assert_allclose(spec.explain().z[0], [9, 12, 15], rtol=0, atol=1e-15)
    (tmp_path / "bad.toml").write_text("x = [1, 2\n")
    with pytest.raises(ValueError, match=r"bad\.toml: not valid TOML"):
        networks.load_network(tmp_path / "bad.toml")
    with pytest.raises(ValueError, match="unknown network file type '.txt'"):
        networks.load_network(tmp_path / "net.txt")


def test_explain_rejects_unsupported_models_and_batches():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.BatchNorm(2), nn.Linear(2, 1, rng=1))
    with pytest.raises(ValueError, match=r"layer 1 \(BatchNorm\(2\)\) is not supported"):
        model.explain([1.0, 2.0], [0.0], "mse", lr=0.1)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    with pytest.raises(ValueError, match=r"x has shape \(2, 2\); expected one sample of 2"):
        model.explain(np.ones((2, 2)), [0.0], "mse", lr=0.1)
    with pytest.raises(ValueError, match="unknown loss 'l2'; choose one of: half_sse, mse"):
        model.explain([1.0, 2.0], [0.0], "l2", lr=0.1)


# ------------------------------------------------------------------------ command
def test_command_prints_tables(capsys):
    assert main(["explain", "--example", "mazur-2-2-1", "--precision", "9"]) == 0
    out = capsys.readouterr().out
    assert "E = 0.274811083" in out and "0.358916480" in out


def test_command_overrides_and_lists(capsys, tmp_path):
    assert main(["explain", "--list-examples"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ("relu-1-4-1", "mazur-2-2-1", "mazur-2-2-2"))
    path = tmp_path / "net.json"
    path.write_text(json.dumps(GOOD))
    assert main(["explain", str(path), "--lr", "0", "--loss", "mse", "--precision", "2"]) == 0
    out = capsys.readouterr().out
    assert "L = mean((a − t)²)" in out and "lr = 0" in out
    assert main(["explain", "--json", json.dumps(GOOD)]) == 0


@pytest.mark.parametrize("argv, message", [
    (["explain"], "give exactly one network"),
    (["explain", "--example", "nope"], "unknown example 'nope'"),
    (["explain", "--json", "{"], "--json: not valid JSON"),
    (["explain", "--json", "[" * 50_000 + "]" * 50_000], "--json: JSON nested more than 32"),
    (["explain", "--json", json.dumps(_bad(layers__0__b=[1]))], r"layers\[0\]\.b has 1 entries"),
])
def test_command_errors_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn explain: error:") and re.search(message, err)


def test_network_files_are_read_with_size_and_depth_limits(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"layers": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(ValueError, match=r"deep\.json: JSON nested more than 32 levels"):
        networks.load_network(deep)
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(5 * 2**20)  # sparse: 5 MiB of zero bytes
    with pytest.raises(ValueError, match=r"big\.toml: larger than 4 MiB"):
        networks.load_network(big)
