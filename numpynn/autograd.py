"""Reverse-mode automatic differentiation over NumPy arrays, in micrograd's spirit.

Every op has the same four beats: coerce the operands to :class:`Tensor`, compute the value
with NumPy, define the local chain rule (a function from the upstream gradient ``g`` to one
gradient per operand), and return the new node. Derived ops reuse primitives (``a - b`` is
``a + (-b)``, ``softmax`` is ``exp(log_softmax)``), so their backward comes for free.

Broadcasting is undone in one place: the engine sums each operand's gradient back to the
operand's shape; a gradient still of another shape is an internal error naming the op whose
backward made it, never a silent broadcast into ``.grad``. Backward walks an iterative
topological order (no recursion), so chains of hundreds of thousands of operations work.

>>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum() + (2 ** x).mean()
>>> y.backward()
>>> x.grad.round(4)
array([2.4621, 4.9242, 7.8484])
"""
import contextlib

import numpy as np

_GRAD_ENABLED = [True]  # a one-element list so no_grad() can flip it without `global`


@contextlib.contextmanager
def no_grad():
    """Context manager: ops inside build no graph (results have ``requires_grad=False``).

    >>> x = Tensor(2.0, requires_grad=True)
    >>> with no_grad():
    ...     y = x * 3
    >>> y.requires_grad
    False
    """
    previous = _GRAD_ENABLED[0]
    _GRAD_ENABLED[0] = False
    try:
        yield
    finally:
        _GRAD_ENABLED[0] = previous


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    A ``grad`` that ``shape`` cannot have been broadcast to comes back with a shape other than
    ``shape``, which ``Tensor._accumulate`` reports.
    """
    if grad.ndim < len(shape):
        return grad  # fewer axes than the operand: no broadcast explains it
    if grad.ndim > len(shape):
        grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))  # leading broadcast axes
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad  # stretched size-1 axes


def _broadcasting(op, ufunc, a, b):
    """``ufunc(a.data, b.data)``, with a message naming both shapes if they do not broadcast."""
    try:
        return ufunc(a.data, b.data)
    except ValueError:
        raise ValueError(f"{op}: cannot broadcast shapes {a.shape} and {b.shape}\n"
                         "help: sizes must match or be 1 when aligned from the right; "
                         "reshape one operand (e.g. x.reshape(-1, 1))") from None


def _normalize_axes(op, axis, ndim):
    """``axis`` (None, an int or a sequence of ints) as a tuple of distinct axes in [0, ndim).

    None means every axis; a negative axis counts from the end (−1 is the last), as in NumPy.
    Out-of-range, repeated and non-integer axes raise an error naming ``op`` (a bare modulo
    would silently turn ``axis=2`` of a matrix into axis 0). A 0-D tensor has no axes.
    """
    if axis is None:
        return tuple(range(ndim))
    given = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(_normalize_axis(op, a, ndim) for a in given)
    repeated = [a for a in axes if axes.count(a) > 1]
    if repeated:
        raise ValueError(f"{op}: axes {given} name axis {repeated[0]} more than once\n"
                         "help: list each axis once")
    return axes


def _normalize_axis(op, a, ndim):
    """One axis ``a`` in [−ndim, ndim) as its non-negative index, or an error naming ``op``."""
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int or a tuple of ints; got {a!r}")
    if not -ndim <= a < ndim:
        hint = ("a 0-D tensor has no axes; use axis=None" if ndim == 0 else
                f"axes run from {-ndim} to {ndim - 1} (negative ones count from the end)")
        raise ValueError(f"{op}: axis {a} is out of bounds for a tensor of ndim {ndim}\n"
                         f"help: {hint}")
    return int(a) % ndim


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : array_like
        The value; stored as ``dtype`` (float64 by default) in ``.data``.
    requires_grad : bool
        Whether :meth:`backward` fills ``.grad`` for this tensor and the ops built on it.
    dtype : numpy dtype
    name : str, optional
        A label shown by :func:`to_dot`.

    Attributes
    ----------
    data : ndarray
    grad : ndarray of data's shape, or None before the first backward pass
    requires_grad : bool
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_parents", "_backward", "_op")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected method

    def __init__(self, data, requires_grad=False, *, dtype=np.float64, name=None):
        self.data = np.asarray(data.data if isinstance(data, Tensor) else data, dtype=dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._parents, self._backward, self._op = (), None, ""

    # ---- graph plumbing -------------------------------------------------------------------
    def _coerce(self, other):
        return other if isinstance(other, Tensor) else Tensor(other, dtype=self.data.dtype)

    def _child(self, data, parents, backward, op):
        """Return the result node; record the graph only if some parent needs a gradient."""
        out = Tensor(data, dtype=getattr(data, "dtype", self.data.dtype))
        if _GRAD_ENABLED[0] and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents, out._backward, out._op = parents, backward, op
        return out

    def backward(self, grad=None):
        """Backpropagate from this tensor, accumulating into ``.grad`` of every node behind it.

        Parameters
        ----------
        grad : array_like of this tensor's shape, optional
            The upstream gradient ∂L/∂self; required unless this tensor holds one value.

        Notes
        -----
        Leaves accumulate across calls, as in PyTorch (reset with ``t.grad = None``);
        intermediate nodes hold the gradient of the latest pass only.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad\n"
                               "help: build the leaves with Tensor(data, requires_grad=True)")
        if grad is None and self.data.size != 1:
            raise ValueError(f"backward: tensor of shape {self.shape} is not a scalar; "
                             "pass the upstream gradient\nhelp: call y.sum().backward() "
                             "or y.backward(np.ones_like(y.data))")
        seed = np.ones_like(self.data) if grad is None else np.asarray(grad, self.data.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"backward: grad has shape {seed.shape}; expected {self.shape}")
        order = _topological_order(self, lambda node: node.requires_grad)
        for node in order:
            if node._parents:
                node.grad = None  # intermediates restart; leaves keep accumulating
        self._accumulate(seed, "backward")
        for node in reversed(order):  # children before parents
            if node._backward is None or node.grad is None:
                continue
            for parent, g in zip(node._parents, node._backward(node.grad)):
                if parent.requires_grad and g is not None:
                    parent._accumulate(np.asarray(g), node._op)

    def _accumulate(self, g, op):
        """Sum ``g`` down to this tensor's shape and add it into ``.grad``.

        ``g`` comes from the backward of ``op``. If undoing broadcasting does not bring it to
        this tensor's shape, that backward is wrong; adding it into ``.grad`` would broadcast
        silently (or give ``.grad`` a new shape), so it is an error instead.
        """
        reduced = _unbroadcast(g, self.shape)
        if reduced.shape != self.shape:
            raise RuntimeError(f"autograd internal error: the backward of {op!r} gave a "
                               f"gradient of shape {g.shape} for an operand of shape "
                               f"{self.shape}\nhelp: a backward returns one gradient per "
                               "operand, of that operand's shape or one it broadcasts to")
        self.grad = (reduced.astype(self.data.dtype, copy=True) if self.grad is None
                     else self.grad + reduced)

    # ---- arithmetic -----------------------------------------------------------------------
    def __add__(self, other):
        other = self._coerce(other)
        out = _broadcasting("add", np.add, self, other)
        return self._child(out, (self, other), lambda g: (g, g), "+")

    def __mul__(self, other):
        other = self._coerce(other)
        out = _broadcasting("mul", np.multiply, self, other)
        return self._child(out, (self, other),
                           lambda g: (g * other.data, g * self.data), "*")

    def __pow__(self, other):
        """``a ** b``: ∂/∂a = b·a^(b−1), ∂/∂b = a^b·log a (0 where a = 0, as PyTorch)."""
        other = self._coerce(other)
        out = _broadcasting("pow", np.power, self, other)
        a, b = self.data, other.data

        def backward(g):
            with np.errstate(divide="ignore", invalid="ignore"):
                da = g * np.where(b == 0, 0.0, b * a ** (b - 1))
                db = g * np.where((a == 0) & (b >= 0), 0.0, out * np.log(a)) \
                    if other.requires_grad else None
            return da, db
        return self._child(out, (self, other), backward, "**")

    def __matmul__(self, other):
        """Matrix product with NumPy's rules (1-D operands promoted, batch dims broadcast)."""
        other = self._coerce(other)
        _check_matmul(self.shape, other.shape)
        a, b = self.data, other.data
        a2 = a[None, :] if a.ndim == 1 else a  # (..., n, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (..., k, m)

        def backward(g):
            g2 = g[..., None] if b.ndim == 1 else g    # restore the m axis: (..., n, 1)
            g2 = g2[..., None, :] if a.ndim == 1 else g2  # restore the n axis: (..., 1, m)
            da = g2 @ np.swapaxes(b2, -1, -2)  # (..., n, k)
            db = np.swapaxes(a2, -1, -2) @ g2  # (..., k, m)
            return (da[..., 0, :] if a.ndim == 1 else da), (db[..., 0] if b.ndim == 1 else db)
        return self._child(a @ b, (self, other), backward, "@")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._coerce(other))

    def __truediv__(self, other):
        return self * self._coerce(other) ** -1.0

    def __radd__(self, other):
        return self._coerce(other) + self

    def __rsub__(self, other):
        return self._coerce(other) - self

    def __rmul__(self, other):
        return self._coerce(other) * self

    def __rtruediv__(self, other):
        return self._coerce(other) / self

    def __rpow__(self, other):
        return self._coerce(other) ** self

    def __rmatmul__(self, other):
        return self._coerce(other) @ self

    # ---- reductions -----------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        """Σ over ``axis`` (None: all; an int or a tuple; negative counts from the end)."""
        axes = _normalize_axes("Tensor.sum", axis, self.ndim)

        def backward(g):
            g = g if keepdims else np.expand_dims(g, axes)  # reduced axes back as size 1
            return (np.broadcast_to(g, self.shape),)       # (input shape)
        return self._child(self.data.sum(axis=axes, keepdims=keepdims), (self,), backward, "sum")

    def mean(self, axis=None, keepdims=False):
        """The sum over ``axis`` divided by the number of entries it adds."""
        axes = _normalize_axes("Tensor.mean", axis, self.ndim)
        count = np.prod([self.shape[a] for a in axes])
        return self.sum(axes, keepdims) * (1.0 / count)

    def max(self, axis=None, keepdims=False):
        """Maximum; the gradient is split evenly among tied maxima (as ``torch.amax``)."""
        axes = _normalize_axes("Tensor.max", axis, self.ndim)
        top = self.data.max(axis=axes, keepdims=True)  # reduced axes kept as size 1
        share = (self.data == top) / (self.data == top).sum(axis=axes, keepdims=True)

        def backward(g):
            return ((g if keepdims else np.expand_dims(g, axes)) * share,)
        out = top if keepdims else top.squeeze(axis=axes)
        return self._child(out, (self,), backward, "max")

    # ---- shape ----------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and not np.isscalar(shape[0]) else shape
        return self._child(self.data.reshape(shape), (self,),
                           lambda g: (g.reshape(self.shape),), "reshape")

    def transpose(self, *axes):
        """Permute the axes as NumPy: ``x.transpose(0, -1, -2)`` is ``x.transpose((0, 2, 1))``.

        Result axis i is input axis ``axes[i]`` (``out.shape[i] == x.shape[axes[i]]``); with no
        axes (or None) the order is reversed.
        The backward applies the inverse permutation, ``argsort(axes)``.
        """
        reverse = tuple(reversed(range(self.ndim)))  # (ndim-1, ..., 1, 0)
        if not axes or (len(axes) == 1 and axes[0] is None):
            order = reverse  # x.transpose() or x.transpose(None)
        else:
            axes = axes[0] if len(axes) == 1 and not np.isscalar(axes[0]) else axes
            order = _normalize_axes("Tensor.transpose", axes, self.ndim)
        if len(order) != self.ndim:
            raise ValueError(f"Tensor.transpose: axes {tuple(axes)} don't match a tensor of ndim "
                             f"{self.ndim}\nhelp: list every axis once, e.g. "
                             f"x.transpose{reverse}")
        inverse = tuple(np.argsort(order))  # input axis k sits at result axis inverse[k]
        return self._child(self.data.transpose(order), (self,),
                           lambda g: (g.transpose(inverse),), "transpose")

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """Indexing with ints, slices and integer arrays; repeated indices accumulate."""
        index = index.data.astype(np.intp) if isinstance(index, Tensor) else index

        def backward(g):
            grad = np.zeros_like(self.data)
            np.add.at(grad, index, g)  # unbuffered: x[[0, 0]] receives both gradients
            return (grad,)
        return self._child(np.asarray(self.data[index]), (self,), backward, "[]")

    # ---- elementwise functions ------------------------------------------------------------
    def exp(self):
        out = np.exp(self.data)
        return self._child(out, (self,), lambda g: (g * out,), "exp")

    def log(self):
        bad = self.data <= 0
        if bad.any():
            raise ValueError(f"log: input has {int(bad.sum())} non-positive value(s) (min "
                             f"{self.data.min():g}); log needs x > 0\nhelp: clip first, e.g. "
                             "log of (x.relu() + 1e-12), or use log_softmax for log-probabilities")
        return self._child(np.log(self.data), (self,), lambda g: (g / self.data,), "log")

    def sqrt(self):
        out = np.sqrt(self.data)
        return self._child(out, (self,), lambda g: (g / (2.0 * out),), "sqrt")

    def abs(self):
        return self._child(np.abs(self.data), (self,), lambda g: (g * np.sign(self.data),), "abs")

    def sin(self):
        return self._child(np.sin(self.data), (self,), lambda g: (g * np.cos(self.data),), "sin")

    def cos(self):
        return self._child(np.cos(self.data), (self,), lambda g: (-g * np.sin(self.data),), "cos")

    def relu(self):
        return self._child(np.maximum(self.data, 0), (self,),
                           lambda g: (g * (self.data > 0),), "relu")

    def sigmoid(self):
        """σ(x) = 1 / (1 + e^(−x)), computed from e^(−|x|) so it never overflows."""
        e = np.exp(-np.abs(self.data))
        out = np.where(self.data >= 0, 1.0, e) / (1.0 + e)
        return self._child(out, (self,), lambda g: (g * out * (1.0 - out),), "sigmoid")

    def tanh(self):
        out = np.tanh(self.data)
        return self._child(out, (self,), lambda g: (g * (1.0 - out * out),), "tanh")

    def log_softmax(self, axis=-1):
        """log softmax(x) = x − m − log Σ exp(x − m), with m = max x held constant."""
        axes = _normalize_axes("Tensor.log_softmax", axis, self.ndim)
        shifted = self - self.data.max(axis=axes, keepdims=True)  # (input shape)
        return shifted - shifted.exp().sum(axis=axes, keepdims=True).log()

    def softmax(self, axis=-1):
        """softmax(x) = exp(log softmax(x)) along ``axis``."""
        return self.log_softmax(_normalize_axes("Tensor.softmax", axis, self.ndim)).exp()

    # ---- linear algebra -------------------------------------------------------------------
    def inv(self):
        """Matrix inverse over the last two axes: d(A⁻¹) = −A⁻¹ dA A⁻¹."""
        try:
            out = np.linalg.inv(_check_square("inv", self.data))
        except np.linalg.LinAlgError:
            raise ValueError(f"inv: matrix of shape {self.shape} is singular\n"
                             "help: add a small ridge, A + 1e-6·I") from None
        out_t = np.swapaxes(out, -1, -2)  # (..., n, n)
        return self._child(out, (self,), lambda g: (-(out_t @ g @ out_t),), "inv")

    def logdet(self):
        """log det A for det A > 0 (via slogdet): ∂/∂A = A⁻ᵀ."""
        sign, logabs = np.linalg.slogdet(_check_square("logdet", self.data))
        if np.any(sign <= 0):
            what = "is singular (det = 0)" if np.any(sign == 0) else "has det < 0"
            raise ValueError(f"logdet: matrix {what}; log det needs det > 0\nhelp: for "
                             "a covariance add jitter, K + 1e-6·I; for |det| use slogdet")
        inv_t = np.swapaxes(np.linalg.inv(self.data), -1, -2)  # (..., n, n)
        return self._child(logabs, (self,), lambda g: (np.asarray(g)[..., None, None] * inv_t,),
                           "logdet")

    # ---- conveniences ---------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def __len__(self):
        return len(self.data)

    def detach(self):
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor(self.data, dtype=self.data.dtype)

    def item(self):
        return self.data.item()

    def to_dot(self):
        return to_dot(self)

    def __repr__(self):
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        return f"Tensor({body}{', requires_grad=True' if self.requires_grad else ''})"


