"""runwatch.config: validation messages (file, source, key, the value), file permissions,
secrets, lookup, the starter."""

from __future__ import annotations

import os
import re
import shlex
import stat
import tomllib
from pathlib import Path

import pytest

from runwatch.config import (
    PROVIDERS,
    Config,
    GeneralConfig,
    KioskConfig,
    SourceConfig,
    find_config,
    load,
    starter_text,
    write_starter,
)
from runwatch.config_notify import HistoryConfig, NotifyConfig
from runwatch.errors import ConfigError
from runwatch.paths import default_path, user_theme_dir
from runwatch.tui.themes import load_themes

PYDANTIC_WORDING = re.compile(r"Input should|Value error|Field required|String should|pydantic",
                              re.IGNORECASE)

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
    assert message.startswith(f"{path}: ")
    assert not PYDANTIC_WORDING.search(message), message
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


def test_wrong_provider_name_quotes_it_and_lists_the_providers(tmp_path: Path) -> None:
    text = source_toml(name="ci", provider="jenkins", base_url="https://ci.example.com")
    path = write(tmp_path, text)
    assert error_of(path) == (
        f"{path}: source 'ci': key 'provider': 'jenkins' is not a provider "
        "(services, wercker, currents, conduct, scheduler, runwatch)"
    )


@pytest.mark.parametrize("typed", ["Wercker", "WERCKER", "wercer"])
def test_a_provider_name_almost_right_gets_a_suggestion(tmp_path: Path, typed: str) -> None:
    text = source_toml(name="w", provider=typed, base_url="https://app.wercker.com",
                       pipeline_id="p1")
    message = error_of(write(tmp_path, text))
    assert f"source 'w': key 'provider': {typed!r} is not a provider" in message
    assert message.endswith("did you mean 'wercker'?")


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
    assert "source 'web-e2e': key 'name': 'web-e2e' names an earlier source too" in message


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ci.example.com",
         "'ci.example.com' needs http:// or https://; did you mean 'https://ci.example.com'?"),
        ("ftp://ci.example.com", "'ftp://ci.example.com' needs http:// or https://"),
        ("https://", "'https://' has no host after the scheme"),
    ],
)
def test_bad_url_is_quoted_with_the_fix(tmp_path: Path, url: str, words: str) -> None:
    text = source_toml(name="svc", provider="services", base_url=url)
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: source 'svc': key 'base_url': {words}"


def test_general_interval_below_half_a_second(tmp_path: Path) -> None:
    path = write(tmp_path, "[runwatch]\ninterval = 0.1\n" + CURRENTS)
    assert error_of(path) == (
        f"{path}: [runwatch]: key 'interval': 0.1 is below the 0.5 s minimum"
    )


def test_source_interval_below_half_a_second(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, CURRENTS + "interval = 0.2\n"))
    assert message.endswith("source 'web-e2e': key 'interval': 0.2 is below the 0.5 s minimum")


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ("[runwatch]", "limit = 0", "key 'limit': 0 is below the minimum of 1"),
        ("[runwatch]", "limit = 20000", "key 'limit': 20000 is above the maximum of 10000"),
        ("[runwatch]", "limit = 2.5", "key 'limit': 2.5 is not a whole number"),
        ("[runwatch]", 'limit = "5"', "key 'limit': '5' is not a whole number"),
        ("[runwatch]", 'interval = "fast"', "key 'interval': 'fast' is not a number of seconds"),
        ("[runwatch]", "interval = true", "key 'interval': true is not a number of seconds"),
        ("[runwatch]", "timeout = 0", "key 'timeout': 0 is too small: it must be more than 0 s"),
        ("[runwatch]", 'bell = "yes"', "key 'bell': 'yes' is not true or false"),
        ("[runwatch]", "theme = 5", "key 'theme': 5 is not a string (put it in quotes)"),
        ("[kiosk]", "rotate = -1", "key 'rotate': -1 is below the 0 s minimum"),
    ],
)
def test_a_wrong_value_is_quoted_in_our_words(tmp_path: Path, section: str, line: str,
                                              words: str) -> None:
    path = write(tmp_path, f"{section}\n{line}\n" + CURRENTS)
    assert error_of(path) == f"{path}: {section}: {words}"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("runwatch = 5\n" + CURRENTS, "key 'runwatch': 5 is not a table"),
        ("sources = 5\n", "key 'sources': 5 is not a list of tables"),
        ('sources = ["ci"]\n', "source #1 (sources[0]): 'ci' is not a table"),
        ('[[sources]]\nname = "x"\nprovider = "services"\n',
         "source 'x': key 'base_url': missing: every source needs one"),
    ],
)
def test_a_wrong_shape_is_one_line_in_our_words(tmp_path: Path, text: str, words: str) -> None:
    assert words in error_of(write(tmp_path, text))


def test_a_source_without_a_name_is_named_by_its_index_and_provider(tmp_path: Path) -> None:
    text = CURRENTS + source_toml(provider="services", base_url="https://ci.example.com")
    path = write(tmp_path, text)
    assert error_of(path) == (
        f"{path}: source #2 (sources[1], provider 'services'): key 'name': missing: "
        "every source needs one"
    )


