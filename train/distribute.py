"""Where a training run computes: one device, several devices of one machine, several machines.

``cluster_from_env()`` reads TensorFlow's ``TF_CONFIG`` (what Kubernetes operators and Slurm
scripts set) and ``cluster_from_args`` ``speechmill train --workers ... --task N`` into a
:class:`Cluster`; ``strategy_for(cluster, cpu_devices)`` picks the ``tf.distribute`` strategy:

- several workers in ``TF_CONFIG``: ``MultiWorkerMirroredStrategy`` (TensorFlow's collective
  all-reduce; every worker holds the same weights; worker 0 is the chief);
- one machine with several GPUs, or the CPU split into ``cpu_devices`` logical devices
  (``--cpu-devices N``, how the multi-device path is tested without GPUs): ``MirroredStrategy``;
- otherwise TensorFlow's default strategy.

``global_mean(per_example)`` is the loss every replica returns: its share of the mean over the
global batch, so the sum of the replicas' gradients is the gradient of the global mean and the
same global batch gives the same update on one device or many.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

import tensorflow as tf

from speechmill.corpus.errors import DataError, UsageError


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The workers of a run (``host:port`` each) and which one this process is."""

    workers: tuple[str, ...] = ()
    task: int = 0

    @property
    def size(self) -> int:
        return max(1, len(self.workers))

    @property
    def is_chief(self) -> bool:
        """Worker 0 writes checkpoints, logs, the export and the evaluation."""
        return self.task == 0

    @property
    def multi_worker(self) -> bool:
        return len(self.workers) > 1


ONE_WORKER = Cluster()  # no TF_CONFIG: this process alone


def cluster_from_args(workers: list[str], task: int) -> Cluster:
    """``--workers host:port,... --task N`` -> the cluster (the same as the ``TF_CONFIG``
    ``{"cluster": {"worker": workers}, "task": {"type": "worker", "index": task}}``)."""
    if not 0 <= task < len(workers):
        raise UsageError(
            f"--task {task} is not one of the {len(workers)} workers (0..{len(workers) - 1})"
        )
    for address in workers:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--workers: {address!r} is not host:port")
    return Cluster(tuple(workers), task)


def cluster_from_env(environ=os.environ) -> Cluster:
    """``TF_CONFIG`` -> the cluster (none set: one worker). A ``TF_CONFIG`` that is not JSON,
    names no workers or gives a task outside them is refused in one line (a chief/ps layout
    is a parameter-server setup, which speechmill does not run)."""
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return Cluster()
    try:
        config = json.loads(text)
        workers = tuple(config["cluster"]["worker"])
        kind, index = config["task"]["type"], int(config["task"]["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(
            f"TF_CONFIG is not a worker cluster ({type(e).__name__}: {e}); expected "
            '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": N}}'
        ) from None
    if kind != "worker" or set(config["cluster"]) - {"worker"}:
        raise UsageError(
            "TF_CONFIG: speechmill trains on workers only (MultiWorkerMirroredStrategy); "
            f"found cluster roles {sorted(config['cluster'])} and task type {kind!r}"
        )
    if not 0 <= index < len(workers):
        raise UsageError(f"TF_CONFIG: task index {index} is not one of the {len(workers)} workers")
    return Cluster(workers, index)


def split_cpu(devices: int) -> None:
    """Split the CPU into ``devices`` logical devices (before TensorFlow starts its runtime)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != devices:
            raise UsageError(
                f"--cpu-devices {devices}: TensorFlow has already started in this process "
                "with another device layout"
            ) from None


def strategy_for(cluster: Cluster, cpu_devices: int = 1) -> tf.distribute.Strategy:
    """The strategy for this process (see the module docstring)."""
    if cluster.multi_worker:
        resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec({"worker": list(cluster.workers)}),
            task_type="worker",
            task_id=cluster.task,
            rpc_layer="grpc",
        )
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    if cpu_devices > 1:
        split_cpu(cpu_devices)
        return tf.distribute.MirroredStrategy(
            [d.name for d in tf.config.list_logical_devices("CPU")],
            cross_device_ops=tf.distribute.ReductionToOneDevice(),
        )
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def replica_sum(value):
    """``value`` (a tensor or a list of them) summed over the replicas in sync (itself on one)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_mean(per_example: tf.Tensor) -> tf.Tensor:
    """This replica's share of the mean over the global batch: the sum of its examples'
    losses over the number of examples on all replicas (one count all-reduced per step), so
    uneven and empty per-replica batches weigh what they hold."""
    per_example = tf.cast(per_example, tf.float32)
    count = replica_sum(tf.cast(tf.shape(per_example)[0], tf.float32))
    return tf.math.divide_no_nan(tf.reduce_sum(per_example), count)


class WorkerLost(DataError):
    """A worker of a multi-worker run stopped (crashed, killed, preempted): the others stop too."""


# what TensorFlow raises on the workers that are left when one of them is gone
PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.DeadlineExceededError,
    tf.errors.InternalError,
)


def worker_lost(error: tf.errors.OpError, cluster: Cluster, backup: str) -> WorkerLost:
    """The one line for a run whose cluster lost a worker: what TensorFlow saw, how to go on."""
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", error.message or "")
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    gone = [line for line in lines if line.startswith("/job:worker")]
    said = [line for line in lines if re.search(r"aborted by|unhealthy|reset by peer|closed", line)]
    if gone:
        what = f"{', '.join(gone)} stopped"
    elif said:
        what = said[0][:200]
    else:
        what = f"{type(error).__name__} in a collective operation"
    return WorkerLost(
        f"worker {cluster.task} of {cluster.size}: training stopped, a worker is gone ({what}); "
        "start every worker again with the same command: each continues from its last "
        f"epoch in {backup}"
    )
