"""Tests for numpynn.plot: every figure renders a readable PNG, saves are atomic, the numbers behind
the pictures match independent oracles (scikit-learn's confusion matrix, closed-form and
finite-difference derivatives, hand-computed min-max scaling), and bad input names the argument."""
import io
import os
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")  # the module's own backend choice is tested in subprocesses below

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import numpynn as nn
from numpynn import plot

TOL = 1e-12  # float64 values copied into the figure unchanged, up to rounding


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def minmax(image):
    """The display scaling, computed independently: (x - min) / (max - min) over one image."""
    image = np.asarray(image, dtype=np.float64)
    return (image - image.min()) / (image.max() - image.min())


def bowl(x, y):
    return x ** 2 + 10 * y ** 2


def gd_path(start, lr, steps):
    """Gradient descent on `bowl`, whose gradient is (2x, 20y)."""
    points = [np.asarray(start, dtype=np.float64)]
    for _ in range(steps):
        x, y = points[-1]
        points.append(points[-1] - lr * np.array([2 * x, 20 * y]))
    return np.array(points)  # (steps + 1, 2)


def tanh_pair():
    """An activation in the functional convention: forward -> (out, cache), backward -> dx."""
    def forward(x):
        out = np.tanh(x)
        return out, out

    def backward(dout, cache):
        return dout * (1 - cache ** 2)

    return {"tanh": (forward, backward)}


def labels(seed, n=120, n_classes=5, accuracy=0.8):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < accuracy, y_true, rng.integers(0, n_classes, n))
    return y_true, y_pred


# name -> builder(path) of each public figure, on small data
FIGURES = {
    "learning_curves": lambda path: plot.learning_curves(
        {"loss": [2.0, 1.0, 0.6, 0.4], "val_loss": [2.1, 1.2, 0.8, 0.7],
         "acc": [0.3, 0.6, 0.8, 0.9], "val_acc": [0.3, 0.55, 0.7, 0.75],
         "batch_loss": list(np.linspace(2.5, 0.3, 40))}, path=path),
    "confusion_matrix": lambda path: plot.confusion_matrix(*labels(0), path=path),
    "image_grid": lambda path: plot.image_grid(
        np.random.default_rng(1).random((20, 64)), *labels(2, n=20), n=9, path=path),
    "weight_grid": lambda path: plot.weight_grid(
        np.random.default_rng(3).normal(size=(64, 10)), (8, 8), path=path),
    "conv_filters": lambda path: plot.conv_filters(
        np.random.default_rng(4).normal(size=(8, 3, 5, 5)), path=path),
    "feature_maps": lambda path: plot.feature_maps(
        nn.Sequential(nn.Conv2d(1, 6, 3, padding=1, rng=0), nn.ReLU()),
        np.random.default_rng(5).random((1, 12, 12)), path=path),
    "activation_functions": lambda path: plot.activation_functions(tanh_pair(), path=path),
    "descent_contours": lambda path: plot.descent_contours(
        bowl, [gd_path([-3.0, 1.0], 0.09, 15), gd_path([2.0, -1.0], 0.02, 15)],
        labels=["lr 0.09", "lr 0.02"], path=path),
}


