"""Work-arounds for Keras 3.15's `fit` under multi-replica `tf.distribute` strategies.

Both reach into private Keras code (the version is pinned in requirements.txt), so
this module is imported only when a run has several replicas, and `patched_fit`
undoes them when its block ends. They should go when upstream fixes land;
`tests/pipelines/test_distribution.py` fails if they stop working.

- Before training, `fit` reads a batch from a fresh iterator to build the model
  (`_maybe_symbolic_build`). That draws one more shuffle order than a one-device run,
  so the same run sees other data orders on two devices; and under
  `MultiWorkerMirroredStrategy` it all-reduces the nested batch, which fails
  ("Attempt to convert a value (PerReplica...)", keras#20585, tensorflow#72388).
  The model is built from a batch we already hold, and that step skipped.
- Under `MultiWorkerMirroredStrategy`, `fit` reduces each step's scalar logs along
  axis 0, which fails ("Invalid reduction dimension 0 for input with 0 dimensions").
  They are reduced whole instead.
"""

import contextlib

import keras
from keras.src.backend.tensorflow import trainer


@contextlib.contextmanager
def patched_fit(model: keras.Model, batch):
    """Inside the block, `model.fit` works under several replicas: `model` is built
    from `batch` (inputs, targets[, weights]) now, and scalar logs reduce whole."""
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=batch)
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, None), values)
        return original(values, strategy, reduction)

    model._maybe_symbolic_build = lambda **kwargs: None
    trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        trainer.reduce_per_replica = original
        del model._maybe_symbolic_build
