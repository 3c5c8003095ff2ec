"""The worker: ``python -m benchmarks.worker JOB SPEC_JSON`` runs one job and prints one JSON line."""
import json
import sys

from numpynn._helpers.validation import choose
from benchmarks.profile import profile_epoch
from benchmarks.trials import Trial, peak_job, run_trial

# -- the worker: python -m benchmarks.worker JOB SPEC_JSON, printing one JSON line -----------------
JOBS = {
    "trial": lambda spec: run_trial(Trial.from_dict(spec)),
    "peak": peak_job,
    "profile": lambda spec: profile_epoch(Trial.from_dict(spec["trial"]), **spec.get("kw", {})),
}


def _worker(argv):
    job, spec = argv
    print(json.dumps(choose(job, JOBS, "benchmark job")(json.loads(spec))))


if __name__ == "__main__":
    _worker(sys.argv[1:])