# ----------------------------------------------------------------------------- import and backend
def run_python(code, args=(), **env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND", "CI")}
    env.update(env_changes)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_does_not_import_matplotlib():
    out = run_python("""
        import sys
        import numpynn.plot
        print(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"))
    """)
    assert out == "[]"


def test_headless_selects_agg():
    out = run_python("""
        import matplotlib
        from numpynn import plot
        plot.confusion_matrix([0, 1, 1], [0, 1, 0])
        print(matplotlib.get_backend().lower())
    """)
    assert out == "agg"


def test_backend_chosen_by_the_user_is_kept():
    out = run_python("""
        import matplotlib
        matplotlib.use("svg")
        import matplotlib.pyplot
        from numpynn import plot
        plot.confusion_matrix([0, 1, 1], [0, 1, 0])
        print(matplotlib.get_backend().lower())
    """, CI="true")
    assert out == "svg"


@pytest.mark.parametrize("env, expected", [
    ({}, True),
    ({"DISPLAY": ":0"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"DISPLAY": ":0", "CI": "true"}, True),
])
def test_headless_detection(monkeypatch, env, expected):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "CI"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    if sys.platform in ("darwin", "win32") and "CI" not in env:
        expected = False  # these always have a window system
    assert plot._figure._headless() is expected


# ----------------------------------------------------------------------------- saving
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_saved_as_readable_png_and_closed(tmp_path, name):
    target = tmp_path / "new" / "folder" / f"{name}.png"  # parents do not exist yet
    fig = FIGURES[name](target)
    assert isinstance(fig, Figure)
    assert not plt.fignum_exists(fig.number)  # saved figures are closed
    assert sorted(os.listdir(target.parent)) == [target.name]  # no temporary file left behind
    assert target.stat().st_size > 0
    pixels = matplotlib.image.imread(target)  # (H, W, 4) floats in [0, 1]
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100
    assert np.ptp(pixels[..., :3]) > 0.5


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_without_path_is_not_left_in_pyplot_but_still_renders(name):
    # Jupyter's inline backend draws every figure left open in pyplot at the end of a cell, and
    # displays the Figure the cell returns as well: nothing left open, nothing shown twice
    fig = FIGURES[name](None)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == []
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    pixels = matplotlib.image.imread(io.BytesIO(buffer.getvalue()), format="png")  # (H, W, 4)
    assert min(pixels.shape[:2]) > 100 and np.ptp(pixels[..., :3]) > 0.5


def test_figure_with_a_window_stays_for_plt_show(tmp_path):
    # a backend whose figure manager opens windows (as Tk, Qt and macOS do): scripts that call
    # plot functions and then plt.show() still see every figure
    out = run_python("""
        import sys, types
        import matplotlib
        from matplotlib.backend_bases import FigureManagerBase
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        class WindowManager(FigureManagerBase):
            def show(self):
                print("window", self.num)

        class WindowCanvas(FigureCanvasAgg):
            manager_class = WindowManager

        backend = types.ModuleType("window_backend")
        backend.FigureCanvas, backend.FigureManager = WindowCanvas, WindowManager
        sys.modules["window_backend"] = backend
        matplotlib.use("module://window_backend")
        import matplotlib.pyplot as plt
        from numpynn import plot
        plot.confusion_matrix([0, 1, 1], [0, 1, 0])
        plot.activation_functions(["relu"])
        plot.confusion_matrix([0, 1], [0, 1], path=sys.argv[1])  # a saved figure is closed
        print(plt.get_fignums())
        plt.show()
    """, args=[str(tmp_path / "saved.png")])
    assert out.splitlines() == ["[1, 2]", "window 1", "window 2"]


def test_failing_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "confusion.png"
    target.write_bytes(b"old picture")
    open_before = plt.get_fignums()

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")  # a partial file, then the failure
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plot.confusion_matrix([0, 1, 1], [0, 1, 0], path=target)
    assert os.listdir(tmp_path) == ["confusion.png"]
    assert target.read_bytes() == b"old picture"
    assert plt.get_fignums() == open_before  # the failed figure was closed too


def test_save_figure_writes_png_and_rejects_other_suffixes(tmp_path):
    fig = plt.figure()
    fig.gca().plot([0, 1], [1, 0])
    written = plot.save_figure(fig, tmp_path / "line.png")
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"path must end in \.png; got .*line\.pdf"):
        plot.save_figure(fig, tmp_path / "line.pdf")


