"""numpynn.autograd against two independent oracles: PyTorch's autograd (float64, 1e-10) and
centered finite differences (numpynn.gradcheck, float64)."""
import time

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn.autograd import Tensor, no_grad, to_dot, zeros_like
from numpynn.gradcheck import numerical_gradient

TORCH_TOL = dict(rtol=1e-10, atol=1e-10)
FD_TOL = dict(rtol=1e-6, atol=1e-7)  # centered differences with h = 1e-5 in float64
AXES_TOL = dict(rtol=1e-12, atol=1e-12)  # permutations and sums: float64 rounding only


def _ours(fn, arrays, weight):
    """Gradients of Σ fn(*tensors) ⊙ weight from numpynn.autograd."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * weight).sum().backward()
    return out.data, [t.grad for t in tensors]


def _torch(fn, arrays, weight):
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * torch.tensor(weight)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _finite_differences(fn, arrays, weight):
    arrays = [np.array(a, dtype=np.float64) for a in arrays]

    def loss(_):
        with no_grad():
            return float(np.sum(fn(*[Tensor(a) for a in arrays]).data * weight))
    return [numerical_gradient(loss, a) for a in arrays]


def check(fn, torch_fn, arrays, rng, fd=True, tol=TORCH_TOL):
    """Value and every gradient of ``fn`` equal PyTorch's (to ``tol``) and finite differences."""
    with no_grad():
        out_shape = fn(*[Tensor(a) for a in arrays]).shape
    weight = rng.standard_normal(out_shape)
    value, grads = _ours(fn, arrays, weight)
    torch_value, torch_grads = _torch(torch_fn, arrays, weight)
    np.testing.assert_allclose(value, torch_value, **tol)
    for grad, torch_grad, a in zip(grads, torch_grads, arrays):
        assert grad.shape == np.shape(a)
        np.testing.assert_allclose(grad, torch_grad, **tol)
    if fd:
        for grad, numeric in zip(grads, _finite_differences(fn, arrays, weight)):
            np.testing.assert_allclose(grad, numeric, **FD_TOL)


