"""Train the CTC recognizer on a speechmill corpus: ``make train DATA=<corpus> RUN=<dir>``.

    train(TrainRequest(data="build/corpus", run="build/run", minutes=10), say=print)

(``speechmill train``, speechmill/commands/train.py, reads the flags into a TrainRequest;
train/config.py resolves it, train/callbacks.py holds what runs between the steps.)

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

import json
import math
import os
import time

import keras
import tensorflow as tf

from speechmill.corpus.reader import CorruptCorpus, corrupt_shards, load_info
from speechmill.corpus.schema import ALPHABET
from speechmill.train.callbacks import (
    DEV_BATCHES,
    Backup,
    Budget,
    EpochReport,
    SaveState,
    Say,
    silent,
)
from speechmill.train.config import (
    TrainingConfig,
    TrainRequest,
    check_request,
    training_config,
)
from speechmill.train.data import batches
from speechmill.train.distribute import (
    ONE_WORKER,
    PEER_ERRORS,
    Cluster,
    cluster_from_args,
    cluster_from_env,
    strategy_for,
    worker_lost,
)
from speechmill.train.encoders import ENCODERS
from speechmill.train.model import build_model, load_model
from speechmill.train.optim import make_optimizer


def with_named_shard(data: str, info: dict, step):
    """Run ``step()``; a damaged record found by TensorFlow becomes CorruptCorpus naming the file."""
    try:
        return step()
    except tf.errors.DataLossError as e:
        problems = corrupt_shards(data, info)
        raise CorruptCorpus(
            "; ".join(problems) if problems else f"{data}: {e.message.splitlines()[0]}"
        ) from None


def fit(
    config: TrainingConfig,
    info: dict,
    strategy: tf.distribute.Strategy | None = None,
    cluster: Cluster = ONE_WORKER,
    say: Say = silent,
) -> tuple[keras.Model, dict]:
    """Train (or resume) the run's model within its budget under ``strategy`` (default: the
    current one). The chief saves ``model.keras`` and ``state.json`` every epoch and at the
    end, and a re-run resumes from them; on several workers every worker also keeps a backup
    (``backup/worker-N``) that a restarted worker continues from. Returns the model and what
    this call did (steps and epochs reached, minutes spent). Its story goes to ``say`` on the
    chief; every worker says when it restores its backup."""
    story = say if cluster.is_chief else silent
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
            story(
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
            story(
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
        backup = Backup(os.path.join(config.run, "backup", f"worker-{cluster.task}"), budget, say)
        restarted = os.path.exists(backup._weights_path)
        callbacks.append(backup)
    report = EpochReport(budget, config, dev, state.get("epochs", 0), story)
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
            subsampling=ENCODERS[config.model.architecture].subsampling,
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


def export_run(model: keras.Model, config: TrainingConfig) -> None:
    """The run's ``export/``: SavedModel and builtin-ops ``model.tflite`` (train/export.py)."""
    from speechmill.train.export import export

    export(model, os.path.join(config.run, "export"), config.sample_rate)


def evaluate_run(model: keras.Model, config: TrainingConfig, info: dict, say: Say) -> None:
    """Greedy CER/WER on the dev split, said and kept as ``eval.json`` (no dev: nothing)."""
    from speechmill.train.evaluate import evaluate_model, report_lines

    if "dev" not in info["splits"]:
        return
    report = with_named_shard(
        config.data,
        info,
        lambda: evaluate_model(model, config.data, ["dev"], sample_rate=config.sample_rate),
    )
    for line in report_lines(report):
        say(line)
    with open(os.path.join(config.run, "eval.json"), "w") as f:
        json.dump(report, f, indent=2)


def calibrate_run(config: TrainingConfig, info: dict, say: Say) -> None:
    """The verify threshold measured on the dev split (train/calibrate.py), kept as
    ``calibration.json`` and said in one line; a dev split too small to measure on says so."""
    from speechmill.train.calibrate import CannotCalibrate, calibration_for

    if "dev" not in info["splits"]:
        return
    try:
        found = calibration_for(config.run, config.data)
    except CannotCalibrate as e:
        say(f"speechmill: not calibrated for verify: {e}")
        return
    right, wrong = found["right"]["quantiles"]["0.5"], found["wrong"]["quantiles"]["0.99"]
    verdict = "" if found["separable"] else "; it cannot tell right from wrong: verify refuses it"
    say(
        f"speechmill: verify threshold {found['threshold']} (dev: right median {right}, "
        f"wrong 99th percentile {wrong}; rejects {found['false_reject']:.0%} right, keeps "
        f"{found['false_accept']:.0%} wrong){verdict}"
    )


def train(args: TrainRequest, say: Say = silent) -> dict:
    """The steps ``speechmill train`` chains: config, fit, export, dev evaluation and
    calibration (the last three, and every file of the run but a worker's backup, on the chief
    only). The run's story goes to ``say`` (on the chief; a worker says when it is done).
    Returns {config, done (steps, epochs, minutes), chief, summary (the closing line)}."""
    check_request(args)
    cluster = (
        cluster_from_env()
        if args.workers is None
        else cluster_from_args(list(args.workers), args.task)
    )
    info = load_info(args.data, alphabet=ALPHABET)
    config = training_config(args, info, cluster)
    strategy = strategy_for(cluster, args.cpu_devices)  # before any TensorFlow op runs
    os.makedirs(config.run, exist_ok=True)
    if cluster.is_chief:
        with open(os.path.join(config.run, "config.json"), "w") as f:
            json.dump(config.settings(), f, indent=2)
    model, done = fit(config, info, strategy, cluster, say)
    result = {"config": config, "done": done, "chief": cluster.is_chief}
    if not cluster.is_chief:
        summary = f"speechmill: worker {cluster.task} of {cluster.size} done: {done['steps']} steps"
        return {**result, "summary": summary}
    if cluster.multi_worker:  # the rest runs on the chief alone: a model outside the strategy
        model = load_model(os.path.join(config.run, "model.keras"))
    export_run(model, config)
    evaluate_run(model, config, info, say)
    calibrate_run(config, info, say)
    return {**result, "summary": summary_line(config, done)}


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
