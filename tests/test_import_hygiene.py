"""What start-up does not load (issue 11, step 7): every deferral the start time depends on,
checked in a fresh process by its `sys.modules`.

- `import runwatch.cli`, `runwatch --version` and `--help` run argparse before anything heavy
  (no Textual, httpx, pydantic);
- httpx never loads its command-line client (click, ~50-85 ms), which it does whenever click
  is installed (uvicorn installs it);
- the dashboard, on a config or on the demo, shows its runs without uvicorn, click,
  markdown-it or the run screen's module (loaded when a run is opened), and the demo without
  a socket; an all-http:// config never builds the verifying TLS context (loading the CA
  bundle costs 60-90 ms), while an https source verifies certificates;
- neither the dashboard nor `list` on plain http:// sources builds httpx's transport
  (httpcore): their GETs are the lean ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fcntl import ioctl
from pathlib import Path

import httpx
import pytest

from conftest import SCOPES, SimHandle
from runwatch.config import Config
from runwatch.demo import demo_config
from runwatch.providers import build_providers
from runwatch.sim import PROVIDERS, demo_tokens
from runwatch.sim.demo import DEMO_URL, demo_simulator

# Run in the child: dump its modules (and whether the verifying TLS context was built) at exit.
DUMP = """
import atexit, json, sys
def dump():
    http = sys.modules.get("runwatch.http_tls")
    with open(sys.argv[1], "w") as out:
        json.dump({"modules": sorted(k for k, v in sys.modules.items() if v is not None),
                   "tls_built": http is not None and http._SSL_CONTEXT is not None}, out)
atexit.register(dump)
from runwatch.cli import main
raise SystemExit(main(sys.argv[2:]))
"""

HEAVY = ("textual", "httpx", "pydantic", "rich", "tenacity", "uvicorn", "click", "starlette")
NOT_BEFORE_A_RUN_IS_OPENED = ("uvicorn", "click", "markdown_it", "runwatch.tui.screens.run")
# httpx's transport, built only when httpx carries a request (runwatch.http_tls.LazyClient)
HTTPX_TRANSPORT = ("httpcore", "h11", "anyio")


def loaded(modules: list[str], *names: str) -> list[str]:
    """Which of `names` (packages or modules) are among `modules`."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def modules_after(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport json, sys\n"
         "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return json.loads(done.stdout.splitlines()[-1])


def run_cli(tmp_path: Path, *argv: str,
            env: dict[str, str] | None = None) -> tuple[dict[str, object], str]:
    """`runwatch ARGV` (not on a terminal): its modules at exit, and its stdout."""
    dump = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", DUMP, str(dump), *argv],
                          capture_output=True, text=True, timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(dump.read_text()), done.stdout


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert loaded(modules_after("import runwatch.cli"), *HEAVY) == []


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_nothing_heavy(tmp_path: Path, flag: str) -> None:
    seen, stdout = run_cli(tmp_path, flag)
    assert "runwatch" in stdout
    assert loaded(seen["modules"], *HEAVY) == []  # type: ignore[arg-type]
    # Neither is heavy, yet together ~5-8 ms of a ~15 ms budget (4x `python -c pass`):
    # shutil (bz2, lzma) for the help's width, typing for annotations only mypy reads.
    assert loaded(seen["modules"], "shutil", "typing") == []  # type: ignore[arg-type]


@pytest.mark.parametrize("columns", [50, 120])
def test_help_fits_the_width_columns_says(columns: int) -> None:
    """The help's width comes from $COLUMNS (else the terminal) without shutil, as before."""
    done = subprocess.run([sys.executable, "-m", "runwatch", "--help"], capture_output=True,
                          text=True, timeout=60, check=True,
                          env={**os.environ, "COLUMNS": str(columns)})
    widths = [len(line) for line in done.stdout.splitlines()]
    assert max(widths) <= columns - 2 < max(widths) + 12  # filled to the width, not past it


def write_empty_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text("[runwatch]\ninterval = 30.0\n")
    config.chmod(0o600)
    return config


