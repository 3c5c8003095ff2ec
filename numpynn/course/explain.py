"""Worked solutions: one forward pass, one backward pass and one SGD step, every number shown.

For a small fully connected network and ONE input, :func:`explain` returns what a student
computes by hand on a homework sheet, in the courses' notation (layers counted from 1, a0 = x)::

    z_l = a_{l-1}·W_l + b_l          pre-activation of layer l            (n_l,)
    a_l = f_l(z_l)                   activation (f_l = identity if none)  (n_l,)
    E   = loss(a_L, t)               half_sse: ½·Σ(a_L − t)²;  mse: mean((a_L − t)²)
    ∂E/∂a_L = loss'(a_L, t)
    δ_l = ∂E/∂z_l = ∂E/∂a_l ⊙ f_l'(z_l)
    ∂E/∂a_{l-1} = δ_l·W_lᵀ
    ∂E/∂W_l = a_{l-1}ᵀ·δ_l,  ∂E/∂b_l = δ_l
    p⁺ = p − lr·∂E/∂p                one plain SGD step

Weights use numpynn's layout: ``W_l`` has shape (n_{l-1}, n_l), so ``W_l[i, j]`` joins unit i of
layer l−1 to unit j of layer l (many courses write ``W x`` with the transpose).

Networks come from Python (a :class:`~numpynn.sequential.Sequential` of ``Linear`` layers, each
optionally followed by one activation) or from a small TOML/JSON file
(:mod:`numpynn.course.networks`, which also lists the bundled examples).

>>> import numpynn as nn
>>> model = nn.Sequential(nn.Linear(1, 2, dtype=np.float64), nn.ReLU())
>>> model[0].W, model[0].b = [[1.0, -1.0]], [0.5, 0.5]
>>> explain(model, [2.0], [1.0, 0.0], "half_sse", lr=0.1).z[0].tolist()
[2.5, -1.5]
"""
from dataclasses import dataclass

import numpy as np

from numpynn._helpers.html import html_heading, html_sections, html_table
from numpynn._helpers.validation import check_array, check_positive, choose
from numpynn.layers import Activation, Linear
from numpynn.losses import MSE

IDENTITY = "identity"  # a layer without activation: a_l = z_l


def half_sse(pred, target):
    """The courses' squared error E = ½·Σ (p − t)² (summed, not averaged), and dE/dp = p − t.

    Parameters
    ----------
    pred, target : ndarray of shape (N, M)

    Returns
    -------
    (loss: float, dpred: ndarray of shape (N, M))
    """
    diff = pred - target  # (N, M)
    return 0.5 * float(np.vdot(diff, diff)), diff


@dataclass(frozen=True)
class LossRule:
    """A loss as a worked solution shows it: kernel, symbol and formula."""
    fn: object
    symbol: str
    formula: str


# loss name -> rule; the names accepted by explain(), the file key `loss` and --loss
EXPLAIN_LOSSES = {
    "half_sse": LossRule(half_sse, "E", "E = ½·Σ(a − t)²"),
    "mse": LossRule(MSE(), "L", "L = mean((a − t)²)  (PyTorch's MSELoss)"),
}


def _loss_rule(loss_fn):
    if isinstance(loss_fn, str):
        return choose(loss_fn, EXPLAIN_LOSSES, "loss", where="explain")
    if callable(loss_fn):
        return LossRule(loss_fn, "L", f"L = {loss_fn!r}(a, t)")
    raise TypeError(f"explain: loss_fn must be a name ({', '.join(EXPLAIN_LOSSES)}) or a "
                    f"callable (pred, target) -> (loss, dpred); got {loss_fn!r}")


