"""runwatch.config: validation messages (file, source, key), secrets, lookup, the starter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runwatch.config import (
    Config,
    default_path,
    find_config,
    load,
    starter_config,
    write_starter,
)
from runwatch.errors import ConfigError

CURRENTS = """
[[sources]]
name = "web-e2e"
provider = "currents"
base_url = "https://api.currents.dev"
project_id = "bAYZ4a"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def source_toml(**fields: object) -> str:
    """One [[sources]] table; string values quoted, others as TOML literals."""
    lines = ["[[sources]]"]
    for key, value in fields.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value).lower()
        lines.append(f"{key} = {literal}")
    return "\n".join(lines) + "\n"


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.exit_code == 3
    message = str(info.value)
    assert "\n" not in message
    return message


# -- a good file ---------------------------------------------------------------------------


def test_the_design_example_loads(tmp_path: Path) -> None:
    text = """
[runwatch]
interval = 5.0
theme = "runwatch-dark"
read_only = false
bell = false

[kiosk]
rotate = 20

[[sources]]
name = "web-e2e"
provider = "currents"
base_url = "https://api.currents.dev/"
project_id = "bAYZ4a"
token_env = "CURRENTS_API_KEY"
label = "PROD"
color = "red"
read_only = true
"""
    config = load(write(tmp_path, text))
    source = config.source("web-e2e")
    assert source.base_url == "https://api.currents.dev"  # trailing slash dropped
    assert source.scope() == {"project_id": "bAYZ4a"}
    assert config.read_only_for(source) is True
    assert config.interval_for(source) == 5.0
    assert config.path == tmp_path / "config.toml"


def test_unknown_source_name_lists_the_known_ones(tmp_path: Path) -> None:
    config = load(write(tmp_path, CURRENTS))
    with pytest.raises(ConfigError, match=r"no source named 'nope' \(sources: web-e2e\)"):
        config.source("nope")


# -- validation: every message names the file, the source and the key --------------------


def test_unknown_source_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, CURRENTS + 'toke_env = "X"\n')
    message = error_of(path)
    assert message.startswith(str(path))
    assert "source 'web-e2e'" in message
    assert "key 'toke_env': unknown key; did you mean 'token_env'?" in message


def test_unknown_general_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, "[runwatch]\nintervall = 3\n" + CURRENTS)
    message = error_of(path)
    assert "[runwatch]" in message
    assert "key 'intervall'" in message and "did you mean 'interval'?" in message


def test_unknown_key_far_from_any_has_no_suggestion(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, CURRENTS + 'zzzzqqq = "X"\n'))
    assert "key 'zzzzqqq': unknown key" in message
    assert "did you mean" not in message


def test_wrong_provider_name(tmp_path: Path) -> None:
    text = source_toml(name="ci", provider="jenkins", base_url="https://ci.example.com")
    path = write(tmp_path, text)
    message = error_of(path)
    assert str(path) in message and "source 'ci'" in message
    assert "key 'provider': must be one of services, wercker, currents, conduct, scheduler" in (
        message
    )


def test_currents_needs_project_id(tmp_path: Path) -> None:
    text = source_toml(name="e2e", provider="currents", base_url="https://api.currents.dev")
    message = error_of(write(tmp_path, text))
    assert "source 'e2e': key 'project_id': required for currents" in message


def test_wercker_needs_pipeline_or_application_id(tmp_path: Path) -> None:
    text = source_toml(name="w", provider="wercker", base_url="https://app.wercker.com")
    message = error_of(write(tmp_path, text))
    assert "source 'w': key 'pipeline_id': required for wercker" in message
    assert "'application_id'" in message


@pytest.mark.parametrize("key", ["pipeline_id", "application_id"])
def test_wercker_accepts_either_scope_key(tmp_path: Path, key: str) -> None:
    text = source_toml(name="w", provider="wercker", base_url="https://app.wercker.com",
                       **{key: "p1"})
    assert load(write(tmp_path, text)).source("w").scope() == {key: "p1"}


def test_scope_key_of_another_provider(tmp_path: Path) -> None:
    text = source_toml(name="svc", provider="services", base_url="https://ci.example.com",
                       project_id="p1")
    message = error_of(write(tmp_path, text))
    assert "source 'svc': key 'project_id': not a services key (it takes service_id)" in message


def test_duplicate_source_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, CURRENTS + CURRENTS))
    assert "source 'web-e2e': key 'name': duplicate source name" in message


