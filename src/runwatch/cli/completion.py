"""`runwatch completion bash|zsh|fish`: shell completion written from the argparse tree, so
every command and option the parser has is completed and none is listed twice.

Hand-written rather than argcomplete or shtab: nothing to install, nothing loaded at start-up
(argcomplete hooks every run of the command), and the scripts ask runwatch for the names that
change (`runwatch completion --names sources|themes`) when TAB is pressed. That callback reads
the config's TOML for its source names without validating it: no pydantic, no httpx.
"""

from __future__ import annotations

import argparse
import os
import shlex
import tomllib
from pathlib import Path

from runwatch.cli.parser import build_parser
from runwatch.paths import default_path, user_theme_dir

__all__ = ["cmd_completion", "script"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Options whose value is a name that changes: asked of runwatch when TAB is pressed.
DYNAMIC = {"--source": "sources", "--theme": "themes"}
FILES = {"--config"}


def cmd_completion(args: argparse.Namespace) -> int:
    if args.names:
        names = source_names(args.config) if args.names == "sources" else theme_names()
        print("\n".join(names))
        return 0
    if args.shell is None:
        build_parser().parse_args(["completion", "--help"])
    print(script(args.shell))
    return 0


# -- the names that change -------------------------------------------------------------------


def source_names(explicit: str | None) -> list[str]:
    """The config's source names, read leniently: a config with a mistake still completes."""
    named = explicit or os.environ.get("RUNWATCH_CONFIG")
    path = Path(named).expanduser() if named else default_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    sources = raw.get("sources")
    if not isinstance(sources, list):
        return []
    return [s["name"] for s in sources
            if isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"].isprintable()
            and s["name"].strip() and " " not in s["name"]]


def theme_names() -> list[str]:
    """runwatch's themes, the user's theme files and Textual's built-in themes."""
    names: set[str] = set()
    for folder in (_PACKAGE_DIR / "_themes", _PACKAGE_DIR.parent.parent / "themes",
                   user_theme_dir()):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    try:
        from textual.theme import BUILTIN_THEMES  # only when TAB asks for a theme
    except ImportError:  # pragma: no cover - textual is a dependency
        pass
    else:
        names.update(BUILTIN_THEMES)
    return sorted(names)


# -- reading the parser ------------------------------------------------------------------------


class _Command:
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.options: list[str] = []
        self.choices: dict[str, list[str]] = {}  # option -> its fixed values
        self.words: list[str] = []  # what may follow the command: subcommands, choices
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                self.words.extend(action.choices)
            elif action.help == argparse.SUPPRESS:
                continue
            elif action.option_strings:
                self.options.extend(o for o in action.option_strings if o.startswith("--"))
                if action.choices is not None:
                    for option in action.option_strings:
                        self.choices[option] = [str(c) for c in action.choices]
            elif action.choices is not None:
                self.words.extend(str(c) for c in action.choices)


def _tree() -> tuple[_Command, dict[str, _Command]]:
    parser = build_parser()
    top = _Command(parser)
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = {name: _Command(p) for name, p in subs.choices.items()}
    config = next(a for a in subs.choices["config"]._actions
                  if isinstance(a, argparse._SubParsersAction))
    for name, p in config.choices.items():
        commands[f"config {name}"] = _Command(p)
    return top, commands


def script(shell: str) -> str:
    top, commands = _tree()
    if shell == "fish":
        return _fish(top, commands)
    bash = _bash(top, commands)
    if shell == "zsh":
        return ("# zsh: runs the bash completion through bashcompinit (after compinit)\n"
                "autoload -U +X bashcompinit && bashcompinit\n" + bash)
    return bash


def _words(words: list[str]) -> str:
    return shlex.quote(" ".join(dict.fromkeys(words)))


def _bash(top: _Command, commands: dict[str, _Command]) -> str:
    choices = {**top.choices}
    for cmd in commands.values():
        choices.update(cmd.choices)
    value_cases = "".join(
        f"        {opt}) COMPREPLY=($(compgen -W {_words(vals)} -- \"$cur\")); return ;;\n"
        for opt, vals in sorted(choices.items()))
    option_cases = "".join(
        f"            {shlex.quote(name)}) opts={_words(cmd.options)} ;;\n"
        for name, cmd in commands.items())
    word_cases = "".join(
        f"        {shlex.quote(name)}) words={_words(cmd.words)} ;;\n"
        for name, cmd in commands.items() if cmd.words)
    names = " ".join(n for n in commands if " " not in n)
    dynamic = "".join(
        f"        {opt}) COMPREPLY=($(compgen -W \"$(runwatch completion --names {what} "
        f"${{config:+--config \"$config\"}} 2>/dev/null)\" -- \"$cur\")); return ;;\n"
        for opt, what in DYNAMIC.items())
    return f"""# runwatch completion for bash: source <(runwatch completion bash)
_runwatch() {{
    local cur prev cmd config word opts words i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    cmd=""
    config=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        if [[ "$word" == --config ]]; then
            config="${{COMP_WORDS[i+1]}}"
        elif [[ -z "$cmd" && " {names} " == *" $word "* ]]; then
            cmd="$word"
        elif [[ "$cmd" == config && ( "$word" == init || "$word" == check ) ]]; then
            cmd="config $word"
        fi
    done
    case "$prev" in
{dynamic}{value_cases}        --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ "$cur" == -* ]]; then
        case "$cmd" in
{option_cases}            *) opts={_words(top.options)} ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    words=""
    case "$cmd" in
        "") words={_words(top.words)} ;;
{word_cases}    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _runwatch runwatch
"""


def _fish(top: _Command, commands: dict[str, _Command]) -> str:
    lines = ["# runwatch completion for fish: runwatch completion fish | source",
             "complete -c runwatch -f"]
    names = [n for n in commands if " " not in n]
    seen = " ".join(names)
    for name in names:
        lines.append(f"complete -c runwatch -n 'not __fish_seen_subcommand_from {seen}' "
                     f"-a {shlex.quote(name)}")
    lines.extend(_fish_options(top, "not __fish_seen_subcommand_from " + seen))
    for name, cmd in commands.items():
        if " " in name:
            continue
        cond = f"__fish_seen_subcommand_from {name}"
        lines.extend(_fish_options(cmd, cond))
        if cmd.words:
            lines.append(f"complete -c runwatch -n {shlex.quote(cond)} -a {_words(cmd.words)}")
    return "\n".join(lines) + "\n"


def _fish_options(cmd: _Command, cond: str) -> list[str]:
    lines = []
    for option in dict.fromkeys(cmd.options):
        base = f"complete -c runwatch -n {shlex.quote(cond)} -l {option[2:]}"
        if option in DYNAMIC:
            base += f" -xa '(runwatch completion --names {DYNAMIC[option]} 2>/dev/null)'"
        elif option in cmd.choices:
            base += f" -xa {_words(cmd.choices[option])}"
        elif option in FILES:
            base += " -rF"
        lines.append(base)
    return lines


