"""Training, built on the teaching core: the :class:`~numpynn.training.trainer.Trainer` loop
(:mod:`trainer`), its callbacks (early stopping, checkpoints, schedules, progress;
:mod:`callbacks`), the per-epoch :class:`~numpynn.training.history.History` (:mod:`history`)
and the checkpoint format a bit-identical resume reads (:mod:`checkpoint`)."""
