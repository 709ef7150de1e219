"""What a training run is made of: the request (what the user asked for, as ``speechmill train``'s
flags say it) and the frozen ``TrainingConfig`` resolved from it and the corpus (the preset's
defaults filled in, ``auto`` decided), saved with the run as ``config.json``."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import tensorflow as tf

from speechmill.augment.recipe import ON_THE_FLY, parse_on_the_fly
from speechmill.corpus.errors import UsageError
from speechmill.corpus.reader import shard_paths
from speechmill.corpus.schema import ALPHABET
from speechmill.train.data import worker_shards
from speechmill.train.distribute import ONE_WORKER, Cluster
from speechmill.train.model import ModelConfig, config_for

# How a preset trains unless told otherwise. The small Conformer on a CPU budget learns fastest
# from many small updates: batch 8 at a peak of 2e-3 after 300 warm-up updates (with SpecAugment
# bands of up to 13 mel bins, train/model.py) reached in 8 minutes the dev CER that batch 16 at
# 1e-3 after 500 reached in 25 (README, Training).
TRAINING_DEFAULTS = {"small": {"batch_size": 8, "learning_rate": 2e-3, "warmup_steps": 300}}
GENERAL_TRAINING = {"batch_size": 16, "learning_rate": 1e-3, "warmup_steps": 500}


def training_defaults(preset: str) -> dict:
    """{batch_size, learning_rate, warmup_steps} a preset trains with when no flag says otherwise."""
    return {**GENERAL_TRAINING, **TRAINING_DEFAULTS.get(preset, {})}


@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """One ``make train``: the corpus, the run folder, the budget (the first reached stops
    training; none: 30 epochs) and every setting the user may change; None means the preset's
    default (see each flag's help in speechmill/commands/train.py)."""

    data: str
    run: str
    steps: int | None = None
    epochs: int | None = None
    minutes: float | None = None
    log_steps: int | None = None
    batch_size: int | None = None
    accumulate: int = 1
    learning_rate: float | None = None
    warmup_steps: int | None = None
    decay: str = "rsqrt"
    weight_decay: float = 1e-3
    ema: float = 0.0
    augment: str | None = ON_THE_FLY  # None: no on-the-fly augmentation
    seed: int = 0
    workers: tuple[str, ...] | None = None  # host:port of every worker (else TF_CONFIG)
    task: int | None = None
    cpu_devices: int = 1
    precision: str = "auto"  # auto, float32, mixed
    xla: str = "auto"  # auto, on, off
    preset: str = "auto"
    sizes: tuple[tuple[str, Any], ...] = ()  # ModelConfig fields set over the preset's

    @property
    def no_augment(self) -> bool:
        return self.augment is None


def check_request(request: TrainRequest) -> None:
    """UsageError for settings no run can have."""
    if request.accumulate < 1:
        raise UsageError("--accumulate must be >= 1")
    if request.log_steps is not None and request.log_steps < 1:
        raise UsageError("--log-steps must be >= 1")
    if request.cpu_devices < 1:
        raise UsageError("--cpu-devices must be >= 1")
    if (request.workers is None) != (request.task is None):
        raise UsageError("--workers and --task go together")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Everything one training run is made of, resolved once from the command line and the
    corpus (the preset's defaults filled in, ``auto`` decided), frozen, and saved with the run as
    ``config.json``; ``fit``, ``export_run`` and ``evaluate_run`` read it and change nothing."""

    data: str
    run: str
    preset: str
    model: ModelConfig
    batch_size: int
    accumulate: int
    learning_rate: float
    warmup_steps: int
    decay: str
    weight_decay: float
    ema: float
    augment: str | None  # the on-the-fly recipe, None: off
    seed: int
    steps: int | None  # the budget: the first reached stops training
    epochs: int | None
    minutes: float | None
    sample_rate: int
    precision: str = "float32"  # "float32" or "mixed_float16"
    xla: bool = False
    workers: int = 1  # machines the run trains on (the global batch is split among them)
    log_steps: int | None = None  # a report period of N updates instead of a pass (an "epoch")
    alphabet: str = ALPHABET

    def settings(self) -> dict:
        """``config.json``: what a report, ``eval`` and ``verify`` read back."""
        out = dataclasses.asdict(self)
        out["data"] = os.path.abspath(self.data)
        out.pop("run")
        return out


def training_config(
    args: TrainRequest, info: dict, cluster: Cluster = ONE_WORKER
) -> TrainingConfig:
    """Command line + the corpus's info.json -> the run's frozen config (refuses a corpus
    without a train split, a recipe that cannot run on the fly, and a global batch that the
    workers cannot share evenly)."""
    check_request(args)
    shard_paths(args.data, info, "train")
    if not args.no_augment:
        parse_on_the_fly(args.augment)
    preset = args.preset
    if preset == "auto":
        preset = "base" if tf.config.list_physical_devices("GPU") else "small"
    chosen = {name: getattr(args, name) for name in ("batch_size", "learning_rate", "warmup_steps")}
    schedule = {k: v if v is not None else training_defaults(preset)[k] for k, v in chosen.items()}
    if schedule["batch_size"] * args.accumulate % cluster.size:
        raise UsageError(
            f"--batch-size {schedule['batch_size']} x --accumulate {args.accumulate} (the "
            f"global batch of an update) does not split evenly over {cluster.size} workers"
        )
    worker_shards(shard_paths(args.data, info, "train"), cluster.size, 0, "train")
    sizes = {f.name: None for f in dataclasses.fields(ModelConfig) if f.name != "sample_rate"}
    sizes.update(dict(args.sizes))
    no_budget = args.steps is None and args.epochs is None and args.minutes is None
    gpu = bool(tf.config.list_physical_devices("GPU"))
    mixed = args.precision == "mixed" or (args.precision == "auto" and gpu)
    return TrainingConfig(
        data=args.data,
        run=args.run,
        preset=preset,
        model=config_for(preset, **sizes, sample_rate=info["sample_rate"]),
        accumulate=args.accumulate,
        decay=args.decay,
        weight_decay=args.weight_decay,
        ema=args.ema,
        augment=None if args.no_augment else args.augment,
        seed=args.seed,
        steps=args.steps,
        epochs=30 if no_budget else args.epochs,
        minutes=args.minutes,
        sample_rate=info["sample_rate"],
        precision="mixed_float16" if mixed else "float32",
        xla=args.xla == "on" or (args.xla == "auto" and gpu),
        workers=cluster.size,
        log_steps=args.log_steps,
        **schedule,
    )
