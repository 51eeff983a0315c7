"""`/cctray.xml`: the CCTray format CCMenu, nevergreen and BuildReactor read, one `Project` per
track (source, pipeline, branch; DESIGN section 12).

`lastBuildStatus` is that of the track's newest finished run: Success (passed), Failure (failed,
timed out), Exception when the source itself is failing, Unknown otherwise (canceled,
skipped, none finished yet). `activity` is Building while a run of the track is active. Every
value is an API's text: ElementTree escapes it, and characters XML 1.0 cannot carry at all
are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

from runwatch.models import Run, RunStatus

SUCCESS = {RunStatus.PASSED}
FAILURE = {RunStatus.FAILED, RunStatus.TIMED_OUT}
# Outside XML 1.0's Char production; ElementTree would write them and break the document.
NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(value: str) -> str:
    return NOT_XML.sub("", value)


def track_name(run: Run) -> str:
    return " / ".join(p for p in (run.source, run.pipeline, run.branch) if p)


def _time(run: Run) -> str:
    when = run.finished_at or run.started_at or run.created_at
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else ""


def cctray_xml(runs: Iterable[Run], failing: Mapping[str, bool], page_url: str) -> bytes:
    """The document for `runs` (newest first); `failing[source]`: its last poll failed."""
    tracks: dict[tuple[str, str | None, str | None], list[Run]] = {}
    for run in runs:
        tracks.setdefault(run.track, []).append(run)
    root = ET.Element("Projects")
    for track, members in sorted(tracks.items(), key=lambda t: track_name(t[1][0])):
        finished = next((r for r in members if r.status.is_terminal), None)
        shown = finished or members[0]
        if failing.get(track[0], False):
            status = "Exception"
        elif finished is not None and finished.status in SUCCESS:
            status = "Success"
        elif finished is not None and finished.status in FAILURE:
            status = "Failure"
        else:
            status = "Unknown"
        building = any(r.status.is_active for r in members)
        ET.SubElement(root, "Project", {
            "name": _x(track_name(shown)),
            "activity": "Building" if building else "Sleeping",
            "lastBuildStatus": status,
            "lastBuildLabel": _x(shown.id),
            "lastBuildTime": _time(shown),
            "webUrl": _x(shown.web_url or page_url),
        })
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
