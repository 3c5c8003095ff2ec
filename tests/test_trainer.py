"""Trainer: the loop against PyTorch, resume bit-identity, divergence, shuffling, history."""
import io
import os
import re

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.training.callbacks import Callback, Checkpoint
from numpynn.data import batches
from numpynn.layers import Layer
from numpynn.optim import SGD
from numpynn.training.trainer import History, Trainer, TrainingDiverged


from builders import assert_same_state, blobs, make_trainer, mlp  # tests/ is on sys.path


# -- the loop against an outside oracle ---------------------------------------------------------
def torch_mlp(model):
    """A torch copy of a Linear-Tanh-Linear numpynn model (float64)."""
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    net.double()
    with torch.no_grad():
        for t_layer, layer in ((net[0], model[0]), (net[2], model[2])):
            t_layer.weight.copy_(torch.from_numpy(layer.W.T.copy()))
            t_layer.bias.copy_(torch.from_numpy(layer.b.copy()))
    return net


@pytest.mark.torch
@pytest.mark.parametrize("batch_size", [1, 7, 30])  # sample by sample, ragged last batch, full
def test_unshuffled_training_matches_pytorch(batch_size):
    # Oracle: the same SGD-with-momentum loop written in PyTorch, loss = MSE + ½·reg·Σ‖W‖².
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 5)), rng.normal(size=(30, 2))
    reg, lr, epochs = 0.05, 0.05, 3
    model = nn.Sequential(nn.Linear(5, 8, rng=1, dtype=np.float64), nn.Tanh(),
                          nn.Linear(8, 2, rng=2, dtype=np.float64))
    net = torch_mlp(model)
    trainer = Trainer(model, nn.MSE(), SGD(model.params(), lr=lr, momentum=0.9), reg=reg,
                      progress=False)
    history = trainer.fit(X, Y, epochs=epochs, batch_size=batch_size, shuffle=False)

    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    Xt, Yt, step_losses = torch.from_numpy(X), torch.from_numpy(Y), []
    for _ in range(epochs):
        for start in range(0, 30, batch_size):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(Xt[start:start + batch_size]),
                                                Yt[start:start + batch_size])
            loss = loss + 0.5 * reg * (net[0].weight.square().sum() + net[2].weight.square().sum())
            loss.backward()
            opt.step()
            step_losses.append(loss.item())
    np.testing.assert_allclose(model[0].W, net[0].weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model[2].b, net[2].bias.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(history.iteration_loss, step_losses, rtol=1e-10)
    steps = -(-30 // batch_size)
    assert len(history.iteration_loss) == epochs * steps
    # the epoch loss is the plain mean of its step losses, penalty included
    np.testing.assert_allclose(history.history["loss"],
                               np.reshape(step_losses, (epochs, steps)).mean(axis=1), rtol=1e-12)


def test_learns_sklearn_digits():
    from sklearn.datasets import load_digits
    digits = load_digits()
    X, y = (digits.data / 16.0).astype(np.float32), digits.target
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1200], order[1200:]
    model = mlp([64, 64, 10], seed=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.1, momentum=0.9),
                      rng=1, progress=False)
    trainer.fit(X[train], y[train], epochs=8, batch_size=32)
    assert trainer.evaluate(X[test], y[test])["acc"] > 0.93


# -- resume ---------------------------------------------------------------------------------------
def test_fit_again_continues_like_one_fit():
    rng = np.random.default_rng(2)
    X, y = blobs(rng, n=50)
    a, b = make_trainer("sgd_momentum", "unused"), make_trainer("sgd_momentum", "unused")
    for t in (a, b):
        t.callbacks = []   # no checkpoint files
    a.fit(X, y, epochs=4, batch_size=8)
    b.fit(X, y, epochs=2, batch_size=8)
    history = b.fit(X, y, epochs=4, batch_size=8)   # Keras: epochs is the final index
    assert history.epoch == [0, 1, 2, 3] and len(history.history["loss"]) == 4
    assert_same_state(a, b)


