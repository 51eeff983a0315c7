"""What recording a source's last request costs (issue 13, point 5: the sources view): one
`SourceClient._note_answer` per HTTP answer, timed beside `json.loads` of a 50-run body in
the same run (the ratio is the figure; the machine's speed cancels out).

    .venv/bin/python benchmarks/bench_request_record.py
"""

from __future__ import annotations

import json
import timeit

import httpx

from runwatch.http import SourceClient
from runwatch.http_lean import LeanHeaders, LeanResponse


def main() -> None:
    client = SourceClient(source="s", base_url="http://x.invalid")
    request = httpx.Request("GET", "http://x.invalid/api/v3/runs?pipelineId=p&limit=20")
    answer = httpx.Response(200, headers={"content-type": "application/json", "etag": "x"},
                            request=request)
    body = json.dumps([{"id": str(i), "status": "passed", "title": "t" * 40}
                       for i in range(50)]).encode()
    # What a GET to a plain http:// source gets by default (the lean reader's answer): its
    # headers as parsed off the wire; no connection is touched to record it.
    lean = LeanResponse(None, None, 200, "OK",  # type: ignore[arg-type]
                        LeanHeaders([(b"Content-Type", b"application/json"), (b"ETag", b"x"),
                                     (b"Content-Length", b"2")]), True)
    raw_path = request.url.raw_path
    n = 20_000
    parse = min(timeit.repeat(lambda: json.loads(body), number=2_000, repeat=5)) / 2_000
    for name, response in (("lean", lean), ("httpx", answer)):
        record = min(timeit.repeat(lambda r=response: client._note_answer("GET", raw_path, r),
                                   number=n, repeat=5)) / n
        print(f"record one {name} answer: {record * 1e6:.2f} us; json.loads of a 50-run "
              f"body: {parse * 1e6:.1f} us; ratio {record / parse:.3f}")


if __name__ == "__main__":
    main()