# ----------------------------------------------------------------------------- learning curves
def test_learning_curves_draws_history_and_marks_best_epoch():
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.2, 0.9, 1.0],
               "acc": [0.5, 0.7, 0.9], "val_acc": [0.4, 0.8, 0.7], "lr": [0.1, 0.1, 0.1]}
    fig = plot.learning_curves(history)
    loss_ax, acc_ax = fig.axes
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    np.testing.assert_allclose(lines["train"].get_xdata(), [1, 2, 3], atol=0)
    np.testing.assert_allclose(lines["train"].get_ydata(), history["loss"], atol=TOL)
    assert "validation (best 0.9 at epoch 2)" in lines
    acc_labels = [line.get_label() for line in acc_ax.get_lines()]
    assert "validation (best 0.8 at epoch 2)" in acc_labels
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss")
    assert acc_ax.get_title() == "Accuracy"


def test_learning_curves_iteration_loss_in_fractional_epochs():
    fig = plot.learning_curves({"loss": [1.0, 0.8, 0.6, 0.5], "batch_loss": [1.0] * 8})
    (ax,) = fig.axes  # no accuracy recorded: one panel (regression)
    faint = next(line for line in ax.get_lines() if "iteration" in line.get_label())
    # 8 iterations over 4 epochs: iteration k ends at epoch k / 2
    np.testing.assert_allclose(faint.get_xdata(), np.arange(1, 9) / 2, atol=TOL)


def test_learning_curves_log_scale_for_loss_spanning_decades():
    assert plot.learning_curves({"loss": [10.0, 1.0, 0.1]}).axes[0].get_yscale() == "log"
    assert plot.learning_curves({"loss": [1.0, 0.8, 0.7]}).axes[0].get_yscale() == "linear"


def test_learning_curves_accepts_history_object():
    class History:  # the trainer's shape: per-epoch dict plus a per-iteration list
        history = {"loss": [1.0, 0.5]}
        iteration_loss = [1.2, 0.9, 0.6, 0.4]

    (ax,) = plot.learning_curves(History()).axes
    faint = next(line for line in ax.get_lines() if "iteration" in line.get_label())
    np.testing.assert_allclose(faint.get_ydata(), History.iteration_loss, atol=TOL)
    np.testing.assert_allclose(faint.get_xdata(), [0.5, 1.0, 1.5, 2.0], atol=TOL)


def test_learning_curves_rejects_empty_history():
    with pytest.raises(ValueError, match="history has nothing to plot"):
        plot.learning_curves({"loss": [], "lr": [0.1]})
    with pytest.raises(TypeError, match="history must be a dict"):
        plot.learning_curves([1.0, 0.5])


# ----------------------------------------------------------------------------- confusion matrix
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_counts_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n_classes = 7
    y_true = rng.integers(0, n_classes - 1, 500)  # class 6 never occurs as a true label
    y_pred = rng.integers(0, n_classes, 500)
    expected = sk_confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))
    counts = plot.confusion_counts(y_true, y_pred, n_classes)
    assert counts.shape == (n_classes, n_classes) and counts.dtype.kind == "i"
    np.testing.assert_array_equal(counts, expected)


def test_confusion_counts_hand_example():
    # true 0 -> pred 0; true 1 -> pred 2 and 1; true 2 -> pred 2
    np.testing.assert_array_equal(plot.confusion_counts([0, 1, 1, 2], [0, 2, 1, 2], 3),
                                  [[1, 0, 0], [0, 1, 1], [0, 0, 1]])


def test_confusion_counts_rejects_bad_labels():
    with pytest.raises(ValueError, match="y_true has 5 entries but y_pred has 4"):
        plot.confusion_counts([0, 1, 1, 0, 1], [0, 1, 1, 0], 2)
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 2\)"):
        plot.confusion_counts([0, 1], [0, 2], 2)
    with pytest.raises(ValueError, match=r"^confusion_counts: n_classes must be an integer >= 1; "
                                         r"got 0$"):
        plot.confusion_counts([0], [0], 0)
    with pytest.raises(TypeError, match=r"^confusion_counts: n_classes must be an integer >= 1; "
                                        r"got 2\.0\nhelp: pass an int, n_classes=2$"):
        plot.confusion_counts([0], [0], 2.0)
    with pytest.raises(ValueError, match="y_true has 3 entries but y_pred has 2"):
        plot.confusion_matrix([0, 1, 1], [0, 1])


