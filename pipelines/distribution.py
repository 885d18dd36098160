"""`--strategy`: which `tf.distribute` strategy trains the model.

The batch size in the config is the global batch: each step's batch is split evenly
over the replicas (GPUs, or logical CPUs), so a run means the same with 1 or 8 of them
and resumes under another strategy. The learning rate is not rescaled.

- `default`: one device (the first GPU, else the CPU).
- `mirrored`: `MirroredStrategy` over every local GPU, or every logical CPU when there
  is no GPU; gradients are all-reduced every step.
- `multiworker`: `MultiWorkerMirroredStrategy` over the processes that `TF_CONFIG`
  names (each runs the same command); worker 0 (or the `chief`) writes the run
  directory, the others write nothing there. Without `TF_CONFIG` it is one worker.
- `tpu`: `TPUStrategy` on the TPU that `TPUClusterResolver` finds (untested here).
"""

import tensorflow as tf

from common.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


def make(name: str) -> tf.distribute.Strategy:
    """The strategy called `name`; create it before any other TensorFlow work.

    Example:
    >>> make("default").num_replicas_in_sync
    1
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ConfigError(f"unknown strategy {name!r}; strategies: {', '.join(STRATEGIES)}")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory: always, except for the
    non-chief workers of a multi-worker cluster.

    Example:
    >>> is_chief(make("default"))
    True
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    if resolver.task_type == "chief":
        return True
    return (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and ("chief" not in resolver.cluster_spec().jobs)
    )


def shard(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` split between workers: by file where it asks so (the `FILE` auto-shard
    policy: prepared shards, each worker reading its own files), else element by
    element (`DATA`: a source read into the process has no files to split).

    Example:
    >>> policy = lambda ds: ds.options().experimental_distribute.auto_shard_policy.name
    >>> policy(shard(tf.data.Dataset.range(4)))
    'DATA'
    """
    policy = tf.data.experimental.AutoShardPolicy
    if dataset.options().experimental_distribute.auto_shard_policy == policy.FILE:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy.DATA
    return dataset.with_options(options)
