"""Worked solutions of a tiny convolution and max pool: hand-worked numbers, the functional
kernels, PyTorch, and the command ``numpynn explain --conv / --pool``."""
import contextlib
import io
import json
import re

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn import functional as F
from numpynn.cli import main
from numpynn.course.explain_conv import TINY_CONV, TINY_POOL, full_convolution_dx

TOL = dict(rtol=1e-12, atol=1e-12)
# (x (C, H, W), W (F, C, HH, WW), stride, padding): strides that do not tile, pairs, channels
CASES = [((1, 4, 4), (1, 1, 2, 2), 1, 0), ((2, 5, 4), (3, 2, 3, 2), (2, 1), (1, 0)),
         ((1, 5, 5), (2, 1, 3, 3), 2, 1), ((1, 3, 3), (1, 1, 2, 2), 1, 2)]


def run_cli(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue()


def test_tiny_convolution_by_hand():
    # x = [[1,2,0,1],[0,1,3,1],[2,1,0,2],[1,0,1,1]], W = [[1,0],[-1,2]], b = 0.5
    # out[0,0] = 0.5 + 1·1 + 0·2 + (-1)·0 + 2·1 = 3.5;  out[0,1] = 0.5 + 2 + 0 - 1 + 6 = 7.5
    # dout = [[1,0,-1],[2,1,0],[0,1,1]]: db = Σ dout = 5
    # dW[0,0] = Σ dout·x[0:3, 0:3] = 1·1 + (-1)·0 + 2·0 + 1·1 + 1·1 = 3
    # dx[0,0] = dout[0,0]·W[0,0] = 1;  dx[1,1] = 1·2 + 0·(-1) + 2·0 + 1·1 = 3 (four windows)
    e = nn.explain_conv(**TINY_CONV)
    assert e.out[0, 0, :2].tolist() == [3.5, 7.5]
    assert e.db.tolist() == [5.0] and e.dW[0, 0, 0, 0] == 3.0
    assert e.dx[0, 0, 0] == 1.0 and e.dx[0, 1, 1] == 3.0
    assert "out[0,0,0] = 0.5 + (1·1 + 0·2 + (-1)·0 + 2·1) = 3.5" in e.lines
    assert "dx[0,1,1] = 1·2 + 0·(-1) + 2·0 + 1·1 = 3" in e.lines
    assert e.lines[-1].endswith("= dx")


@pytest.mark.parametrize("case", CASES)
def test_conv_explanation_matches_the_kernels_and_the_full_convolution(case):
    x_shape, w_shape, stride, padding = case
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    e = nn.explain_conv(x, W, b, stride=stride, padding=padding, precision=10)
    out, cache = F.conv2d_forward(x[None], W, b, stride, padding)
    dout = np.ones_like(out)
    dx, dW, db = F.conv2d_backward(dout, cache)
    for mine, theirs in ((e.out, out[0]), (e.dx, dx[0]), (e.dW, dW), (e.db, db),
                         (e.dx_as_convolution, dx[0])):
        np.testing.assert_allclose(mine, theirs, **TOL)
    # every written-out sum evaluates to the number it claims
    checked = 0
    for line in e.lines:
        if re.match(r"(out|dW|dx)\[\d", line) and "no window" not in line:
            expression, value = line.split(" = ", 1)[1].rsplit(" = ", 1)
            assert eval(expression.replace("·", "*")) == pytest.approx(float(value), abs=1e-8)
            checked += 1
    assert checked >= e.out.size + e.dW.size


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES)
def test_conv_explanation_matches_pytorch(case):
    x_shape, w_shape, stride, padding = case
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    dout = rng.normal(size=F.conv2d_forward(x[None], W, b, stride, padding)[0].shape)
    e = nn.explain_conv(x, W, b, dout=dout, stride=stride, padding=padding)
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x[None], W, b))
    tout = torch.nn.functional.conv2d(tx, tW, tb, stride, padding)
    tout.backward(torch.tensor(dout))
    for mine, theirs in ((e.out, tout[0]), (e.dx, tx.grad[0]), (e.dW, tW.grad), (e.db, tb.grad)):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), **TOL)


