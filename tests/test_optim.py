"""Optimizers, schedules and clipping against PyTorch 2.13 (foreach=False) and hand-worked steps."""
import math
import tracemalloc

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.optim import (OPTIMIZERS, SCHEDULES, SGD, Adam, AdamW, CosineWarmupLR,
                           ExponentialLR, ReduceLROnPlateau, RMSProp, RMSprop, StepLR,
                           clip_grad_norm)

# our name -> torch.optim's class (by name: looked up when a torch test runs)
TORCH_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                    "adagrad": "Adagrad"}


def torch_optimizer(name):
    return getattr(torch.optim, TORCH_OPTIMIZERS[name])

# a representative set of option combinations per optimizer
PARITY_CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("sgd", {"momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("adam", {}),
    ("adam", {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("adam", {"amsgrad": True, "weight_decay": 0.05}),
    ("adamw", {}),
    ("adamw", {"weight_decay": 0.3, "amsgrad": True}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.9, "momentum": 0.5, "weight_decay": 0.1}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"centered": True, "momentum": 0.9, "eps": 1e-6}),
    ("adagrad", {}),
    ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
]
# every option of every rule, alone and together: the reference and the fast path must agree
EVERY_OPTION = PARITY_CASES + [
    ("sgd", {"momentum": 0.9, "dampening": 0.1}),
    ("sgd", {"weight_decay": 0.1}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("adam", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.0}),
    ("adamw", {"betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.2}),
    ("rmsprop", {"momentum": 0.9}),
    ("rmsprop", {"alpha": 0.5, "centered": True, "momentum": 0.3, "weight_decay": 0.2}),
    ("adagrad", {"eps": 1e-6, "lr_decay": 0.01}),
]

# options that switch on every buffer, for the protocol tests
RICH = {"sgd": {"momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
        "adam": {"amsgrad": True, "weight_decay": 0.01},
        "adamw": {"amsgrad": True},
        "rmsprop": {"momentum": 0.5, "centered": True, "weight_decay": 0.01},
        "adagrad": {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}}


def make_problem(rng, dtype=np.float64, n_steps=20):
    """Parameters of three shapes (one 0-d) and a fixed sequence of random gradients."""
    params = {"0.W": rng.normal(size=(3, 4)), "0.b": rng.normal(size=(4,)),
              "scale": rng.normal(size=())}
    params = {k: np.asarray(v, dtype=dtype) for k, v in params.items()}
    grads = [{k: rng.normal(size=v.shape).astype(dtype) for k, v in params.items()}
             for _ in range(n_steps)]
    return params, grads


def torch_run(name, params, grads, lr, kwargs, lr_changes=None):
    """Run torch's optimizer on copies of ``params``; returns (params, per-key state)."""
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = torch_optimizer(name)(list(tensors.values()), lr=lr, foreach=False, **kwargs)
    for i, g in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = (lr_changes or {}).get(i, group["lr"])
        for k, t in tensors.items():
            t.grad = torch.tensor(g[k])
        opt.step()
    state = {k: opt.state[t] for k, t in tensors.items()}
    return {k: t.detach().numpy() for k, t in tensors.items()}, state


def subnormal_count(a):
    magnitude = np.abs(a)
    return int(np.count_nonzero((magnitude > 0) & (magnitude < np.finfo(a.dtype).tiny)))


# ------------------------------------------------------------------ hand-worked examples
def test_sgd_momentum_by_hand():
    # f(x) = x^2 at x = 1, lr = 0.1, momentum = 0.9 (PyTorch's buffer of gradients):
    # step 1: g = 2,          b = g = 2 (copied),           x = 1 - 0.1*2 = 0.8
    # step 2: g = 1.6,        b = 0.9*2 + 1.6 = 3.4,        x = 0.8 - 0.1*3.4 = 0.46
    # step 3: g = 0.92,       b = 0.9*3.4 + 0.92 = 3.98,    x = 0.46 - 0.398 = 0.062
    x = np.array([1.0])
    opt = SGD({"x": x}, lr=0.1, momentum=0.9)
    for expected_x, expected_b in ((0.8, 2.0), (0.46, 3.4), (0.062, 3.98)):
        opt.step({"x": 2 * x})
        np.testing.assert_allclose(x, [expected_x], rtol=0, atol=1e-15)
        np.testing.assert_allclose(opt.state["x"]["momentum_buffer"], [expected_b], rtol=1e-15)


def test_adam_first_step_by_hand():
    # lr = 0.1, g = 2: m = 0.1*2 = 0.2, v = 0.001*4 = 0.004; bias-corrected m^ = 2, v^ = 4;
    # x = 1 - 0.1 * 2 / (sqrt(4) + 1e-8) = 1 - 0.1 / (1 + 5e-9) = 0.9000000005
    x = np.array([1.0])
    opt = Adam({"x": x}, lr=0.1)
    opt.step({"x": np.array([2.0])})
    np.testing.assert_allclose(opt.state["x"]["exp_avg"], [0.2], rtol=1e-15)
    np.testing.assert_allclose(opt.state["x"]["exp_avg_sq"], [0.004], rtol=1e-13)
    np.testing.assert_allclose(x, [0.9000000005], rtol=0, atol=1e-16)


# ------------------------------------------------------------------------- PyTorch parity
@pytest.mark.torch
def case_id(case):
    name, kwargs = case
    return f"{name}-{'-'.join(kwargs) or 'defaults'}"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("name, kwargs", PARITY_CASES, ids=map(case_id, PARITY_CASES))
def test_matches_torch(name, kwargs, fast):
    rng = np.random.default_rng(1)
    params, grads = make_problem(rng)
    expected, torch_state = torch_run(name, params, grads, 0.05, kwargs, lr_changes={10: 0.02})
    opt = OPTIMIZERS[name](params, lr=0.05, fast=fast, **kwargs)
    for i, g in enumerate(grads):
        if i == 10:
            opt.lr = 0.02     # as a schedule would: checks the lr convention of each rule
        opt.step(g)
    for key in params:
        np.testing.assert_allclose(params[key], expected[key], rtol=1e-10, atol=1e-10)
        for buffer, value in opt.state[key].items():   # our buffer names are PyTorch's
            np.testing.assert_allclose(value, torch_state[key][buffer].numpy(),
                                       rtol=1e-10, atol=1e-10)


def loose_problem(rng, n_steps):
    """``make_problem``'s arrays, each its own: (a function making fresh copies, gradients)."""
    params, grads = make_problem(rng, n_steps=n_steps)
    return (lambda: {k: v.copy() for k, v in params.items()}), grads


def packed_problem(rng, n_steps):
    """A float64 model's parameters, packed in one vector of several L2 blocks (as the Trainer
    steps them): (a function making fresh packed copies, gradients)."""
    model = nn.Sequential(nn.Linear(300, 200, rng=0), nn.ReLU(), nn.Linear(200, 10, rng=1))
    params = model.astype(np.float64).params()
    grads = [{k: rng.normal(size=v.shape) for k, v in params.items()} for _ in range(n_steps)]
    return (lambda: model.astype(np.float64).params()), grads


@pytest.mark.parametrize("name, kwargs", EVERY_OPTION, ids=map(case_id, EVERY_OPTION))
@pytest.mark.parametrize("problem", [loose_problem, packed_problem], ids=["loose", "packed"])
def test_reference_and_fast_updates_agree(name, kwargs, problem):
    """30 steps of the reference formula (fast=False) and the in-place, blocked fast path
    (fast=True, the default) from the same start: equal to 1e-10, state included."""
    make_params, grads = problem(np.random.default_rng(2), n_steps=30)
    runs = []
    for fast in (False, True):
        params = make_params()
        opt = OPTIMIZERS[name](params, lr=0.01, fast=fast, **kwargs)
        for i, g in enumerate(grads):
            if i == 15:
                opt.lr = 0.005    # as a schedule would
            opt.step(g)
        runs.append((params, opt.state))
    (ref, ref_state), (fast, fast_state) = runs
    for key in ref:
        np.testing.assert_allclose(fast[key], ref[key], rtol=1e-10, atol=1e-12)
        for buffer in ref_state[key]:
            np.testing.assert_allclose(fast_state[key][buffer], ref_state[key][buffer],
                                       rtol=1e-10, atol=1e-12)


def test_fast_is_a_keyword_flag_on_every_optimizer():
    for cls in set(OPTIMIZERS.values()):
        assert cls({"x": np.zeros(2)}).fast is True
        assert cls({"x": np.zeros(2)}, fast=False).fast is False
        with pytest.raises(TypeError, match="fast"):
            cls({"x": np.zeros(2)}, fast="yes")


@pytest.mark.torch
def test_registry_and_defaults():
    assert OPTIMIZERS == {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSProp,
                          "adagrad": OPTIMIZERS["adagrad"]}
    assert RMSprop is RMSProp
    x = {"x": np.zeros(2)}
    for name, cls in OPTIMIZERS.items():
        assert cls.name == name
        ours, theirs = cls(x), torch_optimizer(name)([torch.zeros(2)]).defaults
        for hyper in ("lr", *cls.hyper):
            value = getattr(ours, hyper)
            assert value == (tuple(theirs[hyper]) if isinstance(value, tuple) else theirs[hyper])


# ------------------------------------------------------------------------- the protocol
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_roundtrip_is_bit_identical(name, tmp_path):
    rng = np.random.default_rng(2)
    params, grads = make_problem(rng, dtype=np.float32)
    resumed = {k: v.copy() for k, v in params.items()}
    straight = OPTIMIZERS[name](params, lr=0.01, **RICH[name])
    for g in grads:
        straight.step(g)

    first = OPTIMIZERS[name](resumed, lr=0.01, **RICH[name])
    for g in grads[:10]:
        first.step(g)
    np.savez(tmp_path / "opt.npz", **first.state_dict())
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
        saved = dict(f)
    assert "state.0.W." + ("sum" if name == "adagrad" else
                           "momentum_buffer" if name == "sgd" else
                           "square_avg" if name == "rmsprop" else "exp_avg") in saved
    second = OPTIMIZERS[name](resumed, lr=0.5)   # other hyper-parameters: restored by the load
    second.load_state_dict(saved)
    assert second.step_count == 10 and second.lr == 0.01
    for g in grads[10:]:
        second.step(g)
    for key in params:
        np.testing.assert_array_equal(resumed[key], params[key])
        for buffer in straight.state[key]:
            np.testing.assert_array_equal(second.state[key][buffer], straight.state[key][buffer])


def test_load_state_dict_rejects_foreign_dicts_and_changes_nothing():
    params = {"W": np.ones((2, 3))}
    opt = Adam(params, lr=0.01)
    opt.step({"W": np.ones((2, 3))})
    exp_avg = opt.state["W"]["exp_avg"].copy()
    with pytest.raises(ValueError, match="the state_dict is for optimizer 'sgd'; this is 'adam'"):
        opt.load_state_dict(SGD({"W": np.ones((2, 3))}, momentum=0.9).state_dict())
    bad = opt.state_dict()
    del bad["state.W.exp_avg"]
    bad["state.V.exp_avg"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"missing: \['state.W.exp_avg'\], unknown: "
                                         r"\['state.V.exp_avg'\]"):
        opt.load_state_dict(bad)
    bad = opt.state_dict()
    bad["state.W.exp_avg_sq"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"has shape \(3, 2\); expected \(2, 3\)"):
        opt.load_state_dict(bad)
    bad = {**opt.state_dict(), "lr": -1.0}
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        opt.load_state_dict(bad)
    assert opt.lr == 0.01 and opt.step_count == 1
    np.testing.assert_array_equal(opt.state["W"]["exp_avg"], exp_avg)


def _f(v):
    x, y = v
    return x * x + y * y + x * (y + 2) + math.cos(3 * x)


def _grad_f(v):
    x, y = v
    return np.array([2 * x + y + 2 - 3 * math.sin(3 * x), 2 * y + x])


CONVERGE = {"sgd": {"lr": 0.05, "momentum": 0.9}, "adam": {"lr": 0.05},
            "adamw": {"lr": 0.05, "weight_decay": 0.0}, "rmsprop": {"lr": 0.01},
            "adagrad": {"lr": 0.5}}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_minimises_a_function(name):
    # f(x, y) = x^2 + y^2 + x(y + 2) + cos(3x) has several local minima; any one will do:
    # the gradient vanishes there and the Hessian [[2 - 9cos(3x), 1], [1, 2]] is positive.
    v = np.array([1.5, -1.0])
    opt = OPTIMIZERS[name]({"v": v}, **CONVERGE[name])
    schedule = ExponentialLR(opt, gamma=0.99)
    for i in range(600):
        opt.step({"v": _grad_f(v)})
        if i % 2:
            schedule.step()
    assert np.linalg.norm(_grad_f(v)) < 1e-4
    hessian = np.array([[2 - 9 * math.cos(3 * v[0]), 1.0], [1.0, 2.0]])
    assert np.all(np.linalg.eigvalsh(hessian) > 0)
    assert _f(v) < _f(np.array([1.5, -1.0])) - 1.0


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_stays_float32_in_place_and_grads_untouched(name):
    rng = np.random.default_rng(3)
    params, grads = make_problem(rng, dtype=np.float32, n_steps=3)
    arrays = dict(params)
    opt = OPTIMIZERS[name](params, lr=0.01, **RICH[name])
    for g in grads:
        for a in g.values():
            a.flags.writeable = False          # a step must only read the gradients
        opt.step(g)
    for key, p in params.items():
        assert p is arrays[key] and p.dtype == np.float32
        assert all(b.dtype == np.float32 for b in opt.state[key].values())
    for key, value in opt.state_dict().items():   # plain scalars, and float32 buffers
        if key.startswith("state."):
            assert value.dtype == np.float32
        else:
            assert isinstance(value, (str, int, float, bool)) or key == "betas"


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_allocates_nothing_proportional_to_params(name):
    rng = np.random.default_rng(4)
    params = {"W": rng.normal(size=(200, 250)).astype(np.float32)}
    grads = {"W": rng.normal(size=(200, 250)).astype(np.float32)}
    opt = OPTIMIZERS[name](params, lr=1e-3, **RICH[name])
    opt.step(grads)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        opt.step(grads)
        opt.step(grads)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 0.01 * params["W"].nbytes, peak


# ------------------------------------------------------------------------- subnormal trap
FLUSH_EVERY = 16   # the documented promise (numpynn.optim): state is flushed every 16 steps
SUBNORMAL = {"sgd": {"momentum": 0.9}, "adam": {"amsgrad": True}, "adamw": {},
             "rmsprop": {"momentum": 0.5, "centered": True}, "adagrad": {}}


@pytest.mark.torch
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_vanishing_gradients_leave_no_subnormal_state(name):
    # Tiny gradients decaying geometrically (float32): PyTorch's buffers end up holding
    # subnormals for good (6-9x slower arithmetic); ours hold none after every flush step, no
    # entry stays subnormal for 16 steps in a row, and the parameters agree.
    rng = np.random.default_rng(5)
    x = (rng.normal(size=64) * 1e-9).astype(np.float32)
    direction = rng.normal(size=64).astype(np.float32)
    t = torch.tensor(x.copy(), requires_grad=True)
    opt = OPTIMIZERS[name]({"x": x}, lr=1e-3, **SUBNORMAL[name])
    reference = torch_optimizer(name)([t], lr=1e-3, foreach=False, **SUBNORMAL[name])
    tiny, streaks, seen = np.finfo(np.float32).tiny, {}, 0
    for k in range(2001):
        g = direction * np.float32(1e-18 * 0.95 ** k)
        opt.step({"x": g})
        t.grad = torch.from_numpy(g.copy())
        reference.step()
        for key, buf in opt.state["x"].items():       # consecutive steps spent subnormal
            subnormal = (buf != 0) & (np.abs(buf) < tiny)
            streaks[key] = np.where(subnormal, streaks.get(key, 0) + 1, 0)
            assert streaks[key].max() < FLUSH_EVERY, key
            seen += int(subnormal.sum())
        if opt.step_count % FLUSH_EVERY == 0:
            assert all(subnormal_count(b) == 0 for b in opt.state["x"].values())
    torch_subnormals = sum(subnormal_count(v.numpy()) for v in reference.state[t].values()
                           if v.ndim)
    assert torch_subnormals > 0
    assert seen > 0 or name == "adagrad"     # between flushes they do appear (floored: never)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, t.detach().numpy(), rtol=1e-5, atol=0)


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop"])
def test_resume_between_flushes_is_bit_identical(name):
    """A state saved between two flush steps resumes on the same flush schedule (it is keyed
    on step_count), while vanishing gradients keep making new subnormals."""
    rng = np.random.default_rng(5)
    start = (rng.normal(size=64) * 1e-9).astype(np.float32)
    direction = rng.normal(size=64).astype(np.float32)
    grads = [direction * np.float32(1e-18 * 0.95 ** k) for k in range(1200)]
    x_straight, x = start.copy(), start.copy()
    straight = OPTIMIZERS[name]({"x": x_straight}, lr=1e-3, **SUBNORMAL[name])
    first = OPTIMIZERS[name]({"x": x}, lr=1e-3, **SUBNORMAL[name])
    for k, g in enumerate(grads):
        straight.step({"x": g})
        if k < 1000:                                 # 1000 = 62 * 16 + 8: between two flushes
            first.step({"x": g})
    second = OPTIMIZERS[name]({"x": x}, lr=1e-3, **SUBNORMAL[name])
    second.load_state_dict(first.state_dict())
    for g in grads[1000:]:
        second.step({"x": g})
    np.testing.assert_array_equal(x, x_straight)
    for buffer, value in straight.state["x"].items():
        np.testing.assert_array_equal(second.state["x"][buffer], value)


@pytest.mark.torch
def test_adam_with_zero_eps_is_not_flushed():
    # With eps = 0 flushing v would divide by zero; the optimizer keeps PyTorch's subnormals.
    x = np.full(8, 1e-3, dtype=np.float32)
    t = torch.tensor(x.copy(), requires_grad=True)
    opt, reference = Adam({"x": x}, lr=1e-3, eps=0), torch.optim.Adam([t], lr=1e-3, eps=0,
                                                                      foreach=False)
    for k in range(50):
        g = np.full(8, 1e-20 * 0.9 ** k, dtype=np.float32)
        opt.step({"x": g})
        t.grad = torch.from_numpy(g.copy())
        reference.step()
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x, t.detach().numpy(), rtol=1e-6, atol=0)


# ---------------------------------------------------------------------------- validation
BAD_HYPER = [
    ("sgd", {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    ("sgd", {"momentum": -0.1}, ValueError, "Invalid momentum value: -0.1"),
    ("sgd", {"weight_decay": -1e-4}, ValueError, "Invalid weight_decay value: -0.0001"),
    ("sgd", {"nesterov": True}, ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    ("sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    ("sgd", {"nesterov": "yes"}, TypeError, "nesterov: expected True or False"),
    ("adam", {"betas": (1.0, 0.999)}, ValueError, "Invalid beta parameter at index 0: 1.0"),
    ("adam", {"betas": (0.9, -0.5)}, ValueError, "Invalid beta parameter at index 1: -0.5"),
    ("adam", {"eps": -1e-8}, ValueError, "Invalid epsilon value: -1e-08"),
    ("adamw", {"weight_decay": -0.01}, ValueError, "Invalid weight_decay value: -0.01"),
    ("adam", {"lr": "fast"}, TypeError, "must be a finite number"),
    ("rmsprop", {"alpha": -0.5}, ValueError, "Invalid alpha value: -0.5"),
    ("rmsprop", {"momentum": -1}, ValueError, "Invalid momentum value: -1"),
    ("adagrad", {"lr_decay": -1}, ValueError, "Invalid lr_decay value: -1"),
    ("adagrad", {"initial_accumulator_value": -1}, ValueError,
     "Invalid initial_accumulator_value value: -1"),
    ("adagrad", {"eps": -1}, ValueError, "Invalid epsilon value: -1"),
]


@pytest.mark.parametrize("name, kwargs, error, message", BAD_HYPER)
def test_bad_hyper_parameters_raise_at_construction(name, kwargs, error, message):
    with pytest.raises(error, match=message):
        OPTIMIZERS[name]({"x": np.zeros(3)}, **kwargs)


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs, error, message",
                         [case for case in BAD_HYPER if case[2] is ValueError])
def test_bad_hyper_parameter_messages_are_pytorchs(name, kwargs, error, message):
    with pytest.raises(ValueError, match=message):  # the same words as PyTorch's
        torch_optimizer(name)([torch.zeros(3)], **kwargs)


BAD_PARAMS = [
    ({}, TypeError, "params must be a non-empty dict"),
    ([np.zeros(3)], TypeError, "params must be a non-empty dict"),
    ({"x": [0.0, 1.0]}, TypeError, r"params\['x'\] must be a numpy array .*in place"),
    ({"x": np.zeros(3, dtype=np.int64)}, TypeError, r"params\['x'\] must have a floating dtype"),
    ({1: np.zeros(3)}, TypeError, "params keys must be str"),
]


@pytest.mark.parametrize("params, error, message", BAD_PARAMS)
def test_bad_params_raise(params, error, message):
    with pytest.raises(error, match=message):
        SGD(params)


def test_read_only_and_repeated_params_raise():
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['x'\] is read-only.*\nhelp: "):
        Adam({"x": frozen})
    shared = np.zeros(3)
    with pytest.raises(ValueError, match=r"params\['b'\] is the same array as params\['a'\]"):
        Adam({"a": shared, "b": shared})


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_mismatched_grads_raise(name):
    params = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    opt = OPTIMIZERS[name](params)
    with pytest.raises(ValueError, match=r"grads must have the same keys as params; "
                                         r"missing: \['b'\], unknown: \['c'\]\nhelp: "):
        opt.step({"W": np.zeros((2, 3)), "c": np.zeros(3)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(3, 2\); expected \(2, 3\)"):
        opt.step({"W": np.zeros((3, 2)), "b": np.zeros(3)})
    with pytest.raises(TypeError, match=r"grads\['b'\] has dtype float32; expected float64"):
        opt.step({"W": np.zeros((2, 3)), "b": np.zeros(3, dtype=np.float32)})
    with pytest.raises(TypeError, match="grads must be a dict"):
        opt.step([np.zeros((2, 3)), np.zeros(3)])
    assert opt.step_count == 0


# ------------------------------------------------------------------------------ schedules
def torch_lrs(make_schedule, lr, epochs, metrics=None):
    """Learning rates used in epochs 0..epochs-1 by a torch schedule."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    schedule = make_schedule(opt)
    lrs = []
    for e in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step(*([metrics[e]] if metrics is not None else []))
    return lrs


def our_lrs(make_schedule, lr, epochs, metrics=None):
    opt = SGD({"x": np.zeros(1)}, lr=lr)
    schedule = make_schedule(opt)
    lrs = []
    for e in range(epochs):
        lrs.append(opt.lr)
        schedule.step(*([metrics[e]] if metrics is not None else []))
    return lrs


@pytest.mark.torch
def test_exponential_and_step_match_torch():
    lr_s = torch.optim.lr_scheduler
    np.testing.assert_allclose(our_lrs(lambda o: ExponentialLR(o, gamma=0.9), 0.1, 40),
                               torch_lrs(lambda o: lr_s.ExponentialLR(o, gamma=0.9), 0.1, 40),
                               rtol=1e-15, atol=0)
    np.testing.assert_allclose(our_lrs(lambda o: StepLR(o, step_size=3, gamma=0.5), 0.1, 20),
                               torch_lrs(lambda o: lr_s.StepLR(o, step_size=3, gamma=0.5),
                                         0.1, 20), rtol=1e-15, atol=0)


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 2, "cooldown": 2},
    {"factor": 0.5, "patience": 1, "min_lr": 0.02, "threshold": 0.0},
])
def test_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(6)
    # a noisy loss that improves, plateaus for a while, improves a little, plateaus again
    trend = np.concatenate([np.linspace(2.0, 1.0, 10), np.full(15, 1.0),
                            np.linspace(1.0, 0.9, 5), np.full(30, 0.9)])
    metrics = trend + 0.01 * rng.normal(size=trend.size)
    ours = our_lrs(lambda o: ReduceLROnPlateau(o, **kwargs), 0.1, trend.size, metrics)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs), 0.1,
                       trend.size, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    assert len(set(ours)) > 1


@pytest.mark.torch
@pytest.mark.parametrize("warmup", [0, 3])
def test_cosine_warmup_matches_torch_cosine_annealing(warmup):
    total, lr, min_lr = 12, 0.1, 0.001
    ours = our_lrs(lambda o: CosineWarmupLR(o, warmup, total, min_lr=min_lr), lr, total + 4)
    np.testing.assert_allclose(ours[:warmup], [lr * (e + 1) / warmup for e in range(warmup)],
                               rtol=1e-15)
    cosine = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=total - warmup, eta_min=min_lr), lr, total - warmup + 1)
    np.testing.assert_allclose(ours[warmup:total + 1], cosine, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours[total:], min_lr, rtol=1e-15)


SCHEDULE_ARGS = {"exponential": {"gamma": 0.9}, "step": {"step_size": 2, "gamma": 0.5},
                 "cosine": {"warmup_epochs": 2, "total_epochs": 10, "min_lr": 1e-4},
                 "plateau": {"patience": 1, "factor": 0.5, "cooldown": 1}}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_state_dict_roundtrip(name, tmp_path):
    rng = np.random.default_rng(7)
    metrics = rng.uniform(size=12)

    def run(schedule, epochs):
        for e in epochs:
            schedule.step(metrics[e]) if schedule.needs_metric else schedule.step()
            yield schedule.optimizer.lr

    straight = SCHEDULES[name](SGD({"x": np.zeros(1)}, lr=0.1), **SCHEDULE_ARGS[name])
    expected = list(run(straight, range(12)))

    first = SCHEDULES[name](SGD({"x": np.zeros(1)}, lr=0.1), **SCHEDULE_ARGS[name])
    list(run(first, range(6)))
    np.savez(tmp_path / "schedule.npz", **first.state_dict())
    with np.load(tmp_path / "schedule.npz", allow_pickle=False) as f:
        saved = dict(f)
    optimizer = SGD({"x": np.zeros(1)}, lr=0.1)
    second = SCHEDULES[name](optimizer, **SCHEDULE_ARGS[name])
    second.load_state_dict(saved)
    assert optimizer.lr == expected[5]
    np.testing.assert_array_equal(list(run(second, range(6, 12))), expected[6:])


BAD_SCHEDULES = [
    (ExponentialLR, {"gamma": -0.5}, ValueError, "Invalid gamma: -0.5"),
    (StepLR, {"step_size": 0}, ValueError, "Invalid step_size: 0"),
    (StepLR, {"step_size": 1.5}, TypeError, "step_size: expected an integer"),
    (CosineWarmupLR, {"warmup_epochs": 5, "total_epochs": 5}, ValueError,
     r"total_epochs \(5\) must exceed warmup_epochs \(5\)"),
    (ReduceLROnPlateau, {"factor": 1.0}, ValueError, "Factor should be < 1.0"),
    (ReduceLROnPlateau, {"mode": "mn"}, ValueError, "unknown mode 'mn'; choose one of: min, max"),
    (ReduceLROnPlateau, {"threshold_mode": "relative"}, ValueError,
     "unknown threshold_mode 'relative'; choose one of: rel, abs"),
]


@pytest.mark.parametrize("cls, kwargs, error, message", BAD_SCHEDULES)
def test_bad_schedule_arguments_raise(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(SGD({"x": np.zeros(1)}), **kwargs)


def test_schedule_load_rejects_foreign_dicts():
    optimizer = SGD({"x": np.zeros(1)}, lr=0.1)
    schedule = StepLR(optimizer, step_size=2)
    with pytest.raises(ValueError, match="the state_dict is for schedule 'exponential'; "
                                         "this is 'step'"):
        schedule.load_state_dict(ExponentialLR(SGD({"x": np.zeros(1)}), 0.9).state_dict())
    bad = {**schedule.state_dict(), "step_size": 0}
    with pytest.raises(ValueError, match="Invalid step_size: 0"):
        schedule.load_state_dict(bad)
    assert schedule.step_size == 2 and optimizer.lr == 0.1


@pytest.mark.torch
def test_schedule_needs_our_optimizer():
    with pytest.raises(TypeError, match="optimizer must be a numpynn.optim optimizer; got SGD"):
        ExponentialLR(torch.optim.SGD([torch.zeros(1)]), gamma=0.9)


# ------------------------------------------------------------------------------ clipping
@pytest.mark.torch
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(8)
    grads = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3), "s": rng.normal(size=())}
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
               for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm).item()
    total = clip_grad_norm(grads, max_norm)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, expected, rtol=1e-12)
    for t, g in zip(tensors, grads.values()):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_float32_and_lists():
    g = [np.array([3.0, 4.0], dtype=np.float32), np.zeros((2, 2), dtype=np.float32)]
    assert clip_grad_norm(g, 1.0) == pytest.approx(5.0, rel=1e-7)
    assert g[0].dtype == np.float32
    np.testing.assert_allclose(g[0], [0.6, 0.8], rtol=1e-6)
    with pytest.raises(ValueError, match="Invalid max_norm: -1"):
        clip_grad_norm(g, -1)
    with pytest.raises(TypeError, match=r"grads\[0\] must be a numpy array"):
        clip_grad_norm([[3.0, 4.0]], 1.0)


# -- large parameters (the fast path cuts them into L2-sized blocks) -------------------------
@pytest.mark.torch
def test_adam_matches_torch_on_a_large_float64_parameter():
    rng = np.random.default_rng(6)
    W = rng.normal(size=(200, 500))                       # 100,000 float64: 800 kB
    grads = [rng.normal(size=W.shape) for _ in range(20)]
    params = {"W": W.copy()}
    opt = OPTIMIZERS["adam"](params, lr=1e-2, weight_decay=0.1)
    tW = torch.tensor(W, requires_grad=True)
    topt = torch.optim.Adam([tW], lr=1e-2, weight_decay=0.1)
    for g in grads:
        opt.step({"W": g})
        tW.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(params["W"], tW.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_non_contiguous_parameter_is_updated_in_place():
    base = np.zeros((400, 400), dtype=np.float32)
    params = {"W": base[:, ::2]}                          # a strided view, larger than a block
    opt = OPTIMIZERS["sgd"](params, lr=0.5)
    opt.step({"W": np.ones((400, 200), dtype=np.float32)})
    np.testing.assert_array_equal(base[:, ::2], -0.5)
    np.testing.assert_array_equal(base[:, 1::2], 0.0)


def test_a_reshaped_view_parameter_is_updated_as_itself():
    """A single parameter that tiles its base (a reshaped view) is not mistaken for a pack."""
    params = {"W": np.zeros(12, dtype=np.float32).reshape(3, 4)}
    opt = OPTIMIZERS["adam"](params, lr=0.1)
    opt.step({"W": np.ones((3, 4), dtype=np.float32)})
    np.testing.assert_allclose(params["W"], -0.1, rtol=1e-6)