def test_confusion_matrix_normalized_matches_sklearn():
    y_true, y_pred = labels(4, n=200, n_classes=4)
    y_true[y_true == 3] = 0  # an empty row must show zeros, not NaN
    fig = plot.confusion_matrix(y_true, y_pred, class_names=list("abcd"), normalize=True)
    shown = fig.axes[0].images[0].get_array()
    expected = sk_confusion_matrix(y_true, y_pred, labels=np.arange(4), normalize="true")
    np.testing.assert_allclose(shown, expected, atol=TOL)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list("abcd")


def test_confusion_matrix_annotates_up_to_20_classes():
    y = np.arange(40) % 20
    assert len(plot.confusion_matrix(y, y).axes[0].texts) == 20 * 20
    y = np.arange(42) % 21
    assert len(plot.confusion_matrix(y, y).axes[0].texts) == 0


# ----------------------------------------------------------------------------- image grids
def test_misclassified_order_hand_example():
    # wrong at 1 and 3; each group keeps its order
    np.testing.assert_array_equal(plot.misclassified_order([0, 1, 2, 3], [0, 2, 2, 0]),
                                  [1, 3, 0, 2])


def test_misclassified_order_is_stable_partition():
    y_true, y_pred = labels(5, n=300)
    order = plot.misclassified_order(y_true, y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    right = np.flatnonzero(y_true == y_pred)
    np.testing.assert_array_equal(order, np.concatenate([wrong, right]))


def test_image_grid_titles_misclassified_first_in_red():
    rng = np.random.default_rng(6)
    y_true = np.array([0, 1, 2, 0, 1, 2])
    y_pred = np.array([0, 2, 2, 1, 1, 2])  # wrong at 1 and 3
    names = ["cat", "dog", "frog"]
    fig = plot.image_grid(rng.random((6, 16)), y_true, y_pred, class_names=names)
    titles = [ax.get_title() for ax in fig.axes[:6]]
    assert titles == ["frog / dog", "dog / cat", "cat / cat", "frog / frog", "dog / dog",
                      "frog / frog"]
    red = [matplotlib.colors.to_hex(ax.title.get_color()) == plot.WRONG_COLOR for ax in fig.axes]
    assert red[:6] == [True, True, False, False, False, False]
    assert "2 of 6 misclassified" in fig._suptitle.get_text()


def test_image_grid_keeps_order_when_asked_and_limits_n():
    rng = np.random.default_rng(7)
    y_true, y_pred = np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0])
    fig = plot.image_grid(rng.random((4, 3, 3)), y_true, y_pred, n=3, misclassified_first=False)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["0 / 0", "0 / 1", "0 / 0"]
    assert sum(len(ax.images) for ax in fig.axes) == 3


def test_image_grid_cifar_channels_first_flat_rows():
    rng = np.random.default_rng(8)
    chw = rng.normal(size=(4, 3, 32, 32))  # CIFAR-10 binary layout: R plane, G plane, B plane
    expected = [minmax(img.transpose(1, 2, 0)) for img in chw]  # (32, 32, 3) each
    for fig in (plot.image_grid(chw.reshape(4, -1), image_shape=(3, 32, 32)),
                plot.image_grid(chw.reshape(4, -1), channels_first=True),
                plot.image_grid(chw, channels_first=True)):
        for ax, want in zip(fig.axes, expected):
            np.testing.assert_allclose(ax.images[0].get_array(), want, atol=TOL)


def test_image_grid_grayscale_and_hwc_per_image_scaling():
    rng = np.random.default_rng(9)
    gray = rng.integers(0, 256, size=(3, 28 * 28)).astype(np.uint8)  # MNIST-like flat rows
    fig = plot.image_grid(gray)
    for ax, row in zip(fig.axes, gray):
        np.testing.assert_allclose(ax.images[0].get_array(), minmax(row.reshape(28, 28)), atol=TOL)
    hwc = rng.random((2, 5, 7, 3)) * [1, 10, 100]
    fig = plot.image_grid(hwc)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), minmax(hwc[1]), atol=TOL)


