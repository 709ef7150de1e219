"""Train the CTC recognizer on a speechmill corpus: ``make train DATA=<corpus> RUN=<dir>``.

    python -m speechmill.train.train --data build/corpus --run build/run [--steps N | --epochs N | --minutes M]

Keras 3 on TensorFlow: MirroredStrategy over all GPUs when there are several, the default
strategy otherwise (CPU or one GPU); mixed precision on GPU. ``--preset small|base|large|bigru``
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
from speechmill.corpus.errors import command
from speechmill.corpus.options import HelpFormatter, deprecated
from speechmill.corpus.reader import (
    CorruptCorpus,
    corrupt_shards,
    load_info,
    shard_paths,
)
from speechmill.corpus.schema import ALPHABET
from speechmill.train.data import batches
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
    """After every epoch: the dev loss (Keras's validation, on ``DEV_BATCHES`` batches), greedy
    CER and WER on the same dev batches, the learning rate and the throughput, put into the
    epoch's logs (so ``history.csv`` and TensorBoard hold them), and one console line that shows
    the budget as a budget ("step 240/600", "1.2/3 min") instead of Keras's epoch counter."""

    def __init__(self, budget: Budget, config, dev, epoch_offset: int):
        super().__init__()
        self.budget, self.config, self.dev = budget, config, dev
        self.epoch_offset = epoch_offset
        self.last: dict = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.started, self.steps_before = time.time(), self.budget.steps

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        seconds = max(time.time() - self.started, 1e-9)
        steps = self.budget.steps - self.steps_before
        logs["examples_per_second"] = round(steps * self.config.batch_size / seconds, 2)
        logs["learning_rate"] = float(
            keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        )
        if self.dev is not None:
            logs.update(self.dev_error_rates())
        self.last = dict(logs)
        print(self.line(epoch, logs), flush=True)

    def dev_error_rates(self) -> dict:
        from speechmill.lm.decode import greedy
        from speechmill.train.evaluate import error_rates, logits_to_log_probs
        from speechmill.train.model import output_lengths

        if not hasattr(self, "_infer"):  # compiled once (a shape per length bucket): eager is slow
            model = self.model
            self._infer = tf.function(lambda inputs: model(inputs, training=False))
        refs, hyps = [], []
        for x, _ in self.dev:
            logits = self._infer({"audio": x["audio"], "audio_length": x["audio_length"]})
            lengths = np.minimum(
                output_lengths(x["audio_length"], self.config.sample_rate).numpy(),
                logits.shape[1],
            )
            hyps += [greedy(lp) for lp in logits_to_log_probs(logits, lengths)]
            refs += [t.decode() for t in x["text"].numpy()]
        rates = error_rates(refs, hyps)
        return {"dev_cer": rates["cer"], "dev_wer": rates["wer"]}

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


def strategy_for_devices() -> tf.distribute.Strategy:
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


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
    budget.add_argument("--steps", type=int, default=None)
    budget.add_argument("--epochs", type=int, default=None)
    budget.add_argument("--minutes", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=None, help="small: 8, other presets: 16")
    p.add_argument(
        "--accumulate",
        type=int,
        default=1,
        metavar="N",
        help="batches per optimizer update (gradient accumulation: effective batch N x batch size)",
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
    alphabet: str = ALPHABET

    def settings(self) -> dict:
        """``config.json``: what a report, ``eval`` and ``verify`` read back."""
        out = dataclasses.asdict(self)
        out["data"] = os.path.abspath(self.data)
        out.pop("run")
        return out


def training_config(args: argparse.Namespace, info: dict) -> TrainingConfig:
    """Command line + the corpus's info.json -> the run's frozen config (refuses a corpus
    without a train split and a recipe that cannot run on the fly)."""
    shard_paths(args.data, info, "train")
    if not args.no_augment:
        parse_on_the_fly(args.augment)
    preset = args.preset
    if preset == "auto":
        preset = "base" if tf.config.list_physical_devices("GPU") else "small"
    chosen = {name: getattr(args, name) for name in ("batch_size", "learning_rate", "warmup_steps")}
    schedule = {k: v if v is not None else training_defaults(preset)[k] for k, v in chosen.items()}
    sizes = {
        f.name: getattr(args, f.name, None)
        for f in dataclasses.fields(ModelConfig)
        if f.name != "sample_rate"
    }
    no_budget = args.steps is None and args.epochs is None and args.minutes is None
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
        **schedule,
    )


def fit(config: TrainingConfig, info: dict) -> tuple[keras.Model, dict]:
    """Train (or resume) the run's model within its budget; saves ``model.keras`` and
    ``state.json`` every epoch and at the end. Returns the model and what this call did
    (steps and epochs reached, minutes spent)."""
    if tf.config.list_physical_devices("GPU"):
        keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(config.seed)
    state_path = os.path.join(config.run, "state.json")
    model_path = os.path.join(config.run, "model.keras")
    resuming = os.path.exists(state_path) and os.path.exists(model_path)
    state = json.load(open(state_path)) if resuming else {}
    with strategy_for_devices().scope():
        if state:
            model = load_model(model_path)
            print(
                f"speechmill: resuming {config.run} after {state['epochs']} epochs / {state['steps']} steps"
            )
        else:
            model = build_model(config.model, seed=config.seed)
            model.compile(
                optimizer=make_optimizer(
                    config.learning_rate,
                    config.warmup_steps,
                    config.decay,
                    weight_decay=config.weight_decay,
                    accumulate=config.accumulate,
                    ema=config.ema,
                ),
                jit_compile=False,
            )
            print(
                f"speechmill: {config.preset} model ({config.model.architecture}), "
                f"{model.count_params():,} parameters"
            )
    steps_per_epoch = max(1, math.ceil(info["splits"]["train"]["examples"] / config.batch_size))
    epochs = config.epochs if config.epochs is not None else 10**6
    if config.steps is not None:
        epochs = min(
            epochs,
            state.get("epochs", 0)
            + math.ceil((config.steps - state.get("steps", 0)) / steps_per_epoch),
        )
    data = batches(
        config.data,
        "train",
        batch_size=config.batch_size,
        sample_rate=config.sample_rate,
        shuffle=True,
        seed=config.seed,
        augment=config.augment,
        repeat=True,
    )
    dev = None
    if "dev" in info["splits"]:
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
        dev_steps = sum(1 for _ in dev)  # at most DEV_BATCHES small batches, read once
    budget = Budget(config.steps, config.minutes, state.get("steps", 0))
    report = EpochReport(budget, config, dev, state.get("epochs", 0))
    callbacks = [
        budget,
        SaveState(config.run, budget, state.get("epochs", 0)),
        report,  # before the loggers: they write what it adds to the epoch's logs
        keras.callbacks.CSVLogger(os.path.join(config.run, "history.csv"), append=bool(state)),
        keras.callbacks.TensorBoard(os.path.join(config.run, "logs"), update_freq="epoch"),
    ]
    started = time.time()
    if state.get("epochs", 0) < epochs and (config.steps is None or budget.steps < config.steps):
        with_named_shard(
            config.data,
            info,
            lambda: model.fit(
                data,
                epochs=epochs,
                initial_epoch=state.get("epochs", 0),
                steps_per_epoch=steps_per_epoch,
                validation_data=None if dev is None else dev.map(lambda x, y: (_inputs(x), y)),
                validation_steps=None if dev is None else dev_steps,
                callbacks=callbacks,
                verbose=0,  # EpochReport prints one line per epoch
            ),
        )
    model.save(model_path)
    done = {
        "steps": budget.steps,
        "epochs": json.load(open(state_path))["epochs"] if os.path.exists(state_path) else 0,
        "minutes": round((time.time() - started) / 60, 2),
    }
    return model, done


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
    """The steps ``speechmill train`` chains: config, fit, export, dev evaluation."""
    info = load_info(args.data, alphabet=ALPHABET)
    config = training_config(args, info)
    os.makedirs(config.run, exist_ok=True)
    with open(os.path.join(config.run, "config.json"), "w") as f:
        json.dump(config.settings(), f, indent=2)
    model, done = fit(config, info)
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
