"""The provider catalog: one plain-data spec per API that config, the CLI, the provider
factory and the run screen all read."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import get_args

import pytest

from runwatch.catalog import ALL_SCOPE_KEYS, CATALOG, PROVIDERS, ProviderSpec
from runwatch.cli.admin import STARTER_TOKEN_ENV, sim_config_text
from runwatch.config import ProviderName, SourceConfig, parse
from runwatch.errors import ConfigError
from runwatch.providers import Provider, provider_class

ROOT = Path(__file__).resolve().parent.parent


def test_the_config_literal_names_the_catalog_providers_in_order() -> None:
    assert get_args(ProviderName) == tuple(CATALOG) == (*PROVIDERS, "runwatch")
    assert PROVIDERS == ("services", "wercker", "currents", "conduct", "scheduler")


@pytest.mark.parametrize("name", CATALOG)
def test_each_spec_loads_the_provider_of_its_name(name: str) -> None:
    spec = CATALOG[name]
    cls = provider_class(name)
    assert cls is spec.load()
    assert issubclass(cls, Provider)
    assert cls.name == name
    # Every scope key is a key of a [[sources]] entry.
    assert set(spec.scope_keys) <= set(SourceConfig.model_fields)
    assert set(spec.required_scope) <= set(spec.scope_keys)


def test_the_provider_verb_comes_from_the_catalog() -> None:
    assert provider_class("wercker").cancel_verb == CATALOG["wercker"].verb("cancel") == "abort"
    assert CATALOG["currents"].verb("cancel") == "cancel"


def test_importing_config_loads_no_provider_and_no_httpx() -> None:
    # The catalog is read by config: it must not pull the providers (or httpx) in with it.
    # (runwatch itself parks httpx._main as None, so that httpx never loads its CLI: a
    # None entry is a module that was not loaded.)
    code = ("import sys, runwatch.config; "
            "print(sorted(m for m, v in sys.modules.items() if v is not None and "
            "(m == 'httpx' or m.startswith('httpx.') or m.startswith('runwatch.providers'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_new_spec_is_plain_data_an_entry_point_could_register() -> None:
    spec = ProviderSpec(name="example", module="runwatch.providers.services:ServicesProvider",
                        scope_keys=("service_id",), token_env="EXAMPLE_TOKEN")
    assert spec.load() is provider_class("services")
    assert spec.steps_title == "Steps"
    assert spec.verb("rerun") == "rerun"
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]  # frozen


def test_the_starters_name_the_catalog_token_variables() -> None:
    assert {n: s.token_env for n, s in CATALOG.items()} == STARTER_TOKEN_ENV
    starter = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for spec in CATALOG.values():
        assert spec.token_env in starter
    sim = tomllib.loads(sim_config_text("http://127.0.0.1:9"))
    assert {s["provider"]: s["token_env"] for s in sim["sources"]} == {
        p: STARTER_TOKEN_ENV[p] for p in PROVIDERS}


@pytest.mark.parametrize("name", PROVIDERS)
def test_config_checks_scope_keys_as_the_catalog_says(name: str) -> None:
    spec = CATALOG[name]
    base = {"name": "s", "provider": name, "base_url": "https://ci.example"}
    required = {spec.required_scope[0]: "x"} if spec.required_scope else {}
    assert parse({"sources": [base | required]}).sources[0].scope() == required
    for key in sorted(ALL_SCOPE_KEYS - set(spec.scope_keys)):
        with pytest.raises(ConfigError, match=f"key '{key}': not a {name} key"):
            parse({"sources": [base | required | {key: "x"}]})
    if spec.required_scope:
        with pytest.raises(ConfigError, match=f"required for {name}"):
            parse({"sources": [base]})
