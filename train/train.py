"""Train the CTC recognizer on a speechmill corpus: ``make train DATA=<corpus> RUN=<dir>``.

    python -m speechmill.train.train --data build/corpus --run build/run [--steps N | --epochs N | --minutes M]

Keras 3 on TensorFlow, placed by train/distribute.py: MultiWorkerMirroredStrategy across the
machines ``TF_CONFIG`` (or ``--workers``/``--task``) names, MirroredStrategy over several GPUs (or
``--cpu-devices N`` logical CPUs), the default strategy otherwise; on GPU mixed precision (with
loss scaling) and XLA auto-clustering unless ``--precision float32``/``--xla off``. ``--preset small|base|large|bigru``
picks a preset (train/model.py PRESETS; any size field can be overridden, e.g. ``--layers 8``);
AdamW on a warm-up + decay schedule (train/optim.py), ``--accumulate N`` for an effective batch
of N x ``--batch-size``, ``--ema`` for a moving average of the weights. The run folder gets
``config.json`` (model + training settings), ``model.keras`` (weights and optimizer state,
saved every epoch and at the end; a re-run resumes from it), ``state.json`` (epochs and steps
done), ``history.csv`` and TensorBoard logs in ``logs/``. At the end the model is exported
(``export/``), evaluated on the dev split (greedy CER/WER printed and kept in ``eval.json``)
and calibrated for ``make verify`` on it (``calibration.json``: the score line between right and
wrong transcripts, train/calibrate.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from speechmill.augment.recipe import ON_THE_FLY, parse_on_the_fly
from speechmill.corpus.errors import UsageError, command
from speechmill.corpus.options import HelpFormatter, deprecated
from speechmill.corpus.reader import (
    CorruptCorpus,
    corrupt_shards,
    load_info,
    shard_paths,
)
from speechmill.corpus.schema import ALPHABET
from speechmill.train.data import batches, worker_shards
from speechmill.train.distribute import (
    ONE_WORKER,
    PEER_ERRORS,
    Cluster,
    cluster_from_args,
    cluster_from_env,
    strategy_for,
    worker_lost,
)
from speechmill.train.model import (
    PRESETS,
    ModelConfig,
    build_model,
    config_for,
    load_model,
)
from speechmill.train.optim import DECAYS, make_optimizer


class Budget(keras.callbacks.Callback):
    """Stop after ``max_steps`` steps or ``max_minutes`` of training, whichever comes first."""

    def __init__(self, max_steps: int | None, max_minutes: float | None, steps_done: int):
        super().__init__()
        self.max_steps, self.max_minutes, self.steps = max_steps, max_minutes, steps_done
        self.start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        over_steps = self.max_steps is not None and self.steps >= self.max_steps
        over_time = (
            self.max_minutes is not None and time.time() - self.start >= 60 * self.max_minutes
        )
        if over_steps or over_time:
            self.model.stop_training = True


class SaveState(keras.callbacks.Callback):
    """Save ``model.keras`` and ``state.json`` at every epoch end (what a resume starts from)."""

    def __init__(self, run: str, budget: Budget, epoch_offset: int):
        super().__init__()
        self.run, self.budget, self.epoch_offset = run, budget, epoch_offset

    def on_epoch_end(self, epoch, logs=None):
        self.model.save(os.path.join(self.run, "model.keras"))
        with open(os.path.join(self.run, "state.json"), "w") as f:
            json.dump(
                {"epochs": epoch + 1, "steps": self.budget.steps, "loss": (logs or {}).get("loss")},
                f,
            )


DEV_BATCHES = 4  # dev batches scored after every epoch (dev loss, greedy CER and WER)


class EpochReport(keras.callbacks.Callback):
    """After every epoch: the dev loss (``val_loss``: mean CTC loss of the dev utterances in
    ``DEV_BATCHES`` batches), greedy CER and WER on the same utterances, the learning rate and
    the throughput, put into the epoch's logs (so ``history.csv`` and TensorBoard hold them),
    and one console line that shows the budget as a budget ("step 240/600", "1.2/3 min")
    instead of Keras's epoch counter. ``quiet``: no line (a worker that is not the chief)."""

    def __init__(self, budget: Budget, config, dev, epoch_offset: int, quiet: bool = False):
        super().__init__()
        self.budget, self.config, self.dev, self.quiet = budget, config, dev, quiet
        self.epochs_done = epoch_offset
        self.last: dict = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.started, self.steps_before = time.time(), self.budget.steps

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        seconds = max(time.time() - self.started, 1e-9)
        steps = self.budget.steps - self.steps_before
        examples = steps * self.config.batch_size * self.config.accumulate
        logs["examples_per_second"] = round(examples / seconds, 2)
        logs["learning_rate"] = float(
            keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        )
        if self.dev is not None:
            logs.update(self.dev_scores())
        self.epochs_done = epoch + 1
        self.last = dict(logs)
        if not self.quiet:
            print(self.line(epoch, logs), flush=True)

    def dev_scores(self) -> dict:
        """{val_loss, dev_cer, dev_wer} of the model now on the dev batches (one pass, no
        distribution: only the chief scores)."""
        from speechmill.lm.decode import greedy
        from speechmill.train.evaluate import error_rates, logits_to_log_probs
        from speechmill.train.model import ctc_loss, output_lengths

        rate = self.config.sample_rate
        if not hasattr(self, "_infer"):  # compiled once (a shape per length bucket): eager is slow
            model = self.model

            def infer(inputs, labels):
                logits = model(inputs, training=False)
                return logits, ctc_loss(labels, logits, inputs["audio_length"], rate)

            self._infer = tf.function(infer)
        refs, hyps, losses = [], [], []
        for x, y in self.dev:
            logits, loss = self._infer(_inputs(x), y["labels"])
            lengths = np.minimum(output_lengths(x["audio_length"], rate).numpy(), logits.shape[1])
            hyps += [greedy(lp) for lp in logits_to_log_probs(logits, lengths)]
            refs += [t.decode() for t in x["text"].numpy()]
            losses += loss.numpy().tolist()
        rates = error_rates(refs, hyps)
        return {
            "val_loss": float(np.mean(losses)),
            "dev_cer": rates["cer"],
            "dev_wer": rates["wer"],
        }

    def line(self, epoch: int, logs: dict) -> str:
        config, budget = self.config, self.budget
        parts = [f"step {budget.steps}" + (f"/{config.steps}" if config.steps else "")]
        if config.minutes:
            parts.append(f"{(time.time() - budget.start) / 60:.1f}/{config.minutes:g} min")
        if config.epochs:
            parts.append(f"epoch {epoch + 1}/{config.epochs}")
        facts = [f"loss {logs.get('loss', float('nan')):.3f}"]
        if "val_loss" in logs:
            facts.append(f"dev loss {logs['val_loss']:.3f}")
        if "dev_cer" in logs:
            facts.append(f"dev CER {logs['dev_cer']:.3f} WER {logs['dev_wer']:.3f}")
        facts += [
            f"lr {logs['learning_rate']:.2g}",
            f"{logs['examples_per_second']:.0f} examples/s",
        ]
        return f"speechmill: {', '.join(parts)}: {', '.join(facts)}"


