"""The shared argument checks in numpynn._helpers.validation, and the callers they guard."""
import math
import tracemalloc

import numpy as np
import pytest

from numpynn._helpers.validation import (all_finite, check_array, check_cast, check_int,
                                        check_nonempty, check_positive, check_range, choose)
from numpynn.optim import OPTIMIZERS, SGD
from numpynn.optim.schedules import (SCHEDULES, CosineWarmupLR, ExponentialLR, ReduceLROnPlateau,
                                     StepLR)


@pytest.mark.parametrize("values, expected", [
    ([0.0, 1.0, -2.5], True),
    ([], True),
    ([3e38, 3e38, 3e38], True),            # the sum overflows, every entry is finite
    ([1.0, np.nan], False),
    ([np.inf, 1.0], False),
    ([np.inf, -np.inf], False),            # the sum is NaN
    ([3e38, 3e38, np.nan], False),
])
def test_all_finite(values, expected):
    assert all_finite(np.array(values, dtype=np.float32)) is expected


def test_finite_check_allocates_no_copy_of_the_data():
    x = np.ones((2000, 784), dtype=np.float32)             # 6.3 MB; its bool copy is 1.6 MB
    tracemalloc.start()
    try:
        check_array(x, "X")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_check_array_counts_the_bad_entries():
    x = np.ones((3, 4), dtype=np.float32)
    x[0, 1], x[2, 3] = np.nan, -np.inf
    with pytest.raises(ValueError, match=r"Trainer.fit: X contains 2 NaN or inf value\(s\)"):
        check_array(x, "X", where="Trainer.fit")


# ------------------------------------------------------------------------------------------------
# check_int
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_accepts_python_and_numpy_integers(value):
    out = check_int(value, "n", minimum=1, maximum=3)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value, message", [
    (True, r"^Linear\(4, 3\): n_in must be an integer >= 1; got True$"),
    (np.True_, r"^Linear\(4, 3\): n_in must be an integer >= 1; got True$"),
    (2.5, r"^Linear\(4, 3\): n_in must be an integer >= 1; got 2\.5$"),
    (3.0, r"^Linear\(4, 3\): n_in must be an integer >= 1; got 3\.0\nhelp: pass an int, n_in=3$"),
    (np.float64(3.0), r"got 3\.0\nhelp: pass an int, n_in=3$"),
    (float("nan"), r"got nan$"),
    ("3", r"got '3'$"),
    (None, r"got None$"),
])
def test_check_int_rejects_non_integers_with_a_type_error(value, message):
    with pytest.raises(TypeError, match=message):
        check_int(value, "n_in", minimum=1, where="Linear(4, 3)")


@pytest.mark.parametrize("value, kwargs, message", [
    (0, {"minimum": 1}, r"^fit: batch_size must be an integer >= 1; got 0$"),
    (np.int64(-1), {"minimum": 0}, r"^fit: batch_size must be an integer >= 0; got -1$"),
    (5, {"maximum": 4}, r"^fit: batch_size must be an integer <= 4; got 5$"),
    (50000, {"minimum": 1, "maximum": 49999},
     r"^fit: batch_size must be an integer in \[1, 49999\]; got 50000$"),
])
def test_check_int_bounds_are_inclusive_and_named(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_int(value, "batch_size", where="fit", **kwargs)
    edge = kwargs.get("minimum", kwargs.get("maximum"))
    assert check_int(edge, "batch_size", where="fit", **kwargs) == edge


def test_check_int_without_bounds_or_caller():
    assert check_int(-7, "seed") == -7
    with pytest.raises(TypeError, match=r"^seed must be an integer; got 1\.5$"):
        check_int(1.5, "seed")


# ------------------------------------------------------------------------------------------------
# check_range
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 0.5, np.float32(0.25), np.int64(0), 1e-300])
def test_check_range_accepts_reals_in_range_and_returns_a_float(value):
    out = check_range(value, "p", 0, 1, high_open=True, where="Dropout")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value, shown", [(1.5, "1.5"), (1, "1"), (-0.1, "-0.1"),
                                          (float("nan"), "nan"), (float("inf"), "inf"),
                                          (np.float64(np.nan), "nan")])
def test_check_range_message_names_caller_range_and_value(value, shown):
    with pytest.raises(ValueError, match=rf"^Dropout: p must be in \[0, 1\); got {shown}$"):
        check_range(value, "p", 0, 1, high_open=True, where="Dropout")


