"""``Sequential``: a stack of layers, a loop forward and a reversed loop backward."""
import copy

import numpy as np

from numpynn._speed.segments import pack
from numpynn._helpers.validation import check_array, check_cast
from numpynn.layers import Layer


class Sequential:
    """Layers applied one after another.

    ``forward`` runs ``x → layer_0 → layer_1 → …``; ``backward(dout)`` runs the layers' backward
    passes in reverse and returns dL/dx. Parameters are exposed as flat dicts with stable names
    ``"<index>.<name>"`` (``"0.W"``, ``"0.b"``, ``"2.gamma"``, …) holding the layers' very arrays.

    On construction the layers' parameters, and their gradients, move into one flat buffer each
    (values unchanged; every layer keeps views of its part), so an optimizer updates them all as
    one vector. Build optimizers from ``model.params()`` once the model exists: the arrays left
    behind are read-only, and an optimizer built on them refuses to step.

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
                                f"got {type(layer).__name__}\nhelp: {_layer_help(layer)}")
        self.layers = list(layers)
        for table in ("params", "grads"):
            pack(self.layers, table)   # one vector each: the optimizer's fast path (numpynn._speed)

    # -- the two passes ---------------------------------------------------------------------
    def forward(self, x):
        """Compute the output for a batch ``x`` of shape (N, …); validates ``x`` once.

        Inputs are cast to the model's dtype (integer images included); NaN or inf is an error,
        and so is a value the cast would turn into inf (a float64 1e39 for a float32 model).
        """
        x = check_array(x, "x", dtype_kind="fiu", where="Sequential.forward")
        if x.ndim < 2:
            raise ValueError(f"Sequential.forward: x has shape {x.shape}; expected a batch (N, …)"
                             "\nhelp: for one sample use x.reshape(1, -1)")
        return self._forward(check_cast(x, self.dtype, "x", where="Sequential.forward"))

    def _forward(self, x):
        """:meth:`forward` on a trusted ``x`` (the Trainer checks its data once per ``fit``)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        """Backpropagate ``dout`` (dL/d output) through every layer in reverse; returns dL/dx.

        Each layer writes its parameter gradients into its ``grads`` (see :meth:`grads`).
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

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


def _layer_help(item):
    """The fix for a non-layer passed to Sequential: a class to call, or layer objects."""
    if isinstance(item, type) and issubclass(item, Layer):
        return f"call it: {item.__name__}()"
    return ("pass layer objects, e.g. Sequential(Linear(4, 3), ReLU()); to build from names "
            "use numpynn.mlp(...)")
