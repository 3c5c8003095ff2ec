"""The worker: ``python -m benchmarks.worker JOB SPEC_JSON`` runs one job and prints one JSON line.

:func:`benchmarks.trials.spawn` starts it in a fresh interpreter, in the checkout's root, for
every trial, matmul peak and profile, so that each measurement has a process of its own.
"""
import json
import sys

from benchmarks.profile import profile_epoch
from benchmarks.trials import Trial, peak_job, run_trial
from numpynn._helpers.validation import choose

# job name -> function of the decoded SPEC_JSON, returning a JSON-ready result
JOBS = {
    "trial": lambda spec: run_trial(Trial.from_dict(spec)),
    "peak": peak_job,
    "profile": lambda spec: profile_epoch(Trial.from_dict(spec["trial"]), **spec.get("kw", {})),
}


def main(argv):
    """Run ``argv == [JOB, SPEC_JSON]`` and print its result as one JSON line."""
    job, spec = argv
    print(json.dumps(choose(job, JOBS, "benchmark job")(json.loads(spec))))


if __name__ == "__main__":
    main(sys.argv[1:])