def test_image_grid_rejects_bad_input():
    rng = np.random.default_rng(10)
    with pytest.raises(ValueError, match="y_pred has 9 entries; expected 10"):
        plot.image_grid(rng.random((10, 64)), np.zeros(10, int), np.zeros(9, int))
    with pytest.raises(ValueError, match="images has 10 features per row.*image_shape"):
        plot.image_grid(rng.random((4, 10)))
    with pytest.raises(ValueError, match=r"image_shape \(8, 8\) expects 64"):
        plot.image_grid(rng.random((4, 60)), image_shape=(8, 8))
    with pytest.raises(ValueError, match=r"y_true must lie in \[0, 2\)"):
        plot.image_grid(rng.random((2, 64)), [0, 2], [0, 1], class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"^image_grid: n must be an integer >= 1; got 0$"):
        plot.image_grid(rng.random((2, 64)), n=0)


def test_weight_grid_tiles_each_filter_min_max_scaled():
    rng = np.random.default_rng(11)
    W = rng.normal(size=(64, 10))  # (D, M): 10 filters of 8x8
    canvas = plot.weight_grid(W, (8, 8)).axes[0].images[0].get_array()
    # 10 filters tile a 4-column grid with 1-pixel gaps: 3 rows of 9 pixels minus the last gap
    assert canvas.shape == (3 * 9 - 1, 4 * 9 - 1)
    for m in range(10):
        row, col = divmod(m, 4)
        tile = canvas[9 * row:9 * row + 8, 9 * col:9 * col + 8]
        np.testing.assert_allclose(tile, minmax(W[:, m].reshape(8, 8)), atol=TOL)


def test_weight_grid_colour_channels_first_and_n():
    rng = np.random.default_rng(12)
    W = rng.normal(size=(3 * 10 * 10, 6))  # CIFAR-like (3, H, W) filters, flattened channel-first
    canvas = plot.weight_grid(W, (3, 10, 10), n=4).axes[0].images[0].get_array()
    assert canvas.shape == (2 * 11 - 1, 2 * 11 - 1, 3)  # 4 filters: 2x2 grid, 1-pixel gaps
    np.testing.assert_allclose(canvas[11:21, 0:10], minmax(W[:, 2].reshape(3, 10, 10)
                                                           .transpose(1, 2, 0)), atol=TOL)


def test_weight_grid_rejects_mismatched_shape():
    rng = np.random.default_rng(13)
    with pytest.raises(ValueError, match=r"W has shape \(60, 5\); image_shape \(8, 8\) expects "
                                         r"\(64, M\)"):
        plot.weight_grid(rng.normal(size=(60, 5)), (8, 8))
    with pytest.raises(ValueError, match="W looks transposed; pass W.T"):
        plot.weight_grid(rng.normal(size=(5, 64)), (8, 8))
    with pytest.raises(TypeError, match=r"^weight_grid: n must be an integer >= 1; got True$"):
        plot.weight_grid(rng.normal(size=(64, 5)), (8, 8), n=True)


# ----------------------------------------------------------------------------- activations
def test_activation_functions_plots_forward_and_derivative():
    x = np.linspace(-3, 3, 31)
    fig = plot.activation_functions(tanh_pair(), x=x)
    f_ax, d_ax = fig.axes[:2]
    assert (f_ax.get_title(), d_ax.get_title()) == ("tanh(x)", "tanh′(x)")
    np.testing.assert_allclose(f_ax.get_lines()[-1].get_ydata(), np.tanh(x), atol=TOL)
    np.testing.assert_allclose(d_ax.get_lines()[-1].get_ydata(), 1 / np.cosh(x) ** 2, atol=1e-12)


