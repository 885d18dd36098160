"""The tree sources: generated and released ListOps, and SST folders."""

import pytest
import tensorflow as tf

from common import atomic
from common.errors import DataError
from pipelines import settings
from tasks.classify import listops
from tasks.classify.config import PRESETS
from tasks.classify.modalities import Trees, for_source
from tasks.classify.task import ClassifyTask
from tests.tasks.classify.data import load_data

SST_LINES = [
    "(3 (2 It) (4 (4 works) (2 .)))",
    "(1 (2 A) (1 (1 dull) (2 film)))",
    "(2 (2 Just) (2 (2 a) (2 film)))",
    "(4 (4 Great) (2 .))",
    "(0 (0 Awful) (2 .))",
]


def write_sst(folder, lines=SST_LINES):
    folder.mkdir(exist_ok=True)
    for name in ("train.txt", "dev.txt", "test.txt"):
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def test_generated_listops_splits_are_disjoint_and_sized():
    data = load_data("listops", "tree_splits=300,40,60", "trees.max_length=30")
    assert for_source("listops") is Trees and len(data.classes) == 10
    sizes = {k: len(v.y) for k, v in data.splits.items()}
    assert sizes == {"train": 300, "val": 40, "test": 60}
    seen = [set(v.x) for v in data.splits.values()]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    lengths = {k: [listops.length_and_depth(x)[0] for x in v.x] for k, v in data.splits.items()}
    assert max(lengths["train"] + lengths["val"]) <= 30 < max(lengths["test"])  # test: all
    for part in data.splits.values():
        assert [listops.evaluate(x) for x in part.x[:20]] == part.y[:20].tolist()


def test_released_listops_files_load_unchanged(tmp_path):
    examples = listops.generate(60, seed=4)
    listops.write(tmp_path / "train_d20s.tsv", examples[:50])
    listops.write(tmp_path / "test_d20s.tsv", examples[50:])
    data = load_data(f"listops:{tmp_path}")
    assert len(data.splits["test"].y) == 10
    assert len(data.splits["train"].y) + len(data.splits["val"].y) == 50  # val held out
    single = load_data(f"listops:{tmp_path / 'train_d20s.tsv'}")
    assert sum(len(p.y) for p in single.splits.values()) == 50


def test_sst_fine_and_binary(tmp_path):
    folder = write_sst(tmp_path / "sst")
    fine = load_data(f"sst:{folder}")
    assert fine.classes[0] == "very negative"
    assert fine.splits["train"].y.tolist() == [3, 1, 2, 4, 0]
    binary = load_data(f"sst:{folder}", "sst_mode=binary")
    assert binary.splits["test"].y.tolist() == [1, 0, 1, 0]  # the neutral root left out
    assert binary.classes == ("negative", "positive")


@pytest.mark.parametrize(
    "line, message",
    [("(3 (2 It) (4 works)", "dev.txt:2: unbalanced brackets"),
     ("(7 (2 It) (4 works))", "dev.txt:2: the root label must be 0-4, got '7'"),
     ("((2 It) (4 works))", "dev.txt:2: a node without a label")],
)  # fmt: skip
def test_sst_errors_name_the_file_and_line(tmp_path, line, message):
    folder = write_sst(tmp_path / "sst")
    (folder / "dev.txt").write_text(f"{SST_LINES[0]}\n{line}\n")
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_data(f"sst:{folder}")
    (folder / "dev.txt").unlink()
    with pytest.raises(DataError, match="dev.txt: missing"):
        load_data(f"sst:{folder}")


def test_node_labels_need_a_labelled_source(tmp_path):
    cfg = settings.resolve(PRESETS, "tiny", ["data.source=listops", "node_labels=true"])
    with pytest.raises(DataError, match="node_labels needs trees with node labels"):
        ClassifyTask(cfg, tmp_path)


def test_parsed_trees_cached_in_a_file_give_the_batches_of_memory(tmp_path):
    batches = {}
    for cache in ("memory", "file"):
        cfg = settings.resolve(PRESETS, "tiny", ["data.source=listops", f"trees.cache={cache}"])
        modality = Trees(cfg, tmp_path / cache)
        train = modality.load(("train",)).splits["train"]
        ds = modality.dataset(train, training=True)
        batches[cache] = [[tf.nest.map_structure(lambda t: t.numpy().tolist(), b) for b in ds]
                          for _ in range(2)]  # two epochs: the second reads the cache  # fmt: skip
    assert batches["file"] == batches["memory"] and batches["file"][0] != batches["file"][1]
    (folder,) = (tmp_path / "file" / "cache").iterdir()  # a temporary the next command clears
    assert folder.name.startswith(atomic.PREFIX) and any(folder.iterdir())
    assert not (tmp_path / "memory" / "cache").exists()
