"""numpynn.course.descent and `numpynn descent`: expression parsing, the descent recursion checked
against its closed form and against torch.optim, and the command through numpynn.cli.main."""
import re

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn.autograd import Tensor
from numpynn.cli import main
from numpynn.gradcheck import numerical_gradient
from numpynn.optim import Adam
from numpynn.course.descent import MAX_STEPS, descent, grid_function, parse_expression

COURSE_F = "x**2 + y**2 + x*(y + 2) + cos(3*x)"


def course_f(x, y):
    return x ** 2 + y ** 2 + x * (y + 2) + np.cos(3 * x)


def test_expression_value_and_gradient():
    rng = np.random.default_rng(0)
    expr = parse_expression("exp(-x**2/2) * sin(y) - sqrt(abs(x) + 1) + log(1 + y*y)"
                            " / tanh(2) + -x + +y - 2**x + x**y")
    for point in rng.uniform(0.2, 1.5, size=(5, 2)):
        p = Tensor(point, requires_grad=True)
        out = expr(p)
        out.backward()
        x, y = point
        expected = (np.exp(-x ** 2 / 2) * np.sin(y) - np.sqrt(abs(x) + 1)
                    + np.log(1 + y * y) / np.tanh(2) - x + y - 2 ** x + x ** y)
        np.testing.assert_allclose(out.item(), expected, rtol=1e-14)
        numeric = numerical_gradient(lambda v: expr(Tensor(v)).item(), point.copy())
        np.testing.assert_allclose(p.grad, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("source, token", [
    ("x % 2", "'%'"), ("x ^ 2", "'\\^'"), ("z + x", "'z'"), ("foo(x)", "'foo'"),
    ("x.real", "'x.real'"), ("__import__('os').system('true')", "__import__"),
    ("sin(x, y)", "sin\\(x, y\\)"), ("'a' + x", "'a'"), ("x < y", "Compare"),
    ("True * x", "'True'"), ("[x, y]", "List"), ("(lambda: 1)()", "lambda"),
])
def test_expression_rejects_anything_else_naming_the_token(source, token):
    with pytest.raises(ValueError, match=f"unsupported .*{token}"):
        parse_expression(source)


def test_expression_syntax_error():
    with pytest.raises(ValueError, match=r"cannot parse expression 'x \+\)'"):
        parse_expression("x +)")


@pytest.mark.parametrize("literal, named", [
    ("1" + "0" * 400, "100000000000…0000 (401 digits)"),
    ("1e400", "1e400"),
    ("2.5e999", "2.5e999"),
])
def test_expression_too_large_literal_is_named(literal, named):
    with pytest.raises(ValueError, match=f"^number {re.escape(named)} in expression is too "
                                         r"large for a float \(at most about 1\.8e\+308\)"):
        parse_expression(f"x**2 + {literal} * y")


def test_expression_large_but_finite_literal_and_overflow_by_arithmetic():
    big = parse_expression("1" + "0" * 300 + " * x")  # 1e300 fits a float
    np.testing.assert_allclose(big(Tensor([2.0, 0.0])).item(), 2e300, rtol=1e-15)
    with np.errstate(over="ignore"):  # computed, not written: overflows to inf as in NumPy
        assert parse_expression("10**10**10 + x")(Tensor([0.0, 0.0])).item() == np.inf


def test_grid_function_matches_numpy():
    X, Y = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 4))
    np.testing.assert_allclose(grid_function(COURSE_F)(X, Y), course_f(X, Y), rtol=1e-14)
    elementwise = grid_function(lambda p: p[0] ** 2 + p[1])
    np.testing.assert_allclose(elementwise(X, Y), X ** 2 + Y, rtol=1e-14)
    reducing = grid_function(lambda p: (p ** 2).sum())  # not elementwise: point by point
    np.testing.assert_allclose(reducing(X, Y), X ** 2 + Y ** 2, rtol=1e-14)


def test_descent_on_quadratic_equals_closed_form_iteration_with_decay():
    # f(p) = ½ pᵀAp + bᵀp: ∇f = Ap + b, so p_{t+1} = p_t − η₀dᵗ(Ap_t + b)
    rng = np.random.default_rng(1)
    M = rng.standard_normal((3, 3))
    A, b = M @ M.T + np.eye(3), rng.standard_normal(3)
    start, lr, decay, steps = rng.standard_normal(3), 0.05, 0.9, 12
    result = descent(lambda p: 0.5 * (p @ (A @ p)) + (b * p).sum(), start, lr=lr,
                     steps=steps, decay=decay)
    expected = [start]
    for t in range(steps):
        expected.append(expected[-1] - lr * decay ** t * (A @ expected[-1] + b))
    expected = np.array(expected)
    assert result.path.shape == (steps + 1, 3) and result.values.shape == (steps + 1,)
    np.testing.assert_allclose(result.path, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.lrs, lr * decay ** np.arange(steps), rtol=1e-15)
    assert result.lrs[0] == lr  # the first step uses lr exactly
    values = [0.5 * p @ A @ p + b @ p for p in expected]
    np.testing.assert_allclose(result.values, values, rtol=1e-12)
    np.testing.assert_allclose(result.grads, expected @ A + b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.final, expected[-1], rtol=1e-12)


