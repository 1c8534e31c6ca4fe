"""The gateway's configuration: a TOML file, overridden by environment variables, overridden by
command-line flags, validated in one pass that reports every error with its dotted key.

Loading happens in two steps because dialect sections are validated by models the dialects
declare, and which dialects are loaded depends on the configuration itself:

1. :func:`load_raw` merges the file (or the embedded ``default.toml``), the
   ``SWITCHBOARD__SECTION__KEY`` variables and the flags into one plain dict;
   :func:`disabled_dialects` reads from it which dialects must not be loaded.
2. :func:`validate` checks the gateway's own sections with :class:`Settings` and each
   ``[dialects.<name>]`` section with the model of the dialect of that name.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.cluster.settings import ClusterSettings

ENV_PREFIX = "SWITCHBOARD__"
DEFAULT_SOURCE = "<default>"
DEFAULT_PORTS = (5080, 8080, 8081)
MIB = 1024 * 1024

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListenerSettings(_Section):
    """One ``[[listeners]]`` entry: an address the whole route table is served on."""

    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=0, le=65535)]
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @field_validator("tls_cert", "tls_key", mode="after")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        base = (info.context or {}).get("base_dir")
        path = value if value.is_absolute() or base is None else Path(base) / value
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @model_validator(mode="after")
    def _tls_pair(self) -> ListenerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


def _default_listeners() -> list[ListenerSettings]:
    return [ListenerSettings(port=port) for port in DEFAULT_PORTS]


def _quiet_loggers() -> dict[str, LogLevel]:
    return {"aioice": "warning", "aiortc": "warning"}


class LogSettings(_Section):
    """``[log]``: how the process logs."""

    format: Literal["console", "json"] = "console"
    level: LogLevel = "info"
    access_log: bool = True
    loggers: dict[str, LogLevel] = Field(default_factory=_quiet_loggers)

    @field_validator("format", "level", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return _lower(value)

    @field_validator("loggers", mode="before")
    @classmethod
    def _lower_levels(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return {k: _lower(v) for k, v in value.items()}
        return value


class IceServerSettings(_Section):
    """One ``[[media.ice_servers]]`` entry (STUN or TURN)."""

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None

    @field_validator("urls", mode="before")
    @classmethod
    def _one_url(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class MediaSettings(_Section):
    """``[media]``: the RTP plane. No ICE server by default: nothing reaches the internet."""

    ice_servers: list[IceServerSettings] = Field(default_factory=list)
    host_addresses: list[str] = Field(default_factory=list)
    publisher_silence_timeout: Annotated[float, Field(ge=0)] = 1.5


class LimitsSettings(_Section):
    """``[limits]``: caps on what clients may open; 0 means no limit."""

    max_sessions: Annotated[int, Field(ge=0)] = 0
    max_streams: Annotated[int, Field(ge=0)] = 0
    max_subscribers_per_stream: Annotated[int, Field(ge=0)] = 0
    max_message_bytes: Annotated[int, Field(gt=0)] = MIB
    max_connections_per_ip: Annotated[int, Field(ge=0)] = 0
    messages_per_second: Annotated[float, Field(ge=0)] = 100.0
    message_burst: Annotated[int, Field(ge=0)] = 200


class NodeSettings(_Section):
    """``[gateway]``: this process as a node."""

    node_id: str = Field(default_factory=lambda: secrets.token_hex(6), min_length=1)
    public_host: str | None = None
    shutdown_timeout: Annotated[float, Field(gt=0)] = 10.0


class StorageSettings(_Section):
    """``[storage]``: where the gateway keeps what must survive a restart."""

    state_dir: str = "var/state"
    webhook_secret: str | None = None


class MetricsSettings(_Section):
    """``[metrics]``: the Prometheus endpoint."""

    enabled: bool = True
    path: str = "/metrics"

    @field_validator("path", mode="after")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or value == "/":
            raise ValueError("must be an absolute path other than /")
        return value


class AdminSettings(_Section):
    """``[admin]``: the REST admin API, the dashboard and the example pages."""

    enabled: bool = True
    #: Bearer token of ``/api/v1``; without one the API answers loopback clients only.
    token: str | None = Field(default=None, min_length=16)
    #: Where recordings started from the API are delivered.
    recordings_dir: str = "var/recordings"
    dashboard: bool = True
    examples: bool = True


class Settings(_Section):
    """The whole file. ``dialects`` holds the raw dialect sections; each is validated by the
    model its dialect declares (see :func:`validate`)."""

    listeners: list[ListenerSettings] = Field(default_factory=_default_listeners, min_length=1)
    log: LogSettings = Field(default_factory=LogSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    gateway: NodeSettings = Field(default_factory=NodeSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    dialects: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class DialectModel:
    """What the config needs to know of a loaded dialect: its section name and model."""

    name: str
    model: type[BaseModel]


@dataclass(frozen=True)
class Config:
    """A validated configuration: the gateway's sections and each enabled dialect's own."""

    settings: Settings
    dialects: Mapping[str, BaseModel] = field(default_factory=dict)
    source: str = DEFAULT_SOURCE


class ConfigError(Exception):
    """The configuration is invalid; ``errors`` holds one ``dotted.key: message`` per fault."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors = list(errors)
        super().__init__(self.report())

    def report(self) -> str:
        n = len(self.errors)
        lines = [f"{self.source}: {n} configuration error{'s' if n != 1 else ''}"]
        lines += [f"  {e}" for e in self.errors]
        return "\n".join(lines)


