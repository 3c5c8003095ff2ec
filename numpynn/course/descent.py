"""Gradient descent on a function: minimise f from a start point, with gradients from autograd.

Plain gradient descent with a decaying step,

    p_{t+1} = p_t − η_t ∇f(p_t),    η_t = η₀·dᵗ,  t = 0, 1, …  (the first step uses η₀),

or any numpynn optimizer (its ``lr`` set to η_t before step t). ``f`` is a Python callable that
receives the point as one 1-D :class:`~numpynn.autograd.Tensor` ``p`` and reads ``p[0]``,
``p[1]``, …, or an expression string in ``x`` and ``y`` parsed safely with :mod:`ast` (a
whitelist, never ``eval``).

>>> result = descent("x**2 + y**2", start=[1.0, -2.0], lr=0.25, steps=2)
>>> result.path
array([[ 1.  , -2.  ],
       [ 0.5 , -1.  ],
       [ 0.25, -0.5 ]])
>>> result.values
array([5.    , 1.25  , 0.3125])
"""
import ast
import math
import operator
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from numpynn._helpers.validation import check_array, check_int, check_positive, choose
from numpynn.autograd import Tensor, no_grad

PLAIN = "gd"  # the optimizer name meaning plain p ← p − η_t ∇f (no optimizer object)
VARIABLES = ("x", "y")  # expression variables, in the order of the point's coordinates
FUNCTIONS = {name: getattr(Tensor, name)
             for name in ("sin", "cos", "exp", "log", "sqrt", "abs", "tanh")}
BINARY_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.Pow: operator.pow}
UNARY_OPS = {ast.USub: operator.neg, ast.UAdd: lambda v: v}
_SYMBOLS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitXor: "^",
            ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>",
            ast.Not: "not", ast.Invert: "~"}
MAX_EXPRESSION_LENGTH = 2000  # refuse pathological input before parsing it
MAX_STEPS = 1_000_000  # minutes of autograd steps (~0.4 ms each); a 2-D record of 40 MB
GIB = 2 ** 30


# ----------------------------------------------------------------------------- expressions
class Expression:
    """A parsed function of ``x`` and ``y``, callable on a point Tensor ``p`` (x = p[0], y = p[1]).

    Build it with :func:`parse_expression`. ``expr(p)`` returns a scalar Tensor;
    ``expr.grid(X, Y)`` evaluates it on NumPy arrays of one shape (for contour plots).
    """

    def __init__(self, source, evaluate):
        self.source, self._evaluate = source, evaluate

    def __call__(self, p):
        return _as_tensor(self._evaluate({name: p[i] for i, name in enumerate(VARIABLES)}))

    def grid(self, X, Y):
        with no_grad():
            Z = _as_tensor(self._evaluate({"x": Tensor(X), "y": Tensor(Y)})).data
        return np.broadcast_to(Z, np.shape(X)).copy()  # a constant f still fills the grid

    def __repr__(self):
        return f"Expression({self.source!r})"


def parse_expression(source):
    """Parse ``source``, a function of x and y, into an :class:`Expression` without ``eval``.

    Allowed: the names x and y, numbers, ``+ - * / **``, unary ``-``/``+``, parentheses and the
    functions sin, cos, exp, log, sqrt, abs, tanh of one argument.

    Raises
    ------
    ValueError
        Unparsable text, any other name, function, operator or syntax, or a number too large
        for a float such as ``1e400`` (each named in the message).

    >>> parse_expression("x**2 + cos(3*y)")
    Expression('x**2 + cos(3*y)')
    """
    if not isinstance(source, str):
        raise TypeError(f"expression must be a str; got {type(source).__name__}")
    if not source.strip() or len(source) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression must be 1 to {MAX_EXPRESSION_LENGTH} characters; "
                         f"got {len(source.strip())}")
    text = source.strip()  # the syntax tree's columns count from its first character
    try:
        tree = ast.parse(text, mode="eval")
        return Expression(source, _compile(tree.body, text))
    except SyntaxError as err:
        raise ValueError(f"cannot parse expression {source!r}: {err.msg} (column {err.offset})"
                         "\nhelp: write Python syntax, e.g. x**2 + y**2 + x*(y + 2) + cos(3*x)")\
            from None
    except RecursionError:
        raise ValueError(f"expression {source[:40]!r}… is nested too deeply") from None


def _reject(node, source, what, hint=""):
    token = _SYMBOLS.get(type(getattr(node, "op", None))) or ast.unparse(node)
    allowed = f"allowed: {', '.join(VARIABLES)}, numbers, + - * / **, {', '.join(FUNCTIONS)}"
    raise ValueError(f"unsupported {what} {token!r} in expression {source!r}; {allowed}{hint}")