# name -> (ours, torch, input maker); inputs kept away from kinks and domain edges
UNARY = {
    "neg": (lambda t: -t, lambda t: -t, "any"),
    "exp": (lambda t: t.exp(), lambda t: torch.exp(t), "any"),
    "log": (lambda t: t.log(), lambda t: torch.log(t), "positive"),
    "sqrt": (lambda t: t.sqrt(), lambda t: torch.sqrt(t), "positive"),
    "abs": (lambda t: t.abs(), lambda t: torch.abs(t), "any"),
    "sin": (lambda t: t.sin(), lambda t: torch.sin(t), "any"),
    "cos": (lambda t: t.cos(), lambda t: torch.cos(t), "any"),
    "relu": (lambda t: t.relu(), lambda t: torch.relu(t), "any"),
    "sigmoid": (lambda t: t.sigmoid(), lambda t: torch.sigmoid(t), "any"),
    "tanh": (lambda t: t.tanh(), lambda t: torch.tanh(t), "any"),
    "square": (lambda t: t ** 2, lambda t: t ** 2, "any"),
    "cube_root": (lambda t: t ** (1 / 3), lambda t: t ** (1 / 3), "positive"),
    "rpow": (lambda t: 2 ** t, lambda t: 2 ** t, "any"),
    "rsub": (lambda t: 3.0 - t, lambda t: 3.0 - t, "any"),
    "rdiv": (lambda t: 2.0 / t, lambda t: 2.0 / t, "positive"),
    "self_pow": (lambda t: t ** t, lambda t: t ** t, "positive"),
    "softmax0": (lambda t: t.softmax(axis=0), lambda t: t.softmax(dim=0), "any"),
    "softmax1": (lambda t: t.softmax(axis=-1), lambda t: t.softmax(dim=-1), "any"),
    "log_softmax": (lambda t: t.log_softmax(axis=1), lambda t: t.log_softmax(dim=1), "any"),
    "sum": (lambda t: t.sum(), lambda t: t.sum(), "any"),
    "sum0": (lambda t: t.sum(axis=0), lambda t: t.sum(dim=0), "any"),
    "sum_keep": (lambda t: t.sum(axis=1, keepdims=True),
                 lambda t: t.sum(dim=1, keepdim=True), "any"),
    "sum_tuple": (lambda t: t.sum(axis=(0, 1)), lambda t: t.sum(dim=(0, 1)), "any"),
    "mean": (lambda t: t.mean(), lambda t: t.mean(), "any"),
    "mean1": (lambda t: t.mean(axis=-1), lambda t: t.mean(dim=-1), "any"),
    "max": (lambda t: t.max(), lambda t: t.amax(), "any"),
    "max0": (lambda t: t.max(axis=0), lambda t: t.amax(dim=0), "any"),
    "max_keep": (lambda t: t.max(axis=1, keepdims=True),
                 lambda t: t.amax(dim=1, keepdim=True), "any"),
    "reshape": (lambda t: t.reshape(4, 3) * 1.5, lambda t: t.reshape(4, 3) * 1.5, "any"),
    "reshape_tuple": (lambda t: t.reshape((-1,)), lambda t: t.reshape(-1), "any"),
    "T": (lambda t: t.T, lambda t: t.T, "any"),
    "transpose": (lambda t: t.transpose(1, 0), lambda t: t.permute(1, 0), "any"),
    "index_int": (lambda t: t[0], lambda t: t[0], "any"),
    "index_slice": (lambda t: t[1:, ::2], lambda t: t[1:, ::2], "any"),
    "index_neg": (lambda t: t[-1, 2], lambda t: t[-1, 2], "any"),
    "index_repeat": (lambda t: t[[0, 2, 0, 0]], lambda t: t[[0, 2, 0, 0]], "any"),
    "index_cols": (lambda t: t[:, [1, 1, 3]], lambda t: t[:, [1, 1, 3]], "any"),
    "index_pairs": (lambda t: t[np.array([0, 0, 2]), np.array([1, 1, 3])],
                    lambda t: t[torch.tensor([0, 0, 2]), torch.tensor([1, 1, 3])], "any"),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_match_torch_and_finite_differences(name):
    ours, theirs, domain = UNARY[name]
    rng = np.random.default_rng(list(UNARY).index(name))
    x = rng.standard_normal((3, 4))
    x = np.abs(x) + 0.5 if domain == "positive" else x
    check(ours, theirs, [x], rng)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b.abs() + 0.5), lambda a, b: a / (b.abs() + 0.5)),
    "pow": (lambda a, b: (a.abs() + 0.5) ** b, lambda a, b: (a.abs() + 0.5) ** b),
}
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
          ((3, 4), ()), ((), (2, 3)), ((4,), (2, 3, 4)), ((2, 1, 3, 1), (4, 1, 5)),
          ((3, 1, 5), (2, 1, 4, 1)), ((1, 1, 1, 1), (2, 3, 4, 5))]


@pytest.mark.torch
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_with_broadcasting(name, shapes):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s) for s in shapes]
    check(*BINARY[name], arrays, rng)


@pytest.mark.torch
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
                                    ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                                    ((2, 3, 4), (4,))], ids=str)
def test_matmul_shapes(shapes):
    rng = np.random.default_rng(3)
    check(lambda a, b: a @ b, lambda a, b: a @ b, [rng.standard_normal(s) for s in shapes], rng)


@pytest.mark.torch
def test_matrix_ops_inv_and_logdet():
    rng = np.random.default_rng(11)
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    check(lambda t: t.inv(), torch.linalg.inv, [spd], rng)
    check(lambda t: t.logdet(), lambda t: torch.logdet(t), [spd], rng)
    batch = np.stack([spd, spd + np.eye(4)])  # (2, 4, 4)
    check(lambda t: t.logdet(), lambda t: torch.logdet(t), [batch], rng)
    check(lambda t: t.inv() @ t, lambda t: torch.linalg.inv(t) @ t, [spd], rng)


