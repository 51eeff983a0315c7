"""The TOML config (DESIGN section 7): locate, read with tomllib, validate with pydantic.

runwatch never rewrites a person's config; `write_starter` only creates new files.
"""

from __future__ import annotations

import difflib
import os
import shlex
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from runwatch.errors import ConfigError

PROVIDERS = ("services", "wercker", "currents", "conduct", "scheduler")
ProviderName = Literal["services", "wercker", "currents", "conduct", "scheduler"]

# The scope keys each provider takes; "required" are checked after parsing.
SCOPE_KEYS: dict[str, tuple[str, ...]] = {
    "services": ("service_id",),
    "wercker": ("pipeline_id", "application_id"),
    "currents": ("project_id",),
    "conduct": ("spec_id",),
    "scheduler": ("client_id",),
}
REQUIRED_SCOPE: dict[str, tuple[str, ...]] = {
    "wercker": ("pipeline_id", "application_id"),  # one of them
    "currents": ("project_id",),
}
ALL_SCOPE_KEYS = frozenset(k for keys in SCOPE_KEYS.values() for k in keys)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneralConfig(_Strict):
    interval: float = Field(default=5.0, ge=0.5)
    theme: str | None = None
    read_only: bool = False
    bell: bool = False
    limit: int = Field(default=50, ge=1, le=10_000)
    timeout: float = Field(default=10.0, gt=0)  # seconds for a whole request
    # MiB of one (decompressed) response; a log over max_log_body is shown cut.
    max_body: float = Field(default=32.0, gt=0, le=4096)
    max_log_body: float = Field(default=64.0, gt=0, le=4096)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body * 2**20)

    @property
    def max_log_body_bytes(self) -> int:
        return int(self.max_log_body * 2**20)


class KioskConfig(_Strict):
    rotate: float = Field(default=20.0, ge=0)
    theme: str = "runwatch-contrast"
    lock: bool = False


class SourceConfig(_Strict):
    """One `[[sources]]` entry."""

    name: str = Field(min_length=1)
    provider: ProviderName
    base_url: str
    token_env: str | None = None
    token_cmd: str | None = None
    # Allowed only in a file readable by its owner alone (checked by `load`).
    token: str | None = Field(default=None, repr=False)
    label: str | None = None
    color: str | None = None
    read_only: bool = False
    interval: float | None = Field(default=None, ge=0.5)
    limit: int | None = Field(default=None, ge=1, le=10_000)
    service_id: str | None = None
    pipeline_id: str | None = None
    application_id: str | None = None
    project_id: str | None = None
    spec_id: str | None = None
    client_id: str | None = None
    # The scheduler can log in for a JWT: username plus a password from env or command.
    username: str | None = None
    password_env: str | None = None
    password_cmd: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or value[-3:] == "://":
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def token_origin(self) -> str | None:
        """Where the token comes from, for messages: never the token itself."""
        if self.token_env:
            return f"env {self.token_env}"
        if self.token_cmd:
            return f"command `{self.token_cmd}`"
        if self.token:
            return "the config file"
        return None

    def scope(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in SCOPE_KEYS[self.provider] if getattr(self, k)}