def test_descent_hand_worked_steps_on_course_function():
    # f = x² + y² + x(y + 2) + cos 3x at (2, 2): ∂f/∂x = 2x + y + 2 − 3 sin 3x = 8 − 3 sin 6,
    # ∂f/∂y = 2y + x = 6; with lr = 0.1 the first step goes to (2 − 0.8 + 0.3 sin 6, 1.4)
    result = descent(COURSE_F, start=(2, 2), lr=0.1, steps=1)
    np.testing.assert_allclose(result.grads[0], [8 - 3 * np.sin(6), 6], rtol=1e-15)
    np.testing.assert_allclose(result.path[1], [1.2 + 0.3 * np.sin(6), 1.4], rtol=1e-15)
    np.testing.assert_allclose(result.values, course_f(*result.path.T), rtol=1e-14)


def _torch_adam_path(start, lr, decay, steps):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr)
    path = [p.detach().numpy().copy()]
    for t in range(steps):
        opt.param_groups[0]["lr"] = lr * decay ** t
        opt.zero_grad()
        x, y = p[0], p[1]
        (x ** 2 + y ** 2 + x * (y + 2) + torch.cos(3 * x)).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


@pytest.mark.torch
def test_descent_with_named_and_callable_optimizers_matches_torch_adam():
    start, lr, decay, steps = np.array([2.0, 2.0]), 0.3, 0.95, 25
    expected = _torch_adam_path(start, lr, decay, steps)
    named = descent(COURSE_F, start, lr=lr, steps=steps, decay=decay, optimizer="adam")
    np.testing.assert_allclose(named.path, expected, rtol=1e-10, atol=1e-12)
    built = descent(COURSE_F, start, lr=lr, steps=steps, decay=decay,
                    optimizer=lambda params: Adam(params, lr=123.0))  # lr overwritten by η_t
    np.testing.assert_allclose(built.path, expected, rtol=1e-10, atol=1e-12)


def test_sgd_without_momentum_is_plain_descent():
    plain = descent(COURSE_F, [2.0, -1.0], lr=0.05, steps=20, decay=0.97)
    sgd = descent(COURSE_F, [2.0, -1.0], lr=0.05, steps=20, decay=0.97, optimizer="sgd")
    np.testing.assert_allclose(sgd.path, plain.path, rtol=1e-14, atol=1e-15)


def test_descent_bad_input():
    with pytest.raises(ValueError, match="start has 3 coordinate"):
        descent(COURSE_F, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"f returned shape \(2,\); expected a scalar"):
        descent(lambda p: p * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match="^descent: unknown optimizer 'adamm'; choose one of: gd, "
                                         "sgd"):
        descent(COURSE_F, [1.0, 2.0], optimizer="adamm")
    with pytest.raises(ValueError, match="Invalid lr"):
        descent(COURSE_F, [1.0, 2.0], lr=-0.1)
    with pytest.raises(TypeError, match=r"^descent: steps must be an integer >= 0; got 2\.5$"):
        descent(COURSE_F, [1.0, 2.0], steps=2.5)
    with pytest.raises(ValueError, match=r"^descent: steps must be an integer >= 0; got -1$"):
        descent(COURSE_F, [1.0, 2.0], steps=-1)
    with pytest.raises(ValueError, match="unsupported name 'z'"):
        descent("x + z", [1.0, 2.0])


def test_descent_refuses_steps_beyond_the_bound_naming_the_memory():
    # a path of 10¹⁰ + 1 points: (2·2 + 1) float64 per point plus one lr per step = 48 bytes
    with pytest.raises(ValueError, match=r"^descent: steps must be at most 1,000,000; got "
                                         r"10,000,000,000, whose path, values and gradients "
                                         r"would need 447\.0 GiB$"):
        descent(COURSE_F, [1.0, 2.0], steps=10 ** 10)
    with pytest.raises(ValueError, match=f"at most {MAX_STEPS:,}; got {MAX_STEPS + 1:,}"):
        descent(COURSE_F, [1.0, 2.0], steps=MAX_STEPS + 1)


