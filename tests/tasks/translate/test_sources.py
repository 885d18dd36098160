import numpy as np
import pytest
import tensorflow_datasets as tfds

from common.errors import DataError
from tasks.translate import sources, toy_pairs
from tasks.translate.config import DataConfig


def _load(source: str, size: int = 12000, splits=("train", "val", "test")):
    return {split: list(sources.read(DataConfig(source=source, size=size), split))
            for split in splits}  # fmt: skip


def test_toy_pairs_are_deterministic_distinct_and_split_the_same_way():
    a, b = _load("toy_pairs", 200), _load("toy_pairs", 200)
    assert a == b
    assert [len(a[s]) for s in ("train", "val", "test")] == [160, 20, 20]
    every = [p.source for split in a.values() for p in split]
    assert len(set(every)) == 200
    assert _load("toy_pairs", 200, ("test",))["test"] == a["test"]  # made without the rest


def test_local_files_split_by_source_sentence(tmp_path):
    """All translations of one sentence fall in one split, counted once; a pair's split
    depends on its source sentence alone, not on the rest of the file."""
    lines = [f"sentence {i}\ttranslation {i}.{k}" for i in range(300) for k in range(i % 3 + 1)]
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    splits = _load(f"anki:{tmp_path / 'pairs.txt'}")
    owner = {p.source: name for name, pairs in splits.items() for p in pairs}
    assert all(owner[p.source] == name for name, pairs in splits.items() for p in pairs)
    assert sum(len(pairs) for pairs in splits.values()) == len(lines)
    sizes = [len({p.source for p in splits[s]}) for s in ("train", "val", "test")]
    assert 220 <= sizes[0] <= 260 and 15 <= sizes[1] <= 45 and 15 <= sizes[2] <= 45, sizes
    (tmp_path / "pairs.txt").write_text("\n".join(lines[::-1][::2]) + "\n")  # half, reversed
    again = _load(f"anki:{tmp_path / 'pairs.txt'}")
    assert all(owner[p.source] == name for name, pairs in again.items() for p in pairs)
    other_seed = {split: list(sources.read(DataConfig(source=f"anki:{tmp_path / 'pairs.txt'}",
                                                      seed=1), split))
                  for split in again}  # fmt: skip
    assert other_seed != again


def test_a_folder_of_split_files_keeps_its_splits(tmp_path):
    for name, count in (("train.tsv", 20), ("dev.tsv", 4), ("test.tsv", 5)):
        rows = [f"{name} {i}\tx {i}" for i in range(count)]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    splits = _load(f"anki:{tmp_path}")
    assert [len(splits[s]) for s in ("train", "val", "test")] == [20, 4, 5]
    assert splits["test"][0].source == "test.tsv 0"


def test_toy_pairs_reorder_agree_and_change_length():
    pairs = toy_pairs.generate(500, seed=0)
    # Verb-final: every toy sentence ends in a verb, which English never does.
    verbs = {v + e for v in toy_pairs.VERBS.values() for e in ("et", "en")}
    assert all(p.target.split()[-1] in verbs for p in pairs)
    # "the ADJ NOUN" -> "DET NOUN ADJ", determiner and adjective agreeing with the noun.
    checked = 0
    for p in pairs:
        det, adj, noun = p.source.split()[:3]
        if det == "the" and adj in toy_pairs.ADJECTIVES and noun in toy_pairs.NOUNS:
            stem, gender = toy_pairs.NOUNS[noun]
            end = "o" if gender == "m" else "a"
            article = toy_pairs.DETERMINERS[True][gender, False]
            assert p.target.split()[:3] == [article, stem + end, toy_pairs.ADJECTIVES[adj] + end]
            checked += 1
    assert checked > 10
    # "does not V" (3 words) becomes "na V" (2 words): lengths differ.
    assert any(len(p.source.split()) != len(p.target.split()) for p in pairs)


def _leaves(tree: str) -> list[str]:
    tokens = tree.replace("(", " ( ").replace(")", " ) ").split()
    return [t for i, t in enumerate(tokens) if t not in "()" and tokens[i - 1] != "("]


