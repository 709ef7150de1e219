"""``speechmill train``: train the CTC recognizer on a corpus (train/train.py), or export a
run's model again (``--export-only``)."""

from __future__ import annotations

import argparse
import dataclasses

from speechmill.console.errors import command
from speechmill.console.options import add_corpus_input, add_model, command_parser

# the model's fields a flag can set over the preset's (train/model.py ModelConfig)
NOT_SIZES = ("sample_rate", "architecture")


def parser() -> argparse.ArgumentParser:
    from speechmill.augment.recipe import ON_THE_FLY
    from speechmill.train.presets import DECAYS, PRESETS, ModelConfig

    p = command_parser(
        "train", "The budget that is reached first stops training; none given: 30 epochs."
    )
    add_corpus_input(p, "corpus folder (make corpus / make augment)", required=False)
    add_model(p, "run folder: checkpoints, logs, export", required=False)
    p.add_argument(
        "--export-only",
        action="store_true",
        help="export the run's model.keras again into RUN/export and stop",
    )
    budget = p.add_argument_group("budget (the first reached stops training)")
    budget.add_argument("--steps", type=int, default=None, help="optimizer updates")
    budget.add_argument("--epochs", type=int, default=None)
    budget.add_argument("--minutes", type=float, default=None)
    p.add_argument(
        "--log-steps",
        type=int,
        default=None,
        metavar="N",
        help="report, checkpoint and back up every N updates instead of after every pass over "
        "the train split (for splits whose one pass outlasts a budget); --epochs then counts "
        "periods of N updates",
    )
    p.add_argument("--batch-size", type=int, default=None, help="small: 8, other presets: 16")
    p.add_argument(
        "--accumulate",
        type=int,
        default=1,
        metavar="N",
        help="gradient accumulation: each update sums the gradients of N batches of "
        "--batch-size, one after another (the memory of one batch, an update of N x batch size)",
    )
    p.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="peak learning rate (after warm-up); small: 2e-3, other presets: 1e-3",
    )
    p.add_argument(
        "--warmup-steps",
        type=int,
        default=None,
        help="optimizer updates of linear warm-up; small: 300, other presets: 500",
    )
    p.add_argument(
        "--decay", choices=DECAYS, default="rsqrt", help="after warm-up: 1/sqrt(step) or constant"
    )
    p.add_argument("--weight-decay", type=float, default=1e-3, help="AdamW decoupled weight decay")
    p.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="keep an exponential moving average of the weights "
        "with this momentum (e.g. 0.999) and end with it",
    )
    p.add_argument(
        "--augment",
        default=ON_THE_FLY,
        metavar="RECIPE",
        help="on-the-fly augmentation, in make augment's recipe language (speed, noise, gain)",
    )
    p.add_argument("--no-augment", action="store_true", help="turn off on-the-fly augmentation")
    p.add_argument("--seed", type=int, default=0)
    where = p.add_argument_group(
        "devices and machines (train/distribute.py; README: Training on several GPUs or machines)"
    )
    where.add_argument(
        "--workers",
        default=None,
        metavar="HOST:PORT,...",
        help="every worker of a multi-machine run, the same list on each (instead of "
        "TF_CONFIG; without either, one machine)",
    )
    where.add_argument(
        "--task", type=int, default=None, help="with --workers: this worker's index (0: chief)"
    )
    where.add_argument(
        "--cpu-devices",
        type=int,
        default=1,
        metavar="N",
        help="split the CPU into N logical devices and mirror the model over them (the "
        "multi-device path without GPUs)",
    )
    where.add_argument(
        "--precision",
        choices=["auto", "float32", "mixed"],
        default="auto",
        help="mixed: float16 compute with dynamic loss scaling; auto: mixed on GPU, float32 on CPU",
    )
    where.add_argument(
        "--xla",
        choices=["auto", "on", "off"],
        default="auto",
        help="XLA auto-clustering of the model's ops (CTC stays a TensorFlow kernel); auto: on GPU",
    )
    sizes = p.add_argument_group("model (a preset, then any field of it)")
    sizes.add_argument(
        "--preset",
        choices=["auto", *PRESETS],
        default="auto",
        help="small: Conformer for CPU trials; base, large: Conformers for GPUs; bigru: the BiGRU; "
        "auto: base when TensorFlow sees a GPU, else small",
    )
    for field in dataclasses.fields(ModelConfig):
        if field.name not in NOT_SIZES:
            sizes.add_argument(
                f"--{field.name.replace('_', '-')}",
                type=type(field.default),
                default=None,
                help=f"small: {field.default}",
            )
    return p


def request_of(args: argparse.Namespace):  # -> TrainRequest
    from speechmill.train.config import TrainRequest
    from speechmill.train.presets import ModelConfig

    sizes = tuple(
        (f.name, getattr(args, f.name))
        for f in dataclasses.fields(ModelConfig)
        if f.name not in NOT_SIZES and getattr(args, f.name) is not None
    )
    return TrainRequest(
        data=args.input,
        run=args.model,
        steps=args.steps,
        epochs=args.epochs,
        minutes=args.minutes,
        log_steps=args.log_steps,
        batch_size=args.batch_size,
        accumulate=args.accumulate,
        learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps,
        decay=args.decay,
        weight_decay=args.weight_decay,
        ema=args.ema,
        augment=None if args.no_augment else args.augment,
        seed=args.seed,
        workers=None if args.workers is None else tuple(args.workers.split(",")),
        task=args.task,
        cpu_devices=args.cpu_devices,
        precision=args.precision,
        xla=args.xla,
        preset=args.preset,
        sizes=sizes,
    )


@command("train")
def main(argv: list[str] | None = None) -> int:
    """A corpus that cannot be trained on (missing, another alphabet, no train split, a damaged
    shard) or an impossible model size ends in one line naming it, exit status 2 (user's
    input) or 1 (damaged data)."""
    p = parser()
    args = p.parse_args(argv)
    if args.model is None:
        p.error("the following arguments are required: --model (or --run)")
    if args.export_only:
        from speechmill.train.export import export_again

        facts = export_again(args.model)
        print(
            f"speechmill: exported {args.model}/export (tflite: {facts['tflite']}, builtin ops "
            f"only: {facts['tflite_builtin_only']})"
        )
        return 0
    if args.input is None:
        p.error("the following arguments are required: --input (or --data)")
    from speechmill.corpus.reader import load_info

    load_info(args.input)  # not a corpus: one line before TensorFlow loads (seconds)
    from speechmill.train.train import train

    done = train(request_of(args), say=lambda line: print(line, flush=True))
    print(done["summary"])
    return 0