def test_transpose_with_negative_axes_hand_worked():
    # x.transpose(0, -1, -2) is np.transpose(a, (0, 2, 1)): y[i, j, k] = x[i, k, j]. Weighting
    # y by w = 0..7 sends w[i, j, k] to x[i, k, j], so the gradient is w with its last two axes
    # swapped: [0, 2, 1, 3, 4, 6, 5, 7] (issue 14 saw [0, 4, 2, 6, 1, 5, 3, 7], from
    # argsort((0, -1, -2)) = (2, 1, 0) used as the inverse permutation).
    a = np.arange(8.0).reshape(2, 2, 2)
    x = Tensor(a, requires_grad=True)
    y = x.transpose(0, -1, -2)
    (y * a).sum().backward()
    np.testing.assert_array_equal(y.data, np.transpose(a, (0, 2, 1)))
    np.testing.assert_array_equal(x.grad.ravel(), [0, 2, 1, 3, 4, 6, 5, 7])
    t = torch.tensor(a, requires_grad=True)
    (t.permute(0, -1, -2) * torch.tensor(a)).sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())
    x = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    x.transpose(0, -1, -2).sum().backward()
    assert x.grad.shape == (2, 3, 4)  # was (3, 4, 2)


# (shape, axes): each order spelled with positive, negative and mixed axes
PERMUTATIONS = [((3, 4), (1, 0)), ((3, 4), (-1, -2)), ((3, 4), (-1, 0)), ((3, 4), (0, -1)),
                ((2, 3, 4), (0, 2, 1)), ((2, 3, 4), (0, -1, -2)), ((2, 3, 4), (2, 0, 1)),
                ((2, 3, 4), (-1, -3, -2)), ((2, 3, 4), (1, -3, 2)), ((2, 3, 4), (-2, -1, 0)),
                ((2, 3, 4, 5), (0, 3, 2, 1)), ((2, 3, 4, 5), (0, -1, -2, 1)),
                ((2, 3, 4, 5), (-1, 1, -4, 2)), ((2, 3, 4, 5), (-3, -4, -1, -2))]


@pytest.mark.parametrize("spelling", ["args", "tuple"])
@pytest.mark.parametrize("shape, axes", PERMUTATIONS, ids=str)
def test_transpose_matches_numpy_and_torch_permute(shape, axes, spelling):
    rng = np.random.default_rng(PERMUTATIONS.index((shape, axes)))
    x = rng.standard_normal(shape)
    ours = (lambda t: t.transpose(*axes)) if spelling == "args" else (lambda t: t.transpose(axes))
    np.testing.assert_array_equal(ours(Tensor(x)).data, np.transpose(x, axes))
    check(ours, lambda t: t.permute(*axes), [x], rng, tol=AXES_TOL)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (2, 3, 4, 5)], ids=str)
def test_transpose_without_axes_reverses_them(shape):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    reverse = tuple(reversed(range(len(shape))))
    for ours in (lambda t: t.transpose(), lambda t: t.transpose(None), lambda t: t.T):
        np.testing.assert_array_equal(ours(Tensor(x)).data, x.T)
        check(ours, lambda t: t.permute(*reverse), [x], rng, tol=AXES_TOL)


