"""The settings every task's config shares: how to train, and how to decode text."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings, the same for every task.

    Example:
    >>> TrainConfig(epochs=3).batch_size
    64
    """

    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    clipnorm: float = 0.0  # clip each gradient to this norm; 0 turns it off
    seed: int = 0
    patience: int = 4  # early stopping on val_loss; 0 turns it off
    jit_compile: bool = False  # XLA-compile the training step
    steps_per_execution: int = 32  # steps per tf.function call: no Python between steps
    mixed_precision: bool = False  # float16 compute on a GPU (cuDNN), bfloat16 on a CPU
    backup_steps: int = 200  # save the training state this often (and every epoch)


@dataclasses.dataclass(frozen=True)
class DecodeConfig:
    """How text is generated at evaluation and in the SavedModel.

    Example:
    >>> DecodeConfig(beam_size=1).alpha
    0.6
    """

    beam_size: int = 4  # 1 = greedy
    alpha: float = 0.6  # GNMT length penalty exponent
