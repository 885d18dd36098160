"""Work-arounds for Keras 3.15's `fit` under multi-replica `tf.distribute` strategies.

Both reach into private Keras code (the version is pinned in requirements.txt) and
should go when upstream fixes land; `tests/pipelines/test_distribution.py` fails if
they stop working.

- Before training, `fit` reads a batch from a fresh iterator to build the model
  (`_maybe_symbolic_build`). That draws one more shuffle order than a one-device run,
  so the same run sees other data orders on two devices; and under
  `MultiWorkerMirroredStrategy` it all-reduces the nested batch, which fails
  ("Attempt to convert a value (PerReplica...)", keras#20585, tensorflow#72388).
  `build_for_fit` builds from a batch we already hold and skips that step.
- Under `MultiWorkerMirroredStrategy`, `fit` reduces each step's scalar logs along
  axis 0, which fails ("Invalid reduction dimension 0 for input with 0 dimensions").
  `reduce_scalar_logs` makes it reduce them whole.
"""

import keras
from keras.src.backend.tensorflow import trainer


def build_for_fit(model: keras.Model, batch) -> None:
    """Builds `model`'s layers, loss and metrics from `batch` (inputs, targets[,
    weights]) now, so that `fit` does not read a batch of its own."""
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda **kwargs: None


def reduce_scalar_logs() -> None:
    """Makes `fit` all-reduce each step's logs whole under multi-worker strategies."""
    if getattr(trainer.reduce_per_replica, "patched", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.patched = True
    trainer.reduce_per_replica = reduce_per_replica
