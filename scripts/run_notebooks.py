"""Execute the notebooks: each Jupytext percent script in notebooks/ becomes an .ipynb, run
top to bottom by nbclient in a real ipykernel on this very interpreter, and saved with its
outputs (figures included) in build/notebooks/. Prints each notebook's execution time.

    python scripts/run_notebooks.py [NAME ...]     # e.g. 01 or 01-gradient-descent; default all

Exits non-zero, naming the notebook and cell, when a cell raises or prints an error output.
``bash scripts/notebooks.sh`` runs this; ``tests/test_notebooks.py`` imports it.
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build" / "notebooks"
KERNEL = "numpynn-notebooks"  # a kernelspec made for this run only, on sys.executable
TIMEOUT = 600                 # seconds per cell; each notebook is meant to take under 180


def notebook_paths(names=()):
    """The percent scripts ``notebooks/NN-name.py``, in order; ``names`` picks by prefix."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.py"))
    return [p for p in paths if not names or any(p.stem.startswith(n) for n in names)]


def install_kernel(folder):
    """Write a kernelspec under ``folder`` (put first on JUPYTER_PATH) that starts ipykernel
    on this interpreter, imports numpynn from this checkout and prints progress as lines."""
    spec = Path(folder) / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "NUMPYNN_PROGRESS": "lines"}  # no widget frontend here: epoch lines, not widgets
    kernel = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
              "display_name": "Python (numpynn)", "language": "python", "env": env}
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1))
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(folder), os.environ.get("JUPYTER_PATH", "")])


def execute(path, out_dir=BUILD):
    """Convert ``path`` with jupytext, execute it with nbclient (kernel :data:`KERNEL`, cwd a
    scratch folder) and write ``out_dir/<name>.ipynb``. Returns (notebook, seconds)."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python (numpynn)",
                                 "language": "python"}
    with tempfile.TemporaryDirectory() as scratch:
        client = NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL,
                                resources={"metadata": {"path": scratch}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, Path(out_dir) / f"{Path(path).stem}.ipynb")
    return nb, seconds


def outputs(nb, kind):
    """Every output of ``nb`` of output_type ``kind`` ("error") or with MIME type ``kind``."""
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
            if out.get("output_type") == kind or kind in out.get("data", {})]


def main(names):
    paths = notebook_paths(names)
    if not paths:
        sys.exit(f"run_notebooks.py: error: no notebook in {NOTEBOOKS} matches {names}")
    total, failed = 0.0, []
    with tempfile.TemporaryDirectory() as kernels:
        install_kernel(kernels)
        for path in paths:
            try:
                nb, seconds = execute(path)
            except Exception as err:   # nbclient's CellExecutionError names the cell
                print(f"FAILED {path.name}: {err}", flush=True)
                failed.append(path.name)
                continue
            total += seconds
            errors, images = outputs(nb, "error"), outputs(nb, "image/png")
            print(f"{path.stem}: {seconds:.1f} s, {len(images)} figures, "
                  f"{len(errors)} error outputs", flush=True)
            if errors or not images:
                failed.append(path.name)
    print(f"total {total:.1f} s; executed notebooks in {BUILD}")
    if failed:
        sys.exit(f"run_notebooks.py: error: {', '.join(failed)} failed")


if __name__ == "__main__":
    main(sys.argv[1:])
