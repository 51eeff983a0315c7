"""Which redirects a source's client follows: GETs only, within the base URL's origin, at
most `MAX_REDIRECTS` in a row. Anything else is a `RedirectRefused` that says why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from runwatch.errors import RedirectRefused
from runwatch.http_answers import origin

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5


def redirect_target(
    source: str, url: str, headers: Mapping[str, str], path: str
) -> httpx.URL:
    """Where an answer from `url` with these headers (a Location) redirects to (httpx is
    imported here, at a redirect: a lean GET's URL is not an httpx.URL)."""
    import httpx

    try:
        return httpx.URL(url).join(headers["location"])
    except (httpx.InvalidURL, ValueError):
        raise RedirectRefused(
            f"{source}: {path} redirects to an address that is not a URL"
        ) from None


def check_redirect(source: str, method: str, path: str, start: str, target: httpx.URL) -> None:
    shown = str(target.copy_with(query=None, fragment=None, userinfo=b""))
    if method != "GET":
        # A login's password must never be replayed to where a redirect points.
        raise RedirectRefused(
            f"{source}: {method} {path} was redirected to {shown}; runwatch follows "
            f"no redirect of a {method} (is base_url the final address?)"
        )
    if origin(target) != start:
        raise RedirectRefused(
            f"{source}: {path} redirects to {shown}, outside {start}; runwatch "
            "follows redirects within the base URL's origin only"
        )
