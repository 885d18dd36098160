"""Translate reads its source a split and a chunk at a time into a row file: each
split's pipeline holds exactly that split's pairs, tokenised as its twin in memory
(the pairs read whole and tokenised at once) gives them, each once an epoch."""

import pytest
import tensorflow as tf

from common.errors import DataError
from pipelines import settings
from tasks import text
from tasks.base import SPLITS
from tasks.translate import sources
from tasks.translate.config import PRESETS
from tasks.translate.task import TranslateTask

LIMIT = 8  # data.max_length


def _examples(ds: tf.data.Dataset) -> list[tuple]:
    """Every example of one pass: (source ids, target output ids), padding dropped."""
    out = []
    for (source, _), target_out, _ in ds:
        for s, t in zip(source.numpy(), target_out.numpy(), strict=True):
            out.append((tuple(s[s != 0]), tuple(t[t != 0])))
    return out


def _in_memory(job: TranslateTask, split: str) -> list[tuple]:
    """The twin: the split read whole, tokenised at once, long pairs left out."""
    pairs = list(sources.read(job.cfg.data, split))
    ids = [getattr(job, side).tokenize(tf.constant([getattr(p, side) for p in pairs])).to_list()
           for side in ("source", "target")]  # fmt: skip
    return [(tuple(s), (*t, text.END)) for s, t in zip(*ids, strict=True)
            if len(s) <= LIMIT and len(t) <= LIMIT]  # fmt: skip


def _job(tmp_path, lines: list[str], *more: str) -> TranslateTask:
    (tmp_path / "fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = settings.resolve(PRESETS, "tiny", [f"data.source=anki:{tmp_path / 'fra.txt'}",
                                             f"data.max_length={LIMIT}", *more])  # fmt: skip
    return TranslateTask(cfg, tmp_path / "run")


def test_each_split_streams_exactly_its_pairs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(text, "CHUNK", 7)  # many chunks, a short last one
    lines = [f"I see {n} cats{' and dogs' * (n % 5)}.\tJe vois {n} chats{' et chiens' * (n % 4)}."
             for n in range(200)]  # fmt: skip
    lines += [f"I see {n} cats.\tJ'ai vu {n} chats." for n in range(0, 200, 3)]  # 2 references
    job = _job(tmp_path, lines)
    splits = job.prepare()
    assert "are longer than data.max_length=8 tokens and are left out" in capsys.readouterr().out
    for name in SPLITS:
        expected = sorted(_in_memory(job, name))
        assert expected and sorted(_examples(getattr(splits, name))) == expected, name
    first, second = _examples(splits.train), _examples(splits.train)
    assert first != second and sorted(first) == sorted(second)  # a new order each epoch


def test_a_split_left_empty_is_an_error_naming_it(tmp_path):
    job = _job(tmp_path, ["Go.\tVa !", "Hi.\tSalut !"])  # too few sentences for three splits
    with pytest.raises(DataError, match=r"the (val|test) split has no pairs"):
        job.prepare()