# -- divergence -----------------------------------------------------------------------------------
class PoisonAtEpoch(Callback):
    """Put a NaN into the first weight matrix when epoch ``epoch`` begins."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs):
        if epoch == self.epoch:
            self.trainer.model[0].W[0, 0] = np.nan


def test_nan_loss_stops_with_epoch_and_step_and_keeps_checkpoint(tmp_path):
    rng = np.random.default_rng(4)
    X, y = blobs(rng, n=40)
    model = mlp([6, 8, 3], seed=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.1),
                      callbacks=[PoisonAtEpoch(2), Checkpoint(tmp_path, monitor="loss")],
                      progress=False)
    with pytest.raises(TrainingDiverged, match=r"epoch 3, step 1/5: the loss is nan\n"
                                               r"help: lower the learning rate") as info:
        trainer.fit(X, y, epochs=5, batch_size=8)
    assert isinstance(info.value, FloatingPointError)
    fresh = mlp([6, 8, 3], seed=0)
    resumed = Trainer(fresh, nn.SoftmaxCrossEntropy(), SGD(fresh.params(), lr=0.1),
                      progress=False)
    resumed.load_checkpoint(tmp_path / "last.npz")
    assert resumed.epoch == 2
    assert all(np.isfinite(p).all() for p in resumed.model.params().values())
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "last.npz"]


def test_huge_learning_rate_diverges_with_help():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(64, 4)).astype(np.float32), rng.normal(size=(64, 1)).astype(np.float32)
    model = mlp([4, 16, 1], seed=0)
    trainer = Trainer(model, nn.MSE(), SGD(model.params(), lr=1e6), progress=False)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, step \d+/8.*\nhelp: lower the "
                                               r"learning rate \(lr=1e\+06\)"):
        trainer.fit(X, Y, epochs=20, batch_size=8)


# -- shuffling ------------------------------------------------------------------------------------
class Recorder(Layer):
    """Identity layer remembering feature 0 (the sample's index) of every training batch."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x[:, 0].astype(np.int64))
        return x

    def backward(self, dout):
        return dout


def test_each_epoch_is_a_fresh_permutation_matching_data_batches():
    n, batch_size, epochs = 23, 5, 3
    X = np.column_stack([np.arange(n), np.zeros(n)]).astype(np.float32)
    y = np.arange(n) % 2
    recorder = Recorder()
    model = nn.Sequential(recorder, nn.Linear(2, 2, rng=0))
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.0), rng=11,
                      progress=False)
    trainer.fit(X, y, epochs=epochs, batch_size=batch_size)
    per_epoch = np.split(np.concatenate(recorder.seen), epochs)
    for order in per_epoch:
        np.testing.assert_array_equal(np.sort(order), np.arange(n))   # every sample exactly once
    assert not np.array_equal(per_epoch[0], per_epoch[1])
    assert not np.array_equal(per_epoch[1], per_epoch[2])
    # one shuffling rule: data.batches with the same Generator yields the same batches
    rng = np.random.default_rng(11)
    expected = [xb[:, 0].astype(np.int64) for _ in range(epochs)
                for xb, _ in batches(X, y, batch_size, shuffle=True, rng=rng)]
    assert [len(b) for b in recorder.seen] == [5, 5, 5, 5, 3] * epochs
    for got, want in zip(recorder.seen, expected):
        np.testing.assert_array_equal(got, want)


def test_shuffle_false_keeps_order():
    X = np.column_stack([np.arange(7), np.zeros(7)]).astype(np.float32)
    recorder = Recorder()
    model = nn.Sequential(recorder, nn.Linear(2, 2, rng=0))
    Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.0),
            progress=False).fit(X, np.zeros(7, dtype=np.int64), epochs=2, batch_size=3,
                                shuffle=False)
    np.testing.assert_array_equal(np.concatenate(recorder.seen), np.tile(np.arange(7), 2))


# -- history, tasks, thresholds -------------------------------------------------------------------
def binary_data(rng, n=80):
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, (X[:, :1] > 0).astype(np.float32)   # (N, 1)


