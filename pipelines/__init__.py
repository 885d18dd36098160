"""Task-agnostic pipeline: command line, config, training, evaluation, export, predict."""
