"""A float32 model never produces a float64 array: forward, backward, loss, optimizer state."""
import numpy as np
import pytest

import numpynn as nn


def every_layer_model():
    return nn.Sequential(nn.Linear(12, 16, rng=0), nn.BatchNorm(16), nn.ReLU(), nn.Dropout(0.1, rng=1),
                         nn.Linear(16, 16, rng=2), nn.LayerNorm(16), nn.GELU(), nn.Swish(),
                         nn.ELU(), nn.LeakyReLU(), nn.ScaledTanh(), nn.Tanh(), nn.Sigmoid(),
                         nn.Linear(16, 3, rng=3))


def record_dtypes(model, seen):
    """Wrap each layer's forward and backward to record the dtype of what they return."""
    for layer in model:
        def wrap(method, label):
            def recorded(*args, **kwargs):
                result = method(*args, **kwargs)
                if result is not None:
                    seen.append((label, result.dtype))
                return result
            return recorded
        layer.forward = wrap(layer.forward, f"{layer!r}.forward")
        layer.backward = wrap(layer.backward, f"{layer!r}.backward")


@pytest.mark.parametrize("optimizer", sorted(nn.OPTIMIZERS))
def test_training_stays_float32(optimizer):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 12)).astype(np.float32), rng.integers(0, 3, 40)
    model = every_layer_model()
    seen = []
    record_dtypes(model, seen)
    opt = nn.OPTIMIZERS[optimizer](model.params(), lr=1e-3)
    trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), opt, reg=1e-3, clip_norm=1.0,
                         schedule=nn.ExponentialLR(opt, 0.9), rng=0, progress=False)
    trainer.fit(X, y, X, y, epochs=2, batch_size=8)
    assert seen and {dtype for _, dtype in seen} == {np.dtype(np.float32)}, \
        [label for label, dtype in seen if dtype != np.float32][:5]
    arrays = {**model.params(), **model.grads(), **model.buffers()}
    arrays.update({k: v for k, v in opt.state_dict().items()
                   if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.ndim > 0
                   and k.startswith("state.")})
    assert {v.dtype for v in arrays.values()} == {np.dtype(np.float32)}
    assert trainer.predict_proba(X).dtype == np.float32


@pytest.mark.parametrize("loss_fn,pred_shape,target", [
    (nn.SoftmaxCrossEntropy(), (5, 3), np.array([0, 1, 2, 0, 1])),
    (nn.Hinge(), (5, 3), np.array([0, 1, 2, 0, 1])),
    (nn.BCE(), (5, 1), np.full((5, 1), 1.0)),           # float64 targets must not upcast
    (nn.BCEWithLogits(), (5, 1), np.full((5, 1), 1.0)),
    (nn.MSE(), (5, 2), np.zeros((5, 2))),
    (nn.L1(), (5, 2), np.ones((5, 2))),
])
def test_losses_keep_float32(loss_fn, pred_shape, target):
    pred = np.full(pred_shape, 0.25, dtype=np.float32)
    _, dpred = loss_fn(pred, target)
    assert dpred.dtype == np.float32
