"""The package as a user first meets it: what `import numpynn` loads and exposes."""
import subprocess
import sys

import numpynn

HEAVY = ("matplotlib", "sklearn", "tqdm", "torch")


def test_import_loads_no_heavy_dependency_and_exposes_submodules():
    code = ("import sys, numpynn\n"
            "mods = [numpynn.functional, numpynn.optim, numpynn.gradcheck, numpynn.data,\n"
            "        numpynn.autograd, numpynn.Linear, numpynn.Sequential, numpynn.Trainer]\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in numpynn.__all__:
        assert getattr(numpynn, name) is not None, name
    assert numpynn.descent.__module__ == "numpynn.playground"  # the function, not a module
