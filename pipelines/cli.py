"""`python -m pipelines {prepare,train,eval,export,predict}`: a thin layer over `pipelines.run`.

Exit codes: 0 on success; 2 for what the user can act on (a bad flag, value, path or
data file, a run in use: one line on stderr naming the file, line or field); 1 with a
traceback for anything else, a bug.
"""

import argparse
import os
import sys
from pathlib import Path

from common.errors import UserError
from pipelines import inference
from tasks import TASKS, get_task


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    prepare = sub.add_parser("prepare", help="encode a source once into TFRecord shards")
    train = sub.add_parser("train", help="train, evaluate on test and export")
    for cmd in (prepare, train):
        cmd.add_argument("--task", required=True, choices=sorted(TASKS))
        cmd.add_argument("--data", help="SOURCE[:PATH]; an unknown name lists the known ones")
        cmd.add_argument("--preset", default="default", help="tiny | default")
        cmd.add_argument(
            "--set",
            dest="settings",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config field, e.g. model.units=256",
        )
    prepare.add_argument("--out", type=Path, help="a new folder (default runs/TASK-DATA/shards)")
    prepare.add_argument("--shards", type=int, default=16, metavar="N",
                         help="files per split (default %(default)s; at least one per "
                              "worker that reads them)")  # fmt: skip
    train.add_argument("--workdir", type=Path, help="run directory (default runs/TASK-DATA)")
    train.add_argument("--epochs", type=int)
    train.add_argument(
        "--mixed-precision",
        action="store_true",
        help="float16 compute on a GPU, bfloat16 on a CPU (sets train.mixed_precision)",
    )
    train.add_argument("--jit-compile", action="store_true", help="XLA-compile the training step")
    train.add_argument(
        "--strategy",
        default="default",
        help="default | mirrored | multiworker | tpu: tf.distribute strategy (see README)",
    )

    for name, helptext in (("eval", "score a trained run"), ("export", "write a SavedModel")):
        cmd = sub.add_parser(name, help=helptext)
        _run_location(cmd)
        if name == "eval":
            cmd.add_argument("--split", default="test", choices=["train", "val", "test"])
        else:
            cmd.add_argument("--out", type=Path, help="default WORKDIR/export")

    predict = sub.add_parser(
        "predict", help="run an exported SavedModel on raw inputs: one JSON line each"
    )
    _run_location(predict)
    predict.add_argument("--model", type=Path,
                         help="an export, or a folder of numbered versions (the latest is "
                              "read); default WORKDIR/export")  # fmt: skip
    predict.add_argument("--n-best", type=int, default=1, metavar="K",
                         help="translate: the K best translations of each input")  # fmt: skip
    predict.add_argument("--input", metavar="FILE", help="inputs, a line each ('-': stdin)")
    predict.add_argument("--out", type=Path, metavar="FILE", help="JSON lines (default stdout)")
    predict.add_argument("--batch-size", type=int, default=inference.BATCH_SIZE, metavar="N",
                         help="inputs per call of the export (default %(default)s)")  # fmt: skip
    predict.add_argument("inputs", nargs="*", help="sentences, trees, texts or paths")
    return parser


def _run_location(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--workdir", type=Path, help="run directory")
    cmd.add_argument("--task", choices=sorted(TASKS), help="with --data: the default run dir")
    cmd.add_argument("--data", help="the data source the run was trained on")


def _workdir(args, run) -> Path:
    if args.workdir:
        return args.workdir
    if not args.task:
        raise UserError("give --workdir, or --task (and --data) of a default run")
    task_cls = get_task(args.task)
    default = task_cls.presets["default"].data.source
    return run.default_workdir(args.task, args.data or default)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    from pipelines import run  # TensorFlow loads after argument errors are shown

    try:
        if args.command == "prepare":
            run.write_shards(args.task, args.data, args.preset, args.settings, args.out,
                             args.shards)  # fmt: skip
        elif args.command == "train":
            settings = args.settings + [
                f"train.{flag}=true"
                for flag, on in (("mixed_precision", args.mixed_precision),
                                 ("jit_compile", args.jit_compile))
                if on
            ]  # fmt: skip
            run.train(args.task, args.data, args.preset, settings, args.workdir, args.epochs,
                      args.strategy)  # fmt: skip
        elif args.command == "eval":
            run.evaluate(_workdir(args, run), args.split)
        elif args.command == "export":
            run.export(_workdir(args, run), args.out)
        else:
            model = args.model or _workdir(args, run) / "export"
            failed = inference.run(model, args.inputs, args.input, args.out, args.n_best,
                                   args.batch_size)  # fmt: skip
            if failed:
                shown = ", ".join(map(str, failed[:10])) + (", ..." if len(failed) > 10 else "")
                print(f"error: {len(failed)} input(s) refused, their records say why: "
                      f"line {shown} of the output", file=sys.stderr)  # fmt: skip
                sys.exit(2)
    except (UserError, OSError) as err:  # what the user can act on; OSError: a disk
        # that is full, a file not allowed. Anything else is a bug: its traceback shows.
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
