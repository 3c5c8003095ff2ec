#!/usr/bin/env bash
# Build and execute the course notebooks: every Jupytext percent script notebooks/NN-name.py is
# converted to .ipynb, run top to bottom with nbclient in an ipykernel on this Python, and
# written with its outputs and figures to build/notebooks/NN-name.ipynb (gitignored).
#   bash scripts/notebooks.sh          # all of them
#   bash scripts/notebooks.sh 01 05    # those whose names start so
# Needs numpynn's notebook extra in the active Python: pip install -e ".[all,notebook]".
# Open the results with: jupyter lab build/notebooks/ (or the scripts themselves: jupytext
# opens notebooks/*.py as notebooks in Jupyter).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -n "${VIRTUAL_ENV:-}" ] && python=python
"$python" scripts/run_notebooks.py "$@"