TASKS = {  # name -> (model, loss, data maker, expected keys)
    "multiclass": (lambda: mlp([6, 8, 3], 0), nn.SoftmaxCrossEntropy, blobs, True),
    "binary": (lambda: mlp([3, 8, 1], 0, last=nn.Sigmoid()), nn.BCE, binary_data, True),
    "binary_logits": (lambda: mlp([3, 8, 1], 0), nn.BCEWithLogits, binary_data, True),
    "regression": (lambda: mlp([3, 8, 1], 0), nn.MSE,
                   lambda rng: (rng.normal(size=(50, 3)).astype(np.float32),
                                rng.normal(size=(50, 1)).astype(np.float32)), False),
}


@pytest.mark.parametrize("loss, last, threshold", [(nn.BCE(), nn.Sigmoid(), 0.5),
                                                   (nn.BCEWithLogits(), None, 0.0)])
def test_binary_accuracy_threshold(loss, last, threshold):
    # One input feature, W = 1, b = 0: the output is σ(x) or x itself.
    layers = [nn.Linear(1, 1, rng=0)] + ([last] if last else [])
    model = nn.Sequential(layers)
    model[0].W[...] = 1.0
    model[0].b[...] = 0.0
    x = np.array([[-2.0], [-0.1], [0.1], [2.0], [0.0]], dtype=np.float32)
    y = np.array([[0], [1], [1], [1], [1]], dtype=np.float32)
    # predictions: 0, 0, 1, 1 and 0 at the threshold itself (strictly greater means class 1)
    trainer = Trainer(model, loss, SGD(model.params(), lr=0.1), progress=False)
    assert trainer.evaluate(x, y)["acc"] == pytest.approx(3 / 5)
    np.testing.assert_array_equal(trainer.predict(x), [0, 0, 1, 1, 0])
    proba = trainer.predict_proba(x)
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-x[:, 0])), rtol=1e-6)


@pytest.mark.torch
def test_evaluate_includes_penalty_and_predict_matches_forward():
    rng = np.random.default_rng(7)
    X, y = blobs(rng, n=50)
    model = mlp([6, 8, 3], seed=0, dropout=0.5)
    reg = 0.1
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.1), reg=reg,
                      progress=False)
    result = trainer.evaluate(X, y, batch_size=7)   # chunked: ragged last chunk
    scores = torch.from_numpy(model.eval().forward(X).astype(np.float64))
    data_loss = torch.nn.functional.cross_entropy(scores, torch.from_numpy(y)).item()
    penalty = 0.5 * reg * sum(float((p.astype(np.float64) ** 2).sum())
                              for p in model.params().values() if p.ndim == 2)
    np.testing.assert_allclose(result["loss"], data_loss + penalty, rtol=1e-5)
    np.testing.assert_allclose(result["acc"], np.mean(scores.argmax(1).numpy() == y), rtol=0)
    model.train()
    scores = model.eval().forward(X)
    model.train()
    np.testing.assert_array_equal(trainer.predict(X, batch_size=9), scores.argmax(1))
    np.testing.assert_allclose(trainer.predict_proba(X, batch_size=9),
                               torch.softmax(torch.from_numpy(scores), 1).numpy(), rtol=1e-6)
    assert model.training   # the mode is restored


# -- input validation, once per fit ----------------------------------------------------------------
def small_trainer(loss=None, out=3):
    model = mlp([6, 8, out], seed=0, last=nn.Sigmoid() if isinstance(loss, nn.BCE) else None)
    return Trainer(model, loss or nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.1),
                   progress=False)


