"""What training recorded: per-epoch metrics and every step's loss (Keras's ``History``)."""
import numpy as np


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
