#!/usr/bin/env bash
# README's test command: installs what the tests need, then runs them all, on three Pythons.
#   1. the Debian package dataset-fashion-mnist (real Fashion-MNIST for one end-to-end test);
#   2. the default python3: a virtual environment .venv with numpynn and its test extras
#      (pinned CPU PyTorch 2.13.0), pytest, then scripts/check_env.py (NumPy's own OpenBLAS
#      must be found: numpynn's fast SGD update runs through it);
#   3. Debian's chromium and chromium-driver for the playground's browser tests (when missing);
#   4. the same suite on Python 3.10 and 3.13 (pyenv's, or python3.10/python3.13 on PATH),
#      each in its own .venv310/.venv313. Where pip finds no CPU wheel of the pinned torch on
#      this disk, the tests that compare with PyTorch are deselected (-m "not torch"), said on
#      one line, and counted in pytest's summary; a CUDA build of several GB is never fetched.
# Nothing is skipped: a missing requirement is a failure that says how to install it.
# NUMPYNN_TEST_PYTHONS="3.10 3.13" (the default) chooses the other Pythons; empty: none.
# Arguments go to every pytest run, e.g. scripts/test.sh tests/test_layers.py -x
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq dataset-fashion-mnist
fi

# numpynn tune's tests start a PostgreSQL server of their own (tests/test_tune.py)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi

# the playground's browser tests drive Debian's headless Chromium (tests/test_playground_browser.py)
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

TORCH_PIN="torch==2.13.0"  # the same pin as pyproject's [test] extra

# find_python VERSION: the path of that interpreter, or nothing
find_python() {
    local prefix
    if command -v pyenv >/dev/null && prefix=$(pyenv prefix "$1" 2>/dev/null) \
            && [ -x "$prefix/bin/python$1" ]; then
        echo "$prefix/bin/python$1"
    elif command -v "python$1" >/dev/null && "python$1" -c "" 2>/dev/null; then
        command -v "python$1"
    fi
}

# suite VENV PYTHON [pytest args...]: install into VENV (made with PYTHON), then run pytest
suite() {
    local venv=$1 python=$2; shift 2
    [ -d "$venv" ] || "$python" -m venv "$venv"
    local pip=("$venv/bin/python" -m pip --disable-pip-version-check)
    local marker=()
    if "${pip[@]}" install -q --dry-run --no-deps --no-index "$TORCH_PIN" >/dev/null 2>&1; then
        "${pip[@]}" install -q -e ".[test]"
    else
        "${pip[@]}" install -q -e ".[test-no-torch]"
        echo "== $("$venv/bin/python" -V): no CPU wheel of $TORCH_PIN on this disk, so the" \
             "tests marked torch (PyTorch as oracle) are deselected: -m 'not torch'"
        marker=(-m "not torch")
    fi
    # the notebooks and the browser run once, on the default Python above: here they would
    # only add minutes
    if [ ${#marker[@]} -eq 0 ]; then marker=(-m "not notebook and not browser")
    else marker=(-m "not torch and not notebook and not browser"); fi
    echo "== pytest on $("$venv/bin/python" -V) ($venv); the notebook and browser tests ran on" \
         "the default Python and are deselected here: ${marker[1]}"
    "$venv/bin/python" -m pytest "${marker[@]}" "$@"
}

[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q -e ".[test]"
echo "== pytest on $(python -V) (.venv, the default Python)"
python -m pytest "$@"
python scripts/check_env.py
deactivate

for version in ${NUMPYNN_TEST_PYTHONS-3.10 3.13}; do
    python=$(find_python "$version")
    if [ -z "$python" ]; then
        echo "scripts/test.sh: error: Python $version not found; install it (pyenv install" \
             "$version) or leave it out: NUMPYNN_TEST_PYTHONS=\"...\" scripts/test.sh" >&2
        exit 1
    fi
    suite ".venv${version/./}" "$python" "$@"
done
