"""The callbacks of a training run: the budget, the state a resume starts from, the report after
every epoch (dev loss, CER/WER, learning rate, throughput) and a worker's backup.

Lines for the console go to a ``say`` callback (the front door prints them; default: nothing).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

Say = Callable[[str], None]


def silent(line: str) -> None:
    """Say nothing (the default of a run that nobody watches)."""


def model_inputs(x: dict) -> dict:
    """A batch's model inputs (the dev batches also carry id, text and source)."""
    return {"audio": x["audio"], "audio_length": x["audio_length"]}


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
    instead of Keras's epoch counter, told to ``say`` (a worker that is not the chief says nothing)."""

    def __init__(self, budget: Budget, config, dev, epoch_offset: int, say: Say = silent):
        super().__init__()
        self.budget, self.config, self.dev, self.say = budget, config, dev, say
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
        self.say(self.line(epoch, logs))

    def dev_scores(self) -> dict:
        """{val_loss, dev_cer, dev_wer} of the model now on the dev batches (one pass, no
        distribution: only the chief scores)."""
        from speechmill.lm.decode import greedy
        from speechmill.train.encoders import subsampling_of
        from speechmill.train.evaluate import error_rates, logits_to_log_probs
        from speechmill.train.model import ctc_loss, output_lengths

        rate = self.config.sample_rate
        if not hasattr(self, "_infer"):  # compiled once (a shape per length bucket): eager is slow
            model = self.model

            def infer(inputs, labels):
                logits = model(inputs, training=False)
                lengths = inputs["audio_length"]
                return logits, ctc_loss(labels, logits, lengths, rate, subsampling_of(model))

            self._infer = tf.function(infer)
        refs, hyps, losses = [], [], []
        for x, y in self.dev:
            logits, loss = self._infer(model_inputs(x), y["labels"])
            found = output_lengths(x["audio_length"], rate, subsampling_of(self.model))
            lengths = np.minimum(found.numpy(), logits.shape[1])
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


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore (weights, optimizer state and epoch after every epoch, into one
    worker's own folder) plus the step count of the budget; kept after training, so a
    restarted or re-run worker continues from its last epoch."""

    def __init__(self, folder: str, budget: Budget, say: Say = silent):
        super().__init__(folder, delete_checkpoint=False)
        self.budget, self.steps_path = budget, os.path.join(folder, "budget.json")
        self.say = say

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if os.path.exists(self.steps_path) and os.path.exists(self._weights_path):
            self.budget.steps = json.load(open(self.steps_path))["steps"]
            self.say(
                f"speechmill: worker restored from {self.backup_dir} "
                f"(epoch {self.model._initial_epoch}, step {self.budget.steps})"
            )

    def _save_model(self):
        super()._save_model()
        with open(self.steps_path + ".tmp", "w") as f:
            json.dump({"steps": self.budget.steps}, f)
        os.replace(self.steps_path + ".tmp", self.steps_path)