def _compile_constant(node, source):
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _reject(node, source, "constant")
    try:
        number = float(value)  # a Python int may have any number of digits; a float may not
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):  # 1e400 parses to inf: as much a typo as a 400-digit int
        written = _shorten(ast.get_source_segment(source, node) or repr(value))
        raise ValueError(f"number {written} in expression is too large for a float (at most "
                         f"about {sys.float_info.max:.1e}); write a smaller constant")
    constant = Tensor(number)  # a Tensor, so 10**10**10 overflows to inf, not OverflowError
    return lambda env: constant


def _shorten(literal, keep=12):
    """A long literal shortened to its ends and length: ``100000000000…0000 (401 digits)``."""
    if len(literal) <= 2 * keep:
        return literal
    unit = "digits" if literal.isdigit() else "characters"
    return f"{literal[:keep]}…{literal[-4:]} ({len(literal)} {unit})"


def _compile_name(node, source):
    if node.id not in VARIABLES:
        _reject(node, source, "name")
    return lambda env: env[node.id]


def _compile_binop(node, source):
    op = BINARY_OPS.get(type(node.op))
    if op is None:
        hint = "\nhelp: powers are written x**2" if isinstance(node.op, ast.BitXor) else ""
        _reject(node, source, "operator", hint)
    left, right = _compile(node.left, source), _compile(node.right, source)
    return lambda env: op(left(env), right(env))


def _compile_unaryop(node, source):
    op = UNARY_OPS.get(type(node.op))
    if op is None:
        _reject(node, source, "operator")
    operand = _compile(node.operand, source)
    return lambda env: op(operand(env))


def _compile_call(node, source):
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in FUNCTIONS:
        _reject(node.func, source, "function")
    if len(node.args) != 1 or node.keywords:
        _reject(node, source, "call", f"\nhelp: {name} takes exactly one argument")
    function, argument = FUNCTIONS[name], _compile(node.args[0], source)
    return lambda env: function(_as_tensor(argument(env)))


_COMPILERS = {ast.Constant: _compile_constant, ast.Name: _compile_name, ast.BinOp: _compile_binop,
              ast.UnaryOp: _compile_unaryop, ast.Call: _compile_call}


def _compile(node, source):
    """Turn a checked syntax-tree node into a closure ``env -> Tensor or float``."""
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        _reject(node, source, f"syntax ({type(node).__name__})")
    return compiler(node, source)


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


def grid_function(f):
    """``f`` (an Expression or a callable on a point Tensor) as a vectorised ``f(X, Y) -> Z``.

    This is the form :func:`numpynn.plot.descent_contours` draws contours of. A callable is
    first tried on all grid points at once (``p[0]`` is X, ``p[1]`` is Y), which works for
    elementwise functions; otherwise it is evaluated point by point.
    """
    if isinstance(f, str):
        f = parse_expression(f)
    if isinstance(f, Expression):
        return f.grid

    def vectorised(X, Y):
        X, Y = np.broadcast_arrays(np.asarray(X, float), np.asarray(Y, float))
        with no_grad():
            try:
                Z = _as_tensor(f(Tensor(np.stack([X, Y])))).data  # p: (2, *X.shape)
            except (ValueError, TypeError, IndexError):
                Z = None  # f is not elementwise in p's coordinates
            if Z is not None and Z.shape == X.shape:
                return Z
            points = np.stack([X.ravel(), Y.ravel()], axis=1)  # (H·W, 2)
            flat = [_as_tensor(f(Tensor(point))).item() for point in points]
        return np.reshape(flat, X.shape)
    return vectorised


# ----------------------------------------------------------------------------- descent
@dataclass
class DescentResult:
    """What :func:`descent` returns.

    Attributes
    ----------
    path : ndarray of shape (steps + 1, D)
        Visited points, the start first.
    values : ndarray of shape (steps + 1,)
        f at each point of ``path``.
    grads : ndarray of shape (steps + 1, D)
        ∇f at each point of ``path`` (the last one is never used for a step).
    lrs : ndarray of shape (steps,)
        η_t = η₀·dᵗ used by step t.
    """

    path: np.ndarray
    values: np.ndarray
    grads: np.ndarray
    lrs: np.ndarray

    @property
    def final(self):
        """The last point, ndarray of shape (D,)."""
        return self.path[-1]


