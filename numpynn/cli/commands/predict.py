"""``numpynn predict``: a trained model's predictions for the samples in a file.

    numpynn predict runs/digits-… --input digit.png          # one line per sample
    numpynn predict model.npz --input X.npy --top 3 --out preds.csv

A run folder's ``model.npz`` (or ``model-best.npz`` with ``--best``) carries its preprocessing
and class names, so it takes raw data as the dataset loaders give it; see
:mod:`numpynn.data.inputs` for the file types.
"""
import csv
import io
from pathlib import Path

from numpynn.cli.errors import UsageError


def add_arguments(parser):
    parser.add_argument("model", metavar="RUN_OR_MODEL",
                        help="a run folder written by numpynn train, or a model .npz file")
    parser.add_argument("--input", required=True, metavar="FILE",
                        help="the samples: .npy, .csv (one sample per row) or an image "
                             "(.png, .jpg: resized to the model's input, greyscale where it is)")
    parser.add_argument("--top", type=int, default=1, metavar="K",
                        help="print the K most probable classes of each sample (default 1)")
    parser.add_argument("--out", metavar="FILE.csv",
                        help="also write the predictions to a CSV file")
    parser.add_argument("--best", action="store_true",
                        help="a run folder's best-by-validation model (model-best.npz)")


def run(args):
    from numpynn.data.inputs import read_samples

    model = _load(Path(args.model), args.best)
    n_features = model._guess_input_shape()
    if n_features is None:
        raise UsageError(f"{args.model}: cannot tell how many input values the model takes")
    X = read_samples(args.input, n_features[0])
    rows = predictions(model, X, args.top)
    for row in rows:
        print(format_row(row))
    if args.out:
        _write_csv(args.out, rows, args.top)
    return 0


def _load(path, best):
    from numpynn.cli import run as runs
    from numpynn.serialization import load

    if path.is_dir():
        return runs.load_model(path, runs.BEST_MODEL if best else runs.MODEL)
    if best:
        raise UsageError("--best takes a run folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such run folder or model file")
    return load(path)


def predictions(model, X, top):
    """One dict per sample: ``{"sample", "classes": [(name, p), …]}``, or ``{"sample",
    "values"}`` for a regression model."""
    if top < 1:
        raise UsageError(f"--top must be >= 1; got {top}")
    if model._task("predict") == "regression":
        values = model.predict(X)                               # (N, M)
        return [{"sample": i, "values": row.tolist()} for i, row in enumerate(values)]
    proba = model.predict_proba(X)                              # (N, C)
    names = model.classes or [str(c) for c in range(proba.shape[1])]
    order = proba.argsort(axis=1)[:, ::-1][:, :top]             # (N, K) most probable first
    return [{"sample": i, "classes": [(names[c], float(proba[i, c])) for c in ranks]}
            for i, ranks in enumerate(order)]


def format_row(row):
    """``sample 0: 7 (p=0.9821)`` or, with --top 3, ``sample 0: 7 (p=0.9821), 9 (…), …``."""
    if "values" in row:
        return f"sample {row['sample']}: " + " ".join(f"{v:.6g}" for v in row["values"])
    return f"sample {row['sample']}: " + ", ".join(f"{name} (p={p:.4f})"
                                                   for name, p in row["classes"])


def _write_csv(path, rows, top):
    from numpynn._helpers.io import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows and "values" in rows[0]:
        writer.writerow(["sample", *(f"value_{j}" for j in range(len(rows[0]["values"])))])
        writer.writerows([row["sample"], *row["values"]] for row in rows)
    else:
        header = ["sample"] + [f"{kind}_{k + 1}" for k in range(top)
                               for kind in ("class", "probability")]
        writer.writerow(header if top > 1 else ["sample", "class", "probability"])
        writer.writerows([row["sample"], *(v for pair in row["classes"] for v in pair)]
                         for row in rows)
    atomic_write_text(path, buffer.getvalue())