# ------------------------------------------------------------------------------------ result
@dataclass
class Explanation:
    """Every number of one forward pass, backward pass and SGD step, as float64 arrays.

    Lists are indexed by layer, ``z[0]`` being z1; parameter dicts are keyed ``"W1"``, ``"b1"``, ….

    Attributes
    ----------
    x : ndarray of shape (D,)
        The input a0.
    target : ndarray of shape (M,)
    activations : list of str
        f_l per layer (``"identity"`` for none).
    z, a, fprime : list of ndarray of shape (n_l,)
        Pre-activations, activations and f_l'(z_l).
    loss : float
    da, delta : list of ndarray of shape (n_l,)
        ∂E/∂a_l and δ_l = ∂E/∂z_l.
    params, grads, updated : dict of str -> ndarray
        Parameters before the step, ∂E/∂p, and p − lr·∂E/∂p.
    lr : float
    loss_name, symbol, formula : str
        How the loss is named and written (``"E"`` for half_sse, ``"L"`` otherwise).
    title : str
    """
    x: np.ndarray
    target: np.ndarray
    activations: list
    z: list
    a: list
    fprime: list
    loss: float
    da: list
    delta: list
    params: dict
    grads: dict
    updated: dict
    lr: float
    loss_name: str
    symbol: str
    formula: str
    title: str = ""

    @property
    def output(self):
        """The network's output a_L, shape (M,)."""
        return self.a[-1]

    def named(self):
        """Every value under its course label: ``z1, a1, …, E, ∂E/∂a1, δ1, ∂E/∂W1, W1⁺, …``."""
        s = self.symbol
        out = {}
        for l, (z, a) in enumerate(zip(self.z, self.a), start=1):
            out[f"z{l}"], out[f"a{l}"] = z, a
        out[s] = self.loss
        for l, (da, delta) in enumerate(zip(self.da, self.delta), start=1):
            out[f"∂{s}/∂a{l}"], out[f"δ{l}"] = da, delta
        out.update({f"∂{s}/∂{k}": g for k, g in self.grads.items()})
        out.update({f"{k}⁺": p for k, p in self.updated.items()})
        return out

    def __getitem__(self, label):
        return self.named()[label]

    def to_text(self, precision=4):
        """Readable tables with ``precision`` decimals (see :func:`format_explanation`)."""
        return format_explanation(self, precision)

    def __str__(self):
        """The worked solution, so ``print(model.explain(...))`` shows it."""
        return self.to_text()

    __repr__ = __str__   # a REPL shows the worked solution too, not a dump of arrays

    def _repr_html_(self, precision=4):
        """Jupyter's view: the worked solution as three tables (forward, backward, step)."""
        return format_explanation_html(self, precision)


# ------------------------------------------------------------------------------------ explain
def explain(model, x, y, loss_fn, lr, *, title=""):
    """One forward pass, backward pass and plain SGD step of ``model`` on ONE input, every number kept.

    Works on a float64 copy: ``model`` itself is not changed (no parameter, gradient or cache).

    Parameters
    ----------
    model : Sequential
        ``Linear`` layers, each optionally followed by one element-wise activation layer.
    x : array_like of shape (D,) or (1, D)
    y : array_like of shape (M,) or (1, M)
        The target t.
    loss_fn : {"half_sse", "mse"} or callable
        ``"half_sse"``: E = ½·Σ(a_L − t)² (the courses'); ``"mse"``: mean((a_L − t)²) (PyTorch's
        ``MSELoss``, twice half_sse's gradient for one output); or ``fn(pred, target) -> (loss,
        dpred)`` on arrays of shape (1, M).
    lr : float >= 0
        Learning rate of the SGD step p⁺ = p − lr·∂E/∂p.
    title : str, optional
        Shown by :meth:`Explanation.to_text`.

    Returns
    -------
    Explanation
    """
    rule = _loss_rule(loss_fn)
    lr = float(check_positive(lr, "lr", allow_zero=True, where="explain"))
    if not hasattr(model, "layers") or not hasattr(model, "astype"):
        raise TypeError(f"explain: model must be a numpynn Sequential; got {type(model).__name__}")
    groups = _layer_groups(model.astype(np.float64))  # astype deep-copies
    x = _one_sample(x, "x", groups[0][0].n_in, "the first Linear layer's inputs")
    target = _one_sample(y, "y", groups[-1][0].n_out, "the last Linear layer's outputs")
    z, a, fprime = _forward(groups, x)
    loss, dout = rule.fn(a[-1][None, :], target[None, :])  # (1, M)
    da, delta = _backward(groups, dout)
    params, grads = {}, {}
    for l, (linear, _) in enumerate(groups, start=1):
        params.update({f"W{l}": linear.W.copy(), f"b{l}": linear.b.copy()})
        grads.update({f"W{l}": linear.dW.copy(), f"b{l}": linear.db.copy()})
    updated = {key: params[key] - lr * grads[key] for key in params}
    activations = [act.activation if act else IDENTITY for _, act in groups]
    return Explanation(x, target, activations, z, a, fprime, float(loss), da, delta, params,
                       grads, updated, lr, loss_fn if isinstance(loss_fn, str) else repr(loss_fn),
                       rule.symbol, rule.formula, title)