def test_activation_functions_default_table_derivatives_match_finite_differences():
    from numpynn.functional import ACTIVATIONS
    x = np.linspace(-3, 3, 41) + 0.0123  # away from the kinks at 0
    h = 1e-6
    fig = plot.activation_functions(x=x)
    titles = {ax.get_title(): ax for ax in fig.axes}
    for name, (forward, _) in ACTIVATIONS.items():
        numerical = (forward(x + h)[0] - forward(x - h)[0]) / (2 * h)
        plotted = titles[f"{name}′(x)"].get_lines()[-1].get_ydata()
        np.testing.assert_allclose(plotted, numerical, atol=1e-6, err_msg=name)


def test_activation_functions_by_name_and_errors(monkeypatch):
    fig = plot.activation_functions(["relu", "tanh"])
    assert [ax.get_title() for ax in fig.axes] == ["relu(x)", "relu′(x)", "tanh(x)", "tanh′(x)"]
    with pytest.raises(ValueError, match="^activation_functions: unknown activation 'rleu'; "
                                         "choose one of: relu"):
        plot.activation_functions(["rleu"])
    monkeypatch.setitem(sys.modules, "numpynn.functional", None)  # as if it were missing
    with pytest.raises(ValueError, match="ACTIVATIONS is not available"):
        plot.activation_functions()


# ----------------------------------------------------------------------------- descent paths
def test_descent_contours_draws_paths_values_and_default_bounds():
    paths = [gd_path([-3.0, 1.0], 0.09, 20), gd_path([2.0, -1.0], 0.02, 20)]
    fig = plot.descent_contours(bowl, paths, labels=["fast", "slow"])
    contour_ax, values_ax = fig.axes
    drawn = {line.get_label(): line for line in contour_ax.get_lines()}
    np.testing.assert_allclose(drawn["fast"].get_xydata(), paths[0], atol=TOL)
    (xmin, xmax), (ymin, ymax) = contour_ax.get_xlim(), contour_ax.get_ylim()
    points = np.concatenate(paths)
    assert xmin < points[:, 0].min() and points[:, 0].max() < xmax
    assert ymin < points[:, 1].min() and points[:, 1].max() < ymax
    # values default to f along each path; they fall over decades, so the axis is logarithmic
    curves = {line.get_label(): line.get_ydata() for line in values_ax.get_lines()}
    np.testing.assert_allclose(curves["slow"], bowl(paths[1][:, 0], paths[1][:, 1]), atol=TOL)
    assert values_ax.get_yscale() == "log"


def test_descent_contours_linear_axis_and_given_bounds():
    path = np.array([[1.0, 1.0], [0.5, 0.0], [0.0, -0.5]])
    fig = plot.descent_contours(lambda x, y: x + y, path, values=[np.array([2.0, 0.5, -0.5])],
                                bounds=(-2, 2, -1, 3))
    contour_ax, values_ax = fig.axes
    assert contour_ax.get_xlim() == (-2, 2) and contour_ax.get_ylim() == (-1, 3)
    assert values_ax.get_yscale() == "linear"


def test_descent_contours_rejects_bad_input():
    path = gd_path([1.0, 1.0], 0.1, 3)
    with pytest.raises(ValueError, match=r"paths\[0\] has shape \(4, 3\); expected \(T, 2\)"):
        plot.descent_contours(bowl, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="f must be vectorised"):
        plot.descent_contours(lambda x, y: 1.0, path, values=[np.ones(4)])
    with pytest.raises(ValueError, match="values has 2 arrays but paths has 1"):
        plot.descent_contours(bowl, path, values=[np.ones(4), np.ones(4)])
    with pytest.raises(ValueError, match="labels has 2 entries but paths has 1"):
        plot.descent_contours(bowl, [path], labels=["a", "b"])
    with pytest.raises(ValueError, match=r"bounds must be \(xmin, xmax, ymin, ymax\)"):
        plot.descent_contours(bowl, path, bounds=(1, -1, 0, 1))
    with pytest.raises(ValueError, match="not finite anywhere inside bounds"):
        plot.descent_contours(lambda x, y: np.full(x.shape, np.nan), path, values=[np.ones(4)])