class Config(_Strict):
    runwatch: GeneralConfig = Field(default_factory=GeneralConfig)
    kiosk: KioskConfig = Field(default_factory=KioskConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    # Where the config was read from; not a key of the file.
    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        return self._path

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (sources: {known})")

    def interval_for(self, source: SourceConfig) -> float:
        return source.interval or self.runwatch.interval

    def limit_for(self, source: SourceConfig) -> int:
        return source.limit or self.runwatch.limit

    def read_only_for(self, source: SourceConfig) -> bool:
        return self.runwatch.read_only or source.read_only


# -- locating and loading ---------------------------------------------------------------


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "runwatch" / "config.toml"


def state_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "runwatch" / "state.toml"


def find_config(explicit: str | os.PathLike[str] | None) -> Path | None:
    """`--config`, else `$RUNWATCH_CONFIG`, else the XDG location; None when none exists.
    An explicitly named file that does not exist is an error."""
    named = explicit or os.environ.get("RUNWATCH_CONFIG")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        return path
    path = default_path()
    return path if path.is_file() else None


def load(path: Path) -> Config:
    """Read and validate a config file; every problem is one ConfigError line."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    config = parse(raw, origin=str(path))
    if any(s.token for s in config.sources) and _readable_by_others(path):
        name = next(s.name for s in config.sources if s.token)
        raise ConfigError(
            f"{path}: source {name!r}: key 'token': refused because the file is readable by "
            "others; use token_env or token_cmd, or chmod 600 the file"
        )
    config._path = path
    return config


def parse(raw: dict[str, Any], origin: str = "config") -> Config:
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, raw, origin)) from None
    seen: set[str] = set()
    for source in config.sources:
        where = f"{origin}: source {source.name!r}"
        if source.name in seen:
            raise ConfigError(f"{where}: key 'name': duplicate source name")
        seen.add(source.name)
        for key in ALL_SCOPE_KEYS - set(SCOPE_KEYS[source.provider]):
            if getattr(source, key):
                allowed = " or ".join(SCOPE_KEYS[source.provider])
                raise ConfigError(
                    f"{where}: key {key!r}: not a {source.provider} key (it takes {allowed})"
                )
        required = REQUIRED_SCOPE.get(source.provider)
        if required and not any(getattr(source, k) for k in required):
            raise ConfigError(f"{where}: key {required[0]!r}: required for {source.provider}"
                              + (f" (or {required[1]!r})" if len(required) > 1 else ""))
        if source.token_env and source.token_cmd:
            raise ConfigError(f"{where}: key 'token_cmd': give token_env or token_cmd, not both")
    return config


def _explain(exc: ValidationError, raw: dict[str, Any], origin: str) -> str:
    error = exc.errors()[0]
    loc = list(error["loc"])
    where = origin
    if loc[:1] == ["sources"] and len(loc) > 1 and isinstance(loc[1], int):
        entry = raw.get("sources", [])[loc[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        where += f": source {name!r}" if name else f": sources[{loc[1]}]"
        loc = loc[2:]
        model: type[BaseModel] = SourceConfig
    elif loc:
        model = {"runwatch": GeneralConfig, "kiosk": KioskConfig}.get(str(loc[0]), Config)
        if model is not Config:
            where += f": [{loc[0]}]"
            loc = loc[1:]
    else:
        model = Config
    key = ".".join(str(p) for p in loc) or "?"
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(key, list(model.model_fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{where}: key {key!r}: unknown key{hint}"
    if error["type"] == "literal_error" and key == "provider":
        return f"{where}: key 'provider': must be one of {', '.join(PROVIDERS)}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: key {key!r}: {message}"


def _readable_by_others(path: Path) -> bool:
    mode = path.stat().st_mode
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


# -- secrets ---------------------------------------------------------------------------


def resolve_secret(env: str | None, cmd: str | None, inline: str | None, what: str) -> str | None:
    """A secret from an env var, a command's first output line, or the (owner-only) file."""
    if env:
        value = (os.environ.get(env) or "").strip()
        if not value:
            raise ConfigError(f"{what}: env {env} is not set (or empty)")
        return value
    if cmd:
        try:
            done = subprocess.run(
                shlex.split(cmd), capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"{what}: command `{cmd}` failed: {exc}") from None
        if done.returncode != 0 or not done.stdout.strip():
            raise ConfigError(f"{what}: command `{cmd}` exited {done.returncode} with no token")
        return done.stdout.strip().splitlines()[0]
    return inline


def resolve_token(source: SourceConfig) -> str | None:
    return resolve_secret(
        source.token_env, source.token_cmd, source.token, f"source {source.name!r} token"
    )


# -- writing new files -------------------------------------------------------------------


def starter_config() -> dict[str, Any]:
    """The document `runwatch config init` writes: one source per provider."""
    return {
        "runwatch": {"interval": 5.0, "theme": "runwatch-dark", "read_only": False, "bell": False},
        "kiosk": {"rotate": 20.0},
        "sources": [
            {"name": "services", "provider": "services", "base_url": "https://ci.example.com",
             "token_env": "SERVICES_TOKEN"},
            {"name": "wercker", "provider": "wercker", "base_url": "https://app.wercker.com",
             "pipeline_id": "PIPELINE_ID", "token_env": "WERCKER_TOKEN"},
            {"name": "currents", "provider": "currents", "base_url": "https://api.currents.dev",
             "project_id": "PROJECT_ID", "token_env": "CURRENTS_API_KEY"},
            {"name": "conduct", "provider": "conduct",
             "base_url": "http://localhost:3000/conduct", "token_env": "CONDUCT_API_KEY"},
            {"name": "scheduler", "provider": "scheduler",
             "base_url": "https://scheduler.example.com", "token_env": "SCHEDULER_TOKEN"},
        ],
    }


def write_starter(path: Path) -> None:
    if path.exists():
        raise ConfigError(f"{path}: already exists; runwatch never overwrites a config")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(starter_config()), encoding="utf-8")


def load_state() -> dict[str, Any]:
    path = state_path()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def save_state(state: dict[str, Any]) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(state), encoding="utf-8")
    tmp.replace(path)