def test_an_empty_source_name(tmp_path: Path) -> None:
    text = source_toml(name="", provider="services", base_url="https://ci.example.com")
    assert error_of(write(tmp_path, text)).endswith(
        "source #1 (sources[0], provider 'services'): key 'name': '' is empty")


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


def test_starter_is_the_commented_example_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    write_starter(path)
    text = path.read_text(encoding="utf-8")
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    assert text == example.read_text(encoding="utf-8")
    assert text.count("\n#") > 10  # comments that explain, not a bare file
    config = load(path)
    assert isinstance(config, Config)
    assert [s.provider for s in config.sources] == list(PROVIDERS)
    # no secret in it: every token comes from the environment or a command
    assert all((s.token_env or s.token_cmd) and not s.token for s in config.sources)


def test_starter_shows_every_option(tmp_path: Path) -> None:
    """Every key runwatch reads appears in the starter, set or commented out."""
    text = starter_text()
    written = set(re.findall(r"^#? ?([a-z_]+) = ", text, re.MULTILINE))
    written |= set(re.findall(r"\bor ([a-z_]+) = ", text))  # "# or token_env = ..."
    for model in (GeneralConfig, KioskConfig, SourceConfig, HistoryConfig, NotifyConfig):
        missing = set(model.model_fields) - written
        assert not missing, f"{model.__name__}: {sorted(missing)} not in config.example.toml"


def test_starter_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    write_starter(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a token added later is accepted


def test_starter_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write(tmp_path, "# mine, with comments\n")
    with pytest.raises(ConfigError, match="already exists"):
        write_starter(path)
    assert path.read_text(encoding="utf-8") == "# mine, with comments\n"


def test_starter_comes_from_the_wheel_copy_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runwatch import config as config_module

    wheel_copy = tmp_path / "site-packages" / "runwatch" / "config.example.toml"
    wheel_copy.parent.mkdir(parents=True)
    wheel_copy.write_text("# from the wheel\n", encoding="utf-8")
    monkeypatch.setattr(config_module, "STARTER_FILES", (wheel_copy, tmp_path / "nothing"))
    assert starter_text() == "# from the wheel\n"
    monkeypatch.setattr(config_module, "STARTER_FILES", (tmp_path / "none", tmp_path / "no"))
    with pytest.raises(ConfigError, match=r"config\.example\.toml is missing"):
        starter_text()


def test_wheel_force_includes_the_example() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    included = tomllib.loads(pyproject.read_text())["tool"]["hatch"]["build"]["targets"][
        "wheel"]["force-include"]
    assert included["config.example.toml"] == "runwatch/config.example.toml"


# -- a file someone else could write is refused (as ssh does) -------------------------------


@pytest.mark.parametrize(
    ("mode", "who"),
    [(0o620, "its group"), (0o602, "every user"), (0o622, "its group and every user"),
     (0o666, "its group and every user")],
)
def test_a_config_writable_by_others_is_refused(tmp_path: Path, mode: int, who: str) -> None:
    path = write(tmp_path, CURRENTS + 'token = "s3cret-value"\n', mode=mode)
    assert error_of(path) == (
        f"{path}: refused: it is writable by {who} (mode {mode:04o}), so someone else can "
        f"change it: run chmod go-w {shlex.quote(str(path))}"
    )


def test_the_chmod_it_names_fixes_it(tmp_path: Path) -> None:
    path = write(tmp_path, CURRENTS, mode=0o666)
    command = error_of(path).rsplit(": run ", 1)[1]
    assert command.startswith("chmod go-w ")
    os.chmod(path, stat.S_IMODE(path.stat().st_mode) & ~0o022)  # what `chmod go-w` does
    assert load(path).sources[0].name == "web-e2e"


def test_a_readable_but_not_writable_config_without_a_token_is_fine(tmp_path: Path) -> None:
    assert load(write(tmp_path, CURRENTS, mode=0o644)).sources[0].name == "web-e2e"


def test_a_config_owned_by_someone_else_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, CURRENTS, mode=0o600)
    if os.getuid() == 0:
        os.chown(path, 4321, -1)  # root can give the file away
    else:
        monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 4321)
    message = error_of(path)
    assert message.startswith(f"{path}: refused: it is owned by ")
    assert "not by you" in message and "run sudo chown " in message


def test_a_user_theme_writable_by_others_is_skipped_with_the_fix(tmp_path: Path) -> None:
    folder = user_theme_dir()
    folder.mkdir(parents=True)
    theme = folder / "mine.toml"
    theme.write_text('name = "mine"\nprimary = "#336699"\n', encoding="utf-8")
    theme.chmod(0o666)
    themes, errors = load_themes()
    assert "mine" not in {t.name for t in themes}
    assert errors == [f"{theme}: refused: it is writable by its group and every user "
                      f"(mode 0666), so someone else can change it: run chmod go-w {theme}"]
    theme.chmod(0o644)
    themes, errors = load_themes()
    assert "mine" in {t.name for t in themes} and errors == []
