"""The `[history]` and `[notify]` tables of the config (DESIGN sections 13 and 14).

`[notify]` is what reaches a person away from the screen (desktop notifications, the bell, a
command, a webhook); `[runwatch] notify` is only what a failure does on the screen itself.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Transition = Literal["failed", "timed_out", "canceled", "fixed", "slower"]
TRANSITIONS: tuple[Transition, ...] = ("failed", "timed_out", "canceled", "fixed", "slower")
DEFAULT_ON: tuple[Transition, ...] = ("failed", "timed_out", "fixed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


class HistoryConfig(_Strict):
    enabled: bool = True
    keep_days: float = Field(default=90.0, gt=0)


class ChannelRule(_Strict):
    """A channel's own rule, overriding the table's (`[notify.webhook_rule]` etc.)."""

    on: list[Transition] | None = None
    sources: list[str] | None = None
    pipelines: list[str] | None = None
    branches: list[str] | None = None


class NotifyConfig(_Strict):
    on: list[Transition] = Field(default_factory=lambda: list(DEFAULT_ON))
    # Globs (fnmatch): a run alerts only when its source, pipeline and branch each match one.
    sources: list[str] = Field(default_factory=lambda: ["*"])
    pipelines: list[str] = Field(default_factory=lambda: ["*"])
    branches: list[str] = Field(default_factory=lambda: ["*"])
    quiet: float = Field(default=10.0, ge=0)  # minutes between two alerts of one track
    desktop: bool = True  # OSC 9 and OSC 777
    bell: bool = False
    command: list[str] | None = None
    command_timeout: float = Field(default=10.0, gt=0)
    webhook: str | None = None
    webhook_timeout: float = Field(default=10.0, gt=0)
    # Per-channel rules: keys desktop, bell, command, webhook.
    rules: dict[Literal["desktop", "bell", "command", "webhook"], ChannelRule] = Field(
        default_factory=dict
    )

    @field_validator("command")
    @classmethod
    def _argv(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("needs the program to run, e.g. [\"notify-send\", \"runwatch\"]")
        return value

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("needs http:// or https://")
        return value
