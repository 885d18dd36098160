"""DGL's batched Tree-LSTM, timed on trees the `tree_lstm` benchmark writes.

`python -m benchmarks.dgl_tree_lstm TREES.npz UNITS VOCABULARY REPEATS` (from the
project's root), run by an interpreter with `dgl`, `torch` and NumPy, not this
project's environment (see `benchmarks.tree_lstm`): it imports no TensorFlow and
nothing else of the project. `TREES.npz`
holds `tokens (B, N)`, `children (B, N, 2)` (-1 for none, node 0 the root), `counts
(B,)` real nodes per tree and `labels (B,)`. The model is DGL's example
(`examples/pytorch/tree_lstm/tree_lstm.py`): the binary `TreeLSTMCell`, leaves' inputs
through `W_iou`, `dgl.prop_nodes_topo` over one graph of the whole batch with an edge
from each child to its parent, the roots' `h` classified into 10 labels. It prints one
JSON line: the fastest full training step (forward, backward, Adam) in seconds, and
the versions.
"""

import json
import sys
import time

import numpy as np


def batch_graph(dgl, torch, children: np.ndarray, counts: np.ndarray):
    """One graph of all trees (edges child -> parent, left child first), and each
    tree's first node id (its root)."""
    sources, targets, roots, offset = [], [], [], 0
    for kids, count in zip(children, counts, strict=True):
        kids = kids[:count]
        parent, slot = np.nonzero(kids >= 0)
        sources += (kids[parent, slot] + offset).tolist()
        targets += (parent + offset).tolist()
        roots.append(offset)
        offset += int(count)
    graph = dgl.graph((torch.tensor(sources), torch.tensor(targets)), num_nodes=offset)
    return graph, torch.tensor(roots)


def training_step(dgl, torch, trees: dict, units: int, vocabulary: int):
    """A callable: one training step of DGL's example Tree-LSTM on `trees`."""
    nn = torch.nn
    graph, roots = batch_graph(dgl, torch, trees["children"], trees["counts"])
    real = zip(trees["tokens"], trees["counts"], strict=True)
    words = torch.tensor(np.concatenate([tokens[:count] for tokens, count in real]).tolist())
    labels = torch.tensor(trees["labels"].tolist())

    class TreeLSTMCell(nn.Module):  # as DGL's example has it
        def __init__(self):
            super().__init__()
            self.W_iou = nn.Linear(units, 3 * units, bias=False)
            self.U_iou = nn.Linear(2 * units, 3 * units, bias=False)
            self.b_iou = nn.Parameter(torch.zeros(1, 3 * units))
            self.U_f = nn.Linear(2 * units, 2 * units)

        def message_func(self, edges):
            return {"h": edges.src["h"], "c": edges.src["c"]}

        def reduce_func(self, nodes):
            h_cat = nodes.mailbox["h"].view(nodes.mailbox["h"].size(0), -1)
            f = torch.sigmoid(self.U_f(h_cat)).view(*nodes.mailbox["h"].size())
            return {"iou": self.U_iou(h_cat), "c": torch.sum(f * nodes.mailbox["c"], 1)}

        def apply_node_func(self, nodes):
            i, o, u = torch.chunk(nodes.data["iou"] + self.b_iou, 3, 1)
            c = torch.sigmoid(i) * torch.tanh(u) + nodes.data["c"]
            return {"h": torch.sigmoid(o) * torch.tanh(c), "c": c}

    embedding, cell, head = nn.Embedding(vocabulary, units), TreeLSTMCell(), nn.Linear(units, 10)
    optimizer = torch.optim.Adam([*embedding.parameters(), *cell.parameters(),
                                  *head.parameters()], 1e-3)  # fmt: skip
    leaf = (graph.in_degrees() == 0).float()[:, None]
    nodes = graph.num_nodes()

    def step():
        optimizer.zero_grad()
        graph.ndata["iou"] = cell.W_iou(embedding(words)) * leaf  # leaf inputs only
        graph.ndata["h"], graph.ndata["c"] = torch.zeros(nodes, units), torch.zeros(nodes, units)
        dgl.prop_nodes_topo(graph, cell.message_func, cell.reduce_func,
                            apply_node_func=cell.apply_node_func)  # fmt: skip
        loss = nn.functional.cross_entropy(head(graph.ndata["h"][roots]), labels)
        loss.backward()
        optimizer.step()

    return step


def main(argv: list[str]) -> None:
    import dgl
    import torch

    path, units, vocabulary, repeats = argv[0], *map(int, argv[1:4])
    step = training_step(dgl, torch, dict(np.load(path)), units, vocabulary)
    step()  # warm-up
    best = float("inf")
    for _ in range(2 * repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    versions = (
        f"dgl {dgl.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(json.dumps({"seconds": best, "versions": versions}))


if __name__ == "__main__":
    main(sys.argv[1:])
