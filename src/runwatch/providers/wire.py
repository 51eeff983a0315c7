"""What every provider does with a parsed JSON body: validate it against a wire model, and
say which source, path and field were wrong when it does not fit."""

from datetime import datetime
from typing import Annotated, Any, TypeVar, overload

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from runwatch.errors import BadResponse
from runwatch.models import utc

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# Built at first validation, not at import (pydantic's defer_build): a model only a run's
# detail reads (steps, specs, checks, log lines) costs nothing to a start that never opens
# one, and a list model's schema is built once, inside the first body's, not once for each
# model it nests as well (callgrind, `list --json`: -10M instructions, and -97M at import).
LAZY = ConfigDict(defer_build=True)


class WireModel(BaseModel):
    """A body as an API sends it: fields it adds later are kept, never an error."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class CamelWireModel(WireModel):
    """A wire model whose snake_case fields read the API's camelCase keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


_DATETIME = TypeAdapter(datetime, config=LAZY)


def lenient_time(value: object) -> datetime | None:
    """A timestamp, or None where it does not parse (the docs literally show
    "2025-12-08T...") or cannot be put in UTC: one bad timestamp costs that field, not the
    whole body."""
    if value is None:
        return None
    try:
        parsed = _DATETIME.validate_python(value)
    except ValidationError:
        return None
    # Year 9999 at a negative offset is year 10000 in UTC: not a time Python can hold.
    return parsed if utc(parsed) is not None else None


LenientTimestamp = Annotated[datetime | None, BeforeValidator(lenient_time)]


@overload
def validate(schema: type[M], data: Any) -> M: ...
@overload
def validate(schema: TypeAdapter[T], data: Any) -> T: ...
def validate(schema: type[BaseModel] | TypeAdapter[Any], data: Any) -> Any:
    """`data` as the model's (or the adapter's) type; raises pydantic's ValidationError."""
    if isinstance(schema, TypeAdapter):
        return schema.validate_python(data)
    return schema.model_validate(data)


def first_problem(exc: ValidationError) -> str:
    """`<loc>: <msg>` of the first error; a wrong top-level value is `body`."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


@overload
def parse(schema: type[M], data: Any, *, source: str, path: str) -> M: ...
@overload
def parse(schema: TypeAdapter[T], data: Any, *, source: str, path: str) -> T: ...
def parse(schema: type[BaseModel] | TypeAdapter[Any], data: Any, *, source: str, path: str) -> Any:
    """Validate a parsed JSON body; a wrong shape is a BadResponse naming source and path,
    and a pydantic error never leaks out."""
    try:
        return validate(schema, data)
    except ValidationError as exc:
        raise bad_body(source, path, first_problem(exc)) from None


def bad_body(source: str, path: str, problem: str) -> BadResponse:
    """The one message for a body that does not fit, whoever found the problem:
    `source: path returned an unexpected shape (problem)`."""
    return BadResponse(f"{source}: {path} returned an unexpected shape ({problem})")