# name -> (ours, torch's with dim a tuple or int); NumPy's function of the same name is the third
REDUCTIONS = {
    "sum": (lambda t, axis, keep: t.sum(axis=axis, keepdims=keep),
            lambda t, dim, keep: t.sum(dim=dim, keepdim=keep)),
    "mean": (lambda t, axis, keep: t.mean(axis=axis, keepdims=keep),
             lambda t, dim, keep: t.mean(dim=dim, keepdim=keep)),
    "max": (lambda t, axis, keep: t.max(axis=axis, keepdims=keep),
            lambda t, dim, keep: t.amax(dim=dim, keepdim=keep)),
}
# (shape, axis): None, ints and tuples, positive and negative, on 2-D, 3-D and 4-D
REDUCTION_AXES = [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((3, 4), -2), ((3, 4), (0, -1)),
                  ((3, 4), (-1, 0)), ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4), (0, 2)),
                  ((2, 3, 4), (-1, -3)), ((2, 3, 4), (2, -2)), ((2, 3, 2, 3), None),
                  ((2, 3, 2, 3), -2), ((2, 3, 2, 3), (1, -1)), ((2, 3, 2, 3), (-4, 2, -1)),
                  ((2, 3, 2, 3), (0, 1, 2, 3))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", REDUCTION_AXES, ids=str)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_over_axis_spellings(name, shape, axis, keepdims):
    ours, theirs = REDUCTIONS[name]
    rng = np.random.default_rng(REDUCTION_AXES.index((shape, axis)))
    x = rng.standard_normal(shape)  # continuous: no ties for max
    dim = tuple(range(len(shape))) if axis is None else axis
    np.testing.assert_allclose(ours(Tensor(x), axis, keepdims).data,
                               getattr(np, name)(x, axis=axis, keepdims=keepdims), **AXES_TOL)
    check(lambda t: ours(t, axis, keepdims), lambda t: theirs(t, dim, keepdims), [x], rng,
          tol=AXES_TOL)


@pytest.mark.parametrize("shape, axis", [((3, 4), 0), ((3, 4), -1), ((3, 4), -2), ((2, 3, 4), 1),
                                         ((2, 3, 4), -3), ((2, 3, 2, 3), 2),
                                         ((2, 3, 2, 3), -1)], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_axis_spellings(name, shape, axis):
    rng = np.random.default_rng(len(shape) + axis)
    x = rng.standard_normal(shape)
    check(lambda t: getattr(t, name)(axis=axis), lambda t: getattr(t, name)(dim=axis), [x], rng,
          tol=AXES_TOL)


# name -> (call on a (2, 3) tensor, message; NumPy raises ValueError too where marked)
BAD_AXES = {
    "sum": (lambda x: x.sum(axis=2), r"Tensor.sum: axis 2 is out of bounds for a tensor of "
            r"ndim 2\nhelp: axes run from -2 to 1", True),
    "sum_negative": (lambda x: x.sum(axis=-3), r"Tensor.sum: axis -3 is out of bounds", True),
    "mean_tuple": (lambda x: x.mean(axis=(0, 2)), r"Tensor.mean: axis 2 is out of bounds", True),
    "max_keepdims": (lambda x: x.max(axis=2, keepdims=True), r"Tensor.max: axis 2 is out", True),
    "sum_repeated": (lambda x: x.sum(axis=(0, -2)),
                     r"Tensor.sum: axes \(0, -2\) name axis 0 more than once", True),
    "mean_repeated": (lambda x: x.mean(axis=(1, 1)), r"Tensor.mean: axes \(1, 1\) name", True),
    "max_repeated": (lambda x: x.max(axis=(-1, 1)), r"Tensor.max: axes \(-1, 1\) name", True),
    "transpose": (lambda x: x.transpose(0, 2), r"Tensor.transpose: axis 2 is out of bounds", True),
    "transpose_repeated": (lambda x: x.transpose(1, -1),
                           r"Tensor.transpose: axes \(1, -1\) name axis 1 more than once", True),
    "transpose_too_few": (lambda x: x.transpose(0), r"Tensor.transpose: axes \(0,\) don't match "
                          r"a tensor of ndim 2\nhelp: list every axis once, e.g. "
                          r"x.transpose\(1, 0\)", True),
    "transpose_empty": (lambda x: x.transpose(()), r"axes \(\) don't match", True),
    "softmax": (lambda x: x.softmax(axis=2), r"Tensor.softmax: axis 2 is out of bounds", False),
    "log_softmax": (lambda x: x.log_softmax(axis=-3), r"Tensor.log_softmax: axis -3 is", False),
}


@pytest.mark.parametrize("name", list(BAD_AXES))
def test_error_out_of_range_and_repeated_axes_like_numpy(name):
    call, message, numpy_has_it = BAD_AXES[name]
    x = np.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match=message):
        call(Tensor(x, requires_grad=True))
    if numpy_has_it:
        with pytest.raises(ValueError):  # numpy.exceptions.AxisError is a ValueError
            call(x)


