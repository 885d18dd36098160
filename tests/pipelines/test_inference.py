"""Batch inference's plumbing: JSON lines, progress, refused lines, arguments."""

import io
import json

import pytest

from common.errors import UserError
from pipelines import cli, inference


def test_json_lines_keep_order_and_count_what_was_refused():
    records = [{"input": "a", "label": "x"}, {"input": "b", "error": "no"},
               {"input": "ü", "label": "é"}, {"input": "d", "error": "no"}]  # fmt: skip
    out, progress = io.StringIO(), io.StringIO()
    assert inference.write_json_lines(iter(records), out, progress) == [2, 4]
    assert [json.loads(line) for line in out.getvalue().splitlines()] == records
    assert "ü" in out.getvalue()  # UTF-8 as it is, not \\u escapes
    assert progress.getvalue().startswith("\r1 inputs, 0 refused, ")
    assert "\r4 inputs, 2 refused, " in progress.getvalue() and progress.getvalue()[-1] == "\n"


def test_lines_are_read_as_they_are_needed():
    class Source(io.StringIO):
        read_lines = 0

        def __next__(self):
            Source.read_lines += 1
            return super().__next__()

    lines = inference.lines(Source("a\r\nb\n\nc"))
    assert next(lines) == "a" and Source.read_lines == 1
    assert list(lines) == ["b", "", "c"]


@pytest.mark.parametrize(("args", "message"), [
    (["--input", "in.txt", "a sentence"], "not both"),
    ([], "needs at least one input"),
    (["--input", "no/such/file.txt"], "--input no/such/file.txt: No such file or directory"),
    (["--batch-size", "0", "a"], "--batch-size 0, --n-best 1: give 1 or more"),
    (["--n-best", "0", "a"], "--batch-size 64, --n-best 0: give 1 or more"),
    (["--out", ".", "a"], "--out . is a folder: give a file name"),
    (["a"], "no export at"),
])  # fmt: skip
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export").mkdir()
    with pytest.raises(SystemExit) as stop:
        cli.main(["predict", "--model", "export", *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_export_without_its_config_is_named(tmp_path):
    (tmp_path / "pipeline.json").write_text('{"task": "translate", "imports": {}}')
    with pytest.raises(UserError, match="records no config"):
        list(inference.predict(tmp_path, ["a"]))
