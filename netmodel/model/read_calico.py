"""Calico kinds read as data: ``IPPool`` (both API groups Calico serves it under, ``projectcalico.org`` and
``crd.projectcalico.org``; :data:`netmodel.model.kinds.READ`).

Only the fields that decide where Pod addresses come from are read: ``spec.cidr`` and ``spec.disabled``
(Calico IPPool reference: https://docs.tigera.io/calico/latest/reference/resources/ippool).
"""

from __future__ import annotations

from netmodel.load.document import Document
from netmodel.model.fields import Problems
from netmodel.model.objects import IPPool
from netmodel.model.read_kubernetes import Meta


def read_ip_pool(doc: Document, problems: Problems) -> IPPool | None:
    """A Calico IPPool (its CIDR), or None when the document has no usable one (problems say why)."""
    meta = Meta(doc, problems, "IPPool", namespaced=False)
    spec = meta.fields.mapping("spec", required=True)
    if spec is None:
        return None
    cidr = spec.network("cidr", spec.string("cidr", required=True))
    if cidr is None:
        return None
    return IPPool(meta.name, cidr, spec.boolean("disabled"), doc.span())


__all__ = ["read_ip_pool"]