def _check_matmul(sa, sb):
    if not sa or not sb:
        raise ValueError(f"matmul: shapes {sa} and {sb}: both operands need ≥ 1 dimension\n"
                         "help: use * to scale by a scalar")
    k_a, k_b = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {k_a} (last dim of "
                         f"the left) != {k_b} (first of the right's last two)\n"
                         "help: transpose one operand with .T or fix its shape")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {sa} and {sb} do not broadcast") from None


def _check_square(op, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: expected square matrices (..., n, n); got shape {a.shape}")
    return a


def _topological_order(root, keep=lambda node: True):
    """Nodes behind ``root`` with every node after its parents; an explicit stack, no recursion."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))  # emitted once all its parents are
            stack.extend((p, False) for p in node._parents if keep(p) and id(p) not in seen)
    return order


def zeros_like(tensor, requires_grad=False):
    """A tensor of zeros with ``tensor``'s shape and dtype."""
    return Tensor(np.zeros_like(tensor.data), requires_grad, dtype=tensor.data.dtype)


def to_dot(tensor):
    """Graphviz DOT text for the graph behind ``tensor`` (render with ``dot -Tsvg``).

    Each tensor is a box (name or op, shape); each op's operands point at its result.

    >>> a = Tensor(2.0, requires_grad=True, name="a")
    >>> print(to_dot(a * a).splitlines()[0])
    digraph autograd {
    """
    lines = ["digraph autograd {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for node in _topological_order(tensor):
        label = (node.name or node._op or "leaf").replace('"', '\\"')
        value = f"{node.data.item():.4g}" if node.data.size == 1 else f"shape {node.shape}"
        lines.append(f'  n{id(node)} [label="{label}\\n{value}"'
                     f'{", style=filled, fillcolor=lightblue" if node.requires_grad else ""}];')
        lines.extend(f"  n{id(p)} -> n{id(node)};" for p in node._parents)
    return "\n".join(lines + ["}"]) + "\n"
