"""Bad input as a typed value: a stable reason code, a detail and where it was found.

Sources and cleaning steps raise :class:`Reject` (or yield one for an item they skip);
the build turns each into one ledger line. Any other exception is a bug and fails the job.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re

from speechmill.corpus.errors import os_name, printable
from speechmill.corpus.reasons import REASONS

log = logging.getLogger("speechmill.rejects")
_ADDRESS_RE = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+")  # object reprs differ from run to run


class Reject(Exception):
    """An input item that cannot become an utterance.

    ``reason`` is a code of the reasons table (corpus/reasons.py) such as ``audio:decode``; ``detail``
    says what exactly; ``item_id`` and ``where`` identify the item (id, path or URL).
    """

    def __init__(self, reason: str, detail: str = "", *, item_id: str = "", where: str = ""):
        if reason not in REASONS:  # a bug: every reason is a row of corpus/reasons.py
            raise ValueError(f"unknown reject reason {reason!r}: add it to corpus/reasons.py")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.item_id = item_id
        self.where = where

    def __reduce__(self):
        """Pickled as its fields (a Reject raised in a child process or a worker comes back
        whole, not as one message string)."""
        return _rebuild, (self.reason, self.detail, self.item_id, self.where)


def _rebuild(reason: str, detail: str, item_id: str, where: str) -> Reject:
    return Reject(reason, detail, item_id=item_id, where=where)


@dataclasses.dataclass(frozen=True, order=True)
class RejectRecord:
    """One line of the rejects ledger."""

    source: str
    id: str
    stage: str
    reason: str
    detail: str = ""
    where: str = ""
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)

    def log_line(self) -> str:
        """One console line; names from the input (ids, paths, details) shown escaped."""
        where = f" at {printable(self.where)}" if self.where else ""
        return (
            f"rejected {printable(self.id or '(unit)')} [{printable(self.reason)}]{where}: "
            f"{printable(self.detail)}"
        )


def record_reject(
    reject: Reject,
    *,
    source: str,
    stage: str,
    item_id: str = "",
    where: str = "",
    seconds: float = 0.0,
) -> RejectRecord:
    """Turn a Reject into a ledger record and log the one-line message."""
    record = RejectRecord(
        source=source,
        id=os_name(reject.item_id or item_id),
        stage=stage,
        reason=reject.reason,
        detail=os_name(_ADDRESS_RE.sub("", reject.detail)),
        where=os_name(reject.where or where),
        seconds=round(seconds, 3),
    )
    log.warning(record.log_line())
    return record
