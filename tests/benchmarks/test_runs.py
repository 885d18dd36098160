import sys

import numpy as np

from benchmarks import runs

HOLD = "import time; kept = bytearray(64 << 20); time.sleep(0.5)"  # 64 MiB, touched


def test_a_run_reports_its_own_peak_memory_not_the_benchmark_process(tmp_path):
    ballast = np.ones(400 << 20, np.uint8)  # this process holds 400 MiB more than the child
    seconds, peak_mib = runs.child([sys.executable, "-c", HOLD], tmp_path / "run.log")
    assert ballast.sum() == 400 << 20
    assert seconds >= 0.5
    assert 64 <= peak_mib < 200  # the child's 64 MiB and an interpreter, not the 400 here
