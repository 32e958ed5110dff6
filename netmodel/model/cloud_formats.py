"""The cloud firewall formats a Firewall can import (``spec.import``) and ``netmodel import`` writes: which
options each takes and the reader that applies them (docs/input.md, "Cloud firewalls")."""

from __future__ import annotations

from netmodel.model.fields import Fields
from netmodel.model.read_aws_sg import import_aws_sg
from netmodel.model.read_cloud import CloudFirewall
from netmodel.model.read_gcp_firewall import import_gcp_firewall

# format -> the import options it takes (lists of names, or the network's name)
CLOUD_FORMATS: dict[str, tuple[str, ...]] = {"aws-sg": ("groups",),
                                             "gcp-firewall": ("tags", "serviceAccounts", "network")}


def import_cloud(fmt: str, text: str, file: str, groups: tuple[str, ...] = (), tags: tuple[str, ...] = (),
                 accounts: tuple[str, ...] = (), network: str = "") -> CloudFirewall:
    """The export ``text`` of ``file`` in cloud format ``fmt``, for nodes carrying what the options name."""
    if fmt == "aws-sg":
        return import_aws_sg(text, file, groups)
    return import_gcp_firewall(text, file, tags, accounts, network)


def import_cloud_fields(fmt: str, text: str, file: str, f: Fields) -> CloudFirewall:
    """:func:`import_cloud` with the options of a Firewall's ``spec.import`` mapping ``f``."""
    names = {key: tuple(v for _, v in f.strings(key)) for key in ("groups", "tags", "serviceAccounts")}
    return import_cloud(fmt, text, file, names["groups"], names["tags"], names["serviceAccounts"],
                        f.string("network"))


__all__ = ["CLOUD_FORMATS", "import_cloud", "import_cloud_fields"]