def test_list_json_loads_neither_textual_nor_the_plugin_search(tmp_path: Path) -> None:
    """`list` never loads the dashboard nor the poller (it reads once, through the session);
    with no pydantic plugin installed, pydantic's plugin loader (importlib.metadata and what
    it imports) is not loaded either (runwatch.cli.plugins)."""
    seen, stdout = run_cli(tmp_path, "--config", str(write_empty_config(tmp_path)), "list",
                           "--json")
    assert json.loads(stdout) == []
    modules: list[str] = seen["modules"]  # type: ignore[assignment]
    assert "pydantic" in modules and "runwatch.config" in modules
    assert "runwatch.session" in modules
    assert loaded(modules, "textual", "runwatch.tui", "importlib.metadata",
                  "runwatch.poller") == []


def test_history_loads_neither_the_config_nor_a_provider(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`runwatch history` reads the history file only: config (pydantic's models of it), the
    providers, httpx and pydantic itself are ~200 ms of a start it never uses."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen, stdout = run_cli(tmp_path, "history")
    assert "no runs" in stdout.lower()
    modules: list[str] = seen["modules"]  # type: ignore[assignment]
    assert "runwatch.history" in modules
    # pydantic.plugin._loader is runwatch's stand-in (cli/plugins.py), not pydantic's module
    real = [m for m in modules if m != "pydantic.plugin._loader"]
    assert loaded(real, "runwatch.config", "runwatch.providers", "httpx", "textual",
                  "pydantic") == []


def test_the_output_helpers_and_statuses_load_no_pydantic() -> None:
    """`runwatch history` writes through runwatch.output and reads RunStatus: neither may pull
    in pydantic (~100 ms), which the models module loads only when a model is asked for."""
    modules = modules_after("import runwatch.output, runwatch.formatting\n"
                            "from runwatch.models import RunStatus, run_duration, utc")
    assert "runwatch.models.status" in modules
    assert loaded(modules, "pydantic", "runwatch.models.run") == []
    # ... and a model asked for by name still comes from the package, built as before
    assert "pydantic" in modules_after("from runwatch.models import Run\nRun.model_fields")


PLUGIN = """
import os
class Plugin:
    def new_schema_validator(self, schema, schema_type, path, kind, config, settings):
        with open(os.environ["RWPLUG_SEEN"], "a") as seen:
            seen.write(path.name + "\\n")
        return None, None, None
plugin = Plugin()
"""


def test_an_installed_pydantic_plugin_still_sees_runwatchs_models(tmp_path: Path) -> None:
    """A distribution declaring a `pydantic` entry point (as an observability package does)
    is loaded by pydantic as ever, and sees the models runwatch builds."""
    site = tmp_path / "site"
    info = site / "rwplug-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rwplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nrwplug = rwplug:plugin\n")
    (site / "rwplug.py").write_text(PLUGIN)
    seen = tmp_path / "seen.txt"
    env = {**os.environ, "PYTHONPATH": str(site), "RWPLUG_SEEN": str(seen)}
    done = subprocess.run([sys.executable, "-m", "runwatch", "--config",
                           str(write_empty_config(tmp_path)), "list", "--json"],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "Config" in seen.read_text().split()


# Another version; the tested one's number written so that it cannot be read unimported.
@pytest.mark.parametrize("version_line", ["VERSION = '2.99.0'", "VERSION: str = '{tested}'"])
def test_an_untested_pydantic_searches_for_plugins_itself(tmp_path: Path,
                                                         version_line: str) -> None:
    """The stand-in loader replaces a private module of the pydantic versions it was checked
    against only: pydantic's own (the real pydantic, saying it is another version) loads
    its plugin loader and searches, and runwatch works as ever."""
    import importlib.util

    from runwatch.cli.plugins import TESTED_PYDANTIC

    spec = importlib.util.find_spec("pydantic")
    assert spec is not None and spec.submodule_search_locations
    real = Path(next(iter(spec.submodule_search_locations)))
    fake = tmp_path / "site" / "pydantic"
    fake.mkdir(parents=True)
    for entry in real.iterdir():
        if entry.name != "version.py":
            (fake / entry.name).symlink_to(entry)
    text = (real / "version.py").read_text()
    said = [line for line in text.splitlines() if line.startswith("VERSION = ")]
    assert len(said) == 1 and said[0].split("'")[1] in TESTED_PYDANTIC  # the one installed
    tested = said[0].split("'")[1]
    (fake / "version.py").write_text(text.replace(said[0], version_line.format(tested=tested)))
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}

    seen, stdout = run_cli(tmp_path, "--config", str(write_empty_config(tmp_path)), "list",
                           "--json", env=env)

    assert json.loads(stdout) == []
    modules: list[str] = seen["modules"]  # type: ignore[assignment]
    assert loaded(modules, "pydantic.plugin._loader", "importlib.metadata") == [
        "pydantic.plugin._loader", "importlib.metadata"]


def test_httpx_loads_without_its_command_line_client() -> None:
    modules = modules_after("import runwatch, httpx; assert httpx.AsyncClient")
    assert "httpx" in modules
    assert loaded(modules, "click", "httpx._main", "pygments") == []


def test_the_dashboard_module_defers_the_run_screen_and_the_simulator() -> None:
    modules = modules_after("import runwatch.tui.app")
    assert loaded(modules, *NOT_BEFORE_A_RUN_IS_OPENED, "runwatch.sim") == []


# -- the real start, in a pseudo-terminal, until every source's runs are on screen ------------


def newest_ids(config: Config, transport: httpx.AsyncBaseTransport | None) -> list[bytes]:
    """The newest run of every source as the table shows it (its id's first 6 characters:
    Wercker's ids begin with their creation time)."""
    import asyncio

    async def fetch() -> list[bytes]:
        providers = build_providers(config, transport=transport)
        try:
            return [(await p.list_runs())[0].id[:6].encode() for p in providers.values()]
        finally:
            for p in providers.values():
                await p.aclose()

    return asyncio.run(fetch())


def start_in_pty(tmp_path: Path, argv: list[str], env: dict[str, str],
                 needles: list[bytes]) -> dict[str, object]:
    """`runwatch ARGV` on a 160x45 pty until every needle is on screen; then `q`. What it had
    loaded when it quit."""
    dump = tmp_path / "modules.json"
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    process = subprocess.Popen([sys.executable, "-c", DUMP, str(dump), *argv], stdin=slave,
                               stdout=slave, stderr=slave, env={**env, "TERM": "xterm-256color"},
                               start_new_session=True)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 45
    try:
        while not all(n in output for n in needles):
            assert time.monotonic() < deadline, f"never on screen: {needles} {output[-1500:]!r}"
            if select.select([master], [], [], 0.1)[0]:
                output += os.read(master, 65536)
        os.write(master, b"q")
        while process.poll() is None:  # keep reading: a full pty would block its exit
            assert time.monotonic() < deadline + 20, "did not quit on q"
            if select.select([master], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):  # EIO once the child has closed its side
                    output += os.read(master, 65536)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    assert process.returncode == 0, output[-1500:]
    return json.loads(dump.read_text())


def dashboard_env(tmp_path: Path) -> dict[str, str]:
    # no proxy variable: with one, httpx decides whether it applies (and loads)
    env = {k: v for k, v in os.environ.items() if k not in ("RUNWATCH_CONFIG", "NO_COLOR")
           and not k.lower().endswith("_proxy")}
    env.update({f"HYGIENE_{p.upper()}": t for p, t in demo_tokens().items()})
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


def five_sources(sim: SimHandle, tmp_path: Path) -> Path:
    """A config of the five providers on the simulator, each with a token (no login)."""
    config = tmp_path / "config.toml"
    config.write_text("[runwatch]\ninterval = 30.0\n" + "".join(
        f'[[sources]]\nname = "{p}"\nprovider = "{p}"\nbase_url = "{sim.base_url(p)}"\n'
        f'token_env = "HYGIENE_{p.upper()}"\n'
        + "".join(f'{k} = "{v}"\n' for k, v in SCOPES[p].items())
        for p in PROVIDERS
    ))
    config.chmod(0o600)
    return config


def test_the_dashboard_shows_every_source_without_deferred_modules(
    sim: SimHandle, tmp_path: Path
) -> None:
    needles = newest_ids(demo_config(sim.url), None)
    seen = start_in_pty(tmp_path, ["--config", str(five_sources(sim, tmp_path))],
                        dashboard_env(tmp_path), needles)
    modules: list[str] = seen["modules"]  # type: ignore[assignment]
    assert "runwatch.tui.app" in modules and "runwatch.http_lean" in modules
    # httpx: only where it carries a request (runwatch.http_lean_head); tenacity: only once
    # a request is retried
    assert loaded(modules, *NOT_BEFORE_A_RUN_IS_OPENED, "httpx", *HTTPX_TRANSPORT,
                  "runwatch.sim", "tenacity") == []
    # the alerts' statistics of a track: only once a run ends (the first poll sees none end)
    assert loaded(modules, "runwatch.history.stats") == []
    assert seen["tls_built"] is False  # every source is http://


def test_list_on_plain_http_sources_never_imports_httpx(
    sim: SimHandle, tmp_path: Path
) -> None:
    """Every GET to a plain http:// source without a proxy is the lean one, its URL and
    header lines built without httpx: httpx (~127M instructions, 10 % of `list`) and its
    transport (httpcore, h11, anyio: ~160M more) are never imported."""
    seen, stdout = run_cli(tmp_path, "--config", str(five_sources(sim, tmp_path)), "list",
                           "--json", env=dashboard_env(tmp_path))
    assert {run["source"] for run in json.loads(stdout)} == set(PROVIDERS)
    modules: list[str] = seen["modules"]  # type: ignore[assignment]
    assert "runwatch.http_lean" in modules
    assert loaded(modules, "httpx", *HTTPX_TRANSPORT, "tenacity") == []  # nothing retried
    # Neither answers a request that went well: email parses an HTTP-date Retry-After, shutil
    # (bz2, lzma) sizes a terminal that os.get_terminal_size could not (~17M instructions).
    assert loaded(modules, "email", "shutil") == []


def test_the_demo_shows_every_source_in_process_without_uvicorn(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=demo_simulator().app)
    needles = newest_ids(demo_config(DEMO_URL), transport)
    seen = start_in_pty(tmp_path, ["demo"], dashboard_env(tmp_path), needles)
    modules: list[str] = seen["modules"]  # type: ignore[assignment]
    assert "runwatch.sim.app" in modules
    assert loaded(modules, *NOT_BEFORE_A_RUN_IS_OPENED, "runwatch.sim.server") == []
    assert seen["tls_built"] is False


# -- https still verifies -----------------------------------------------------------------


@dataclass
class TlsServer:
    port: int
    cert: Path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    """An HTTPS server on loopback whose self-signed certificate no CA vouches for; it answers
    every request with an empty JSON list."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with contextlib.suppress(OSError), context.wrap_socket(
                connection, server_side=True
            ) as tls:
                tls.settimeout(5)
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 2\r\nConnection: close\r\n\r\n[]")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield TlsServer(listener.getsockname()[1], cert)
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    thread.join(5)


GET_OVER_TLS = """
import asyncio, sys
from runwatch.http import SourceClient
from runwatch.http_retry import RetryPolicy
async def get():
    client = SourceClient(source="tls", base_url=sys.argv[1], retry=RetryPolicy(attempts=1),
                          timeout_s=5.0)
    try:
        print(await client.get_json("/api/runs"))
    except Exception as exc:
        print(type(exc).__name__, exc)
    finally:
        await client.aclose()
asyncio.run(get())
"""


@pytest.mark.parametrize("trusted", [False, True])
def test_an_https_source_verifies_against_the_trusted_cas(tls_server: TlsServer,
                                                         trusted: bool) -> None:
    """The verifying context is built for https (lazily, yet with the CA bundle: here the
    one SSL_CERT_FILE names, as httpx reads it); a certificate it does not vouch for is an
    error."""
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    if trusted:
        env["SSL_CERT_FILE"] = str(tls_server.cert)
    done = subprocess.run([sys.executable, "-c", GET_OVER_TLS,
                           f"https://127.0.0.1:{tls_server.port}"],
                          capture_output=True, text=True, timeout=60, env=env, check=True)
    if trusted:
        assert done.stdout.strip() == "[]"
    else:
        assert done.stdout.startswith("Unreachable"), done.stdout
        assert "certificate" in done.stdout.lower()