def descent(f, start, lr=0.1, steps=100, decay=1.0, optimizer=None):
    """Minimise ``f`` from ``start`` by gradient descent; gradients come from autograd.

    Step t (from 0) uses η_t = lr·decayᵗ. Without an optimizer, p_{t+1} = p_t − η_t ∇f(p_t).

    Parameters
    ----------
    f : callable or str
        ``f(p) -> scalar Tensor`` with ``p`` a 1-D Tensor of shape (D,), or an expression in x
        and y such as ``"x**2 + y**2 + x*(y + 2) + cos(3*x)"`` (then D = 2).
    start : array_like of shape (D,)
    lr : float
        η₀, the first step's learning rate.
    steps : int
        Number of updates, at most ``MAX_STEPS``; the path has steps + 1 points.
    decay : float
        d in η_t = η₀·dᵗ (1.0: constant step).
    optimizer : None, str or callable
        None or ``"gd"``: plain gradient descent. A name from ``numpynn.optim.OPTIMIZERS``
        (``"sgd"``, ``"adam"``, …) is built with ``lr``. A callable ``params -> optimizer``
        receives ``{"p": point}``; its ``lr`` is overwritten with η_t before each step.

    Returns
    -------
    DescentResult
        ``path`` (steps + 1, D), ``values`` (steps + 1,), ``grads`` (steps + 1, D), ``lrs`` (steps,).
    """
    f = parse_expression(f) if isinstance(f, str) else f
    if not callable(f):
        raise TypeError(f"descent: f must be a callable or an expression string; got {f!r}")
    point = _check_start(start, f)
    check_positive(lr, "lr", where="descent")
    check_positive(decay, "decay", where="descent")
    steps = _check_steps(steps, point.size)
    opt = _make_optimizer(optimizer, {"p": point}, lr)
    lrs = lr * decay ** np.arange(steps, dtype=np.float64)  # (steps,) η_t = η₀·dᵗ
    path = np.empty((steps + 1, point.size))                 # (steps + 1, D)
    grads, values = np.empty_like(path), np.empty(steps + 1)  # (steps + 1, D), (steps + 1,)
    for t in range(steps + 1):
        value, grad = value_and_grad(f, point)
        path[t], values[t], grads[t] = point, value, grad
        if t == steps:
            break
        if opt is None:
            point -= lrs[t] * grad
        else:
            opt.lr = float(lrs[t])
            opt.step({"p": grad})  # updates `point` in place
    result = DescentResult(path, values, grads, lrs)
    if not np.isfinite(result.values).all():
        warnings.warn(f"descent: f became non-finite at step {np.argmin(np.isfinite(result.values))}"
                      "; help: lower lr or add decay", RuntimeWarning, stacklevel=2)
    return result


def value_and_grad(f, point):
    """f(point) as a float and ∇f(point) as an ndarray of point's shape, by reverse mode."""
    p = Tensor(np.array(point, dtype=np.float64), requires_grad=True)
    out = _as_tensor(f(p))
    if out.size != 1:
        raise ValueError(f"descent: f returned shape {out.shape}; expected a scalar\n"
                         "help: reduce it, e.g. (p ** 2).sum()")
    if out.requires_grad:
        out.backward()
    return out.item(), (np.zeros_like(p.data) if p.grad is None else p.grad)


def _check_steps(steps, dim):
    """``steps`` as an int in [0, MAX_STEPS]; the error names the memory a larger one needs."""
    steps = check_int(steps, "steps", minimum=0, where="descent")
    if steps > MAX_STEPS:
        record = (steps + 1) * (2 * dim + 1) * 8 + steps * 8  # path, grads, values, lrs
        raise ValueError(f"descent: steps must be at most {MAX_STEPS:,}; got {steps:,}, whose "
                         f"path, values and gradients would need {record / GIB:,.1f} GiB")
    return steps


def _check_start(start, f):
    point = check_array(np.array(start, dtype=np.float64, ndmin=1), "start", ndim=1,
                        where="descent")
    if isinstance(f, Expression) and point.shape != (len(VARIABLES),):
        raise ValueError(f"descent: start has {point.size} coordinate(s); the expression in "
                         f"{', '.join(VARIABLES)} needs {len(VARIABLES)}\nhelp: e.g. start=(2, 2)")
    return point


def _make_optimizer(optimizer, params, lr):
    if optimizer is None or optimizer == PLAIN:
        return None
    if isinstance(optimizer, str):
        from numpynn.optim import OPTIMIZERS

        return choose(optimizer, {PLAIN: None, **OPTIMIZERS}, "optimizer", where="descent")(
            params, lr=lr)
    if callable(optimizer):
        opt = optimizer(params)
        if not (hasattr(opt, "step") and hasattr(opt, "lr")):
            raise TypeError(f"descent: optimizer() returned {opt!r}; expected an object with "
                            ".step(grads) and .lr, e.g. lambda params: Adam(params, lr=0.1)")
        return opt
    raise TypeError(f"descent: optimizer must be None, a name or a callable; got {optimizer!r}")