@pytest.mark.parametrize("url", ["ftp://ci.example.com", "ci.example.com", "https://"])
def test_bad_url(tmp_path: Path, url: str) -> None:
    text = source_toml(name="svc", provider="services", base_url=url)
    message = error_of(write(tmp_path, text))
    assert "source 'svc': key 'base_url': must be an http:// or https:// URL" in message


def test_general_interval_below_half_a_second(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[runwatch]\ninterval = 0.1\n" + CURRENTS))
    assert "[runwatch]: key 'interval'" in message and "0.5" in message


def test_source_interval_below_half_a_second(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, CURRENTS + "interval = 0.2\n"))
    assert "source 'web-e2e': key 'interval'" in message and "0.5" in message


def test_a_source_without_a_name_is_named_by_its_index(tmp_path: Path) -> None:
    text = CURRENTS + source_toml(provider="services", base_url="https://ci.example.com")
    message = error_of(write(tmp_path, text))
    assert "sources[1]: key 'name'" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[[sources]\nname = ")
    message = error_of(path)
    assert message.startswith(f"{path}: not valid TOML")


def test_token_env_and_token_cmd_together(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, CURRENTS + 'token_env = "A"\ntoken_cmd = "echo b"\n'))
    assert "key 'token_cmd': give token_env or token_cmd, not both" in message


# -- tokens ------------------------------------------------------------------------------


def test_inline_token_in_a_world_readable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CURRENTS + 'token = "s3cret-value"\n', mode=0o644)
    message = error_of(path)
    assert "source 'web-e2e': key 'token'" in message
    assert "readable by others" in message and "chmod 600" in message
    assert "s3cret-value" not in message


def test_inline_token_in_a_group_readable_file_is_refused(tmp_path: Path) -> None:
    error_of(write(tmp_path, CURRENTS + 'token = "s3cret-value"\n', mode=0o640))


def test_inline_token_in_an_owner_only_file_is_used(tmp_path: Path) -> None:
    config = load(write(tmp_path, CURRENTS + 'token = "s3cret-value"\n', mode=0o600))
    source = config.source("web-e2e")
    assert source.token == "s3cret-value"  # runwatch.tokens sends it (tests/test_tokens.py)
    assert source.token_origin == "the config file"
    assert "s3cret-value" not in repr(source)


# -- lookup order --------------------------------------------------------------------------


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A config in each of the three places, and a clean environment."""
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("RUNWATCH_CONFIG", raising=False)
    paths = {"xdg": xdg / "runwatch" / "config.toml", "env": tmp_path / "env.toml",
             "flag": tmp_path / "flag.toml"}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CURRENTS, encoding="utf-8")
    return paths


def test_lookup_prefers_the_flag(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWATCH_CONFIG", str(places["env"]))
    assert find_config(str(places["flag"])) == places["flag"]


def test_lookup_then_the_env_var(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWATCH_CONFIG", str(places["env"]))
    assert find_config(None) == places["env"]


def test_lookup_then_xdg(places: dict[str, Path]) -> None:
    assert default_path() == places["xdg"]
    assert find_config(None) == places["xdg"]


def test_lookup_xdg_defaults_to_dot_config(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_path() == tmp_path / ".config" / "runwatch" / "config.toml"


def test_lookup_finds_nothing(places: dict[str, Path]) -> None:
    places["xdg"].unlink()
    assert find_config(None) is None


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_named_file_that_does_not_exist_is_an_error(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    missing = places["flag"].parent / "missing.toml"
    if how == "env":
        monkeypatch.setenv("RUNWATCH_CONFIG", str(missing))
    with pytest.raises(ConfigError, match="no such config file"):
        find_config(str(missing) if how == "flag" else None)


# -- the starter ---------------------------------------------------------------------------


def test_starter_writes_a_file_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    write_starter(path)
    config = load(path)
    assert isinstance(config, Config)
    assert [s.provider for s in config.sources] == [
        "services", "wercker", "currents", "conduct", "scheduler"
    ]
    assert all(s.token_env and not s.token for s in config.sources)
    assert config == load(path).model_copy()  # stable
    assert len(config.sources) == len(starter_config()["sources"])


def test_starter_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write(tmp_path, "# mine, with comments\n")
    with pytest.raises(ConfigError, match="already exists"):
        write_starter(path)
    assert path.read_text(encoding="utf-8") == "# mine, with comments\n"


def test_starter_file_has_no_secrets(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    write_starter(path)
    assert "token =" not in path.read_text(encoding="utf-8")
    assert os.stat(path).st_size > 0
