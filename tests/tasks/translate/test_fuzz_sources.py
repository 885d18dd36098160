"""Hostile Anki and parallel-text files: a `DataError` naming the file and line, or
pairs that match their lines; well-formed files read back exactly."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.translate import sources
from tests.tasks.fuzz import fresh_folder, raw_bytes, read_or_error, text, tried

# A sentence: no tab or line break, not blank, no surrounding space (read strips it).
SENTENCE = text.map(lambda s: re.sub("[\t\r\n]", " ", s).strip().lstrip("\ufeff").strip() or "x")
PAIRS = st.lists(st.tuples(SENTENCE, SENTENCE, st.booleans()), min_size=1, max_size=8)
BREAK = st.sampled_from([
    lambda s, t: s,  # one column
    lambda s, t: f"{s}\t{t}\tx\ty",  # four
    lambda s, t: f" \t{t}",  # a blank source
    lambda s, t: f"{s}\t\t",  # a blank target
])  # fmt: skip


def _line_of(origin: str, lines: list[str]) -> str:
    """The line a pair's `origin` (`path:number`) names, among the file's `lines`."""
    return lines[int(origin.rsplit(":", 1)[1]) - 1]


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8-sig").split("\n")  # once per file: a megabyte has many


@settings(max_examples=60)
@given(st.lists(raw_bytes, max_size=6), st.booleans())
def test_anki_hostile_lines_error_or_match_their_line(tmp_path, lines, newline_at_end):
    tried("Anki reader")
    path = fresh_folder(tmp_path) / "fra.txt"
    data = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    path.write_bytes(data)
    pairs, line = read_or_error(lambda: list(sources.read_anki(path)), path)
    assert line is None or line > 0
    written = _lines(data) if pairs else []
    for pair in pairs or []:
        columns = _line_of(pair.origin, written).rstrip("\r").split("\t")
        assert (pair.source, pair.target) == (columns[0].strip(), columns[1].strip())
        assert pair.source and pair.target and len(columns) in (2, 3)


@settings(max_examples=30)
@given(PAIRS, st.data())
def test_anki_reads_well_formed_files_back_and_names_a_broken_line(tmp_path, pairs, data):
    tried("Anki reader")
    path = fresh_folder(tmp_path) / "fra.txt"
    lines = [f"{s}\t{t}" + ("\tCC-BY 2.0 #1" if cc else "") for s, t, cc in pairs]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [(p.source, p.target) for p in sources.read_anki(path)] == [p[:2] for p in pairs]
    k = data.draw(st.integers(0, len(lines) - 1))
    lines[k] = data.draw(BREAK)(*pairs[k][:2])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_or_error(lambda: list(sources.read_anki(path)), path) == (None, k + 1)


@settings(max_examples=40)
@given(raw_bytes, raw_bytes)
def test_parallel_files_error_or_align(tmp_path, source, target):
    tried("parallel text reader")
    folder = fresh_folder(tmp_path)
    src, tgt = folder / "a.en", folder / "a.fr"
    src.write_bytes(source)
    tgt.write_bytes(target)
    pairs, _ = read_or_error(lambda: list(sources.read_parallel(src, tgt)), src, tgt)
    written = _lines(source) if pairs else []
    for pair in pairs or []:
        assert pair.source == _line_of(pair.origin, written).strip() and pair.source
        assert pair.target and "\n" not in pair.target