# How a preset trains unless told otherwise. The small Conformer on a CPU budget learns fastest
# from many small updates: batch 8 at a peak of 2e-3 after 300 warm-up updates (with SpecAugment
# bands of up to 13 mel bins, train/model.py) reached in 8 minutes the dev CER that batch 16 at
# 1e-3 after 500 reached in 25 (README, Training).
TRAINING_DEFAULTS = {"small": {"batch_size": 8, "learning_rate": 2e-3, "warmup_steps": 300}}
GENERAL_TRAINING = {"batch_size": 16, "learning_rate": 1e-3, "warmup_steps": 500}


def training_defaults(preset: str) -> dict:
    """{batch_size, learning_rate, warmup_steps} a preset trains with when no flag says otherwise."""
    return {**GENERAL_TRAINING, **TRAINING_DEFAULTS.get(preset, {})}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="speechmill train",
        formatter_class=HelpFormatter,
        description="Train the speechmill CTC recognizer on a corpus (the budget that is "
        "reached first stops training; none given: 30 epochs).",
    )
    p.add_argument("--data", required=True, help="corpus folder (make corpus / make augment)")
    p.add_argument("--run", required=True, help="run folder: checkpoints, logs, export")
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
    deprecated(sizes, "--model", "--preset", dest="preset", choices=["auto", *PRESETS])
    for field in dataclasses.fields(ModelConfig):
        if field.name not in ("sample_rate", "architecture"):
            sizes.add_argument(
                f"--{field.name.replace('_', '-')}",
                type=type(field.default),
                default=None,
                help=f"small: {field.default}",
            )
    args = p.parse_args(argv)
    if args.accumulate < 1:
        p.error("--accumulate must be >= 1")
    if args.log_steps is not None and args.log_steps < 1:
        p.error("--log-steps must be >= 1")
    if args.cpu_devices < 1:
        p.error("--cpu-devices must be >= 1")
    if (args.workers is None) != (args.task is None):
        p.error("--workers and --task go together")
    return args


