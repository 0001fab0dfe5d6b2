"""How a settings model becomes a command line, a trigger form and a fingerprint.

Every knob is one pydantic field (:func:`knob`): its type, default, bounds, title and one-line
help. A job parses its command line back into its model (:meth:`JobSettings.from_argv`); the DAG
builds its ``Param``s from the same fields (:func:`form_params`) and the operator turns the run's
params into the job's flags (:meth:`JobSettings.to_argv`). A value the model refuses is refused
with its field, the value and the bound, before Spark starts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

from movierec.core.errors import PipelineError

# Keys of a field's json_schema_extra that describe it to the project, not to JSON Schema.
FORM, LISTS = "x-form", "x-lists"
PRIVATE = (FORM, LISTS)


def knob(
    default: Any, *, title: str, help: str, form: bool | str = False, lists: bool = False, **constraints: Any
) -> Any:
    """One setting: its default, title, one-line help and bounds (``ge``, ``le``, ``gt``, ``pattern``...).

    Args:
        form: shown in the DAG's trigger form (a string: under that name instead of the field's).
        lists: the published lists depend on it, so ingest's fingerprint hashes it (a change recomputes).
    """
    return Field(default, title=title, description=help, json_schema_extra={FORM: form, LISTS: lists}, **constraints)


def _extra(info: FieldInfo, key: str) -> Any:
    extra = info.json_schema_extra
    return extra.get(key, False) if isinstance(extra, dict) else False


def form_name(name: str, info: FieldInfo) -> str | None:
    """The field's name in the trigger form, or None when it is not in the form."""
    form = _extra(info, FORM)
    return None if not form else (form if isinstance(form, str) else name)


def in_lists(info: FieldInfo) -> bool:
    return bool(_extra(info, LISTS))


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def refusal(kind: str, error: ValidationError) -> PipelineError:
    """One line per refused value: the field, the value and what it must be."""
    parts = []
    for err in error.errors(include_url=False):
        name = ".".join(str(part) for part in err["loc"]) or "(settings)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown setting {name!r}")
        else:
            value = repr(err.get("input"))
            parts.append(f"{name}={value[:80]}: {err['msg']}")
    return PipelineError(f"invalid {kind} settings: " + "; ".join(parts))


class Settings(BaseModel):
    """A frozen, validated group of knobs; unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    KIND: ClassVar[str] = "job"

    @classmethod
    def validated(cls, values: Mapping[str, Any]) -> Self:
        """The model of ``values``, or a :class:`PipelineError` naming each refused field, value and bound."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            raise refusal(cls.KIND, exc) from None

    @classmethod
    def default(cls, name: str) -> Any:
        """A field's default (for code that needs one value without building the model)."""
        return cls.model_fields[name].default

    @classmethod
    def form_fields(cls) -> dict[str, str]:
        """{form name: field name} of the fields shown in the trigger form."""
        found = {}
        for name, info in cls.model_fields.items():
            shown = form_name(name, info)
            if shown:
                found[shown] = name
        return found

    @classmethod
    def from_params(cls, params: Mapping[str, Any], **values: Any) -> Self:
        """The model from a DAG run's params (its form fields) and ``values`` (the run's date, warehouse...)."""
        picked = {name: params[shown] for shown, name in cls.form_fields().items() if shown in params}
        return cls.validated({**picked, **values})


class JobSettings(Settings):
    """The settings every job takes: the run's date and the warehouse; subclasses add the job's knobs."""

    ds: str = Field(description="the run's date, YYYY-MM-DD")
    warehouse: str = Field(
        min_length=1, description="warehouse root URI, e.g. file:///data/wh or hdfs://namenode:8020/wh"
    )
    max_future_days: int = knob(
        2, ge=0, title="Future dates allowed", help="refuse run dates more than this many days after today (UTC)"
    )

    @field_validator("ds")
    @classmethod
    def _is_a_date(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
        if len(value) != 10:
            raise ValueError("must be a date YYYY-MM-DD")
        return value

    @classmethod
    def parser(cls, description: str) -> argparse.ArgumentParser:
        """The job's command line: one flag per field, each with its help and default."""
        parser = argparse.ArgumentParser(description=description)
        for name, info in cls.model_fields.items():
            help_text = info.description or ""
            if info.title:
                help_text = f"{info.title}: {help_text}"
            if not info.is_required():
                help_text += f" (default: {_show(info.default)})"
            if in_lists(info):
                help_text += " [fingerprinted]"
            kwargs: dict[str, Any] = {"help": help_text, "default": argparse.SUPPRESS, "dest": name}
            if info.annotation is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            elif _is_model(info.annotation):
                kwargs["type"] = _json_object
                kwargs["metavar"] = "JSON"
            elif _is_tuple(info.annotation):
                kwargs["action"] = "append"
            if info.is_required():
                kwargs["required"] = True
            parser.add_argument(flag(name), **kwargs)
        return parser

    @classmethod
    def from_argv(cls, argv: Sequence[str] | None, description: str = "") -> Self:
        """Parse a command line into the model (argparse exits 2 on an unknown flag)."""
        args = cls.parser(description or cls.__doc__ or "").parse_args(argv)
        return cls.validated(vars(args))

    def to_argv(self, names: Collection[str] | None = None) -> list[str]:
        """The command line that :meth:`from_argv` parses back into this model (only ``names``, when given)."""
        argv: list[str] = []
        for name, info in type(self).model_fields.items():
            if names is not None and name not in names:
                continue
            value = getattr(self, name)
            if info.annotation is bool:
                argv.append(flag(name) if value else "--no-" + flag(name)[2:])
            elif isinstance(value, BaseModel):
                argv += [flag(name), value.model_dump_json()]
            elif isinstance(value, tuple):
                for item in value:
                    argv += [flag(name), str(item)]
            elif value is not None:
                argv += [flag(name), str(value)]
        return argv


def _show(value: Any) -> str:
    return value.model_dump_json() if isinstance(value, BaseModel) else repr(value)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_tuple(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is tuple


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text[:80]!r}")
    return value


def form_params(*models: type[Settings]) -> dict[str, dict[str, Any]]:
    """{form name: JSON Schema of the field, with its default} for the trigger form, in the models' order."""
    found: dict[str, dict[str, Any]] = {}
    for model in models:
        properties = model.model_json_schema()["properties"]
        for shown, name in model.form_fields().items():
            schema = {k: v for k, v in properties[name].items() if k not in PRIVATE}
            if "anyOf" in schema:  # str | None: the form's nullable string, constraints on the string
                options = schema.pop("anyOf")
                types = [option["type"] for option in options]
                for option in options:
                    schema.update({k: v for k, v in option.items() if k != "type"})
                schema["type"] = sorted(types, key=lambda t: t != "null")
            found[shown] = schema
    return found
