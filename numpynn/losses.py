"""Loss objects: validate ``(pred, target)`` once at the boundary, then call a kernel in functional.

Every loss is called as ``loss, dpred = loss_fn(pred, target)``: ``loss`` is a Python float (mean
over the batch) and ``dpred`` has pred's shape and dtype, ready for ``model.backward``.
Class attributes tell the trainer how to read predictions: ``task`` is ``"multiclass"``,
``"binary"`` or ``"regression"``; binary losses also give the decision ``threshold`` on pred
(0.5 for probabilities, 0 for logits). ``predict(pred)`` applies that rule.

>>> import numpy as np
>>> loss, dscores = SoftmaxCrossEntropy()(np.zeros((2, 4)), np.array([0, 3]))
>>> round(loss, 6), dscores.shape
(1.386294, (2, 4))
"""
import numpy as np

from numpynn import functional as F
from numpynn._helpers.validation import (check_array, check_labels, check_nonempty,
                                         check_positive, check_same_shape, check_unit_interval)


class Loss:
    """Base class: ``__call__`` validates pred and target, then calls :meth:`_compute`.

    Subclasses set the class attributes, fill :meth:`_compute` (the private kernel of
    :mod:`numpynn.functional` with the loss's configuration) and may extend :meth:`check_target`.

    Attributes
    ----------
    name : str
        Registry key in :data:`LOSSES`.
    task : {"multiclass", "binary", "regression"}
    threshold : float or None
        Binary tasks: pred > threshold means class 1.
    pred_ndim : int or None
        Required rank of pred (None: any).
    """

    name = None
    task = "regression"
    threshold = None
    pred_ndim = None

    def __call__(self, pred, target):
        """Return ``(loss: float, dpred)`` for predictions ``pred`` and targets ``target``."""
        where = type(self).__name__
        pred = check_nonempty(check_array(pred, "pred", ndim=self.pred_ndim, where=where), "pred",
                              where)
        target = self.check_target(pred, target, where)
        return self._compute(pred, target)

    def _compute(self, pred, target):
        """``(loss, dpred)`` with no checks: for callers that validated pred and target already
        (``__call__``, and the Trainer's hot loop after one check per ``fit``)."""
        raise NotImplementedError

    def check_target(self, pred, target, where):
        """Elementwise losses: a finite numeric target of EXACTLY pred's shape (no broadcasting)."""
        target = check_array(target, "target", dtype_kind="fiu", where=where)
        check_same_shape(pred, target, "pred", "target", where=where)
        return target

    def predict(self, pred):
        """Regression: the prediction is the value itself."""
        return pred

    def config(self):
        """Constructor keyword arguments; empty by default."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class _Multiclass(Loss):
    """Scores of shape (N, C) against integer labels of shape (N,) in [0, C)."""

    task = "multiclass"
    pred_ndim = 2

    def check_target(self, pred, target, where):
        return check_labels(target, pred.shape[1], name="labels", n_samples=pred.shape[0],
                            where=where)

    def predict(self, pred):
        """Class indices, shape (N,): the argmax of the scores."""
        return pred.argmax(axis=1)


class _Binary(Loss):
    """Elementwise binary targets in [0, 1] (hard 0/1 labels or soft probabilities)."""

    task = "binary"

    def check_target(self, pred, target, where):
        return check_unit_interval(super().check_target(pred, target, where), "target", where)

    def predict(self, pred):
        """0/1 labels of pred's shape: 1 where pred > threshold."""
        return (pred > self.threshold).astype(np.int64)


class SoftmaxCrossEntropy(_Multiclass):
    """Softmax cross-entropy: L = −1/N Σ_n log softmax(s_n)[y_n] (``torch.nn.CrossEntropyLoss``).

    pred: scores (logits) of shape (N, C); target: integer labels of shape (N,).
    """

    name = "cross_entropy"

    def _compute(self, pred, target):
        return F._softmax_cross_entropy(pred, target)


class Hinge(_Multiclass):
    """Multiclass SVM loss: L = 1/N Σ_n Σ_{j≠y_n} max(0, s_nj − s_ny_n + margin).

    Equals C · ``torch.nn.functional.multi_margin_loss(s, y, margin=margin)``.

    Parameters
    ----------
    margin : float, default 1.0
    """

    name = "hinge"

    def __init__(self, margin=1.0):
        self.margin = check_positive(margin, "margin", allow_zero=True, where="Hinge")

    def _compute(self, pred, target):
        return F._hinge(pred, target, self.margin)

    def config(self):
        return {"margin": self.margin}


class BCE(_Binary):
    """Binary cross-entropy of probabilities in [0, 1] (``torch.nn.BCELoss``, logs clamped at −100).

    pred and target: the same shape, e.g. (N, 1); mean over all elements.
    """

    name = "bce"
    threshold = 0.5

    def check_target(self, pred, target, where):
        check_unit_interval(pred, "pred", where,
                            "\nhelp: BCE takes probabilities; pass raw scores to BCEWithLogits")
        return super().check_target(pred, target, where)

    def _compute(self, pred, target):
        return F._binary_cross_entropy(pred, target)


class BCEWithLogits(_Binary):
    """Binary cross-entropy of σ(logits), computed stably (``torch.nn.BCEWithLogitsLoss``)."""

    name = "bce_with_logits"
    threshold = 0.0

    def _compute(self, pred, target):
        return F._bce_with_logits(pred, target)


class MSE(Loss):
    """Mean squared error over all elements (``torch.nn.MSELoss``)."""

    name = "mse"

    def _compute(self, pred, target):
        return F._mse(pred, target)


class L1(Loss):
    """Mean absolute error over all elements (``torch.nn.L1Loss``).

    The gradient sign(pred − target)/size takes the subgradient 0 where pred == target.
    """

    name = "l1"

    def _compute(self, pred, target):
        return F._l1(pred, target)


LOSSES = {
    "cross_entropy": SoftmaxCrossEntropy,
    "bce": BCE,
    "bce_with_logits": BCEWithLogits,
    "mse": MSE,
    "l1": L1,
    "hinge": Hinge,
}
"""name -> Loss class: the single source of loss names (CLI choices, configs, tests)."""


def l2_penalty(params, reg):
    """L2 weight penalty ½·reg·Σ_W ‖W‖² over weight arrays (ndim >= 2); biases are not penalised.

    Parameters
    ----------
    params : dict of str -> ndarray
    reg : float >= 0

    Returns
    -------
    penalty : float
    grads : dict with EVERY key of ``params``: reg·W for weights, zeros for arrays with ndim < 2,
        each in its parameter's dtype, so callers can add them to the data gradients directly.

    >>> penalty, grads = l2_penalty({"W": np.ones((2, 2)), "b": np.ones(2)}, reg=0.1)
    >>> round(penalty, 6), grads["W"].tolist(), grads["b"].tolist()
    (0.2, [[0.1, 0.1], [0.1, 0.1]], [0.0, 0.0])
    """
    check_positive(reg, "reg", allow_zero=True, where="l2_penalty")
    weights = {k: p for k, p in params.items() if p.ndim >= 2}
    penalty = 0.5 * reg * sum(float(np.vdot(w, w)) for w in weights.values())
    grads = {k: reg * p if k in weights else np.zeros_like(p) for k, p in params.items()}
    return penalty, grads