@pytest.mark.parametrize("args, error, message", [
    ((np.zeros((10, 6)), np.zeros(9, dtype=np.int64)), ValueError, "y has 9 entries; expected 10"),
    ((np.zeros((10, 6)), np.full(10, 3)), ValueError, r"y must lie in \[0, 3\)"),
    ((np.full((10, 6), np.nan), np.zeros(10, dtype=np.int64)), ValueError, "X contains 60 NaN"),
    ((np.zeros((10, 5)), np.zeros(10, dtype=np.int64)), ValueError, r"expected \(N, 6\)"),
    ((np.zeros(6), np.zeros(1, dtype=np.int64)), ValueError, "help: for one sample"),
])
def test_fit_rejects_bad_data(args, error, message):
    with pytest.raises(error, match=message):
        small_trainer().fit(*args, epochs=1)


def test_fit_takes_flat_binary_targets_for_one_output_as_keras_does():
    rng = np.random.default_rng(15)
    X, y = rng.normal(size=(20, 6)).astype(np.float32), (rng.uniform(size=20) > 0.5) * 1.0
    flat, column = small_trainer(nn.BCE(), out=1), small_trainer(nn.BCE(), out=1)
    flat.rng, column.rng = np.random.default_rng(0), np.random.default_rng(0)
    flat.fit(X, y, epochs=2, batch_size=8)
    column.fit(X, y.reshape(-1, 1), epochs=2, batch_size=8)
    for key, value in flat.model.params().items():
        np.testing.assert_array_equal(value, column.model.params()[key])


def test_bce_without_a_final_sigmoid_gets_the_courses_advice_before_training():
    model = mlp([6, 8, 1], seed=0)        # no Sigmoid: outputs outside [0, 1]
    trainer = Trainer(model, nn.BCE(), SGD(model.params(), lr=1e-6), progress=False)
    X = np.random.default_rng(16).normal(size=(20, 6)).astype(np.float32) * 5
    with pytest.raises(ValueError, match=r"help: BCE takes probabilities; pass raw scores to "
                                         r"BCEWithLogits"):
        trainer.fit(X, np.ones(20), epochs=1)
    assert trainer.epoch == 0


def test_one_hot_labels_get_a_hint_that_works():
    X, y = np.zeros((10, 6), np.float32), np.eye(3)[np.arange(10) % 3]
    with pytest.raises(ValueError, match=r"one-hot rows.*\nhelp: pass y.argmax\(1\)"):
        small_trainer().fit(X, y, epochs=1)
    small_trainer().fit(X, y.argmax(1), epochs=1)      # the hint's fix trains


def test_fit_arguments():
    X, y = np.zeros((10, 6), dtype=np.float32), np.zeros(10, dtype=np.int64)
    trainer = small_trainer()
    with pytest.raises(ValueError, match="give both X_val and y_val"):
        trainer.fit(X, y, X, epochs=1)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; got 0"):
        trainer.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match="Invalid reg"):
        Trainer(trainer.model, nn.MSE(), trainer.optimizer, reg=-1.0)
    with pytest.raises(TypeError, match="loss_fn must be a numpynn loss"):
        Trainer(trainer.model, lambda p, t: (0.0, p), trainer.optimizer)


def test_batch_size_larger_than_data_is_full_batch():
    rng = np.random.default_rng(8)
    X, y = blobs(rng, n=20)
    history = small_trainer().fit(X, y, epochs=3, batch_size=1000)
    assert len(history.iteration_loss) == 3


def test_progress_lines_when_not_a_terminal():
    rng = np.random.default_rng(9)
    X, y = blobs(rng, n=30)
    stream = io.StringIO()
    model = mlp([6, 8, 3], seed=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.01),
                      progress=stream)
    trainer.fit(X, y, X, y, epochs=3)
    lines = stream.getvalue().splitlines()
    pattern = (r"Epoch {}/3 loss=\d+\.\d{{4}} acc=\d\.\d{{4}} val_loss=\d+\.\d{{4}} "
               r"val_acc=\d\.\d{{4}} lr=0\.01 \(\d+\.\ds\)")
    assert len(lines) == 3
    for i, line in enumerate(lines, start=1):
        assert re.fullmatch(pattern.format(i), line), line


def test_progress_false_is_silent(capsys):
    rng = np.random.default_rng(10)
    X, y = blobs(rng, n=30)
    model = mlp([6, 8, 3], seed=0)
    Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.01),
            progress=False).fit(X, y, epochs=2)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("layers", ["mlp", "every", "conv"])
