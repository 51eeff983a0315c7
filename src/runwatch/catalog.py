"""What runwatch knows about each runs API, as plain data: one `ProviderSpec` per API.

Config validation, `runwatch config init`, `runwatch sim`'s printout, the provider factory and
the run screen all read these facts here instead of keeping their own copies.

This module sits at the bottom of the house (beside `models`): it imports nothing of
runwatch, no httpx and no pydantic, so `config` can import it without loading a provider.
A spec names its provider class by an entry-point style string (`module:Class`) and loads it
only when asked, which is also how a provider from a `runwatch.providers` entry point would
be registered later: `register(entry_point.load().spec)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# The entry-point group a third-party provider would use (not read yet).
ENTRY_POINT_GROUP = "runwatch.providers"


@dataclass(frozen=True)
class ProviderSpec:
    """One runs API. `required_scope`: at least one of these scope keys must be set."""

    name: str
    module: str  # "package.module:Class", as an entry point's value is written
    scope_keys: tuple[str, ...]
    token_env: str  # the token variable the starter config (and `runwatch sim`) names
    required_scope: tuple[str, ...] = ()
    step_noun: str = "step"  # what the API calls a run's steps, singular
    # A runs API of its own (the five), not another runwatch's feed (`runwatch`).
    api: bool = True
    # A run's page in the API's own web app ("{id}" is the run id; runwatch.weblinks), for
    # a source whose base_url is on `public_api_host` (a self-hosted server is not in it).
    web_url: str | None = None
    public_api_host: str | None = None
    # Actions this API calls by another name, by action value ({"cancel": "abort"}).
    verbs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def verb(self, action: str) -> str:
        """What `action` ("cancel", "rerun", "delete") is called in this API's words."""
        return self.verbs.get(action, action)

    @property
    def steps_title(self) -> str:
        """The run screen's title over the steps: "Stages", "Nodes", "Checks"."""
        return f"{self.step_noun.capitalize()}s"

    def load(self) -> Any:
        """The provider class (imported now, not when the catalog is)."""
        module, _, attr = self.module.partition(":")
        return getattr(importlib.import_module(module), attr)


def _verbs(**names: str) -> Mapping[str, str]:
    return MappingProxyType(dict(names))


_SPECS = (
    ProviderSpec(
        name="services",
        module="runwatch.providers.services:ServicesProvider",
        scope_keys=("service_id",),
        token_env="SERVICES_TOKEN",
        step_noun="stage",
    ),
    ProviderSpec(
        name="wercker",
        module="runwatch.providers.wercker:WerckerProvider",
        scope_keys=("pipeline_id", "application_id"),
        required_scope=("pipeline_id", "application_id"),  # one of them
        token_env="WERCKER_TOKEN",
        verbs=_verbs(cancel="abort"),
    ),
    ProviderSpec(
        name="currents",
        module="runwatch.providers.currents:CurrentsProvider",
        scope_keys=("project_id",),
        required_scope=("project_id",),
        token_env="CURRENTS_API_KEY",
        web_url="https://app.currents.dev/run/{id}",
        public_api_host="api.currents.dev",
    ),
    ProviderSpec(
        name="conduct",
        module="runwatch.providers.conduct:ConductProvider",
        scope_keys=("spec_id", "project_id"),  # project_id: sent as X-Project-ID
        token_env="CONDUCT_API_KEY",
        step_noun="check",
    ),
    ProviderSpec(
        name="scheduler",
        module="runwatch.providers.scheduler:SchedulerProvider",
        scope_keys=("client_id",),
        token_env="SCHEDULER_TOKEN",
        step_noun="node",
    ),
    # Another `runwatch serve`'s feed (DESIGN section 12): runs of the APIs it polls, read-only.
    ProviderSpec(
        name="runwatch",
        module="runwatch.providers.runwatch:RunwatchProvider",
        scope_keys=("hub_source",),  # one of the hub's sources; none: every one of them
        token_env="RUNWATCH_HUB_TOKEN",
        api=False,
    ),
)

# By name, in the order runwatch lists the APIs (then the hub's feed).
CATALOG: Mapping[str, ProviderSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
# The five runs APIs (what the simulator, the demo and the starter config have one of each).
PROVIDERS: tuple[str, ...] = tuple(name for name, s in CATALOG.items() if s.api)
ALL_SCOPE_KEYS: frozenset[str] = frozenset(k for s in _SPECS for k in s.scope_keys)


def spec(name: str) -> ProviderSpec:
    """The spec of provider `name`; KeyError for one runwatch does not know."""
    return CATALOG[name]
