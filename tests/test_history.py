"""History: what fit recorded, and its exact round trip through a checkpoint's state."""
import json

import numpy as np

from numpynn.training.history import History


def test_append_keeps_each_metric_in_epoch_order():
    history = History()
    history.append(0, {"loss": 2.0, "acc": 0.5})
    history.append(1, {"loss": 1.5, "acc": 0.75})
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [2.0, 1.5], "acc": [0.5, 0.75]}
    assert repr(history) == "History(epochs=2, keys=['loss', 'acc'])"


def test_state_round_trip_is_exact_through_json_and_arrays():
    history = History()
    history.append(0, {"loss": 0.1 + 0.2, "lr": 1e-3})
    history.iteration_loss = [0.1 + 0.2, 1 / 3, 2.0 ** -40]
    arrays = {}
    meta = json.loads(json.dumps(history.state(arrays)))   # what a checkpoint stores
    restored = History.from_state(meta, arrays)
    assert restored.history == history.history and restored.epoch == history.epoch
    assert restored.iteration_loss == history.iteration_loss     # float64, bit for bit
    assert arrays["history/iteration_loss"].dtype == np.float64