def test_a_trainer_epoch_equals_the_textbook_loop_bit_for_bit(opt_name, layers):
    """The Trainer's steps (reused arrays, no dx for the first layer, trusted kernels) give the
    same weights as model.forward / loss / model.backward / opt.step on the same batches,
    including the last, smaller batch."""
    rng = np.random.default_rng(13)
    X, y = blobs(rng, n=45)

    def build():
        if layers == "mlp":
            return mlp([6, 8, 3], seed=0)
        if layers == "conv":  # the first Conv2d skips its dx; 6 features as 1×2×3 images
            return nn.models.convnet((1, 2, 3), conv=[4], hidden=[5], n_out=3, rng=0)
        return nn.Sequential(nn.Linear(6, 8, rng=0), nn.BatchNorm(8), nn.ReLU(), nn.Dropout(0.2, rng=3),
                             nn.Linear(8, 8, rng=1), nn.Tanh(), nn.LayerNorm(8), nn.ReLU(),
                             nn.Linear(8, 3, rng=2))

    trained, by_hand = build(), build()
    opts = [nn.OPTIMIZERS[opt_name](m.params(), lr=0.05) for m in (trained, by_hand)]
    Trainer(trained, nn.SoftmaxCrossEntropy(), opts[0], rng=7, progress=False).fit(
        X, y, epochs=2, batch_size=16)
    order_rng, loss_fn = np.random.default_rng(7), nn.SoftmaxCrossEntropy()
    by_hand.train()
    for _ in range(2):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), 16):
            idx = order[start:start + 16]
            _, dout = loss_fn(by_hand.forward(X[idx]), y[idx])
            by_hand.backward(dout)
            opts[1].step(by_hand.grads())
    for key, value in trained.params().items():
        np.testing.assert_array_equal(value, by_hand.params()[key], err_msg=key)
    for key, value in trained.buffers().items():
        np.testing.assert_array_equal(value, by_hand.buffers()[key], err_msg=key)


def textbook_epochs(model, opt, X, y, epochs, batch_size, order_rng):
    """``epochs`` of model.forward / loss / model.backward / opt.step, in the order of a Trainer
    whose Generator is ``order_rng``."""
    loss_fn = nn.SoftmaxCrossEntropy()
    model.train()
    for _ in range(epochs):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            _, dout = loss_fn(model.forward(X[idx]), y[idx])
            model.backward(dout)
            opt.step(model.grads())


@pytest.mark.parametrize("blas_outer", [True, False])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_sample_by_sample_training_equals_the_textbook_loop_bit_for_bit(opt_name, blas_outer,
                                                                        monkeypatch):
    """At batch size 1 the Trainer computes each dW as an outer product (through BLAS for the
    200×100 layer, NumPy's broadcast for the small ones, or NumPy's for all without BLAS):
    the same weights as the textbook loop's matmul."""
    if not blas_outer:
        from numpynn._speed import blas
        monkeypatch.setattr(blas, "_GEMM", {})
    rng = np.random.default_rng(14)
    X = rng.standard_normal((40, 200)).astype(np.float32)
    y = rng.integers(3, size=40)
    trained, by_hand = mlp([200, 100, 8, 3], seed=0), mlp([200, 100, 8, 3], seed=0)
    opts = [nn.OPTIMIZERS[opt_name](m.params(), lr=0.01) for m in (trained, by_hand)]
    Trainer(trained, nn.SoftmaxCrossEntropy(), opts[0], rng=7, progress=False).fit(
        X, y, epochs=2, batch_size=1)
    textbook_epochs(by_hand, opts[1], X, y, 2, 1, np.random.default_rng(7))
    for key, value in trained.params().items():
        np.testing.assert_array_equal(value, by_hand.params()[key], err_msg=key)
    for key, value in trained.grads().items():   # the last step's gradients, too
        np.testing.assert_array_equal(value, by_hand.grads()[key], err_msg=key)