def test_error_axis_that_is_not_an_int_and_axes_of_a_0d_tensor():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"Tensor.sum: axis must be an int or a tuple of ints; "
                                        r"got 1.0"):
        x.sum(axis=1.0)
    with pytest.raises(TypeError, match=r"Tensor.max: axis must be an int .* got True"):
        x.max(axis=(0, True))
    with pytest.raises(ValueError, match=r"Tensor.mean: axis 0 is out of bounds for a tensor of "
                                         r"ndim 0\nhelp: a 0-D tensor has no axes"):
        Tensor(2.0).mean(axis=0)
    assert Tensor(2.0, requires_grad=True).sum().item() == 2.0


# gradient a faulty backward returns for the (2, 3) operand of a node of shape (3, 2)
WRONG_GRADIENTS = {"transposed": lambda g: g,                  # (3, 2)
                   "fewer_axes": lambda g: g[0],               # (2,)
                   "unreducible": lambda g: g.T[:, :, None]}   # (2, 3, 1): sums to (3, 1)


@pytest.mark.parametrize("name", list(WRONG_GRADIENTS))
def test_error_gradient_of_the_wrong_shape_names_the_op(name):
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    wrong = np.asarray(WRONG_GRADIENTS[name](np.ones((3, 2))))
    bad = x._child(x.data.T, (x,), lambda g: (WRONG_GRADIENTS[name](g),), "bad_T")
    shape = str(wrong.shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(RuntimeError, match=rf"internal error: the backward of 'bad_T' gave a "
                                           rf"gradient of shape {shape} for an operand of "
                                           r"shape \(2, 3\)"):
        bad.sum().backward()
    assert x.grad is None


def test_broadcasting_and_axes_together_never_trip_the_shape_check():
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal(s) for s in [(2, 1, 3, 1), (4, 1, 5), ()]]

    def ours(a, b, c):  # (2, 4, 3, 5) summed back to (2, 1, 3, 1), plus a (4, 5, 5) mean
        return (a * b + c).sum(axis=(1, -1), keepdims=True) * a + \
            (b.transpose(0, -1, -2) @ b).mean()

    def theirs(a, b, c):
        return (a * b + c).sum(dim=(1, -1), keepdim=True) * a + (b.permute(0, -1, -2) @ b).mean()
    check(ours, theirs, arrays, rng, tol=AXES_TOL)


@pytest.mark.torch
def test_max_splits_ties_evenly_like_amax():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]], rtol=0, atol=0)
    t = torch.tensor(x.data, requires_grad=True)
    t.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=0, atol=0)


@pytest.mark.torch
def test_reused_intermediates_accumulate():
    rng = np.random.default_rng(5)

    def expr(x, w):
        h = (x @ w).tanh()            # reused three times
        z = h * h + h.exp() - h.mean(axis=0)
        return (z * x[:, :1]).sigmoid() + x.sum() * 0.1

    check(expr, expr, [rng.standard_normal((4, 3)), rng.standard_normal((3, 3))], rng)


@pytest.mark.torch
def test_numbers_and_arrays_mix_on_either_side():
    rng = np.random.default_rng(2)
    arr = rng.standard_normal((2, 3))

    def expr(t):
        c = arr if isinstance(t, Tensor) else torch.tensor(arr)
        return c + t * 2 - c * t / 3 + 1 - (t - c) + 0.5 ** t + (c @ t.T).sum(axis=0).sum()

    check(expr, expr, [rng.standard_normal((2, 3))], rng)
    out = arr + Tensor(arr)  # ndarray on the left defers to Tensor
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, 2 * arr, rtol=0, atol=0)


