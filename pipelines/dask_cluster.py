"""A local Dask distributed cluster for ``--dask local:N`` (started and stopped by the job).

Workers are separate processes running this virtual environment's Python, so they import
speechmill exactly as the driver does.
"""

from __future__ import annotations

import logging
import os

from speechmill.corpus.errors import UsageError

log = logging.getLogger("speechmill.dask")


def start_local_cluster(workers: int):
    """Start a scheduler and ``workers`` single-threaded worker processes on loopback."""
    os.environ.setdefault(
        "DASK_LOGGING__DISTRIBUTED", "warning"
    )  # read by the worker processes too
    from distributed import LocalCluster

    for name in ("distributed", "distributed.worker", "distributed.scheduler", "distributed.nanny"):
        logging.getLogger(name).setLevel(logging.WARNING)

    if workers < 1:
        raise UsageError("--dask local:N needs N >= 1")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.WARNING,
    )
    log.info(
        "started a local Dask cluster with %d workers at %s", workers, cluster.scheduler_address
    )
    return cluster
