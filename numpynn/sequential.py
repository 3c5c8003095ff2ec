"""``Sequential``: a stack of layers, a loop forward and a reversed loop backward."""
import contextlib
import copy

import numpy as np

from numpynn import functional as F

from numpynn._speed.segments import pack
from numpynn._helpers.html import html_table
from numpynn._helpers.validation import check_array, check_cast, check_int
from numpynn.layers import Layer, Sigmoid

SUMMARY_HEADER = ("Layer", "Output shape", "Params")


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

    Attributes
    ----------
    task : {"multiclass", "binary", "regression"} or None
        What :meth:`predict` returns; set by a ``Trainer`` from its loss, saved with the model
        (None: read from the last layer, see :meth:`predict_proba`).
    classes : list of str or None
        Class names, saved with the model (``numpynn predict`` prints them).

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
        self.task, self.classes = None, None
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

    @contextlib.contextmanager
    def _evaluating(self):
        """Evaluation mode inside the block, the previous mode restored after it."""
        was_training = self.training
        self.eval()
        try:
            yield self
        finally:
            self.train(was_training)

    def astype(self, dtype):
        """A deep copy with every array converted to ``dtype`` (e.g. float64 for grad checks)."""
        model = copy.deepcopy(self)
        for layer in model.layers:
            layer.astype(dtype)
        converted = Sequential(model.layers)   # packed again in the new dtype
        converted.task, converted.classes = self.task, self.classes
        return converted

    # -- prediction -------------------------------------------------------------------------
    def predict_proba(self, X, batch_size=1024):
        """Class probabilities for ``X``, in evaluation mode, in chunks; the mode is restored.

        Multiclass: the softmax of the scores, shape (N, C). Binary: shape (N, 2), the columns
        P(class 0) and P(class 1), from the output itself when the model ends with ``Sigmoid``
        and from its sigmoid (logits, as ``BCEWithLogits`` trains them) otherwise.

        Parameters
        ----------
        X : ndarray of shape (N, D) or (N, d1, …)
        batch_size : int, default 1024

        Returns
        -------
        ndarray of shape (N, C), rows summing to 1
        """
        task = self._task("predict_proba")
        if task == "regression":
            raise ValueError("Sequential.predict_proba: this model does regression (task "
                             "'regression'); it has no class probabilities\nhelp: use "
                             "model.predict(X) for its values")
        out = self._outputs(X, batch_size, "predict_proba")
        if task == "multiclass":
            return F.softmax(out, axis=1)                                  # (N, C)
        p = out if isinstance(self.layers[-1], Sigmoid) else F.sigmoid(out)   # (N, 1)
        return np.concatenate([1 - p, p], axis=1)                          # (N, 2)

    def predict(self, X, batch_size=1024):
        """Predictions for ``X``, in evaluation mode, in chunks; the mode is restored.

        Returns
        -------
        ndarray
            Class indices of shape (N,) for classification (the most probable class; binary:
            P(class 1) > 0.5), the outputs (N, M) for regression.

        Examples
        --------
        >>> import numpynn as nn
        >>> model = nn.Sequential(nn.Linear(2, 3, rng=0))
        >>> model.task = "multiclass"
        >>> model.predict(np.array([[1.0, 0.0], [0.0, 1.0]])).shape
        (2,)
        """
        if self._task("predict") == "regression":
            return self._outputs(X, batch_size, "predict")
        return self.predict_proba(X, batch_size).argmax(axis=1)           # (N,)

    def _task(self, where):
        """``task``, or when unset: binary for one output behind a Sigmoid, multiclass for more
        outputs, regression for one output without a Sigmoid."""
        if self.task is not None:
            return self.task
        shape = self._guess_input_shape()
        for layer in self.layers:
            shape = layer.output_shape(shape) if shape is not None else None
        if shape is None:
            raise ValueError(f"Sequential.{where}: cannot tell the model's task\nhelp: set "
                             "model.task to 'multiclass', 'binary' or 'regression'")
        if shape != (1,):
            return "multiclass"
        return "binary" if isinstance(self.layers[-1], Sigmoid) else "regression"

    def _outputs(self, X, batch_size, where):
        """The outputs for ``X`` in chunks of ``batch_size``, in evaluation mode."""
        x = check_array(X, "X", dtype_kind="fiu", where=f"Sequential.{where}")
        batch_size = check_int(batch_size, "batch_size", minimum=1, where=f"Sequential.{where}")
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"Sequential.{where}: X has shape {x.shape}; expected a non-empty "
                             "batch (N, …)\nhelp: for one sample use X.reshape(1, -1)")
        x = x.astype(self.dtype, copy=False)
        with self._evaluating():
            chunks = [self._forward(x[start:start + batch_size])
                      for start in range(0, len(x), batch_size)]
        return np.concatenate(chunks)

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
    def summary(self, input_shape=None, print_fn=print):
        """Print a Keras-like table (layer, output shape, parameter count, total) and return it.

        Parameters
        ----------
        input_shape : tuple of int, optional
            One sample's shape; by default the first layer's that declares one (``n_in``).
        print_fn : callable or None, default print
            Where the table goes; None prints nothing (to keep the text only).

        Returns
        -------
        str
            The table (its ``repr`` is one short line, so a REPL does not echo it twice).
        """
        rows, header = self._summary_rows(input_shape), SUMMARY_HEADER
        widths = [max(len(r[c]) for r in rows + [header]) for c in range(3)]
        line = "-" * (sum(widths) + 4)
        fmt = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
        body = "\n".join(fmt(r) for r in rows)
        table = _Table(f"{fmt(header)}\n{line}\n{body}\n{line}\n"
                       f"Total params: {self.num_params():,} ({self.dtype.name})")
        if print_fn is not None:
            print_fn(table)
        return table

    def _summary_rows(self, input_shape=None):
        """(layer, output shape, parameter count) per layer, as text: the summary's rows."""
        shape = tuple(input_shape) if input_shape is not None else self._guess_input_shape()
        rows = []
        for i, layer in enumerate(self.layers):
            if shape is not None:
                shape = layer.output_shape(shape)
            count = sum(p.size for p in layer.params.values())
            out = "(N, " + ", ".join(map(str, shape)) + ")" if shape is not None else "?"
            rows.append((f"{i}: {layer!r}", out, f"{count:,}"))
        return rows

    def _repr_html_(self):
        """Jupyter's view: the :meth:`summary` table as HTML."""
        return html_table(SUMMARY_HEADER, self._summary_rows(),
                          footer=f"Total params: {self.num_params():,} ({self.dtype.name})")

    def _guess_input_shape(self):
        for layer in self.layers:
            if hasattr(layer, "in_channels") or hasattr(layer, "kernel_size"):
                return None  # an image layer first: its H × W is not in the model
            n_in = getattr(layer, "n_in", getattr(layer, "num_features", None))
            if n_in is not None:
                return (n_in,)
        return None


def _layer_help(item):
    """The fix for a non-layer passed to Sequential: a class to call, or layer objects."""
    if isinstance(item, type) and issubclass(item, Layer):
        return f"call it: {item.__name__}()"
    return ("pass layer objects, e.g. Sequential(Linear(4, 3), ReLU()); to build from names "
            "use numpynn.mlp(...)")


class _Table(str):
    """A printed table returned as text: ``str`` everywhere, a one-line ``repr``."""

    def __repr__(self):
        return f"<table of {self.count(chr(10)) + 1} lines; print() it>"
