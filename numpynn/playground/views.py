"""What the page draws, computed in numpynn: the decision boundary, each neuron's output map,
the weights and gradients of every edge, and the inspector's worked numbers.

The boundary is one vectorized forward pass over a GRID×GRID grid of the plane (eval mode);
the same pass records every neuron's output, downsampled to the neuron maps. Maps travel as
base64 bytes (0…255), so a frame of a 2-8-8-1 network is a few kilobytes.

The inspector's numbers are :func:`numpynn.course.explain.explain`'s for one sample — the
same ones ``numpynn explain`` prints — formatted by explain's own number format.
"""
import base64

import numpy as np

from numpynn.course.explain import explain, format_number, format_vector
from numpynn.layers import BatchNorm, Dropout, Linear
from numpynn.losses import LOSSES
from numpynn.sequential import Sequential
from numpynn.playground.session import feature_map, output_activation

GRID = 50         # boundary resolution (cells per side)
MAP_STRIDE = 2    # neuron maps keep every 2nd cell: 25×25
EXTENT = 6.0      # the plane shown: [−6, 6]², the point sets fill radius 5
CURVE_POINTS = 100  # samples of a regression curve
PRECISION = 4     # decimals, as numpynn explain prints by default


def _plane():
    """The grid's points (GRID², 2), row by row from the top (x2 = +EXTENT) down."""
    ticks = np.linspace(-EXTENT, EXTENT, GRID)  # (GRID,)
    x1, x2 = np.meshgrid(ticks, ticks[::-1])  # (GRID, GRID) each
    return np.stack([x1.ravel(), x2.ravel()], axis=1)  # (GRID², 2)


def _line(session):
    """Regression: the x axis from the data's minimum to maximum, padded by 10 %."""
    x = np.concatenate([session.X_train[:, 0], session.X_test[:, 0]])  # (N,)
    pad = 0.1 * (x.max() - x.min() or 1.0)
    return np.linspace(x.min() - pad, x.max() + pad, CURVE_POINTS)[:, None]  # (P, 1)


def neuron_outputs(model, inputs):
    """Every column's outputs: the inputs, then each Linear group's output (after its
    BatchNorm, activation and Dropout; eval mode), the last being the network's output.

    Returns
    -------
    list of ndarray of shape (P, n_l)
    """
    columns, out = [inputs], inputs
    model.eval()
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Linear) and i:
            columns.append(out)
        out = layer.forward(out)
    columns.append(out)
    return columns


def _bytes(values):
    """Values in [0, 1] as base64 of uint8."""
    return base64.b64encode(np.round(np.clip(values, 0, 1) * 255).astype(np.uint8)).decode()


def _neuron_map(values, two_d):
    """One neuron over the grid, scaled by its largest |value| into [−1, 1] → [0, 1]."""
    scale = float(np.max(np.abs(values))) or 1.0
    if not two_d:
        return {"curve": np.round(values / scale, 3).tolist(), "scale": scale}
    grid = values.reshape(GRID, GRID)[::MAP_STRIDE, ::MAP_STRIDE]  # (25, 25)
    return {"map": _bytes((grid.ravel() / scale + 1) / 2), "scale": scale}


def frame(session):
    """One screen update: epoch, losses, boundary, neuron maps, weights and gradients."""
    s = session.settings
    two_d = not s.regression
    X = _plane() if two_d else _line(session)  # (P, 2) or (P, 1)
    columns = neuron_outputs(session.model, feature_map(X, s.features))
    prediction = columns[-1][:, 0]  # (P,)
    if two_d and output_activation(s) != "sigmoid":  # logits: show σ(z) = P(class 1)
        prediction = 1 / (1 + np.exp(-np.clip(prediction, -50, 50)))
    boundary = ({"kind": "2d", "size": GRID, "extent": EXTENT, "values": _bytes(prediction)}
                if two_d else {"kind": "1d", "x": np.round(X[:, 0], 4).tolist(),
                               "y": np.round(prediction, 4).tolist()})
    train_loss, test_loss = session.losses()
    linears = [layer for layer in session.model.layers if isinstance(layer, Linear)]
    return {
        "type": "frame", "epoch": session.epoch, "running": session.running,
        "loss": train_loss, "test_loss": test_loss,
        "steps_per_second": round(session.steps_per_second, 1), "boundary": boundary,
        "neurons": [[_neuron_map(c[:, j], two_d) for j in range(c.shape[1])]
                    for c in columns[:-1]] + [[_neuron_map(columns[-1][:, 0], two_d)]],
        "weights": [layer.W.tolist() for layer in linears],
        "biases": [layer.b.tolist() for layer in linears],
        "grads": [layer.dW.tolist() for layer in linears],
    }


def points_message(session):
    """The data as the page draws them: raw coordinates and targets of both splits."""
    def pack(X, t):
        return {"x": np.round(X, 4).tolist(), "t": np.round(t[:, 0], 4).tolist()}
    return {"type": "points", "regression": session.settings.regression,
            "train": pack(session.X_train, session.t_train),
            "test": pack(session.X_test, session.t_test)}


# ------------------------------------------------------------------------------ inspector
def explainable(model):
    """The model as explain takes it: Dropout dropped (identity in eval mode); BatchNorm has
    no worked solution, so it is refused with a message naming the fix."""
    if any(isinstance(layer, BatchNorm) for layer in model.layers):
        raise ValueError("the inspector works a Linear → activation network by hand; batch "
                         "norm has no worked solution here\nhelp: untick batch norm to inspect")
    return Sequential([layer for layer in model.layers if not isinstance(layer, Dropout)])


