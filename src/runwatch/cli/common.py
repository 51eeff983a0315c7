"""What the commands share: finding the config, building providers, reporting errors."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Iterator

from runwatch.errors import ConfigError, RunwatchError
from runwatch.output import emit_error
from runwatch.paths import default_path

# Config (pydantic) and the providers (httpx) are imported by the commands that use them:
# `runwatch history` and `config` need neither, and they are most of a start's imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from runwatch.config import Config
    from runwatch.providers import Provider


class UsageError(RunwatchError):
    """The command cannot go on as given (e.g. a confirmation with no terminal): exit 3."""

    exit_code = 3


def say_error(message: str) -> None:
    """One line on stderr, the way every runwatch error is shown (cleaned: it quotes APIs)."""
    emit_error(f"runwatch: {message}")


def silence_stdout() -> None:
    """Send what is left of stdout to /dev/null: its reader has gone (`runwatch list | head`),
    and Python's last flush at exit would fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@contextlib.contextmanager
def reader_may_leave() -> Iterator[None]:
    """Output whose reader may leave before it ends (`runwatch list | head -1`): a closed pipe
    ends the output, not the command, so the errors it says next on stderr and its exit code
    still hold."""
    try:
        yield
    except BrokenPipeError:
        silence_stdout()


def report(exc: BaseException, debug: bool) -> None:
    """An error as one line (plus its traceback with --debug)."""
    if debug:
        emit_error("".join(traceback.format_exception(exc)).rstrip("\n"), multiline=True)
    if isinstance(exc, RunwatchError):
        say_error(exc.message)
        for line in getattr(exc, "details", ()):  # e.g. the runs an ambiguous RUN matches
            emit_error(line)
    else:
        say_error(f"internal error: {type(exc).__name__}: {exc}"
                  + ("" if debug else " (--debug shows the traceback)"))


def source_message(name: str, exc: BaseException) -> str:
    """An error's message, prefixed with the source's name unless it already says it."""
    text = exc.message if isinstance(exc, RunwatchError) else f"{type(exc).__name__}: {exc}"
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


def load_config(args: argparse.Namespace) -> Config:
    """The config named by --config, $RUNWATCH_CONFIG or the XDG location; one must exist."""
    from runwatch.config import find_config, load

    path = find_config(args.config)
    if path is None:
        raise ConfigError(
            f"no config file at {default_path()} (nor --config, nor $RUNWATCH_CONFIG): "
            "run `runwatch config init`, or `runwatch demo` to try the simulator"
        )
    return expand_hubs(load(path))


def expand_hubs(config: Config) -> Config:
    """`config` with a `runwatch` source that names no `hub_source` as one source per source
    of its hub (see runwatch.providers.runwatch); the config itself when it has none."""
    if not any(s.provider == "runwatch" for s in config.sources):
        return config  # nothing to ask: no provider module is imported
    from runwatch.providers.runwatch import expand_hubs as expand

    return expand(config)


def open_provider(config: Config, name: str, read_only: bool) -> Provider:
    """One source's provider (ConfigError for an unknown name); its token is fetched by its
    first request (TokenError then), within the config's `token_timeout`."""
    from runwatch.providers import build_providers

    return build_providers(config, read_only=read_only, only=[name])[name]


def config_path_for_init(path: str | None, explicit: str | None) -> str:
    """Where `config init` writes: PATH, else --config, else $RUNWATCH_CONFIG, else XDG."""
    return path or explicit or os.environ.get("RUNWATCH_CONFIG") or str(default_path())