@dataclass(frozen=True)
class Overrides:
    """Command-line flags that override the file and the environment."""

    listen: Sequence[str] = ()
    log_format: str | None = None
    log_level: str | None = None


@dataclass
class RawConfig:
    """The merged, not yet validated configuration."""

    data: dict[str, Any]
    source: str = DEFAULT_SOURCE
    base_dir: Path | None = None
    errors: list[str] = field(default_factory=list)


def default_text() -> str:
    """The embedded default configuration (``gateway/default.toml``)."""
    return resources.files("gateway").joinpath("default.toml").read_text(encoding="utf-8")


def load_raw(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> RawConfig:
    """Read the file (or the embedded default), then apply the environment and the flags.

    Raises :class:`ConfigError` when the file cannot be read or parsed; faults in the
    environment or the flags are kept in ``errors`` and reported with the validation.
    """
    if path is None:
        source, text, base_dir = DEFAULT_SOURCE, default_text(), None
    else:
        p = Path(path)
        source, base_dir = str(p), p.resolve().parent
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(source, [f"cannot read: {exc.strerror or exc}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"invalid TOML: {exc}"]) from exc
    raw = RawConfig(data=data, source=source, base_dir=base_dir)
    apply_environment(raw, os.environ if environ is None else environ)
    if overrides is not None:
        apply_overrides(raw, overrides)
    return raw


def parse_env_value(text: str) -> Any:
    """An environment value as a TOML scalar or array when it parses as one, else the text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_environment(raw: RawConfig, environ: Mapping[str, str]) -> None:
    """Apply every ``SWITCHBOARD__A__B__C=value`` to ``raw.data['a']['b']['c']``.

    Keys are lowercased; a numeric part indexes a list (one past the end appends).
    """
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            raw.errors.append(f"{name}: empty key part")
            continue
        try:
            _set_path(raw.data, parts, parse_env_value(environ[name]))
        except (KeyError, IndexError, TypeError) as exc:
            raw.errors.append(f"{name}: {exc.args[0] if exc.args else exc}")


def _set_path(node: Any, parts: Sequence[str], value: Any) -> None:
    *parents, last = parts
    for i, part in enumerate(parents):
        nxt = parts[i + 1]
        node = _child(node, part, default=[] if nxt.isdigit() else {})
    if isinstance(node, list):
        index = _index(node, last)
        if index == len(node):
            node.append(value)
        else:
            node[index] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise TypeError(f"cannot set {last!r} inside a {type(node).__name__}")


def _child(node: Any, part: str, default: Any) -> Any:
    if isinstance(node, dict):
        return node.setdefault(part, default)
    if isinstance(node, list):
        index = _index(node, part)
        if index == len(node):
            node.append(default)
        return node[index]
    raise TypeError(f"cannot set {part!r} inside a {type(node).__name__}")


def _index(node: list[Any], part: str) -> int:
    if not part.isdigit():
        raise KeyError(f"{part!r} is not a list index")
    index = int(part)
    if index > len(node):
        raise IndexError(f"index {index} is past the end of a list of {len(node)}")
    return index


def parse_listen(text: str) -> dict[str, Any]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (all interfaces) as a listener table."""
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ValueError(f"--listen {text!r}: expected HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return {"host": host, "port": port}


def apply_overrides(raw: RawConfig, overrides: Overrides) -> None:
    """Apply the command-line flags: ``--listen`` replaces every listener."""
    if overrides.listen:
        listeners = []
        for text in overrides.listen:
            try:
                listeners.append(parse_listen(text))
            except ValueError as exc:
                raw.errors.append(str(exc))
        raw.data["listeners"] = listeners
    log = raw.data.setdefault("log", {})
    if not isinstance(log, dict):
        return
    if overrides.log_format is not None:
        log["format"] = overrides.log_format
    if overrides.log_level is not None:
        log["level"] = overrides.log_level


def disabled_dialects(raw: RawConfig, disable: Iterable[str] = ()) -> frozenset[str]:
    """Dialects not to load: those named by ``--disable`` and those whose section says
    ``enabled = false``."""
    names = {n.lower() for n in disable}
    sections = raw.data.get("dialects")
    if isinstance(sections, dict):
        for name, section in sections.items():
            if isinstance(section, dict) and section.get("enabled") is False:
                names.add(name)
    return frozenset(names)


def _dotted(loc: Iterable[int | str], prefix: Sequence[str] = ()) -> str:
    return ".".join([*prefix, *(str(part) for part in loc)]) or "(root)"


def _errors(exc: ValidationError, prefix: Sequence[str] = ()) -> list[str]:
    return [f"{_dotted(e['loc'], prefix)}: {e['msg']}" for e in exc.errors()]


def section_model(model: type[BaseModel]) -> type[BaseModel]:
    """The dialect's model, made to refuse unknown keys and to accept ``enabled``."""
    namespace: dict[str, Any] = {"__module__": model.__module__, "__annotations__": {}}
    if model.model_config.get("extra") is None:
        namespace["model_config"] = ConfigDict(extra="forbid")
    if "enabled" not in model.model_fields:
        namespace["__annotations__"]["enabled"] = bool
        namespace["enabled"] = True
    return type(model.__name__, (model,), namespace)


def validate(
    raw: RawConfig,
    dialects: Sequence[DialectModel] = (),
    *,
    disabled: Iterable[str] = (),
) -> Config:
    """Validate everything at once; raise :class:`ConfigError` listing every fault.

    ``dialects`` are the loaded dialects; a section for a dialect in ``disabled`` is accepted
    unread, and a section for a dialect that is neither is an error.
    """
    errors = list(raw.errors)
    context = {"base_dir": raw.base_dir}
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(raw.data, context=context)
    except ValidationError as exc:
        errors += _errors(exc)

    sections = raw.data.get("dialects", {})
    if not isinstance(sections, dict):
        sections = {}  # already reported by Settings
    loaded = {d.name: d for d in dialects}
    skipped = set(disabled)
    validated: dict[str, BaseModel] = {}
    for name in sections:
        if name not in loaded and name not in skipped:
            known = ", ".join(sorted(loaded)) or "none"
            errors.append(f"dialects.{name}: unknown dialect (loaded: {known})")
    for name, dialect in sorted(loaded.items()):
        section = sections.get(name, {})
        if not isinstance(section, dict):
            continue  # already reported by Settings
        try:
            validated[name] = section_model(dialect.model).model_validate(section, context=context)
        except ValidationError as exc:
            errors += _errors(exc, ("dialects", name))

    if errors or settings is None:
        raise ConfigError(raw.source, errors)
    return Config(settings=settings, dialects=validated, source=raw.source)