def test_one_workspace_serves_batches_of_several_shapes():
    """Each batch shape gets its own arrays: alternating shapes gives the textbook's weights."""
    rng = np.random.default_rng(15)
    X, y = blobs(rng, n=45)
    trained, by_hand = mlp([6, 8, 3], seed=0), mlp([6, 8, 3], seed=0)
    opts = [SGD(m.params(), lr=0.05) for m in (trained, by_hand)]
    trainer = Trainer(trained, nn.SoftmaxCrossEntropy(), opts[0], rng=7, progress=False)
    for batch_size in (1, 16, 7, 1, 16):   # the last batches: 45 % 16 = 13, 45 % 7 = 3
        trainer.fit(X, y, epochs=trainer.epoch + 1, batch_size=batch_size)
    order_rng = np.random.default_rng(7)
    for batch_size in (1, 16, 7, 1, 16):
        textbook_epochs(by_hand, opts[1], X, y, 1, batch_size, order_rng)
    for key, value in trained.params().items():
        np.testing.assert_array_equal(value, by_hand.params()[key], err_msg=key)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("with_val", [False, True])
def test_history_keys_per_task(task, with_val):
    make_model, make_loss, make_data, has_acc = TASKS[task]
    rng = np.random.default_rng(6)
    X, y = make_data(rng)
    model = make_model()
    trainer = Trainer(model, make_loss(), SGD(model.params(), lr=0.05), rng=0, progress=False)
    history = trainer.fit(X, y, X, y, epochs=2) if with_val else trainer.fit(X, y, epochs=2)
    keys = ["loss"] + ["acc"] * has_acc
    keys += [f"val_{k}" for k in keys] * with_val
    assert list(history.history) == keys + ["lr"]
    assert all(len(v) == 2 for v in history.history.values())
    assert isinstance(history, History) and history.epoch == [0, 1]
    assert history.history["lr"] == [0.05, 0.05]
    if with_val:   # validation equals evaluate on the same data after the epoch
        last = trainer.evaluate(X, y)
        assert history.history["val_loss"][-1] == pytest.approx(last["loss"], rel=1e-6)


def test_a_lone_last_sample_joins_the_batch_before_it_with_batch_norm():
    """809 digits at batch 8 leave one sample over: batch norm cannot train on it alone, so it
    joins the last full batch; every sample is still seen once per epoch."""
    rng = np.random.default_rng(14)
    X, y = blobs(rng, n=17)
    model = mlp([6, 8, 3], seed=0, batchnorm=True)
    seen = []

    class Count(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(len(self.trainer.history.iteration_loss))

    Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.1), rng=0,
            callbacks=[Count()], progress=False).fit(X, y, epochs=2, batch_size=8)
    assert seen == [2, 4]            # batches of 8 and 9, not 8, 8 and 1
    plain = mlp([6, 8, 3], seed=0)
    history = Trainer(plain, nn.SoftmaxCrossEntropy(), SGD(plain.params(), lr=0.1), rng=0,
                      progress=False).fit(X, y, epochs=1, batch_size=8)
    assert len(history.iteration_loss) == 3   # without batch norm the lone batch is kept


def test_fit_refuses_data_the_cast_would_turn_into_inf():
    X, y = blobs(np.random.default_rng(0))
    huge = X.astype(np.float64)
    huge[3, 2] = -2e39
    model = mlp([6, 8, 3], seed=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), SGD(model.params(), lr=0.1), progress=False)
    with pytest.raises(ValueError, match=r"^Trainer\.fit: X holds values up to 2e\+39"):
        trainer.fit(huge, y, epochs=1, batch_size=8)
    model = mlp([6, 1], seed=0)
    trainer = Trainer(model, nn.MSE(), SGD(model.params(), lr=0.1), progress=False)
    with pytest.raises(ValueError, match=r"y holds values up to 1e\+39"):
        trainer.fit(X, np.full((len(X), 1), 1e39), epochs=1, batch_size=8)
