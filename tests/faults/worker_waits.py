"""Imported into a test worker (`--include tests.faults.worker_waits`): training holds, once its fit is
done, until the test says go, so a test breaks something while a job is surely running instead of
racing a fast machine to it (a job's progress reaches its row only on a heartbeat).

`LOUPE_TEST_WORKER_GATE` names a folder: the worker writes `reached` there and waits for `go`.
"""

import os
import time
from pathlib import Path
from typing import Any

from inference.services import training

GATE = Path(os.environ["LOUPE_TEST_WORKER_GATE"])
WAIT_SECONDS = 600


def _fit_then_wait(**kwargs: Any) -> Any:
    (GATE / "reached").touch()
    deadline = time.monotonic() + WAIT_SECONDS
    while not (GATE / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return _original_defect_types_fit(**kwargs)


_original_defect_types_fit = training.defect_types_fit
training.defect_types_fit = _fit_then_wait
