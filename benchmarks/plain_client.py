"""The `list --json` baseline: a plain-Python client (urllib, one connection per request, as
`urllib.request.urlopen` does) making the same requests `runwatch list --json` made, read
from a file the benchmark wrote, and printing the bodies as one JSON array.

    .venv/bin/python benchmarks/plain_client.py REQUESTS.json [--with-libraries]

`--with-libraries` first imports what `runwatch list` cannot do without and the plain client
does not need (asyncio for the concurrent sources, argparse, tomllib for the config, orjson,
pydantic for the boundary checks): the part of the budget those libraries take by themselves.
"""

from __future__ import annotations

import json
import sys
import urllib.request


def main() -> None:
    if "--with-libraries" in sys.argv:
        from libraries import LIST_LIBRARIES, load

        load(LIST_LIBRARIES)
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    bodies = []
    for r in plan["requests"]:
        url = f"{plan['url']}/{r['provider']}{r['path']}" + (f"?{r['query']}" if r["query"]
                                                            else "")
        request = urllib.request.Request(
            url, data=r["body"].encode() or None, method=r["method"],
            headers={"Authorization": f"Bearer {plan['tokens'][r['provider']]}",
                     "Accept": "application/json", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            bodies.append(json.loads(answer.read()))
    json.dump(bodies, sys.stdout)


if __name__ == "__main__":
    main()
