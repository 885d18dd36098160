"""Writing a SavedModel from a Keras model and a task's serving functions."""

from pathlib import Path

import keras


def write_saved_model(path: Path, tracked: list, endpoints: dict) -> None:
    """Exports `endpoints` (name -> `tf.function` with an input signature).

    `tracked` lists the Keras models and layers whose variables and lookup tables the
    functions use. An `ExportArchive` endpoint per function avoids the multi-output
    signature bugs of `model.export` (keras#21258).
    """
    archive = keras.export.ExportArchive()
    for item in tracked:
        archive.track(item)
    for name, fn in endpoints.items():
        archive.add_endpoint(name, fn)
    archive.write_out(str(path), verbose=False)