def _layer_groups(model):
    """Pair each Linear layer with the activation layer after it (or None)."""
    groups = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Linear):
            groups.append([layer, None])
        elif isinstance(layer, Activation) and groups and groups[-1][1] is None:
            groups[-1][1] = layer
        else:
            raise ValueError(f"explain: layer {i} ({layer!r}) is not supported here; expected "
                             "Linear layers, each optionally followed by one activation\n"
                             "help: worked solutions cover plain fully connected networks")
    if not groups:
        raise ValueError("explain: model has no Linear layer")
    return groups


def _one_sample(v, name, size, what):
    v = check_array(v, name, dtype_kind="fiu", where="explain").astype(np.float64)
    if v.ndim > 2 or (v.ndim == 2 and v.shape[0] != 1) or v.size != size:
        raise ValueError(f"explain: {name} has shape {v.shape}; expected one sample of {size} "
                         f"values ({what})\nhelp: pass a single row, e.g. {name}[0]")
    return v.reshape(-1)  # (size,)


def _forward(groups, x):
    z, a, fprime = [], [], []
    out = x[None, :]  # (1, D): one sample as a batch
    for linear, act in groups:
        pre = linear.forward(out)  # (1, n_l)
        out = act.forward(pre) if act else pre
        # f'(z) from the layer's own backward with an upstream gradient of ones
        slope = act.backward(np.ones_like(pre)) if act else np.ones_like(pre)
        z.append(pre[0].copy()), a.append(out[0].copy()), fprime.append(slope[0].copy())
    return z, a, fprime


def _backward(groups, dout):
    da, delta = [], []
    for linear, act in reversed(groups):
        da.append(dout[0].copy())
        dz = act.backward(dout) if act else dout  # (1, n_l)
        delta.append(dz[0].copy())
        dout = linear.backward(dz)  # (1, n_{l-1}); also fills linear.dW, linear.db
    return da[::-1], delta[::-1]


# ------------------------------------------------------------------------------------ text
def format_number(v, precision):
    """``v`` with ``precision`` decimals, as every table here shows it (never ``-0.0000``)."""
    text = f"{v:.{precision}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0000"


def format_vector(v, precision):
    """``[0.1000, -2.0000]``: each entry as :func:`format_number` shows it."""
    return "[" + ", ".join(format_number(e, precision) for e in np.ravel(v)) + "]"


def _table(header, rows):
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    fmt = lambda r: "  " + "  ".join(f"{str(c):{'<' if i == 0 else '>'}{w}}"  # label left
                                     for i, (c, w) in enumerate(zip(r, widths)))
    return [fmt(header), "  " + "-" * (sum(widths) + 2 * len(widths) - 2), *map(fmt, rows)]


