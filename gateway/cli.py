"""``switchboard``: serve, check a configuration, list the dialects."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pluggy
import structlog

from gateway.app import DIALECTS
from gateway.cluster.workers import REUSE_PORT_FLAG, run_workers
from gateway.config import (
    Config,
    ConfigError,
    DialectModel,
    Overrides,
    disabled_dialects,
    load_raw,
    validate,
)
from gateway.logging import configure_logging
from gateway.plugins import PluginError, discover, import_plugin, make_plugin_manager
from gateway.server import Gateway, ListenError, serve

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_BAD_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="A WebRTC gateway that speaks several signalling dialects at once.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="FILE", help="TOML configuration (default: the embedded default)"
    )
    common.add_argument(
        "--disable",
        metavar="DIALECT",
        action="append",
        default=[],
        help="do not load this dialect (repeatable)",
    )
    common.add_argument(
        "--plugin",
        metavar="MODULE:OBJECT",
        action="append",
        default=[],
        help="also register this plugin object (repeatable), besides the installed dialects",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("serve", parents=[common], help="run the gateway")
    run.add_argument(
        "--listen",
        metavar="HOST:PORT",
        action="append",
        default=[],
        help="listen here instead of the configured listeners (repeatable)",
    )
    run.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=1,
        help="run N gateway processes sharing the listeners, one cluster node each "
        "(needs [cluster] redis_url)",
    )
    run.add_argument(REUSE_PORT_FLAG, action="store_true", help=argparse.SUPPRESS)
    run.add_argument("--log-format", choices=["console", "json"])
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error", "critical"])
    sub.add_parser(
        "check-config", parents=[common], help="validate the configuration and report every error"
    )
    sub.add_parser("dialects", parents=[common], help="list the loaded dialects and their routes")
    return parser


@dataclass
class Loaded:
    config: Config
    plugin_manager: pluggy.PluginManager


def load(args: argparse.Namespace) -> Loaded:
    """Read and validate the configuration and load the dialects it enables."""
    overrides = Overrides(
        listen=getattr(args, "listen", ()),
        log_format=getattr(args, "log_format", None),
        log_level=getattr(args, "log_level", None),
    )
    raw = load_raw(args.config, overrides=overrides)
    disabled = disabled_dialects(raw, args.disable)
    try:
        extra = [import_plugin(spec) for spec in args.plugin]
        pm = make_plugin_manager(disabled=disabled, extra_plugins=extra)
        plugins = discover(pm)
    except (PluginError, pluggy.PluginValidationError) as exc:
        raise ConfigError(raw.source, [f"plugins: {exc}"]) from exc
    config = validate(raw, [DialectModel(p.name, p.model) for p in plugins], disabled=disabled)
    return Loaded(config, pm)


def _check_config(loaded: Loaded) -> int:
    config = loaded.config
    names = ", ".join(sorted(config.dialects)) or "none"
    print(f"{config.source}: configuration OK")
    for listener in config.settings.listeners:
        print(f"  listener {listener.url()}")
    print(f"  dialects: {names}")
    return EXIT_OK


async def _list_dialects(loaded: Loaded) -> None:
    # Routes exist once a dialect runs, so start the application without listening.
    gateway = Gateway(loaded.config, loaded.plugin_manager)
    await gateway.runner.setup()
    try:
        dialects = gateway.app[DIALECTS]
        if not dialects:
            print("no dialect loaded")
        for d in dialects:
            print(f"{d.plugin.name}  {d.plugin.title}")
            for route in d.routes:
                print(f"    {route.method:<7} {route.path}")
    finally:
        await gateway.stop()


def _configure_logging(config: Config) -> None:
    log = config.settings.log
    configure_logging(format=log.format, level=log.level, loggers=log.loggers)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    failure = EXIT_BAD_CONFIG if args.command == "serve" else EXIT_INVALID
    try:
        loaded = load(args)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return failure

    if args.command == "check-config":
        return _check_config(loaded)
    if args.command == "dialects":
        configure_logging(level="warning")
        asyncio.run(_list_dialects(loaded))
        return EXIT_OK

    _configure_logging(loaded.config)
    if args.workers > 1:
        if not loaded.config.settings.cluster.enabled:
            print("--workers needs a cluster: set [cluster] redis_url and secret", file=sys.stderr)
            return EXIT_BAD_CONFIG
        given = list(sys.argv[1:] if argv is None else argv)
        settings = loaded.config.settings
        return run_workers(
            given, args.workers, settings.gateway.node_id, settings.storage.state_dir
        )
    try:
        asyncio.run(serve(loaded.config, loaded.plugin_manager, reuse_port=args.reuse_port))
    except ListenError as exc:
        structlog.stdlib.get_logger("gateway").error("listen_failed", error=str(exc))
        return EXIT_INVALID
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 130
    return EXIT_OK
