"""What training recorded (Keras's ``History``: per-epoch metrics and every step's loss) and
what evaluation measured (:class:`Evaluation`, the dict ``Trainer.evaluate`` returns)."""
import numpy as np

from numpynn._helpers.html import html_table


def format_metric(key, value):
    """A metric as the epoch lines print it: ``%g`` for the rate, 4 decimals otherwise."""
    return f"{value:g}" if key == "lr" else f"{value:.4f}"


class History:
    """What ``fit`` recorded (Keras's ``History``).

    Attributes
    ----------
    history : dict of str -> list of float
        Per-epoch values: ``"loss"`` and, unless the task is regression, ``"acc"``; with
        validation data ``"val_loss"`` and ``"val_acc"``; and ``"lr"``, the rate used in
        that epoch.
    epoch : list of int
        The epochs recorded, counted from 0.
    iteration_loss : list of float
        The loss of every optimizer step, in order.
    """

    def __init__(self):
        self.history, self.epoch, self.iteration_loss = {}, [], []

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def state(self, arrays):
        """JSON metadata; the iteration losses go into ``arrays`` (exact float64)."""
        arrays["history/iteration_loss"] = np.asarray(self.iteration_loss, dtype=np.float64)
        return {"history": self.history, "epoch": self.epoch}

    @classmethod
    def from_state(cls, meta, arrays):
        history = cls()
        history.history = {k: list(v) for k, v in meta["history"].items()}
        history.epoch = list(meta["epoch"])
        history.iteration_loss = arrays["history/iteration_loss"].tolist()
        return history

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def _repr_html_(self):
        """Jupyter's view: one row per epoch (counted from 1, as the epoch lines), one column
        per metric."""
        keys = list(self.history)
        rows = [(epoch + 1, *(format_metric(k, self.history[k][i]) for k in keys))
                for i, epoch in enumerate(self.epoch)]
        return html_table(("epoch", *keys), rows,
                          caption=f"History: {len(self.epoch)} epochs, "
                                  f"{len(self.iteration_loss)} steps")


class Evaluation(dict):
    """``{"loss": float, "acc": float}`` from ``Trainer.evaluate``: a plain dict (equal to one,
    same ``repr``, JSON-ready) that Jupyter shows as a small table.

    >>> Evaluation(loss=0.25, acc=0.5) == {"loss": 0.25, "acc": 0.5}
    True
    """

    def _repr_html_(self):
        return html_table(("metric", "value"),
                          [(k, format_metric(k, v)) for k, v in self.items()],
                          caption="Evaluation")
