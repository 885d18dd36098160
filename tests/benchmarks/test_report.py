import json

from benchmarks import report, runner
from benchmarks.report import Row


def test_markdown_has_one_line_per_row_with_targets():
    rows = [
        Row("train", "translate", {"examples/s": 1234.5, "MFU": 0.4567}, "MFU >= 0.65", False),
        Row("decode", "caption greedy", {"ms p50": 12.34}, note="batch 1"),
    ]
    lines = report.markdown(rows).splitlines()
    assert lines[0] == "| benchmark | case | measured | target |"
    assert lines[2] == "| train | translate | 1,234 examples/s, 0.457 MFU | MFU >= 0.65: NOT met |"
    assert lines[3] == "| decode | caption greedy | 12.3 ms p50 (batch 1) |  |"


def test_json_record_keeps_exact_figures_and_machine_facts(tmp_path):
    rows = [Row("train", "translate", {"examples/s": 1234.5678}, "t", True)]
    path = report.write_json(rows, {"cpu_count": 2}, "python -m benchmarks", 61.23, tmp_path)
    record = json.loads(path.read_text())
    assert path.name == f"{record['date']}.json"
    assert record["machine"] == {"cpu_count": 2}
    assert record["rows"][0]["figures"] == {"examples/s": 1234.5678}
    assert record["rows"][0]["met"] is True
    assert record["seconds"] == 61.2
    part = report.write_json(rows, {}, "python -m benchmarks memory", 1.0, tmp_path, "memory")
    assert part.name == f"{record['date']}-memory.json" and path.exists()  # the full run kept


def test_machine_facts_name_the_device_and_versions():
    facts = report.machine()
    assert facts["cpu_count"] >= 1
    assert facts["device"] == "CPU" or "GPU" in facts["device"]
    assert facts["tensorflow"]


def test_runner_selects_modules_in_order_and_rejects_unknown_names():
    assert runner.selected([]) == runner.MODULES
    assert runner.selected(["decode", "train"]) == ["train", "decode"]
    try:
        runner.selected(["nope"])
    except SystemExit as err:
        assert "nope" in str(err)
    else:
        raise AssertionError("an unknown benchmark name must be an error")


def test_every_listed_module_has_a_run_function():
    import importlib
    import inspect

    for name in runner.MODULES:
        module = importlib.import_module(f"benchmarks.{name}")
        assert list(inspect.signature(module.run).parameters) == ["quick"]