def inspect(session, split="train", index=0):
    """explain() of the current network on one sample, with the page's lines for every neuron,
    every edge and each stage of the step mode."""
    F, t = (session.F_train, session.t_train) if split == "train" else (session.F_test,
                                                                        session.t_test)
    if not 0 <= index < len(F):
        raise ValueError(f"sample index must be in [0, {len(F) - 1}]; got {index}")
    e = explain(explainable(session.model), F[index], t[index],
                LOSSES[session.settings.loss](), session.settings.lr)
    return {"type": "inspection", "split": split, "index": index, "x": e.x.tolist(),
            "target": e.target.tolist(), "loss": e.loss, "lr": e.lr,
            "z": [v.tolist() for v in e.z], "a": [v.tolist() for v in e.a],
            "delta": [v.tolist() for v in e.delta],
            "grads": {k: v.tolist() for k, v in e.grads.items()},
            "updated": {k: v.tolist() for k, v in e.updated.items()},
            "neurons": neuron_lines(e), "edges": edge_lines(e), "stages": stages(e),
            "text": e.to_text(PRECISION)}


def _n(v):
    return format_number(v, PRECISION)


def _f(v):
    """A factor of a product: negative numbers in parentheses, ``0.03·(−0.1595)``."""
    text = _n(v)
    return f"({text})" if text.startswith("-") else text


def neuron_lines(e):
    """``{"l,j": [lines]}`` for unit j of layer l (from 1): z with the numbers plugged in,
    a, δ, ∂L/∂b and the SGD step of b."""
    out, s = {}, e.symbol
    for l in range(1, len(e.z) + 1):
        prev, W, b = (e.a[l - 2] if l > 1 else e.x), e.params[f"W{l}"], e.params[f"b{l}"]
        for j in range(len(e.z[l - 1])):
            terms = " + ".join(f"{_f(W[i, j])}·{_f(prev[i])}" for i in range(len(prev)))
            f = e.activations[l - 1]
            out[f"{l},{j + 1}"] = [
                f"z{l}[{j + 1}] = Σ w·a + b = {terms} + {_f(b[j])} = {_n(e.z[l - 1][j])}",
                f"a{l}[{j + 1}] = {f}(z) = {_n(e.a[l - 1][j])}",
                f"δ{l}[{j + 1}] = ∂{s}/∂a · {f}'(z) = {_f(e.da[l - 1][j])}·"
                f"{_f(e.fprime[l - 1][j])} = {_n(e.delta[l - 1][j])}",
                f"∂{s}/∂b{l}[{j + 1}] = δ = {_n(e.grads[f'b{l}'][j])}",
                f"b ← b − η·∂{s}/∂b = {_n(b[j])} − {e.lr:g}·{_f(e.grads[f'b{l}'][j])} = "
                f"{_n(e.updated[f'b{l}'][j])}"]
    return out


def edge_lines(e):
    """``{"l,i,j": [lines]}`` for the weight W_l[i, j] (from unit i of layer l−1 to unit j of
    layer l, from 1): its value, ∂L/∂w = a·δ and the SGD step."""
    out, s = {}, e.symbol
    for l in range(1, len(e.z) + 1):
        prev, W = (e.a[l - 2] if l > 1 else e.x), e.params[f"W{l}"]
        dW, W_new = e.grads[f"W{l}"], e.updated[f"W{l}"]
        for i, j in np.ndindex(W.shape):
            name = f"W{l}[{i + 1},{j + 1}]"
            out[f"{l},{i + 1},{j + 1}"] = [
                f"w = {name} = {_n(W[i, j])}",
                f"∂{s}/∂w = a{l - 1}[{i + 1}]·δ{l}[{j + 1}] = {_f(prev[i])}·"
                f"{_f(e.delta[l - 1][j])} = {_n(dW[i, j])}",
                f"w ← w − η·∂{s}/∂w = {_n(W[i, j])} − {e.lr:g}·{_f(dW[i, j])} = "
                f"{_n(W_new[i, j])}"]
    return out


def stages(e):
    """The step mode: forward layer by layer, the loss, backward layer by layer, the update.
    Each stage names the layer (column) the page highlights."""
    s, L, v = e.symbol, len(e.z), lambda a: format_vector(a, PRECISION)
    out = [{"phase": "forward", "column": 0, "lines": [f"a0 = x = {v(e.x)}"]}]
    for l in range(1, L + 1):
        out.append({"phase": "forward", "column": l, "lines": [
            f"z{l} = a{l - 1}·W{l} + b{l} = {v(e.z[l - 1])}",
            f"a{l} = {e.activations[l - 1]}(z{l}) = {v(e.a[l - 1])}"]})
    out.append({"phase": "loss", "column": L, "lines": [
        f"{e.formula}", f"{s} = {_n(e.loss)} (output {v(e.output)}, target {v(e.target)})"]})
    for l in range(L, 0, -1):
        source = "loss'(a, t)" if l == L else f"δ{l + 1}·W{l + 1}ᵀ"
        out.append({"phase": "backward", "column": l, "lines": [
            f"∂{s}/∂a{l} = {source} = {v(e.da[l - 1])}",
            f"δ{l} = ∂{s}/∂a{l} ⊙ {e.activations[l - 1]}'(z{l}) = {v(e.delta[l - 1])}",
            f"∂{s}/∂W{l} = a{l - 1}ᵀ·δ{l}, ∂{s}/∂b{l} = δ{l} = {v(e.grads[f'b{l}'])}"]})
    out.append({"phase": "update", "column": None, "lines": [
        f"p ← p − η·∂{s}/∂p with η = {e.lr:g}"] + [
        f"{k}⁺ = {v(e.updated[k])}" for k in e.updated]})
    return out