@command("train")
def main(argv: list[str] | None = None) -> int:
    """The CLI: a corpus that cannot be trained on (missing, another alphabet, no train split,
    a damaged shard) or an impossible model size ends in one line naming it, exit status 2
    (user's input) or 1 (damaged data)."""
    return train(parse_args(argv))


def with_named_shard(data: str, info: dict, step):
    """Run ``step()``; a damaged record found by TensorFlow becomes CorruptCorpus naming the file."""
    try:
        return step()
    except tf.errors.DataLossError as e:
        problems = corrupt_shards(data, info)
        raise CorruptCorpus(
            "; ".join(problems) if problems else f"{data}: {e.message.splitlines()[0]}"
        ) from None


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
    args: argparse.Namespace, info: dict, cluster: Cluster = ONE_WORKER
) -> TrainingConfig:
    """Command line + the corpus's info.json -> the run's frozen config (refuses a corpus
    without a train split, a recipe that cannot run on the fly, and a global batch that the
    workers cannot share evenly)."""
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
    sizes = {
        f.name: getattr(args, f.name, None)
        for f in dataclasses.fields(ModelConfig)
        if f.name != "sample_rate"
    }
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


def fit(
    config: TrainingConfig,
    info: dict,
    strategy: tf.distribute.Strategy | None = None,
    cluster: Cluster = ONE_WORKER,
) -> tuple[keras.Model, dict]:
    """Train (or resume) the run's model within its budget under ``strategy`` (default: the
    current one). The chief saves ``model.keras`` and ``state.json`` every epoch and at the
    end, and a re-run resumes from them; on several workers every worker also keeps a backup
    (``backup/worker-N``) that a restarted worker continues from. Returns the model and what
    this call did (steps and epochs reached, minutes spent)."""
    strategy = strategy or tf.distribute.get_strategy()
    keras.mixed_precision.set_global_policy(config.precision)
    if config.xla:
        tf.config.optimizer.set_jit("autoclustering")
    keras.utils.set_random_seed(config.seed)
    state_path = os.path.join(config.run, "state.json")
    model_path = os.path.join(config.run, "model.keras")
    # several workers resume from their own backups (a worker may not see the chief's files)
    resuming = (
        not cluster.multi_worker and os.path.exists(state_path) and os.path.exists(model_path)
    )
    state = json.load(open(state_path)) if resuming else {}
    with strategy.scope():
        if state:
            model = load_model(model_path)
            say(
                cluster,
                f"speechmill: resuming {config.run} after {state['epochs']} epochs / {state['steps']} steps",
            )
        else:
            model = build_model(config.model, seed=config.seed)
            model.compile(
                optimizer=make_optimizer(
                    config.learning_rate,
                    config.warmup_steps,
                    config.decay,
                    weight_decay=config.weight_decay,
                    ema=config.ema,
                ),
                jit_compile=False,
            )
            say(
                cluster,
                f"speechmill: {config.preset} model ({config.model.architecture}), "
                f"{model.count_params():,} parameters, {placement(strategy, cluster)}",
            )
    model.micro_batches = config.accumulate
    steps_per_epoch = max(
        1, math.ceil(info["splits"]["train"]["examples"] / (config.batch_size * config.accumulate))
    )
    if config.log_steps:  # a report, a checkpoint and a backup every N updates
        steps_per_epoch = config.log_steps
    epochs = config.epochs if config.epochs is not None else 10**6
    if config.steps is not None:
        epochs = min(
            epochs,
            state.get("epochs", 0)
            + math.ceil((config.steps - state.get("steps", 0)) / steps_per_epoch),
        )
    data = train_input(config, strategy, cluster)
    dev = None
    if "dev" in info["splits"] and cluster.is_chief:
        dev = (
            batches(
                config.data,
                "dev",
                batch_size=config.batch_size,
                sample_rate=config.sample_rate,
                keep_meta=True,
            )
            .take(DEV_BATCHES)
            .cache()
        )
    budget = Budget(config.steps, config.minutes, state.get("steps", 0))
    callbacks: list[keras.callbacks.Callback] = [budget]
    restarted = False  # a worker of several continuing from its backup
    if cluster.multi_worker:
        backup = Backup(os.path.join(config.run, "backup", f"worker-{cluster.task}"), budget)
        restarted = os.path.exists(backup._weights_path)
        callbacks.append(backup)
    report = EpochReport(budget, config, dev, state.get("epochs", 0), quiet=not cluster.is_chief)
    callbacks.append(report)  # before the loggers: they write what it adds to the epoch's logs
    if cluster.is_chief:
        callbacks += [
            SaveState(config.run, budget, state.get("epochs", 0)),
            keras.callbacks.CSVLogger(
                os.path.join(config.run, "history.csv"), append=bool(state) or restarted
            ),
            keras.callbacks.TensorBoard(os.path.join(config.run, "logs"), update_freq="epoch"),
        ]
    started = time.time()
    if state.get("epochs", 0) < epochs and (config.steps is None or budget.steps < config.steps):
        try:
            with_named_shard(
                config.data,
                info,
                lambda: model.fit(
                    data,
                    epochs=epochs,
                    initial_epoch=state.get("epochs", 0),
                    steps_per_epoch=steps_per_epoch,
                    callbacks=callbacks,
                    verbose=0,  # EpochReport prints one line per epoch
                ),
            )
        except PEER_ERRORS as e:
            if not cluster.multi_worker:
                raise
            raise worker_lost(e, cluster, os.path.join(config.run, "backup")) from None
    if cluster.is_chief:
        model.save(model_path)
    done = {
        "steps": budget.steps,
        "epochs": report.epochs_done,
        "minutes": round((time.time() - started) / 60, 2),
    }
    return model, done


