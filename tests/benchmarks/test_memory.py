"""The memory benchmark's generated files, and a quick run of it."""

import pytest

from benchmarks import memory


@pytest.mark.slow
def test_a_quick_run_measures_both_tasks_at_both_scales():
    rows = memory.run(quick=True)
    assert [row.case.split()[0] for row in rows] == ["translate", "caption"]
    for row in rows:
        one, ten = row.figures["MiB peak RSS 1x"], row.figures["MiB peak RSS 10x"]
        assert 200 < one < 4000 and 200 < ten < 4000  # a TensorFlow process's own peak
        assert row.target == "10x <= 1.15x the 1x peak" and row.met is not None
