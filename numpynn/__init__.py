"""numpynn: neural networks from scratch in NumPy.

Every public name is loaded on first use (PEP 562), so ``import numpynn`` costs little more
than importing NumPy and never pulls in matplotlib, scikit-learn, tqdm or torch.

>>> import numpy as np
>>> import numpynn as nn
>>> model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
>>> model.forward(np.zeros((2, 4), dtype=np.float32)).shape
(2, 3)
"""
from importlib import import_module

__version__ = "0.1.0"

# public submodule -> where it lives (the course apps, training and the CLI in their folders)
_SUBMODULES = {
    **{name: name for name in (
        "functional", "layers", "losses", "init", "sequential", "models", "optim", "autograd",
        "gradcheck", "serialization", "threads", "data", "plot", "training", "course", "cli",
        "playground")},
    **{name: f"training.{name}" for name in ("trainer", "callbacks", "history", "checkpoint")},
    **{name: f"course.{name}" for name in ("explain", "fitting", "matrix_calculus")},
    **{name: f"cli.{name}" for name in ("config", "run")},
}

# public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(
        ("Layer", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ScaledTanh", "Swish",
         "GELU", "ELU", "Dropout", "BatchNorm", "LayerNorm", "Flatten", "Normalize", "Unflatten",
         "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d", "LAYERS", "register_layer"),
        "layers"),
    **dict.fromkeys(
        ("Loss", "SoftmaxCrossEntropy", "BCE", "BCEWithLogits", "MSE", "L1", "Hinge",
         "LOSSES", "l2_penalty"), "losses"),
    **dict.fromkeys(
        ("SGD", "Adam", "AdamW", "RMSProp", "RMSprop", "Adagrad", "OPTIMIZERS", "ExponentialLR",
         "StepLR", "CosineWarmupLR", "ReduceLROnPlateau", "SCHEDULES", "clip_grad_norm"), "optim"),
    "Sequential": "sequential",
    "save": "serialization", "load": "serialization",
    **dict.fromkeys(("Trainer", "TrainingDiverged"), "training.trainer"),
    "History": "training.history",
    **dict.fromkeys(("Callback", "EarlyStopping", "Checkpoint", "LRSchedulerCallback",
                     "ProgressLogger"), "training.callbacks"),
    **dict.fromkeys(("explain_conv", "explain_pool"), "course.explain_conv"),
    "descent": "course.descent",
    "fit_points": "course.fitting",
    "set_threads": "threads",
    "RunConfig": "cli.config",
    **dict.fromkeys(("mlp", "three_layer_convnet", "lenet", "convnet"), "models"),
    **dict.fromkeys(("Tensor", "no_grad"), "autograd"),
    **dict.fromkeys(("DATASETS", "batches"), "data"),
}

__all__ = sorted(_EXPORTS) + list(_SUBMODULES)


def __getattr__(name):
    if name in _SUBMODULES:
        module = import_module(f"{__name__}.{_SUBMODULES[name]}")
    elif name in _EXPORTS:
        module = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    else:
        raise AttributeError(f"module 'numpynn' has no attribute {name!r}")
    globals()[name] = module  # cache: __getattr__ runs once per name
    return module


def __dir__():
    return sorted(set(globals()) | set(__all__))