@pytest.mark.parametrize("value", [True, np.False_, "0.5", None, [0.5], np.array(0.5)])
def test_check_range_rejects_bools_and_non_numbers_with_a_type_error(value):
    with pytest.raises(TypeError, match=r"^Dropout: p must be in \[0, 1\); got "):
        check_range(value, "p", 0, 1, high_open=True, where="Dropout")


@pytest.mark.parametrize("kwargs, good, bad, words", [
    ({"low": 0}, [0, 2.5], [-1e-9], r"a finite number >= 0"),
    ({"low": 0, "low_open": True}, [1e-12], [0, -1], r"a finite number > 0"),
    ({"high": 1}, [1, -5], [1.5], r"a finite number <= 1"),
    ({"high": 1, "high_open": True}, [0.999], [1], r"a finite number < 1"),
    ({"low": 0, "high": 1}, [0, 1], [-0.1, 1.1], r"in \[0, 1\]"),
    ({"low": 0, "high": 1, "low_open": True, "high_open": True}, [0.5], [0, 1], r"in \(0, 1\)"),
    ({"low": 0, "high": 1, "low_open": True}, [1], [0], r"in \(0, 1\]"),
])
def test_check_range_ends_open_and_closed(kwargs, good, bad, words):
    for value in good:
        assert check_range(value, "x", **kwargs) == value
    for value in [*bad, float("nan"), float("inf"), -float("inf")]:
        with pytest.raises(ValueError, match=rf"^x must be {words}; got "):
            check_range(value, "x", **kwargs)


def test_check_range_without_bounds_rejects_only_nan():
    assert check_range(float("inf"), "best") == float("inf")
    assert check_range(-3, "best") == -3.0
    with pytest.raises(ValueError, match=r"^best must be a real number, not NaN; got nan$"):
        check_range(float("nan"), "best")


# ------------------------------------------------------------------------------------------------
# check_positive: built on check_range, so NaN never passes
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, allow_zero, expected", [
    (-0.1, False, r"^SGD: Invalid lr: -0\.1 \(expected > 0\)$"),
    (0, False, r"^SGD: Invalid lr: 0 \(expected > 0\)$"),
    (-1, True, r"^SGD: Invalid lr: -1 \(expected >= 0\)$"),
    (float("nan"), True, r"^SGD: Invalid lr: nan \(expected a finite number >= 0\)$"),
    (float("inf"), False, r"^SGD: Invalid lr: inf \(expected a finite number > 0\)$"),
])
def test_check_positive_speaks_pytorch_and_rejects_nan(value, allow_zero, expected):
    with pytest.raises(ValueError, match=expected):
        check_positive(value, "lr", allow_zero=allow_zero, where="SGD")


def test_check_positive_returns_the_value_and_rejects_non_numbers():
    assert check_positive(0, "lr", allow_zero=True) == 0 and check_positive(3, "n") == 3
    for value in ("fast", True, None):
        with pytest.raises(TypeError, match=r"^SGD: lr must be a finite number > 0; got "):
            check_positive(value, "lr", where="SGD")


# ------------------------------------------------------------------------------------------------
# choose names its caller
# ------------------------------------------------------------------------------------------------
def test_choose_names_its_caller_and_lists_the_choices():
    table = {"zeros": 0, "xavier_uniform": 1}
    assert choose("zeros", table, "init") == 0
    with pytest.raises(ValueError, match=r"^Linear\(4, 3\): unknown init 'xavir'; choose one of: "
                                         r"zeros, xavier_uniform$"):
        choose("xavir", table, "init", where="Linear(4, 3)")
    with pytest.raises(ValueError, match=r"^unknown init \['zeros'\]; choose one of"):
        choose(["zeros"], table, "init")  # unhashable: still the listing, not a TypeError


# ------------------------------------------------------------------------------------------------
# A NaN learning rate is a ValueError everywhere one is given
# ------------------------------------------------------------------------------------------------
NAN = float("nan")

# schedule name -> its required arguments
SCHEDULE_ARGS = {"exponential": {"gamma": 0.5}, "step": {"step_size": 2},
                 "cosine": {"warmup_epochs": 1, "total_epochs": 4}, "plateau": {}}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_nan_learning_rate_is_a_value_error_for_every_optimizer(name):
    cls = OPTIMIZERS[name]
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: Invalid learning rate: nan"):
        cls({"x": np.zeros(3)}, lr=NAN)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_nan_learning_rate_in_a_state_dict_is_a_value_error(name):
    opt = OPTIMIZERS[name]({"x": np.zeros(3)}, lr=0.1)
    state = opt.state_dict() | {"lr": NAN}
    with pytest.raises(ValueError, match=r"Invalid learning rate: nan"):
        opt.load_state_dict(state)
    assert opt.lr == 0.1


