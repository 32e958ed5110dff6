"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="netmodel",
    help="Kubernetes cluster network model and port-reachability analyzer.\n\n"
    "Reads Kubernetes-style YAML/JSON (files, folders, or - for stdin) and checks the Kubernetes network "
    "model, the control-plane/worker port matrix, and any reachability question you ask.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