def test_full_convolution_dx_reaches_the_border_a_stride_leaves_out():
    # 6 rows, a 3-row kernel at stride 2: windows start at rows 0 and 2; row 5 gets no gradient
    x, W = np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3))
    out, cache = F.conv2d_forward(x, W, np.zeros(1), stride=2)
    dout = np.ones_like(out)
    dx = full_convolution_dx(dout, W, x.shape, (2, 2), (0, 0))
    np.testing.assert_array_equal(dx, F.conv2d_backward(dout, cache)[0])
    assert dx[0, 0, 5].tolist() == [0] * 6


def test_tiny_max_pool_by_hand():
    # windows of x: [1,2,0,1] max 2 at (0,1); [0,1,3,1] max 3 at (1,2); [2,1,1,0] max 2 at (2,0);
    # [0,2,1,1] max 2 at (2,3); dout = [[1,2],[3,4]] goes to those four inputs
    e = nn.explain_pool(**TINY_POOL)
    assert e.out[0].tolist() == [[2, 3], [2, 2]]
    assert e.argmax == [(0, 0, 1), (0, 1, 2), (0, 2, 0), (0, 2, 3)]
    expected = np.zeros((1, 4, 4))
    expected[0, 0, 1], expected[0, 1, 2], expected[0, 2, 0], expected[0, 2, 3] = 1, 2, 3, 4
    np.testing.assert_array_equal(e.dx, expected)
    assert "out[0,0,1] = max(0, 1, 3, 1) = 3  at x[0,1,2]" in e.lines


@pytest.mark.torch
def test_max_pool_explanation_matches_pytorch_with_ties_and_overlap():
    x = np.array([[[1.0, 1, 0, 2], [1, 1, 2, 2], [0, 3, 3, 1]]])      # ties, 3×2 windows
    e = nn.explain_pool(x, (2, 2), stride=1, dout=np.arange(1.0, 7).reshape(1, 2, 3))
    tx = torch.tensor(x[None], requires_grad=True)
    tout = torch.nn.functional.max_pool2d(tx, 2, stride=1)
    tout.backward(torch.arange(1.0, 7, dtype=torch.float64).reshape(1, 1, 2, 3))
    np.testing.assert_array_equal(e.out, tout[0].detach().numpy())
    np.testing.assert_array_equal(e.dx, tx.grad[0].numpy())


def test_cli_explains_the_tiny_examples_and_custom_json():
    code, text = run_cli("explain", "--conv")
    assert code == 0 and "out[0,0,0] = 0.5 + (1·1 + 0·2 + (-1)·0 + 2·1) = 3.5" in text
    code, text = run_cli("explain", "--pool")
    assert code == 0 and "dx[0,1,2] += dout[0,0,1] = 2" in text
    spec = {"x": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "W": [[1, 0], [0, -1]], "padding": 1}
    code, text = run_cli("explain", "--conv", "--json", json.dumps(spec))
    assert code == 0 and "out[0,0,0] = 0 + (1·0 + 0·0 + 0·0 + (-1)·1) = -1" in text


@pytest.mark.parametrize("argv, message", [
    (["--conv", "--pool"], "give one of them"),
    (["--conv", "--json", '{"y": 1}'], "expected an object with x"),
    (["--conv", "--json", '{"x": [[1, 2], [3, 4]], "W": [[1, 1, 1]] }'], "larger than the input"),
])
def test_cli_errors_name_the_fix(argv, message, capsys):
    assert main(["explain", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "help:" in err


def test_bad_input_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"x holds 2 images.*\nhelp: pass x\[0\]"):
        nn.explain_conv(np.zeros((2, 1, 3, 3)), [[1.0]])
    with pytest.raises(ValueError, match=r"b has 2 values; expected 1 or 1"):
        nn.explain_conv([[1, 2], [3, 4]], [[1.0]], b=[1, 2])
    with pytest.raises(ValueError, match=r"dout has shape \(1, 1, 2, 2\); expected \(1, 1, 1, 1\)"):
        nn.explain_pool([[1, 2], [3, 4]], 2, dout=np.ones((2, 2)))