def test_schedule_table_covers_every_schedule():
    assert set(SCHEDULE_ARGS) == set(SCHEDULES)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_nan_learning_rate_is_a_value_error_for_every_schedule(name):
    cls, opt = SCHEDULES[name], SGD({"x": np.zeros(3)}, lr=0.1)
    opt.lr = NAN  # set after construction, where no check runs
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: Invalid optimizer\.lr: nan"):
        cls(opt, **SCHEDULE_ARGS[name])


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("key", ["base_lr", "last_lr"])
def test_a_nan_learning_rate_in_a_schedule_state_dict_is_a_value_error(name, key):
    opt = SGD({"x": np.zeros(3)}, lr=0.1)
    schedule = SCHEDULES[name](opt, **SCHEDULE_ARGS[name])
    state = schedule.state_dict() | {key: NAN}
    with pytest.raises(ValueError, match=rf"^{type(schedule).__name__}\.load_state_dict: {key}: "
                                         r"expected a real number, not NaN; got nan$"):
        schedule.load_state_dict(state)
    assert not math.isnan(opt.lr)


@pytest.mark.parametrize("cls, kwargs, message", [
    (CosineWarmupLR, {"warmup_epochs": 1, "total_epochs": 4, "min_lr": NAN},
     r"^CosineWarmupLR: min_lr: expected a real number, not NaN; got nan$"),
    (ReduceLROnPlateau, {"min_lr": NAN}, r"^ReduceLROnPlateau: min_lr: expected a real number"),
    (ExponentialLR, {"gamma": NAN}, r"^ExponentialLR: gamma: expected a real number, not NaN"),
    (ReduceLROnPlateau, {"factor": NAN}, r"^ReduceLROnPlateau: factor: expected a real number"),
    (StepLR, {"step_size": 2.0}, r"^StepLR: step_size: expected an integer; got 2\.0$"),
    (StepLR, {"step_size": True}, r"^StepLR: step_size: expected an integer; got True$"),
])
def test_schedule_hyper_parameters_reject_nan_and_non_integers(cls, kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        cls(SGD({"x": np.zeros(3)}, lr=0.1), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"momentum": NAN}, r"^SGD: momentum: expected a real number, not NaN; got nan$"),
    ({"dampening": NAN}, r"^SGD: dampening: expected a real number, not NaN; got nan$"),
    ({"weight_decay": NAN}, r"^SGD: weight_decay: expected a real number, not NaN; got nan$"),
])
def test_optimizer_hyper_parameters_reject_nan(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SGD({"x": np.zeros(3)}, lr=0.1, **kwargs)


def test_a_nan_learning_rate_is_a_value_error_in_the_course_tools():
    from numpynn.course.descent import descent

    with pytest.raises(ValueError, match=r"^descent: Invalid lr: nan"):
        descent("x**2 + y**2", [1.0, 1.0], lr=NAN)


# ---------------------------------------------------------------- casts and empty arrays
@pytest.mark.parametrize("x, dtype, shown", [
    (np.array([1.0, -1e39]), np.float32, r"1e\+39 .*float32's finite range \(±3\.4e\+38\)"),
    (np.array([70000], dtype=np.int64), np.float16, r"7e\+04 .*float16's finite range"),
    (np.array([np.iinfo(np.int64).min]), np.float16, r"9\.22e\+18 "),  # |min| overflows int64
])
def test_check_cast_refuses_values_beyond_the_target_range(x, dtype, shown):
    with pytest.raises(ValueError, match=rf"^f: x holds values up to {shown}[^\n]*\nhelp: scale"):
        check_cast(x, dtype, "x", where="f")


def test_check_cast_passes_values_in_range_without_copying_same_dtype():
    x = np.array([3e38, -3e38])
    assert check_cast(x, np.float32, "x").dtype == np.float32
    same = np.ones(3, dtype=np.float32)
    assert check_cast(same, np.float32, "x") is same
    assert check_cast(np.array([70000]), np.float32, "x")[0] == 70000


def test_check_nonempty_counts_samples():
    with pytest.raises(ValueError, match=r"^L: pred has 0 samples \(shape \(0, 3\)\)"):
        check_nonempty(np.zeros((0, 3)), "pred", where="L")
    with pytest.raises(ValueError, match=r"pred has 0 elements \(shape \(2, 0\)\)"):
        check_nonempty(np.zeros((2, 0)), "pred")