def test_toy_pairs_trees_are_balanced_and_span_the_source():
    for pair in toy_pairs.generate(300, seed=0):
        depth = np.cumsum([{"(": 1, ")": -1}.get(c, 0) for c in pair.tree])
        assert depth.min() >= 0 and depth[-1] == 0
        assert _leaves(pair.tree) == pair.source.split()


def test_anki_two_and_three_columns_and_truncated_last_line(tmp_path):
    path = tmp_path / "fra.txt"
    path.write_text(
        "Go.\tVa !\n"
        "Hi.\tSalut !\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123\n"
        "Run!\tCours !\n"
        "Who?",
        encoding="utf-8",
    )
    with pytest.warns(UserWarning, match=f"{path}:4: truncated last line"):
        pairs = list(sources.read_anki(path))
    assert [(p.source, p.target) for p in pairs] == [
        ("Go.", "Va !"),
        ("Hi.", "Salut !"),
        ("Run!", "Cours !"),
    ]
    assert pairs[1].origin == f"{path}:2"


@pytest.mark.parametrize("line", ["only one column", "a\tb\tc\td", "\tempty source"])
def test_anki_malformed_line_is_reported_by_number(tmp_path, line):
    path = tmp_path / "bad.txt"
    path.write_text(f"Go.\tVa !\n{line}\nRun!\tCours !\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt:2: expected"):
        list(sources.read_anki(path))


def test_non_utf8_and_missing_files_name_the_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Go.\tVa !\nCafé\tcafé\n".encode("latin-1"))
    with pytest.raises(DataError, match="latin1.txt:2: not valid UTF-8"):
        list(sources.read_anki(path))
    with pytest.raises(DataError, match="nope.txt: no such file"):
        _load(f"anki:{tmp_path / 'nope.txt'}")


def test_parallel_files(tmp_path):
    src, tgt = tmp_path / "a.en", tmp_path / "a.fr"
    src.write_text("one\ntwo\nthree\n")
    tgt.write_text("un\ndeux\ntrois\n")
    splits = _load(f"files:{src},{tgt}")
    assert sorted(p.target for s in splits.values() for p in s) == ["deux", "trois", "un"]
    tgt.write_text("un\ndeux\n")
    with pytest.raises(DataError, match="has 3 lines but"):
        list(sources.read_parallel(src, tgt))
    tgt.write_text("un\n \ntrois\n")
    with pytest.raises(DataError, match="a.fr:2: empty sentence"):
        list(sources.read_parallel(src, tgt))


def test_parallel_folders_keep_their_splits(tmp_path):
    """`files:EN,FR`: two folders of split files, aligned by name; a file missing on
    one side, or a file beside a folder, is an error naming it."""
    for lang in ("en", "fr"):
        (tmp_path / lang).mkdir()
        for name, count in (("train.txt", 8), ("val.txt", 2), ("test.txt", 3)):
            lines = [f"{lang} {name} {i}" for i in range(count)]
            (tmp_path / lang / name).write_text("\n".join(lines) + "\n")
    splits = _load(f"files:{tmp_path / 'en'},{tmp_path / 'fr'}")
    assert [len(splits[s]) for s in ("train", "val", "test")] == [8, 2, 3]
    last = splits["test"][2]
    assert (last.source, last.target) == ("en test.txt 2", "fr test.txt 2")
    config = DataConfig(source=f"files:{tmp_path / 'en'},{tmp_path / 'fr'}")
    assert len(sources.files(config)) == 6
    (tmp_path / "fr" / "val.txt").unlink()
    with pytest.raises(DataError, match="val.txt: no such file"):
        _load(f"files:{tmp_path / 'en'},{tmp_path / 'fr'}")
    with pytest.raises(DataError, match="two files or two folders"):
        _load(f"files:{tmp_path / 'en'},{tmp_path / 'fr' / 'test.txt'}")


def test_unknown_source_lists_the_known_ones():
    with pytest.raises(DataError, match="(?s)unknown data source 'europarl'.*anki.*tfds"):
        _load("europarl")


def test_tfds_source_reads_supervised_pairs_of_every_split():
    with tfds.testing.mock_data(num_examples=6):
        splits = _load("tfds:ted_hrlr_translate/pt_to_en")
    assert [len(splits[s]) for s in ("train", "val", "test")] == [6, 6, 6]
    assert all(
        isinstance(p.source, str) and isinstance(p.target, str) for s in splits.values() for p in s
    )
