"""Wire and config models are built at their first validation (pydantic's defer_build), not
at import: a start that never opens a run's detail builds none of the detail-only models.
Checked in a fresh process, where nothing else has validated them yet."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from pydantic import BaseModel, TypeAdapter
import runwatch.config, runwatch.providers.conduct, runwatch.providers.currents.provider
import runwatch.providers.scheduler.provider, runwatch.providers.services.provider
import runwatch.providers.wercker
from runwatch.providers.currents.wire import RunPage
from runwatch.providers.services.wire import RUN
def built():
    seen, todo = [], [BaseModel]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("runwatch.") and cls.__pydantic_complete__:
            seen.append(cls.__qualname__)
    for name, mod in list(sys.modules.items()):
        if name.startswith("runwatch."):
            seen += [f"{name}.{k}" for k, v in vars(mod).items()
                     if isinstance(v, TypeAdapter) and v.pydantic_complete]
    return sorted(set(seen))
at_import = built()
RunPage.model_validate({"status": "OK", "data": [], "has_more": False})
RUN.validate_python({"id": "r1", "status": "running"})
print(json.dumps({"at_import": at_import, "after_lists": built()}))
"""


def test_wire_models_are_built_when_first_validated_not_at_import() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True, timeout=60)
    seen = json.loads(done.stdout)
    assert seen["at_import"] == [], seen["at_import"]
    after = seen["after_lists"]
    assert "RunPage" in after and "runwatch.providers.services.wire.RUN" in after  # validated
    # the detail-only models and adapters of both providers: still not built
    for detail in ("SpecWire", "InstanceEnvelope", "WireStage", "WireLogLine",
                   "runwatch.providers.services.wire.STAGES",
                   "runwatch.providers.wercker.STEP_LIST"):
        assert detail not in after, after
