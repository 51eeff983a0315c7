"""The sanitizer (runwatch.sanitize): each class of escape sequence and control removed whole,
cut and unterminated sequences too, SGR kept by clean_log only, and never an exception."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from runwatch import formatting, output
from runwatch.errors import LOCAL_MESSAGE_MAX, MESSAGE_MAX, ApiError, RunwatchError
from runwatch.models import Run, RunDetail, RunStatus, Spec, Step, TestResult
from runwatch.sanitize import clean_log, clean_multiline, clean_text
from runwatch.tui import look
from runwatch.tui.widgets.source_bar import seconds_until, updated_ago

SEQUENCES = {
    "csi clear": "\x1b[2J",
    "csi cursor": "\x1b[10;20H",
    "csi private": "\x1b[?1049h",
    "csi intermediate": "\x1b[1 q",
    "sgr": "\x1b[31;1m",
    "osc 52 bel": "\x1b]52;c;aGVsbG8=\x07",
    "osc 52 st": "\x1b]52;c;aGVsbG8=\x1b\\",
    "osc 0": "\x1b]0;title\x07",
    "osc 2": "\x1b]2;title\x1b\\",
    "osc 8": "\x1b]8;;https://evil.example/\x1b\\",
    "osc c1 st": "\x1b]0;title\x9c",
    "dcs": "\x1bP+q544e\x1b\\",
    "apc": "\x1b_Gf=100;AAAA\x1b\\",
    "pm": "\x1b^private\x1b\\",
    "sos": "\x1bXstring\x1b\\",
    "c1 csi": "\x9b2J",
    "c1 osc": "\x9d0;title\x07",
    "c1 dcs": "\x90qdata\x9c",
    "c1 apc": "\x9fdata\x9c",
    "reset": "\x1bc",
    "charset": "\x1b(0",
    "keypad": "\x1b=",
    "save cursor": "\x1b7",
    "lone esc": "\x1b",  # followed by "é" below: not a final byte, so it ends there
}

FORBIDDEN = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]


@pytest.mark.parametrize("name", SEQUENCES)
@pytest.mark.parametrize("clean", [clean_text, clean_multiline])
def test_every_escape_sequence_goes_whole(name: str, clean) -> None:
    assert clean(f"before{SEQUENCES[name]}été") == "beforeété"


@pytest.mark.parametrize("name", [n for n in SEQUENCES if n != "sgr"])
def test_clean_log_drops_every_escape_but_sgr(name: str) -> None:
    assert clean_log(f"before{SEQUENCES[name]}été") == "beforeété"


def test_clean_log_keeps_sgr_colours_only() -> None:
    log = "\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[m\x1b[2J\x1b]8;;http://x\x07link\x1b]8;;\x07"
    assert clean_log(log) == "\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[mlink"
    assert clean_text("\x1b[31mred\x1b[0m") == "red"
    assert clean_multiline("\x1b[31mred\x1b[0m") == "red"
    assert clean_multiline("\x1b[31mred\x1b[0m\x1b]0;t\x07", keep_sgr=True) == "\x1b[31mred\x1b[0m"


INTRODUCERS = {"\x90", "\x98", "\x9d", "\x9e", "\x9f"}  # string sequences: to their end


@pytest.mark.parametrize("char", FORBIDDEN + BIDI + ["\r", "\u2028", "\u2029"])
def test_controls_c1_and_bidi_go(char: str) -> None:
    cleaned = clean_text(f"a{char}é")
    # An introducer starts a sequence that runs to its end; a line break is a space.
    assert cleaned == ("a" if char in INTRODUCERS else "a é" if char in "\r\u2028\u2029"
                       else "aé")
    if char != "\r":  # a log keeps carriage returns (below)
        assert char not in clean_log(f"a{char}é") and char not in clean_multiline(f"a{char}é")


def test_newlines_tabs_and_carriage_returns() -> None:
    assert clean_text("one\ntwo\r\nthree\tfour") == "one two  three\tfour"
    assert clean_multiline("one\ntwo\r\nthree\tfour") == "one\ntwo\nthree\tfour"
    assert clean_log("10%\r50%\r100%\nnext") == "10%\r50%\r100%\nnext"  # progress meters
    assert clean_multiline("a\u2028b") == "a\nb"


@pytest.mark.parametrize("cut", [
    "\x1b", "\x1b[", "\x1b[3", "\x1b[38;5", "\x1b]", "\x1b]52;c;aGVs", "\x1b]0;half a title",
    "\x1bP", "\x1bPq#0;2", "\x9b", "\x9b12", "\x9d0;title", "\x1b]8;;https://evil.example/",
])
def test_cut_and_unterminated_sequences_go_to_their_end(cut: str) -> None:
    for clean in (clean_text, clean_multiline, clean_log):
        cleaned = clean("text " + cut)
        assert cleaned == "text ", (clean.__name__, cleaned)


def test_an_unterminated_string_sequence_ends_at_its_line() -> None:
    # A broken line of a log does not swallow the lines after it.
    assert clean_log("\x1b]0;broken\nline two\n") == "\nline two\n"
    assert clean_text("\x1b]0;broken\nline two") == " line two"


def test_nested_and_adjacent_sequences() -> None:
    assert clean_text("\x1b\x1b[2J\x1b]0;\x1b[31mx\x07y") == "xy"
    assert clean_text("\x1b[\x1b]0;t\x07z") == "z"
    assert clean_text("a\x1b\x00[2Jb") == "a[2Jb"  # no ESC is left to start a sequence


def test_text_that_is_already_clean_is_the_same_object() -> None:
    text = "feat: add the abort button (ünïcode, 日本語, emoji 🚀)"
    assert clean_text(text) is text
    assert clean_log(text) is text


def test_lone_surrogates_become_replacement_characters() -> None:
    cleaned = clean_text("a\ud800b")
    assert cleaned == "a\ufffdb"
    cleaned.encode("utf-8")  # writable to any UTF-8 terminal


def test_total_over_anything() -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert clean_text(Hostile()) == ""
    assert clean_text(42) == "42"
    assert clean_log(None) == "None"
    for junk in ("\x1b" * 10_000, "\x1b[" * 5000, "\x9b" * 5000, "\x1b]" + "x" * 100_000):
        assert "\x1b" not in clean_text(junk) and "\x9b" not in clean_text(junk)


# -- the model boundary and the errors -----------------------------------------------------

HOSTILE = "\x1b]52;c;aGVsbG8=\x07\x1b]0;t\x07\x1b[2J\x9b31m\u202e[/]x\ny"


def test_every_string_field_of_the_models_is_cleaned() -> None:
    run = RunDetail(
        source="s", provider="p", id=HOSTILE, status=RunStatus.FAILED,
        provider_status=HOSTILE, title=HOSTILE, branch=HOSTILE, commit=HOSTILE, author=HOSTILE,
        url=HOSTILE, content=HOSTILE,
        steps=[Step(id=HOSTILE, name=HOSTILE, order=0, status=RunStatus.FAILED,
                    provider_status=HOSTILE, message=HOSTILE)],
        groups=[{"id": HOSTILE, "platform": HOSTILE, "browser": HOSTILE}],
        specs=[Spec(spec=HOSTILE, group=HOSTILE, status=RunStatus.FAILED, instance_id=HOSTILE)],
    )
    values = [run.id, run.provider_status, run.title, run.branch, run.commit, run.author,
              run.url, run.steps[0].id, run.steps[0].name, run.steps[0].provider_status,
              run.steps[0].message, run.groups[0].id, run.groups[0].platform,
              run.groups[0].browser, run.specs[0].spec, run.specs[0].group,
              run.specs[0].instance_id]
    assert set(values) == {"[/]x y"}
    assert run.content == "[/]x\ny"
    assert run.summary().title == "[/]x y"
    result = TestResult(title=HOSTILE, status=RunStatus.FAILED,
                        error="\x1b[31mExpected\x1b[0m\x1b]8;;http://x\x07 got\x1b[2J\nat line")
    assert result.title == "[/]x y"
    assert result.error == "\x1b[31mExpected\x1b[0m got\nat line"
    assert Run.model_validate_json(run.summary().model_dump_json()).title == "[/]x y"


def test_error_messages_are_one_capped_clean_line() -> None:
    error = ApiError("wercker: " + HOSTILE * 100, status_code=500)
    assert error.message == str(error)
    assert len(error.message) == MESSAGE_MAX and error.message.endswith("…")
    assert error.message.isprintable()
    assert RunwatchError("short\nmessage").message == "short message"
    # Not from an API (a config error quoting a long path twice): bounded, but far longer.
    long_path = "/" + "d" * 400 + "/config.toml"
    local = RunwatchError(f"{long_path}: refused: run chmod go-w {long_path}")
    assert local.message.endswith(long_path)
    assert len(RunwatchError("x" * 10_000).message) == LOCAL_MESSAGE_MAX


# -- formatters are total ------------------------------------------------------------------

DURATIONS = [math.inf, -math.inf, math.nan, 1e300, 1e400, -5.0, 0.0, 3.5, 7322.0]
TIMES = [datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
         datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
         datetime(9999, 12, 31, 23, 59), None]


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Pacific/Kiritimati"])
def test_every_formatter_prints_something_for_anything(tz: str, monkeypatch) -> None:
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        for seconds in DURATIONS:
            for text in (formatting.format_duration(seconds), formatting.format_percent(seconds),
                         look.progress_bar(seconds), formatting.format_date_time(seconds),
                         formatting.format_clock(seconds), formatting.format_wall_clock(seconds),
                         look.spinner_frame(seconds), updated_ago(seconds),
                         formatting.relative_time(seconds, 1_795_348_800.0)):
                assert isinstance(text, str) and len(text) < 40, (seconds, text)
            assert seconds_until(seconds, 0.0) is None or seconds_until(seconds, 0.0) >= 0
        assert formatting.format_duration(math.inf) == "–" == formatting.format_duration(math.nan)
        assert formatting.format_duration(1e400) == "–"
        assert formatting.format_duration(7322.0) == "2h 02m"
        for when in TIMES:
            for text in (formatting.format_date_time(when), formatting.format_clock(when),
                         formatting.relative_time(when, 1_795_348_800.0)):
                assert isinstance(text, str) and text, (when, text)
        year_one = formatting.format_date_time(datetime(1, 1, 1, tzinfo=UTC))
        if tz == "America/New_York":
            assert year_one == "–"  # before year 1: no local time to show
        elif tz == "UTC":
            assert year_one.endswith("1-01-01 00:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_run_with_impossible_numbers_prints(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        run = RunDetail(source="s", provider="p", id="1", status=RunStatus.PASSED,
                        provider_status="ok", created_at=datetime(1, 1, 1, tzinfo=UTC),
                        duration_s=math.inf,
                        steps=[Step(id="a", name="a", order=0, status=RunStatus.PASSED,
                                    duration_s=math.nan)])
        text = output.detail_text(run, output.Style(False))
        assert "created   –" in text and "duration  –" in text
        assert output.runs_text([run.summary()], output.Style(True))
        assert output.watch_line(run, datetime(1, 1, 1, tzinfo=UTC), output.Style(False))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_who_canceled_a_run_and_why_are_cleaned_like_every_api_string() -> None:
    from runwatch.models import Cancellation

    note = Cancellation(by="ana\x1b]52;c;aGk=\x07\u202e", reason="\x9b2Jtoo slow\x1b[2J")
    assert (note.by, note.reason) == ("ana", "too slow")