def say(cluster: Cluster, line: str) -> None:
    """Print a line of the run's story once: on the chief."""
    if cluster.is_chief:
        print(line, flush=True)


def placement(strategy: tf.distribute.Strategy, cluster: Cluster) -> str:
    """Where the run computes, in words: "1 device", "2 devices (MirroredStrategy)", ..."""
    replicas = strategy.num_replicas_in_sync
    if cluster.multi_worker:
        return f"{cluster.size} workers, {replicas} replicas (MultiWorkerMirroredStrategy)"
    if replicas > 1:
        return f"{replicas} devices (MirroredStrategy)"
    gpus = tf.config.list_logical_devices("GPU")
    return "1 GPU" if gpus else "CPU"


def train_input(
    config: TrainingConfig, strategy: tf.distribute.Strategy, cluster: Cluster
) -> tf.data.Dataset | tf.distribute.DistributedDataset:
    """The training batches, one per update (``batch_size`` x ``accumulate`` examples, cut
    into pieces by the model). One worker: Keras splits each batch among the replicas.
    Several workers: every worker reads its own shard files (train/data.py worker_shards) in
    batches of its share."""

    step_batch = config.batch_size * config.accumulate  # one update's examples (all workers)

    def read(workers: int = 1, worker: int = 0, batch_size: int = step_batch):
        return batches(
            config.data,
            "train",
            batch_size=batch_size,
            sample_rate=config.sample_rate,
            shuffle=True,
            seed=config.seed,
            augment=config.augment,
            repeat=True,
            workers=workers,
            worker=worker,
        )

    if not cluster.multi_worker:
        return read()
    return strategy.distribute_datasets_from_function(
        lambda context: read(
            context.num_input_pipelines,
            context.input_pipeline_id,
            context.get_per_replica_batch_size(step_batch),
        )
    )


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore (weights, optimizer state and epoch after every epoch, into one
    worker's own folder) plus the step count of the budget; kept after training, so a
    restarted or re-run worker continues from its last epoch."""

    def __init__(self, folder: str, budget: Budget):
        super().__init__(folder, delete_checkpoint=False)
        self.budget, self.steps_path = budget, os.path.join(folder, "budget.json")

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if os.path.exists(self.steps_path) and os.path.exists(self._weights_path):
            self.budget.steps = json.load(open(self.steps_path))["steps"]
            print(
                f"speechmill: worker restored from {self.backup_dir} "
                f"(epoch {self.model._initial_epoch}, step {self.budget.steps})",
                flush=True,
            )

    def _save_model(self):
        super()._save_model()
        with open(self.steps_path + ".tmp", "w") as f:
            json.dump({"steps": self.budget.steps}, f)
        os.replace(self.steps_path + ".tmp", self.steps_path)


def _inputs(x: dict) -> dict:
    """A batch's model inputs (the dev batches also carry id, text and source)."""
    return {"audio": x["audio"], "audio_length": x["audio_length"]}


def export_run(model: keras.Model, config: TrainingConfig) -> None:
    """The run's ``export/``: SavedModel and builtin-ops ``model.tflite`` (train/export.py)."""
    from speechmill.train.export import export

    export(model, os.path.join(config.run, "export"), config.sample_rate)


def evaluate_run(model: keras.Model, config: TrainingConfig, info: dict) -> None:
    """Greedy CER/WER on the dev split, printed and kept as ``eval.json`` (no dev: nothing)."""
    from speechmill.train.evaluate import evaluate_model, print_report

    if "dev" not in info["splits"]:
        return
    report = with_named_shard(
        config.data,
        info,
        lambda: evaluate_model(model, config.data, ["dev"], sample_rate=config.sample_rate),
    )
    print_report(report)
    with open(os.path.join(config.run, "eval.json"), "w") as f:
        json.dump(report, f, indent=2)


def calibrate_run(config: TrainingConfig, info: dict) -> None:
    """The verify threshold measured on the dev split (train/calibrate.py), kept as
    ``calibration.json`` and printed in one line; a dev split too small to measure on says so."""
    from speechmill.train.calibrate import CannotCalibrate, calibration_for

    if "dev" not in info["splits"]:
        return
    try:
        found = calibration_for(config.run, config.data)
    except CannotCalibrate as e:
        print(f"speechmill: not calibrated for verify: {e}")
        return
    right, wrong = found["right"]["quantiles"]["0.5"], found["wrong"]["quantiles"]["0.99"]
    verdict = "" if found["separable"] else "; it cannot tell right from wrong: verify refuses it"
    print(
        f"speechmill: verify threshold {found['threshold']} (dev: right median {right}, "
        f"wrong 99th percentile {wrong}; rejects {found['false_reject']:.0%} right, keeps "
        f"{found['false_accept']:.0%} wrong){verdict}"
    )


def train(args: argparse.Namespace) -> int:
    """The steps ``speechmill train`` chains: config, fit, export, dev evaluation (the last
    three, and every file of the run but a worker's backup, on the chief only)."""
    cluster = (
        cluster_from_env()
        if args.workers is None
        else cluster_from_args(args.workers.split(","), args.task)
    )
    info = load_info(args.data, alphabet=ALPHABET)
    config = training_config(args, info, cluster)
    strategy = strategy_for(cluster, args.cpu_devices)  # before any TensorFlow op runs
    os.makedirs(config.run, exist_ok=True)
    if cluster.is_chief:
        with open(os.path.join(config.run, "config.json"), "w") as f:
            json.dump(config.settings(), f, indent=2)
    model, done = fit(config, info, strategy, cluster)
    if not cluster.is_chief:
        print(f"speechmill: worker {cluster.task} of {cluster.size} done: {done['steps']} steps")
        return 0
    if cluster.multi_worker:  # the rest runs on the chief alone: a model outside the strategy
        model = load_model(os.path.join(config.run, "model.keras"))
    export_run(model, config)
    evaluate_run(model, config, info)
    calibrate_run(config, info)
    print(summary_line(config, done))
    return 0


def summary_line(config: TrainingConfig, done: dict) -> str:
    """The closing line: the run, what training did, the dev error rates, the export."""
    facts = f"{done['epochs']} epochs, {done['steps']} steps in {done['minutes']:g} min"
    path = os.path.join(config.run, "eval.json")
    if os.path.exists(path):
        dev = json.load(open(path)).get("dev", {})
        if "cer" in dev:
            facts += f"; dev CER {dev['cer']:.3f}, WER {dev['wer']:.3f} ({dev['decoder']})"
    return (
        f"speechmill: trained {config.run}: {facts}; "
        f"export {os.path.join(config.run, 'export', 'model.tflite')}"
    )


if __name__ == "__main__":
    sys.exit(main())
