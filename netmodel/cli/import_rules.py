"""``netmodel import FORMAT FILE``: a firewall in a native format, written as netmodel ``Firewall`` YAML."""

from __future__ import annotations

import os
import sys

import typer

from netmodel.cli.app import command
from netmodel.errors import LoadError, Problem, UsageError
from netmodel.load.files import MAX_INPUT_BYTES, decode
from netmodel.model.cloud_formats import CLOUD_FORMATS, import_cloud
from netmodel.model.fwimport import FORMATS as HOST_FORMATS
from netmodel.model.fwimport import MAX_IMPORT_BYTES, import_text
from netmodel.model.fwimport.render import firewall_yaml as host_firewall_yaml
from netmodel.model.names import DNS1123_SUBDOMAIN
from netmodel.model.read_cloud import CloudFirewall, rule_name
from netmodel.report.firewall_yaml import firewall_yaml

# Cloud exports (model/read_aws_sg.py, read_gcp_firewall.py) and host firewall files (model/fwimport: the
# formats a Firewall's `spec.import` reads too).
IMPORT_FORMATS = (*CLOUD_FORMATS, *HOST_FORMATS)


def _listed(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _read(path: str) -> str:
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as err:
        raise UsageError([Problem(f"cannot read {path!r}: {err.strerror}", hint="check the path")]) from err
    if len(raw) > MAX_INPUT_BYTES:
        raise LoadError([Problem(f"{path} is larger than {MAX_INPUT_BYTES >> 20} MiB", hint="split the export")])
    return decode(raw, path)


@command("import")
def import_command(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="aws-sg (aws ec2 describe-security-groups JSON), "
                              "gcp-firewall (gcloud compute firewall-rules list --format=json), iptables-save, "
                              "ip6tables-save (their output) or nftables (nft -j list ruleset JSON)."),
    path: str = typer.Argument(..., metavar="FILE", help="The export to read."),
    groups: str = typer.Option("", "--groups", help="aws-sg: the security groups the nodes carry (GroupId or "
                               "GroupName, comma-separated); required when the export holds several."),
    tags: str = typer.Option("", "--tags", help="gcp-firewall: the nodes' network tags, comma-separated."),
    accounts: str = typer.Option("", "--service-accounts", help="gcp-firewall: the nodes' service accounts."),
    network: str = typer.Option("", "--network", help="gcp-firewall: the nodes' VPC network (required when the "
                                "export holds rules of several)."),
    name: str = typer.Option("", "--name", help="metadata.name of the Firewall written (default: from the "
                             "groups or the format)."),
) -> None:
    """`netmodel import`: its help text is COMMANDS["import"] in netmodel/cli/app.py (typer shows that, not this)."""
    if fmt not in IMPORT_FORMATS:
        raise UsageError([Problem(f"unknown import format {fmt!r}", hint=f"use one of: {', '.join(IMPORT_FORMATS)}")])
    if fmt in HOST_FORMATS:
        _host_import(fmt, path, name)
        return
    text = _read(path)
    imported: CloudFirewall
    if fmt == "aws-sg":
        if tags or accounts or network:
            raise UsageError([Problem("--tags, --service-accounts and --network are for gcp-firewall",
                                      hint="name security groups with --groups")])
        imported = import_cloud(fmt, text, path, groups=_listed(groups))
        what = ("AWS security groups " + ", ".join(m.split(":", 1)[1] for m in imported.members)
                + " as one Firewall: the union of their allow rules, the rest denied; stateful")
        default_name = rule_name("-".join(_listed(groups)) or "aws-security-groups")
    else:
        if groups:
            raise UsageError([Problem("--groups is for aws-sg", hint="name network tags with --tags")])
        imported = import_cloud(fmt, text, path, tags=_listed(tags), accounts=_listed(accounts), network=network)
        carried = ", ".join(imported.members) or "no tag and no service account"
        what = (f"GCP VPC firewall rules for nodes carrying {carried}: by priority, deny first at equal priority, "
                "then the implied rules (ingress deny, egress allow); stateful")
        default_name = rule_name("-".join(_listed(tags)) or "gcp-firewall")
    if imported.problems:
        raise LoadError(list(imported.problems))
    firewall = name or default_name
    if not DNS1123_SUBDOMAIN.test(firewall):
        raise UsageError([Problem(f"--name {firewall!r} is not a valid Firewall name", hint=DNS1123_SUBDOMAIN.fix)])
    command = " ".join(["netmodel import", fmt, path] + [f"{o} {v}" for o, v in (
        ("--groups", groups), ("--tags", tags), ("--service-accounts", accounts), ("--network", network)) if v])
    sys.stdout.write(firewall_yaml(firewall, imported, command, what))
    if imported.assumptions:
        print(f"{len(imported.assumptions)} assumption(s), listed at the top of the output", file=sys.stderr)


def _host_import(fmt: str, path: str, name: str) -> None:
    """A host firewall file (iptables-save, ip6tables-save, nftables JSON) as Firewall YAML: one per layer, each
    rule with the file and line it came from (docs/input.md, "Imported firewall rules")."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_IMPORT_BYTES + 1)
    except OSError as err:
        raise UsageError([Problem(f"cannot read {path!r}: {err.strerror}", hint="check the path")]) from err
    if len(raw) > MAX_IMPORT_BYTES:
        raise LoadError([Problem(f"{path} is larger than {MAX_IMPORT_BYTES >> 20} MiB, netmodel's limit for an "
                                 "imported ruleset", hint="split the ruleset")])
    firewall = name or rule_name(os.path.basename(path).split(".")[0], "")[:53].rstrip("-") or "imported"
    if not DNS1123_SUBDOMAIN.test(firewall):
        raise UsageError([Problem(f"--name {firewall!r} is not a valid Firewall name", hint=DNS1123_SUBDOMAIN.fix)])
    imported = import_text(fmt, decode(raw, path), path)
    if imported.problems:
        raise LoadError(list(imported.problems))
    sys.stdout.write(host_firewall_yaml(firewall, imported, f"netmodel import {fmt} {path}"))
    if imported.assumptions:
        print(f"{len(imported.assumptions)} assumption(s), listed at the top of the output", file=sys.stderr)
