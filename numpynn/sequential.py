"""``Sequential``: a stack of layers, a loop forward and a reversed loop backward."""
import copy

import numpy as np

from numpynn._speed import aligned
from numpynn._helpers.validation import check_array
from numpynn.layers import Layer


class Sequential:
    """Layers applied one after another.

    ``forward`` runs ``x → layer_0 → layer_1 → …``; ``backward(dout)`` runs the layers' backward
    passes in reverse and returns dL/dx. Parameters are exposed as flat dicts with stable names
    ``"<index>.<name>"`` (``"0.W"``, ``"0.b"``, ``"2.gamma"``, …) holding the layers' very arrays.

    On construction the layers' parameters, and their gradients, move into one flat buffer each
    (values unchanged; every layer keeps views of its part), so an optimizer updates them all as
    one vector. Build optimizers from ``model.params()`` once the model exists: one built on a
    layer's arrays before would keep updating the old ones.

    Parameters
    ----------
    *layers : Layer
        Or a single list of layers.

    Examples
    --------
    >>> import numpynn as nn
    >>> model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
    >>> sorted(model.params())
    ['0.W', '0.b', '2.W', '2.b']
    >>> model.num_params()
    67
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: layer {i} must be a numpynn Layer; "
                                f"got {type(layer).__name__}")
        self.layers = list(layers)
        for table in ("params", "grads"):
            _pack(self.layers, table)

    # -- the two passes ---------------------------------------------------------------------
    def forward(self, x):
        """Compute the output for a batch ``x`` of shape (N, …); validates ``x`` once.

        Inputs are cast to the model's dtype (integer images included); NaN or inf is an error.
        """
        x = check_array(x, "x", dtype_kind="fiu", where="Sequential.forward")
        if x.ndim < 2:
            raise ValueError(f"Sequential.forward: x has shape {x.shape}; expected a batch (N, …)"
                             "\nhelp: for one sample use x.reshape(1, -1)")
        return self.forward_trusted(x.astype(self.dtype, copy=False))

    def forward_trusted(self, x, reuse=False):
        """``forward`` without input validation, for callers that validated once (the Trainer).

        ``reuse=True`` lets the layers that can (``reuses_outputs``) write into their arrays
        of the previous call, which this call's outputs then overwrite: the Trainer's steps.
        """
        for layer in self.layers:
            x = layer.forward(x, reuse=True) if reuse and layer.reuses_outputs else layer.forward(x)
        return x

    def backward(self, dout, need_dx=True, reuse=False):
        """Backpropagate ``dout`` (dL/d output) through every layer; returns dL/dx.

        With ``need_dx=False`` (what training needs) the pass stops at the first layer that has
        parameters, which computes only its parameter gradients, and None is returned.
        ``reuse`` is :meth:`forward_trusted`'s.
        """
        layers = self.layers
        first = 0 if need_dx else next((i for i, layer in enumerate(layers) if layer.params), None)
        if first is None:
            return None  # nothing to train: no gradient is needed at all
        for layer in reversed(layers[first + 1:]):
            dout = layer.backward(dout, reuse=True) if reuse and layer.reuses_outputs \
                else layer.backward(dout)
        if need_dx:
            return layers[first].backward(dout)
        return layers[first].backward(dout, False)

    __call__ = forward

    # -- parameters and state ---------------------------------------------------------------
    def _collect(self, table):
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers)
                for key, value in getattr(layer, table).items()}

    def params(self):
        """Flat dict ``{"0.W": W, …}`` of every trainable array (the very arrays)."""
        return self._collect("params")

    def grads(self):
        """Flat dict of gradients, keyed like :meth:`params`."""
        return self._collect("grads")

    def buffers(self):
        """Flat dict of non-trainable state (batch norm running statistics)."""
        return self._collect("buffers")

    def num_params(self):
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params().values()))

    def rng_states(self):
        """The random-generator states of layers that draw randomness (dropout), by index."""
        return {str(i): layer.rng.bit_generator.state
                for i, layer in enumerate(self.layers) if hasattr(layer, "rng")}

    def set_rng_states(self, states):
        """Restore states from :meth:`rng_states`."""
        for i, state in states.items():
            self.layers[int(i)].rng.bit_generator.state = state

    @property
    def dtype(self):
        """The dtype of the parameters (float32 unless converted); float32 for no parameters."""
        return next((p.dtype for p in self.params().values()), np.dtype(np.float32))

    @property
    def training(self):
        return all(layer.training for layer in self.layers)

    def train(self, mode=True):
        """Training mode: dropout drops, batch norm uses batch statistics. Returns self."""
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self):
        """Evaluation mode. Returns self."""
        return self.train(False)

    def astype(self, dtype):
        """A deep copy with every array converted to ``dtype`` (e.g. float64 for grad checks)."""
        model = copy.deepcopy(self)
        for layer in model.layers:
            layer.astype(dtype)
        return Sequential(model.layers)   # packed again in the new dtype

    def explain(self, x, y, loss_fn, lr, **kwargs):
        """Worked solution for one input: see :func:`numpynn.course.explain.explain`."""
        from numpynn.course.explain import explain
        return explain(self, x, y, loss_fn, lr, **kwargs)

    # -- a container ----------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"

    # -- summary --------------------------------------------------------------------------
    def summary(self, input_shape=None):
        """A Keras-like table: layer, output shape, parameter count, total.

        Parameters
        ----------
        input_shape : tuple of int, optional
            One sample's shape; by default the first Linear layer's ``(n_in,)``.

        Returns
        -------
        str
        """
        shape = tuple(input_shape) if input_shape is not None else self._guess_input_shape()
        rows = []
        for i, layer in enumerate(self.layers):
            if shape is not None:
                shape = layer.output_shape(shape)
            count = sum(p.size for p in layer.params.values())
            out = "(N, " + ", ".join(map(str, shape)) + ")" if shape is not None else "?"
            rows.append((f"{i}: {layer!r}", out, f"{count:,}"))
        header = ("Layer", "Output shape", "Params")
        widths = [max(len(r[c]) for r in rows + [header]) for c in range(3)]
        line = "-" * (sum(widths) + 4)
        fmt = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
        body = "\n".join(fmt(r) for r in rows)
        return (f"{fmt(header)}\n{line}\n{body}\n{line}\n"
                f"Total params: {self.num_params():,} ({self.dtype.name})")

    def _guess_input_shape(self):
        first = next((layer for layer in self.layers if hasattr(layer, "n_in")), None)
        return (first.n_in,) if first is not None else None


def _pack(layers, table):
    """Move every array of the layers' ``table`` ("params" or "grads") into one flat buffer,
    in order, each layer keeping a view of its part (values unchanged).

    An optimizer built on ``model.params()`` then updates all parameters as one vector, in a
    few NumPy calls whatever their number (see ``numpynn.optim``). Nothing moves unless every
    array owns its memory (arrays already packed by another model, e.g. shared layers, stay
    where they are), appears once and all share one dtype.
    """
    entries = [(layer, key, a) for layer in layers for key, a in getattr(layer, table).items()]
    arrays = [a for _, _, a in entries]
    if (len(arrays) < 2 or any(a.base is not None for a in arrays)
            or len({id(a) for a in arrays}) < len(arrays) or len({a.dtype for a in arrays}) > 1):
        return
    flat = aligned.empty(sum(a.size for a in arrays), arrays[0].dtype)
    start = 0
    for layer, key, a in entries:
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        getattr(layer, table)[key] = view
        start += a.size