def test_divergence_warns():
    with pytest.warns(RuntimeWarning, match="non-finite"), np.errstate(over="ignore",
                                                                       invalid="ignore"):
        descent("x**4 + y**2", [10.0, 1.0], lr=1.0, steps=20)


def test_command_prints_table_and_final_point(capsys):
    code = main(["descent", "--f", COURSE_F, "--start", "2,2", "--lr", "0.1", "--steps", "50",
                 "--decay", "0.95", "--every", "10"])
    out = capsys.readouterr().out
    assert code == 0
    result = descent(COURSE_F, [2, 2], lr=0.1, steps=50, decay=0.95)
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [0, 10, 20, 30, 40, 50]
    for row in rows:
        t = int(row[0])
        np.testing.assert_allclose([float(v) for v in row[1:]],
                                   [*result.path[t], result.values[t]], atol=1e-6)
    final = out.strip().splitlines()[-1]
    x, y = result.final
    assert final == f"final (gd): x = {x:.6f}, y = {y:.6f}, f = {result.values[-1]:.6f}"


def test_command_compares_optimizers_and_plots(tmp_path, capsys):
    png = tmp_path / "descent.png"
    code = main(["descent", "--start", "1,-1", "--steps", "8", "--optimizer", "gd,adam",
                 "--plot", str(png)])
    out = capsys.readouterr().out
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "final (gd):" in out and "final (adam):" in out


def test_command_with_two_decays_draws_both_paths_on_one_plot(tmp_path, capsys, monkeypatch):
    from numpynn import plot

    drawn = {}

    def spy(f, paths, labels=None, values=None, bounds=None, path=None):
        drawn.update(paths=paths, labels=labels)
        return real(f, paths, labels=labels, values=values, bounds=bounds, path=path)

    real = plot.descent_contours
    monkeypatch.setattr(plot, "descent_contours", spy)
    png = tmp_path / "decays.png"
    code = main(["descent", "--optimizer", "sgd", "--decay", "1,0.95", "--steps", "30",
                 "--plot", str(png)])
    out = capsys.readouterr().out
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decays.png"]  # one picture
    assert drawn["labels"] == ["sgd, decay 1", "sgd, decay 0.95"]
    for label, decay, points in zip(drawn["labels"], (1.0, 0.95), drawn["paths"]):
        alone = descent(COURSE_F, [2, 2], lr=0.1, steps=30, decay=decay, optimizer="sgd")
        np.testing.assert_array_equal(points, alone.path)  # the same arithmetic, bit for bit
        x, y = alone.final
        assert f"final ({label}): x = {x:.6f}, y = {y:.6f}, f = {alone.values[-1]:.6f}" in out
        assert f"optimizer sgd, lr 0.1, decay {decay:g}, 30 steps" in out


def test_command_crosses_optimizers_and_decays(capsys):
    assert main(["descent", "--optimizer", "gd,adam", "--decay", "1,0.9", "--steps", "3"]) == 0
    finals = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
              if line.startswith("final")]
    assert finals == ["final (gd, decay 1)", "final (gd, decay 0.9)", "final (adam, decay 1)",
                      "final (adam, decay 0.9)"]


def test_command_rejects_steps_too_many_or_not_an_integer(capsys):
    assert main(["descent", "--steps", str(10 ** 10)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["numpynn descent: error: descent: steps must be at most "
                                "1,000,000; got 10,000,000,000, whose path, values and "
                                "gradients would need 447.0 GiB"]
    with pytest.raises(SystemExit) as exit_info:  # argparse's one line for a non-integer
        main(["descent", "--steps", "1e10"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == ("numpynn descent: error: argument "
                                                        "--steps: invalid int value: '1e10'")


@pytest.mark.parametrize("argv, message", [
    (["--f", "1" + "0" * 400 + " * x + y"], "number 100000000000…0000 (401 digits) in "
                                            "expression is too large for a float"),
    (["--decay", "1,fast"], "--decay '1,fast' is not a list of numbers"),
    (["--decay", "1,-0.5"], "Invalid decay: -0.5"),
    (["--f", "x % y"], "unsupported operator '%'"),
    (["--f", "x +"], "cannot parse expression"),
    (["--start", "1,2,3"], "--start has 3 coordinate"),
    (["--start", "a,b"], "--start 'a,b' is not a list of numbers"),
    (["--optimizer", "nope"], "unknown optimizer 'nope'"),
])
def test_command_bad_input_exits_2(argv, message, capsys):
    assert main(["descent", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn descent: error: ") and message in err.splitlines()[0]
    assert "Traceback" not in err
