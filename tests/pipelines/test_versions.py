"""Numbered export versions: never replaced, two at once get two numbers."""

import pytest

from common.errors import UserError
from pipelines import versions


def _export(text: str):
    def write(folder):
        folder.mkdir()
        (folder / versions.MARK).write_text(text)

    return write


def test_a_version_taken_meanwhile_is_kept_and_the_new_one_gets_the_next_number(tmp_path):
    base = tmp_path / "export"
    assert versions.publish(base, _export("first")) == base / "1"

    def slow(folder):  # another export publishes 2 while this one is being written
        _export("mine")(folder)
        assert versions.publish(base, _export("theirs")) == base / "2"

    assert versions.publish(base, slow) == base / "3"
    texts = {p.name: (p / versions.MARK).read_text() for p in base.iterdir()}
    assert texts == {"1": "first", "2": "theirs", "3": "mine"}
    assert versions.latest(base) == base / "3"


def test_a_failed_export_leaves_nothing(tmp_path):
    def broken(folder):
        folder.mkdir()
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        versions.publish(tmp_path / "export", broken)
    assert list((tmp_path / "export").iterdir()) == []


def test_other_files_are_refused_for_writing_and_ignored_for_reading(tmp_path):
    base = tmp_path / "export"
    versions.publish(base, _export("{}"))
    (base / ".DS_Store").write_text("")
    assert versions.latest(base) == base / "1"
    with pytest.raises(UserError, match=r"holds \.DS_Store, which are not numbered exports"):
        versions.publish(base, _export("{}"))
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is a file, not a folder of export versions"):
        versions.publish(tmp_path / "file", _export("{}"))
