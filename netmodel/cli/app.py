"""The typer application every command module registers on, and the table of commands.

A command's module is imported only when that command runs (or its own ``--help`` is asked for): importing all
of them cost every run, ``netmodel check`` in a CI gate among them, the emulator's, the firewall importer's and
the other commands' imports. The top-level ``--help`` lists each command's summary from :data:`COMMANDS`, so it
imports none of them.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Command:
    """A command: the module that registers it on :data:`app`, and its help (the command's ``--help`` shows it
    all; the top-level ``--help`` its first paragraph)."""

    module: str
    help: str


# Order = order in ``netmodel --help``. Each help is written as a docstring would be (typer cleans it alike).
COMMANDS: dict[str, Command] = {
    "check": Command(
        "netmodel.cli.check",
        """Check the Kubernetes network model (loopback, pod-to-pod, pod-to-service, external-to-service) and the
        control-plane/worker port matrix.

        Exit codes: 0 no finding at or above --fail-on, 1 some finding is, 2 input or usage error.
        """),
    "query": Command(
        "netmodel.cli.query",
        """Trace FROM → TO on PORT through policies, firewalls, Services and NAT; say what blocks it.

        Exit codes (like `kubectl auth can-i`): 0 allowed, 1 denied or partial (a reference standing for many
        addresses with some allowed and some not), 2 input or usage error.
        """),
    "matrix": Command(
        "netmodel.cli.matrix",
        """List every allowed connection (NetworkPolicy, listening ports, node firewalls, NodePorts), with
        outside networks as sources and destinations: by default as a few grouped rules that expand exactly to
        them, with --by pod|workload|namespace pair by pair. "partial" marks connections only some members get.
        """),
    "diff": Command(
        "netmodel.cli.diff",
        """Compare two layouts: findings introduced and fixed, port-matrix cells that change (with the rule that
        decides them now), and flows (workload, outside network, protocol, ports) opened and closed.

        Exit codes: 0 nothing got worse, 1 the change introduces a finding at --fail-on, a new exposure or an
        opened flow that is not accepted (--allow-opened, or Expectations in NEW asserting it allowed),
        2 input or usage error.
        """),
    "diagram": Command(
        "netmodel.cli.diagram",
        """Draw a diagram. [bold]topology[/bold]: outside networks, nodes by role, Pods folded into one box per
        workload, Services and Ingresses; edges coloured allowed / blocked / exposed; findings marked on the
        objects at fault. [bold]ports[/bold]: the port matrix heat map. [bold]matrix[/bold]: who may connect to
        whom (workloads or namespaces).
        """),
    "report": Command(
        "netmodel.cli.report",
        """Write report.md, report.html (self-contained), check.json, matrix.json, check.sarif, check.junit.xml
        and the diagrams (topology.png, port-matrix.png, connectivity-by-workload.png) into a folder.

        Always exits 0 when the input is valid: the verdict is in the reports (use `netmodel check` to gate).
        """),
    "emulate": Command(
        "netmodel.cli.emulate",
        """Replay the topology in Linux network namespaces and check every verdict with real packets.

        Needs Linux and root. Exit codes: 0 solver and kernel agree on every flow, 1 they disagree on some,
        2 input, usage or environment error (not root, a CNI mode the kernel cannot build).
        """),
    "import": Command(
        "netmodel.cli.import_rules",
        """Write the netmodel Firewall equivalent to a cloud firewall export to stdout, each rule with the line it
        came from and the assumptions the export needs at the top (docs/input.md, "Cloud firewalls").

        Exit codes: 0 written, 2 unreadable export or usage error (located).
        """),
}


class _Commands(MutableMapping[str, Any]):
    """The group's commands by name: every name of :data:`COMMANDS` is in it from the start (so click's "Did you
    mean" suggestions and its usage errors see them all), a command's module is imported when the command is
    first looked up."""

    def __init__(self, built: Mapping[str, Any]) -> None:
        self._built = dict(built)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            importlib.import_module(COMMANDS[name].module)  # its decorator registers the command on ``app``
            info = next(info for info in app.registered_commands if info.name == name)
            # As typer builds each command of a group (typer.main.get_group_from_info).
            self._built[name] = typer.main.get_command_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(name not in COMMANDS for name in self._built)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._built


class CommandGroup(TyperGroup):
    """netmodel's command group: a command's module is imported when that command is looked up, and the
    command list of the top-level help is drawn from :data:`COMMANDS` without importing any."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command's name, without importing any command's module."""
        return list(self.commands)  # the names only: TyperGroup's would look every command up

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The top-level help, its command list drawn from :data:`COMMANDS`."""
        # The command list shows each command's name and the first paragraph of its help, which is all a
        # TyperCommand made of the name and help (no parameters, no callback) has; typer renders it alike.
        listing = copy.copy(self)
        listing.commands = {name: TyperCommand(name=name, help=inspect.cleandoc(COMMANDS[name].help),
                                               rich_markup_mode=self.rich_markup_mode)
                            if name in COMMANDS else self.commands[name] for name in self.commands}
        TyperGroup.format_help(listing, ctx, formatter)


def command(name: str) -> Any:
    """The decorator that registers the function of command ``name`` on :data:`app`, with its help from
    :data:`COMMANDS`."""
    return app.command(name, help=COMMANDS[name].help)


app = typer.Typer(
    name="netmodel",
    help="Kubernetes cluster network model and port-reachability analyzer.\n\n"
    "Reads Kubernetes-style YAML/JSON (files, folders, or - for stdin) and checks the Kubernetes network "
    "model, the control-plane/worker port matrix, and any reachability question you ask.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    cls=CommandGroup,
)
