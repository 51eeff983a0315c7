"""The TOML config (DESIGN section 7): locate, read with tomllib, validate with pydantic.

runwatch never rewrites a person's config; `write_starter` only creates new files.
"""

import os
import pwd
import shlex
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from runwatch.catalog import ALL_SCOPE_KEYS, CATALOG, PROVIDERS  # noqa: F401  (re-exported)
from runwatch.config_notify import HistoryConfig, NotifyConfig
from runwatch.errors import ConfigError
from runwatch.paths import default_path
from runwatch.weblinks import template_problem

ProviderName = Literal["services", "wercker", "currents", "conduct", "scheduler", "runwatch"]
# The catalog (runwatch.catalog) says which APIs there are and which scope keys each takes;
# pydantic needs the names as a Literal, which lists the same ones (tests/test_catalog.py).


class _Strict(BaseModel):
    # strict: TOML has types, so `interval = true` or `limit = "5"` is a mistake to report,
    # not a value to coerce. defer_build: built at the first load, once, inside Config's
    # schema (not once for each section class as well).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


class GeneralConfig(_Strict):
    interval: float = Field(default=5.0, ge=0.5)
    theme: str | None = None
    read_only: bool = False
    # What a run turning failed does: a one-line toast, the terminal bell, or nothing.
    notify: Literal["toast", "bell", "off"] = "toast"
    bell: bool = False  # with notify = "toast": the bell too (the key before notify)
    limit: int = Field(default=50, ge=1, le=10_000)
    timeout: float = Field(default=10.0, gt=0)  # seconds for a whole request
    token_timeout: float = Field(default=10.0, gt=0)  # seconds a token_cmd may take
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
    blame: bool = True  # false: "red for 2h" without the author
    hold: float = Field(default=120.0, ge=0)  # seconds on a source whose track turned red


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
    # A run's page for a person: {id} {branch} {commit} {pipeline} and the scope keys.
    web_url: str | None = None
    interval: float | None = Field(default=None, ge=0.5)
    limit: int | None = Field(default=None, ge=1, le=10_000)
    service_id: str | None = None
    pipeline_id: str | None = None
    application_id: str | None = None
    project_id: str | None = None
    spec_id: str | None = None
    client_id: str | None = None
    hub_source: str | None = None  # provider "runwatch": the hub's source to show
    # The scheduler can log in for a JWT: username plus a password from env or command.
    username: str | None = None
    password_env: str | None = None
    password_cmd: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        # The messages follow the quoted value (see _explain).
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            if "://" not in value and value.strip():
                raise ValueError(f"needs http:// or https://; did you mean 'https://{value}'?")
            raise ValueError("needs http:// or https://")
        if not parts.netloc:
            raise ValueError("has no host after the scheme")
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
        return {k: getattr(self, k) for k in CATALOG[self.provider].scope_keys if getattr(self, k)}