COURSE_F = "x**2 + y**2 + x*(y + 2) + cos(3*x)"


def course_f(x, y):
    return x ** 2 + y ** 2 + x * (y + 2) + np.cos(3 * x)


def contour_levels(fig):
    """The filled contours' levels: quantiles of f on the grid, so they pin f's grid values."""
    return fig.axes[0].collections[0].levels


@pytest.mark.parametrize("f", [COURSE_F, lambda p: p[0] ** 2 + p[1] ** 2 + p[0] * (p[1] + 2)
                               + (3 * p[0]).cos()], ids=["expression", "tensor-function"])
def test_descent_contours_takes_what_descent_takes(f):
    import numpynn as nn

    fixed = nn.descent(f, [2.0, 2.0], lr=0.1, steps=20)
    decaying = nn.descent(f, [2.0, 2.0], lr=0.1, steps=20, decay=0.9)
    paths = [fixed.path, decaying.path]
    fig = plot.descent_contours(f, paths, labels=["decay 1", "decay 0.9"])
    oracle = plot.descent_contours(course_f, paths)  # the same f written with NumPy
    np.testing.assert_allclose(contour_levels(fig), contour_levels(oracle), rtol=1e-12)
    curves = {line.get_label(): line.get_ydata() for line in fig.axes[1].get_lines()}
    np.testing.assert_allclose(curves["decay 0.9"], decaying.values, rtol=1e-12)
    assert plt.get_fignums() == []


def test_descent_contours_rejects_an_f_it_cannot_evaluate():
    path = gd_path([1.0, 1.0], 0.1, 3)
    with pytest.raises(ValueError, match="unsupported name 'z'"):  # course.descent's parser
        plot.descent_contours("x + z", path)
    with pytest.raises(TypeError, match="^descent_contours: f must be an expression string or "
                                        "a callable; got int"):
        plot.descent_contours(3, path)


def test_descent_contours_flat_function_still_draws():
    fig = plot.descent_contours(lambda x, y: np.zeros_like(x), gd_path([1.0, 1.0], 0.1, 3))
    assert len(fig.axes) == 2


def test_conv_filters_tile_each_filter_and_average_grey_channels():
    W = np.zeros((4, 2, 3, 3))
    W[0, :, 1, 1] = 1.0                                   # a centre spot on both channels
    canvas = plot.conv_filters(W, n=2).axes[0].images[0].get_array()
    assert canvas.shape == (3, 3 + 1 + 3)                   # 2 filters of 3×3, side by side
    np.testing.assert_array_equal(canvas[:3, :3], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert np.all(canvas[:3, 4:] == 0.5)                    # a constant filter is mid-grey
    colour = plot.conv_filters(np.random.default_rng(6).normal(size=(3, 3, 4, 4)))
    assert colour.axes[0].images[0].get_array().shape[-1] == 3


def test_feature_maps_show_what_the_first_convolution_computes():
    conv = nn.Conv2d(1, 4, 3, padding=1, rng=0)
    model = nn.Sequential(nn.Unflatten((1, 6, 6)), conv, nn.ReLU(), nn.Flatten(), nn.Linear(144, 2))
    x = np.random.default_rng(7).random(36).astype(np.float32)   # a loader's flat row
    canvas = plot.feature_maps(model, x, n=1).axes[0].images[0].get_array()
    expected = conv.forward(x.reshape(1, 1, 6, 6))[0, 0]
    span = expected.max() - expected.min()
    np.testing.assert_allclose(canvas, (expected - expected.min()) / span, rtol=1e-6)
    with pytest.raises(ValueError, match="gives outputs of shape \\(2,\\)"):
        plot.feature_maps(model, x, layer=4)
    with pytest.raises(ValueError, match="no Conv2d layer"):
        plot.feature_maps(nn.Sequential(nn.Linear(3, 2)), np.ones(3))
