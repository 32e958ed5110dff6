"""Firewall rules imported from a file in a native format (``Firewall.spec.import``, ``netmodel import``).

A format's reader turns the file's text into :class:`Imported`: one or more :class:`Layer` (each becomes a
netmodel ``Firewall``: its ingress and egress chains and whether replies pass), every assumption the rules need
(a match netmodel cannot model, located at its line) and notes. Every rule keeps the span of the line it came
from, so findings and trace steps name the original file and line.

Formats: ``iptables-save``, ``ip6tables-save`` (``iptables.py``) and ``nftables`` (``nftables.py``). Another
format registers a reader in :data:`FORMATS` (text, file name shown in messages) → :class:`Imported`.
"""

from __future__ import annotations

from collections.abc import Callable

from netmodel.model.fwimport.iptables import parse as parse_iptables
from netmodel.model.fwimport.layers import Imported, Layer, layer_of
from netmodel.model.fwimport.nftables import read as read_nftables

# One imported file may hold at most this much (an iptables-save of 100,000 rules is about 15 MB).
MAX_IMPORT_BYTES = 64 << 20


def _iptables(version: int) -> Callable[[str, str], Imported]:
    def read(text: str, file: str) -> Imported:
        parsed = parse_iptables(text, file, version)
        out = Imported(assumptions=parsed.assumptions, problems=parsed.problems)
        out.notes.extend(("NM-FW-003", message, span) for message, span in parsed.notes)
        if not out.problems:
            chains = {hook: parsed.ruleset.chains[("filter", name)] for name, hook in
                      (("INPUT", "input"), ("FORWARD", "forward"), ("OUTPUT", "output"))}
            layer_of(parsed.ruleset, chains, out)
        return out
    return read


FORMATS: dict[str, Callable[[str, str], Imported]] = {
    "iptables-save": _iptables(4),
    "ip6tables-save": _iptables(6),
    "nftables": read_nftables,
}


# The top-level key of a JSON file that holds a native ruleset rather than Kubernetes objects, and its format: such
# a file in an input folder is what a Firewall imports, not an object (build.py says so when none imports it).
NATIVE_KEYS = {"nftables": "nftables", "SecurityGroups": "aws-sg"}
# gcloud prints each VPC firewall rule with this kind; the export is a JSON list of them.
GCP_FIREWALL_KIND = "compute#firewall"


def native_format(data: object) -> str:
    """The format of a parsed JSON/YAML document that is a native ruleset (no ``kind``), else ""."""
    if isinstance(data, dict) and "kind" not in data:
        for key, fmt in NATIVE_KEYS.items():
            if key in data:
                return fmt
    if isinstance(data, list) and data and all(isinstance(item, dict) and item.get("kind") == GCP_FIREWALL_KIND
                                               for item in data):
        return "gcp-firewall"
    return ""


def import_text(fmt: str, text: str, file: str) -> Imported:
    """Read ``text`` (the file ``file``) in format ``fmt`` (a key of :data:`FORMATS`)."""
    return FORMATS[fmt](text, file)


__all__ = ["FORMATS", "MAX_IMPORT_BYTES", "NATIVE_KEYS", "Imported", "Layer", "import_text", "layer_of",
           "native_format"]
