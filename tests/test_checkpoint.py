"""Training checkpoints: a resume is bit-identical, restores every callback, refuses files of
another architecture, and never keeps weights that went NaN."""
import numpy as np
import pytest

import numpynn as nn
from builders import OPTIMIZERS, assert_same_state, blobs, make_trainer, mlp
from numpynn.optim import SGD, Adam
from numpynn.training.callbacks import Checkpoint
from numpynn.training.trainer import Trainer, TrainingDiverged


class PoisonSGD(SGD):
    """SGD whose ``at``-th step leaves a NaN in the weights (a finite loss until next step)."""

    at = 10

    def _step(self, grads):   # what the Trainer calls every step
        super()._step(grads)
        if self.step_count == self.at:
            self.params["0.W"][0, 0] = np.nan



@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("stop_after", [1, 3])
def test_resume_from_checkpoint_is_bit_identical(name, stop_after, tmp_path):
    rng = np.random.default_rng(0)
    X, y = blobs(rng, n=100)
    Xv, yv = blobs(rng, n=30)
    full = make_trainer(name, tmp_path / "full")
    full.fit(X, y, Xv, yv, epochs=5, batch_size=16)

    first = make_trainer(name, tmp_path / "run")
    first.fit(X, y, Xv, yv, epochs=stop_after, batch_size=16)
    resumed = make_trainer(name, tmp_path / "run")
    for layer in resumed.model.params().values():   # prove the weights come from the file
        layer[...] = 0
    resumed.load_checkpoint(tmp_path / "run" / "last.npz")
    assert resumed.epoch == stop_after
    resumed.fit(X, y, Xv, yv, epochs=5, batch_size=16)
    assert_same_state(full, resumed)
    assert resumed.history.epoch == list(range(5))



def test_resume_restores_early_stopping_state(tmp_path):
    rng = np.random.default_rng(1)
    X, y = blobs(rng, n=60)
    Xv, yv = blobs(rng, n=20)
    first = make_trainer("adam", tmp_path, patience=2)
    first.fit(X, y, Xv, yv, epochs=2, batch_size=16)
    resumed = make_trainer("adam", tmp_path, patience=2).load_checkpoint(tmp_path / "last.npz")
    stop_before, stop_after = first.callbacks[0], resumed.callbacks[0]
    assert (stop_after.best, stop_after.wait, stop_after.best_epoch) == (
        stop_before.best, stop_before.wait, stop_before.best_epoch)



def test_load_checkpoint_rejects_other_architecture_and_model_files(tmp_path):
    rng = np.random.default_rng(3)
    X, y = blobs(rng, n=40)
    trainer = make_trainer("adam", tmp_path)
    trainer.callbacks = []
    trainer.fit(X, y, epochs=1, batch_size=8)
    trainer.save_checkpoint(tmp_path / "c.npz")
    other = mlp([6, 8, 3], seed=0)
    wrong = Trainer(other, nn.SoftmaxCrossEntropy(), Adam(other.params()), progress=False)
    with pytest.raises(ValueError, match="architecture (differs|needs)"):
        wrong.load_checkpoint(tmp_path / "c.npz")
    nn.save(trainer.model, tmp_path / "model.npz")
    with pytest.raises(ValueError, match="not a numpynn training checkpoint"):
        trainer.load_checkpoint(tmp_path / "model.npz")



def test_nan_weights_after_an_epochs_last_step_are_never_checkpointed(tmp_path):
    rng = np.random.default_rng(12)
    X, y = blobs(rng, n=40)
    model = mlp([6, 8, 3], seed=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), PoisonSGD(model.params(), lr=0.1),
                      callbacks=[Checkpoint(tmp_path, monitor="loss")], progress=False)
    with pytest.raises(TrainingDiverged, match=r"epoch 2, step 5/5: the loss is finite, but "
                                               r"0.W holds NaN/inf"):
        trainer.fit(X, y, epochs=4, batch_size=8)   # 5 steps per epoch: step 10 ends epoch 2
    fresh = mlp([6, 8, 3], seed=0)
    resumed = Trainer(fresh, nn.SoftmaxCrossEntropy(), PoisonSGD(fresh.params(), lr=0.1),
                      progress=False).load_checkpoint(tmp_path / "last.npz")
    assert resumed.epoch == 1
    assert all(np.isfinite(p).all() for p in fresh.params().values())
