"""Imported into a test worker (`--include tests.faults.worker_dies`): the worker SIGKILLs its own
process group at the point `LOUPE_TEST_WORKER_DIES_AFTER` names, so a test kills it mid-job at a
known step instead of racing a fast machine to it.

- `scoring-batch`: once the first batch of predictions has been committed (training writes them
  too: start such a worker after training);
- `export-write`: once the export's files are written and checked, before any is stored.
"""

import os
import signal
from typing import Any

from django.db import transaction

from inference.services import exporting, scoring

POINT = os.environ.get("LOUPE_TEST_WORKER_DIES_AFTER", "")


def _die() -> None:
    os.killpg(0, signal.SIGKILL)


def _predictions_write_then_die(**kwargs: Any) -> None:
    _original_predictions_write(**kwargs)
    transaction.on_commit(_die)


def _export_write_then_die(**kwargs: Any) -> Any:
    _original_export_write(**kwargs)
    _die()


_original_predictions_write = scoring.predictions_write
_original_export_write = exporting.export_write
if POINT == "scoring-batch":
    scoring.predictions_write = _predictions_write_then_die
elif POINT == "export-write":
    exporting.export_write = _export_write_then_die
elif POINT:
    raise ValueError(f"LOUPE_TEST_WORKER_DIES_AFTER={POINT!r}: expected scoring-batch or export-write")
