"""The dashboard, `demo`, `sim`, `serve` and `config init|check`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from runwatch.catalog import CATALOG
from runwatch.cli.common import (
    config_path_for_init,
    expand_hubs,
    load_config,
    open_provider,
    report,
    say_error,
    source_message,
)
from runwatch.config import Config, find_config, load, write_starter
from runwatch.errors import ConfigError
from runwatch.output import emit
from runwatch.paths import default_path

if TYPE_CHECKING:
    from runwatch.providers import Provider

# The env vars `runwatch config init`'s starter reads; `runwatch sim` prints them.
STARTER_TOKEN_ENV = {name: spec.token_env for name, spec in CATALOG.items()}


# -- the dashboard -------------------------------------------------------------------------


def cmd_dashboard(args: argparse.Namespace) -> int:
    """`runwatch` alone: the dashboard on the config, or the demo when there is none."""
    path = find_config(args.config)
    if path is None:
        say_error(f"no config file ({default_path()} does not exist): starting the demo on "
                  "the built-in simulator; `runwatch config init` writes a starter config")
        return _demo(args, no_config=True)
    config = expand_hubs(load(path))
    for name in args.sources or []:
        config.source(name)
    return _run_dashboard(config, args, demo=False)


def cmd_demo(args: argparse.Namespace) -> int:
    """The dashboard on a live simulator in this process."""
    return _demo(args)


def _demo(args: argparse.Namespace, *, no_config: bool = False) -> int:
    # The simulator runs in-process, over httpx.ASGITransport: no server, no port, and no
    # uvicorn (nor the click it imports) on the way to the first frame. ASGITransport runs
    # no lifespan events; the simulator needs none.
    import httpx

    from runwatch.demo import demo_config
    from runwatch.providers import build_providers
    from runwatch.sim.demo import DEMO_URL, demo_simulator

    config = demo_config(DEMO_URL, read_only=args.read_only)
    for name in args.sources or []:
        config.source(name)
    # raise_app_exceptions=False: a fault in the simulator is a 500, as over a socket.
    transport = httpx.ASGITransport(app=demo_simulator().app, raise_app_exceptions=False)
    providers = build_providers(config, read_only=args.read_only or args.kiosk,
                                only=args.sources or None, transport=transport)
    try:
        return _run_dashboard(config, args, demo=True, no_config=no_config,
                              providers=providers)
    finally:
        asyncio.run(_close(providers.values()))


async def _close(providers: Iterable[Provider]) -> None:
    await asyncio.gather(*(p.aclose() for p in providers))


def _run_dashboard(
    config: Config, args: argparse.Namespace, *, demo: bool, no_config: bool = False,
    providers: Mapping[str, Provider] | None = None,
) -> int:
    from runwatch.session import Session
    from runwatch.tui.app import run_dashboard  # lazily: only the dashboard needs Textual

    # Providers already built (the demo's, on its in-process simulator) get a session here;
    # otherwise the app builds one from the config.
    session = None if providers is None else Session.on(
        config, providers, read_only=args.read_only or args.kiosk, kiosk=args.kiosk,
        interval=args.interval,
    )
    return run_dashboard(
        config,
        read_only=args.read_only or args.kiosk,
        kiosk=args.kiosk,
        only_sources=args.sources or None,
        interval=args.interval,
        theme=args.theme,
        demo=demo,
        no_config=no_config,  # the dashboard says on screen that this is the demo
        ascii=args.ascii,  # None: ASCII when the locale is not UTF-8
        session=session,
    )


# -- sim -----------------------------------------------------------------------------------


def cmd_sim(args: argparse.Namespace) -> int:
    from runwatch.sim import PROVIDERS, SimSettings, Simulator, demo_tokens
    from runwatch.sim.demo import DEMO_SCOPES
    from runwatch.sim.server import serve_forever

    port = args.port or _free_port(args.host)
    tokens = demo_tokens()
    sim = Simulator(SimSettings(seed=args.seed, runs=args.runs, tokens=dict(tokens)))
    root = f"http://{_url_host(args.host)}:{port}"
    lines = [f"runwatch simulator: seed {args.seed}, {args.runs} runs per API; Ctrl-C stops it",
             "", "base URLs (config `base_url`, with the scope keys the demo uses):"]
    for name in PROVIDERS:
        scope = "".join(f'  {k} = "{v}"' for k, v in DEMO_SCOPES[name].items())
        lines.append(f"  {name:<10} {root + '/' + name:<{len(root) + 11}}{scope}".rstrip())
    lines += ["", "tokens (the env vars `runwatch config init` names as token_env):"]
    lines += [f"  export {STARTER_TOKEN_ENV[p]}={tokens[p]}" for p in PROVIDERS]
    lines += ["", f"a config for it: runwatch config init --sim {root}"]
    print("\n".join(lines), flush=True)
    # uvicorn re-raises the Ctrl-C it handled; for a server that is the normal way out
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(sim.app, args.host, port)
    return 0


# -- serve ---------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    """The hub: one session on the config (the demo when there is none), its feed, and the
    read-only kiosk for web browsers, each viewer's kiosk reading the hub's feed."""
    import os
    import shutil
    import tempfile

    from runwatch.serve import ServeError, feed_url, kiosk_command, require_textual_serve, serve

    require_textual_serve()  # before anything is announced: a missing extra is all there is to say
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            raise ServeError(f"--token-env {args.token_env}: the variable is not set or empty")
    path = find_config(args.config)
    transport = None
    if path is not None:
        # Check the config once here: a broken one is exit 3 now, not a failure per browser.
        config = expand_hubs(load(path))
        for name in args.sources or []:
            config.source(name)
    else:
        import httpx

        from runwatch.demo import demo_config
        from runwatch.sim.demo import DEMO_URL, demo_simulator

        config = demo_config(DEMO_URL, read_only=True)
        transport = httpx.ASGITransport(app=demo_simulator().app, raise_app_exceptions=False)
        say_error(f"no config file ({default_path()} does not exist): serving the demo kiosk "
                  "on the built-in simulator")
    from runwatch.hub import Hub

    hub = Hub(config, only=args.sources or (), interval=args.interval, transport=transport)
    port = args.port or _free_port(args.host)
    # The viewers' config lives as long as this server, readable by this user only.
    folder = Path(tempfile.mkdtemp(prefix="runwatch-serve-"))
    try:
        viewers = folder / "viewers.toml"
        viewers.write_text(hub.viewer_config(feed_url(args.host, port), args.token_env),
                           encoding="utf-8")
        command = kiosk_command(viewers, theme=args.theme)
        return serve(command, args.host, port, args.public_url, max_viewers=args.max_viewers,
                     hub=hub, token=token)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# -- config --------------------------------------------------------------------------------


def cmd_config(args: argparse.Namespace) -> int:
    if args.config_command == "init":
        return _config_init(args)
    return _config_check(args)


def _config_init(args: argparse.Namespace) -> int:
    path = Path(config_path_for_init(args.path, args.config)).expanduser()
    if args.sim is None:
        write_starter(path)
        print(f"wrote {path}\nedit its sources (base_url, scope ids, token_env), "
              "then run `runwatch config check`")
        return 0
    write_starter(path, sim_config_text(args.sim))
    print(f"wrote {path}: the five sources of `runwatch sim` at {args.sim}\n"
          "start the simulator (`runwatch sim`), export the tokens it prints, "
          "then run `runwatch config check`")
    return 0


def sim_config_text(root: str) -> str:
    """A config for the simulator at `root` (what `runwatch sim` serves): its scope ids and
    the token variables it prints, with how to use it in comments."""
    from runwatch.sim import PROVIDERS, demo_tokens
    from runwatch.sim.demo import DEMO_SCOPES

    root = root.rstrip("/")
    tokens = demo_tokens()
    header = [
        "# runwatch configuration for the simulator, written by `runwatch config init --sim`.",
        "# Start the simulator in another terminal:",
        f"#     runwatch sim{_sim_port_option(root)}",
        "# set the tokens it prints (they are the simulator's, not secrets):",
        *(f"#     export {STARTER_TOKEN_ENV[p]}={tokens[p]}" for p in PROVIDERS),
        "# then run `runwatch config check`, and `runwatch`. For real servers,",
        "# `runwatch config init` writes a starter that shows every option.",
        "",
    ]
    document = {
        "runwatch": {"interval": 2.0},
        "sources": [
            {"name": p, "provider": p, "base_url": f"{root}/{p}", **DEMO_SCOPES[p],
             "token_env": STARTER_TOKEN_ENV[p]}
            for p in PROVIDERS
        ],
    }
    import tomli_w  # only `config init --sim` writes TOML

    return "\n".join(header) + tomli_w.dumps(document)


def _sim_port_option(root: str) -> str:
    from urllib.parse import urlsplit

    from runwatch.cli.parser import SIM_PORT

    port = urlsplit(root).port
    return f" --port {port}" if port and port != SIM_PORT else ""


def _config_check(args: argparse.Namespace) -> int:
    config = load_config(args)
    emit(f"config {config.path}: {len(config.sources)} source(s)")
    problems = _problems(config)
    for problem in problems:
        emit(f"FAIL {problem}")
    results = asyncio.run(_check_all(config, args.read_only))
    failed = False
    for source, result in zip(config.sources, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            failed = True
            if args.debug:
                report(result, True)
            emit(f"FAIL {source_message(source.name, result)}")
        else:
            emit(f"ok   {source.name} ({source.provider}) {result} runs")
    if problems or any(isinstance(r, ConfigError) for r in results):
        return 3
    return 4 if failed else 0


def _problems(config: Config) -> list[str]:
    """What a valid file still gets wrong: no sources, an unknown theme, a colour Textual
    cannot parse, a user theme file that is broken or writable by others."""
    from runwatch.tui.themes import config_look_problems, installed_theme_names

    problems = []
    if not config.sources:
        problems.append(f"{config.path}: no [[sources]]: add one per runs API "
                        "(`runwatch config init` writes an example of each)")
    installed, skipped = installed_theme_names()
    return problems + skipped + config_look_problems(config, installed)


async def _check_all(config: Config, read_only: bool) -> list[int | BaseException]:
    return await asyncio.gather(
        *(_check_one(config, s.name, read_only) for s in config.sources), return_exceptions=True
    )


async def _check_one(config: Config, name: str, read_only: bool) -> int:
    """Reach one source with its cheapest list request; the number of runs it returned."""
    provider = open_provider(config, name, read_only)
    provider.limit = 1
    try:
        return len(await provider.list_runs())
    finally:
        await provider.aclose()