@pytest.mark.torch
def test_backward_with_upstream_gradient_matches_torch():
    rng = np.random.default_rng(4)
    x0, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    x = Tensor(x0, requires_grad=True)
    (x.sin() * x).backward(g)
    t = torch.tensor(x0, requires_grad=True)
    (t.sin() * t).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), **TORCH_TOL)


def test_leaf_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3  # an intermediate used by both passes
    (h * x).sum().backward()
    (h * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (6 * x.data), rtol=0, atol=1e-15)


def test_chain_of_100k_operations_is_iterative():
    c = 1 + 1e-6
    x = Tensor(1.0, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(100_000):
        y = y * c
    y.backward()
    assert time.perf_counter() - start < 20
    np.testing.assert_allclose(x.grad, c ** 100_000, rtol=1e-9)


def test_no_grad_builds_no_graph_and_restores():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).exp()
    assert not y.requires_grad and y._parents == ()
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    z = (x * 2).sum()
    assert z.requires_grad
    z.backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0], rtol=0, atol=0)


def test_constants_get_no_gradient_and_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c + x.detach() * x).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, [3.0 + 1.0, 4.0 + 2.0], rtol=0, atol=0)


def test_conveniences():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.data.dtype == np.float64
    assert Tensor([1, 2]).data.dtype == np.float64
    assert x.sum().item() == 15.0
    z = zeros_like(x)
    assert z.shape == (2, 3) and not z.requires_grad and not z.data.any()
    assert "requires_grad=True" in repr(x) and repr(Tensor(1.0)) == "Tensor(1.)"
    dot = to_dot((x * 2).sum())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == 3 and '"sum' in dot  # x -> *, 2 -> *, * -> sum


def test_error_shape_mismatch_in_matmul_names_both_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        a @ b
    with pytest.raises(ValueError, match=r"batch dimensions of \(2, 3, 4\) and \(3, 4, 5\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))


def test_error_broadcasting_names_both_shapes():
    with pytest.raises(ValueError, match=r"add: cannot broadcast shapes \(3,\) and \(4,\)"):
        Tensor(np.ones(3)) + np.ones(4)
    with pytest.raises(ValueError, match=r"mul: cannot broadcast shapes \(2, 3\) and \(2,\)"):
        Tensor(np.ones((2, 3))) * Tensor(np.ones(2))


def test_error_backward_from_non_scalar():
    y = Tensor(np.ones(3), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"shape \(3,\) is not a scalar; pass the upstream"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(2,\); expected \(3,\)"):
        y.backward(np.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()


def test_error_log_of_non_positive():
    with pytest.raises(ValueError, match=r"log: input has 2 non-positive value\(s\) \(min -1\)"):
        Tensor([1.0, 0.0, -1.0]).log()


def test_error_logdet_and_inv_of_singular_matrix():
    singular = Tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match=r"logdet: matrix is singular \(det = 0\)"):
        singular.logdet()
    with pytest.raises(ValueError, match=r"logdet: matrix has det < 0"):
        Tensor([[0.0, 1.0], [1.0, 0.0]]).logdet()
    with pytest.raises(ValueError, match=r"inv: matrix of shape \(2, 2\) is singular"):
        singular.inv()
    with pytest.raises(ValueError, match=r"expected square matrices .* got shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).logdet()


def test_sigmoid_is_stable_for_large_inputs():
    x = Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, 0.5, 1.0], rtol=0, atol=0)
    np.testing.assert_allclose(x.grad, [0.0, 0.25, 0.0], rtol=0, atol=0)


def test_hand_worked_example():
    # f(a, b) = a·b + a², a = 2, b = −3: f = −6 + 4 = −2, ∂f/∂a = b + 2a = 1, ∂f/∂b = a = 2
    a, b = Tensor(2.0, requires_grad=True), Tensor(-3.0, requires_grad=True)
    f = a * b + a ** 2
    f.backward()
    assert (f.item(), a.grad.item(), b.grad.item()) == (-2.0, 1.0, 2.0)