def format_explanation(e, precision=4):
    """Render an :class:`Explanation` as text: vectors per layer, then a per-parameter table."""
    p, s, L = precision, e.symbol, len(e.z)
    lines = [f"Worked solution{': ' + e.title if e.title else ''}",
             "(computed on a float64 copy of the model; the model itself is not changed)",
             "Conventions: a0 = x; z_l = a_{l-1}·W_l + b_l; a_l = f_l(z_l); W_l[i,j] joins unit i "
             "of layer l-1 to unit j of layer l; indices count from 1.",
             "", "Forward pass", f"  a0 = x = {format_vector(e.x, p)}"]
    for l in range(1, L + 1):
        lines += [f"  z{l} = a{l - 1}·W{l} + b{l} = {format_vector(e.z[l - 1], p)}",
                  f"  a{l} = {e.activations[l - 1]}(z{l}) = {format_vector(e.a[l - 1], p)}"]
    lines += [f"  output y = a{L} = {format_vector(e.output, p)}, target t = {format_vector(e.target, p)}", "",
              f"Loss  {e.formula}", f"  {s} = {format_number(e.loss, p)}", "", "Backward pass"]
    for l in range(L, 0, -1):
        source = "loss'(a, t)" if l == L else f"δ{l + 1}·W{l + 1}ᵀ"
        lines += [f"  ∂{s}/∂a{l} = {source} = {format_vector(e.da[l - 1], p)}",
                  f"  {e.activations[l - 1]}'(z{l}) = {format_vector(e.fprime[l - 1], p)}",
                  f"  δ{l} = ∂{s}/∂z{l} = ∂{s}/∂a{l} ⊙ {e.activations[l - 1]}'(z{l}) = "
                  f"{format_vector(e.delta[l - 1], p)}"]
    lines += ["", f"Gradients (∂{s}/∂W_l = a_(l-1)ᵀ·δ_l, ∂{s}/∂b_l = δ_l) and one SGD step "
                  f"p⁺ = p − lr·∂{s}/∂p, lr = {e.lr:g}"]
    rows = [(label, format_number(e.params[k][idx], p), format_number(e.grads[k][idx], p),
             format_number(e.updated[k][idx], p)) for k in e.params for label, idx in _entries(k, e.params[k])]
    lines += _table(("parameter", "value", f"∂{s}/∂p", "updated"), rows)
    return "\n".join(lines)


def format_explanation_html(e, precision=4):
    """The tables of :func:`format_explanation` in HTML: layers forward, layers backward, and
    one row per parameter entry with its gradient and updated value."""
    p, s, L = precision, e.symbol, len(e.z)
    forward = [(l, e.activations[l - 1], format_vector(e.z[l - 1], p), format_vector(e.a[l - 1], p))
               for l in range(1, L + 1)]
    backward = [(l, format_vector(e.da[l - 1], p), format_vector(e.fprime[l - 1], p), format_vector(e.delta[l - 1], p))
                for l in range(L, 0, -1)]
    step = [(label, format_number(e.params[k][idx], p), format_number(e.grads[k][idx], p),
             format_number(e.updated[k][idx], p)) for k in e.params for label, idx in _entries(k, e.params[k])]
    return html_sections(
        html_heading(f"Worked solution{': ' + e.title if e.title else ''}"),
        html_table(("layer l", "f_l", "z_l = a_(l-1)·W_l + b_l", "a_l = f_l(z_l)"), forward,
                   caption=f"Forward pass from a0 = x = {format_vector(e.x, p)}"),
        html_heading(f"Loss {e.formula}: {s} = {format_number(e.loss, p)} "
                     f"(target t = {format_vector(e.target, p)})"),
        html_table(("layer l", f"∂{s}/∂a_l", "f_l'(z_l)", f"δ_l = ∂{s}/∂z_l"), backward,
                   caption="Backward pass"),
        html_table(("parameter", "value", f"∂{s}/∂p", "updated"), step,
                   caption=f"One SGD step p⁺ = p − lr·∂{s}/∂p, lr = {e.lr:g}"))


def _entries(key, array):
    """(label, index) per entry, 1-based: W1[1,2], b1[3]."""
    for idx in np.ndindex(array.shape):
        yield f"{key}[{','.join(str(i + 1) for i in idx)}]", idx
