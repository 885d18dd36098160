"""The settings every task's config shares: how to train, and how to decode text."""

import dataclasses

OPTIMIZERS = ("adam", "adagrad")
SCHEDULES = ("constant", "cosine")
AVERAGE_KEEPS = ("better", "always")  # train.average_keep


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings, the same for every task.

    Example:
    >>> TrainConfig(epochs=3).batch_size
    64
    """

    epochs: int = 20
    batch_size: int = 64
    length_pool: int = 16  # caption, translate: like lengths batch together, sorted in runs
    # of this many batches of the shuffled order (1: off; README "Speed")
    optimizer: str = "adam"  # adam | adagrad (Tai et al. 2015 train Tree-LSTMs with it)
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"  # constant | cosine: to 5% of it over `epochs` epochs
    clipnorm: float = 0.0  # clip each gradient to this norm; 0 turns it off
    label_smoothing: float = 0.0  # of the cross-entropy's targets (Szegedy et al. 2016)
    seed: int = 0
    patience: int = 4  # early stopping on val_loss; 0 turns it off
    jit_compile: bool = False  # XLA-compile the training step
    steps_per_execution: int = 32  # steps per tf.function call: no Python between steps
    mixed_precision: bool = False  # float16 compute on a GPU (cuDNN), bfloat16 on a CPU
    backup_steps: int = 200  # save the training state this often (and every epoch)
    average_last: int = 0  # also try the mean of the last N epochs' weights (0: off)
    # better: the mean replaces the best epoch when it scores better on validation;
    # always: the mean is kept (stochastic weight averaging: a small validation set's
    # best epoch is a noisy pick, and its figure an optimistic one to compare against)
    average_keep: str = "better"

    def __post_init__(self):
        counts = ("epochs", "batch_size", "length_pool", "steps_per_execution", "backup_steps")
        for name in counts:
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be 1 or more, got {getattr(self, name)}")
        if self.learning_rate <= 0 or self.clipnorm < 0 or self.patience < 0:
            raise ValueError("train.learning_rate must be above 0, clipnorm and patience 0 "
                             "or more")  # fmt: skip
        if self.optimizer not in OPTIMIZERS or self.lr_schedule not in SCHEDULES:
            raise ValueError(f"train.optimizer must be one of {OPTIMIZERS} and train."
                             f"lr_schedule one of {SCHEDULES}")  # fmt: skip
        if self.average_last < 0 or self.average_keep not in AVERAGE_KEEPS:
            raise ValueError(f"train.average_last must be 0 or more and train.average_keep "
                             f"one of {AVERAGE_KEEPS}")  # fmt: skip
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"train.label_smoothing must be in [0, 1), got {self.label_smoothing}")


@dataclasses.dataclass(frozen=True)
class DecodeConfig:
    """How text is generated at evaluation and in the SavedModel.

    Example:
    >>> DecodeConfig(beam_size=1).alpha
    0.6
    """

    beam_size: int = 4  # 1 = greedy
    alpha: float = 0.6  # GNMT length penalty exponent
    no_repeat_ngram: int = 0  # never repeat an n-gram of this many tokens in an output (0: off)

    def __post_init__(self):
        if self.beam_size < 1 or self.alpha < 0 or self.no_repeat_ngram < 0:
            raise ValueError("decode.beam_size must be 1 or more, decode.alpha and "
                             "decode.no_repeat_ngram 0 or more")  # fmt: skip