class Config(_Strict):
    runwatch: GeneralConfig = Field(default_factory=GeneralConfig)
    kiosk: KioskConfig = Field(default_factory=KioskConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
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
    refuse_unsafe_file(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
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


def refuse_unsafe_file(path: Path) -> None:
    """Refuse, as ssh does, a file that someone else could have written: owned by another
    user, or writable by its group or by everyone. Whoever can write a config can repoint
    `base_url` (and collect the token) or add a `token_cmd` that runs as this user."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    quoted = shlex.quote(str(path))
    uid = os.getuid()
    if info.st_uid != uid:
        raise ConfigError(
            f"{path}: refused: it is owned by {_user(info.st_uid)}, not by you "
            f"({_user(uid)}), so someone else can change it: run sudo chown {_user(uid)} "
            f"{quoted}, or copy it to a file of your own"
        )
    writers = [who for who, bit in (("its group", stat.S_IWGRP), ("every user", stat.S_IWOTH))
               if info.st_mode & bit]
    if writers:
        raise ConfigError(
            f"{path}: refused: it is writable by {' and '.join(writers)} "
            f"(mode {stat.S_IMODE(info.st_mode):04o}), so someone else can change it: "
            f"run chmod go-w {quoted}"
        )


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def parse(raw: dict[str, Any], origin: str = "config") -> Config:
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, raw, origin)) from None
    seen: set[str] = set()
    for source in config.sources:
        where = f"{origin}: source {source.name!r}"
        if source.name in seen:
            raise ConfigError(f"{where}: key 'name': {source.name!r} names an earlier source "
                              "too; every source needs its own name")
        seen.add(source.name)
        spec = CATALOG[source.provider]
        for key in ALL_SCOPE_KEYS - set(spec.scope_keys):
            if getattr(source, key):
                allowed = " or ".join(spec.scope_keys)
                raise ConfigError(
                    f"{where}: key {key!r}: not a {source.provider} key (it takes {allowed})"
                )
        required = spec.required_scope
        if required and not any(getattr(source, k) for k in required):
            raise ConfigError(f"{where}: key {required[0]!r}: required for {source.provider}"
                              + (f" (or {required[1]!r})" if len(required) > 1 else ""))
        if source.web_url is not None:
            problem = template_problem(source.web_url, spec.scope_keys)
            if problem:
                raise ConfigError(f"{where}: key 'web_url': {source.web_url!r} {problem}")
        if source.token_env and source.token_cmd:
            raise ConfigError(f"{where}: key 'token_cmd': give token_env or token_cmd, not both")
    return config


_SECTIONS: dict[str, type[BaseModel]] = {"runwatch": GeneralConfig, "kiosk": KioskConfig,
                                          "history": HistoryConfig, "notify": NotifyConfig}


def _explain(exc: ValidationError, raw: dict[str, Any], origin: str) -> str:
    """The first validation error as `file: where: key 'k': what was wrong`, in our words."""
    # Only a config with a mistake needs the messages (and difflib, for "did you mean").
    from runwatch.config_messages import describe, show, which_source

    error = exc.errors()[0]
    loc = list(error["loc"])
    where = origin
    model: type[BaseModel] = Config
    if loc[:1] == ["sources"] and len(loc) > 1 and isinstance(loc[1], int):
        entries = raw.get("sources")
        entry = entries[loc[1]] if isinstance(entries, list) else None
        where += f": {which_source(entry, loc[1])}"
        loc = loc[2:]
        model = SourceConfig
        if not loc:
            return f"{where}: {show(entry)} is not a table; each [[sources]] entry is one"
    elif loc and str(loc[0]) in _SECTIONS and len(loc) > 1:
        model = _SECTIONS[str(loc[0])]
        where += f": [{loc[0]}]"
        loc = loc[1:]
    key = ".".join(str(p) for p in loc) or "?"
    problem = describe(error, key, known_keys=list(model.model_fields),
                       in_source=model is SourceConfig, providers=tuple(CATALOG))
    return f"{where}: key {key!r}: {problem}"


def _readable_by_others(path: Path) -> bool:
    mode = path.stat().st_mode
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


# -- writing new files -------------------------------------------------------------------


_HERE = Path(__file__).resolve().parent
# The commented starter: the wheel's copy (pyproject's force-include), else the checkout's.
STARTER_FILES = (_HERE / "config.example.toml", _HERE.parent.parent / "config.example.toml")


def starter_text() -> str:
    """What `runwatch config init` writes: config.example.toml, every option commented."""
    for path in STARTER_FILES:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise ConfigError("config.example.toml is missing from this installation of runwatch")


def write_starter(path: Path, text: str | None = None) -> None:
    """Create `path` with `text` (the commented starter by default), readable by its owner
    alone so that a token put in it later is accepted; never replaces an existing file."""
    text = starter_text() if text is None else text
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: the check and the creation are one step, so nothing is ever overwritten.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; runwatch never overwrites a config") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
