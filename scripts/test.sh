#!/usr/bin/env bash
# README's test command: installs what the tests need, then runs them all.
#   1. the Debian package dataset-fashion-mnist (real Fashion-MNIST for one end-to-end test);
#   2. a virtual environment .venv with numpynn and its test extras (pinned CPU PyTorch 2.13.0);
#   3. pytest. Nothing is skipped: a missing requirement is a failure that says how to install it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq dataset-fashion-mnist
fi
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q -e ".[test]"
python -m pytest "$@"
