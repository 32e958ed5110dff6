"""The name rules the Kubernetes API server applies, and netmodel's own, checked once at load time.

netmodel reads files anyone can propose, and some commands (``emulate``, as root) write what they read into
scripts. Holding names to the API server's rules keeps every name to a small alphabet before any later stage
sees it, and refuses inputs no cluster could hold. The rules, from ``k8s.io/apimachinery/pkg/util/validation``
(``validation.go``) and ``k8s.io/kubernetes/pkg/apis/core/validation``:

* DNS-1123 label (``IsDNS1123Label``): 1-63 of ``a-z 0-9 -``, starting and ending alphanumeric. Namespace names
  (``ValidateNamespaceName``) and Service names: ``ValidateServiceName`` is ``NameIsDNS1035Label`` (a letter
  first), relaxed to the DNS-1123 label by the ``RelaxedServiceNameValidation`` feature (Kubernetes 1.34); the
  relaxed rule is taken so a name a newer cluster accepts is never refused.
* DNS-1123 subdomain (``IsDNS1123Subdomain``): at most 253 characters, dot-separated DNS-1123 labels. Every
  other kind netmodel reads (``NameIsDNSSubdomain``: Pod, Node, NetworkPolicy, the workload kinds, Ingress,
  IngressClass, EndpointSlice).
* ``generateName`` is a prefix: a trailing ``-`` is allowed (``maskTrailingDash``).
* Qualified name (``IsQualifiedName``), for label and annotation keys: an optional DNS-1123 subdomain prefix and
  ``/``, then 1-63 of ``A-Z a-z 0-9 - _ .`` starting and ending alphanumeric.
* Label value (``IsValidLabelValue``): empty, or at most 63 characters of the qualified-name alphabet.

netmodel's own kinds (``netmodel.io/v1alpha1``) follow what the API server does for a custom resource's name
(a DNS-1123 subdomain, as ``apiextensions`` validates them): Cluster, Firewall and Expectations names. Names
inside a spec that other objects refer to, a Firewall rule's ``name`` and an outside network's ``name``, are
DNS-1123 labels, the rule Kubernetes uses for such sub-names (container and Service port names).

>>> is_dns1123_label("web-1"), is_dns1123_label("Web"), is_dns1123_label('x"')
(True, False, False)
>>> is_dns1123_subdomain("api.shop"), is_dns1123_subdomain("-api")
(True, False)
>>> is_qualified_name("app.kubernetes.io/name"), is_qualified_name("a b")
(True, False)
>>> is_label_value(""), is_label_value("v1.2_x"), is_label_value("x\\n")
(True, True, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_QUALIFIED_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_MAX = 63
SUBDOMAIN_MAX = 253


@lru_cache(maxsize=65536)  # a cluster repeats a few label keys and values on every Pod
def is_dns1123_label(text: str) -> bool:
    """Whether ``text`` is a DNS-1123 label (lower-case alphanumerics and ``-``, at most 63)."""
    return len(text) <= LABEL_MAX and _LABEL_RE.fullmatch(text) is not None


@lru_cache(maxsize=65536)
def is_dns1123_subdomain(text: str) -> bool:
    """Whether ``text`` is a DNS-1123 subdomain (dot-separated labels, at most 253)."""
    return len(text) <= SUBDOMAIN_MAX and _SUBDOMAIN_RE.fullmatch(text) is not None


@lru_cache(maxsize=65536)
def is_qualified_name(text: str) -> bool:
    """Whether ``text`` is a qualified name (``[prefix/]name``), as label keys must be."""
    prefix, slash, name = text.rpartition("/")
    if slash and not (prefix and is_dns1123_subdomain(prefix)):
        return False
    return len(name) <= LABEL_MAX and _QUALIFIED_RE.fullmatch(name) is not None


@lru_cache(maxsize=65536)
def is_label_value(text: str) -> bool:
    """Whether ``text`` is a valid label value (empty, or a name of at most 63 characters)."""
    return text == "" or (len(text) <= LABEL_MAX and _QUALIFIED_RE.fullmatch(text) is not None)


@dataclass(frozen=True, slots=True)
class NameRule:
    """One naming rule: its test, its name in messages and a hint on how to fix a name."""

    title: str
    test: Callable[[str], bool]
    fix: str

    def problem(self, name: str, prefix: bool = False) -> str | None:
        """Why ``name`` breaks the rule (None when it does not); ``prefix``: a generateName."""
        checked = name[:-1] + "a" if prefix and len(name) > 1 and name.endswith("-") else name
        if self.test(checked):
            return None
        return f"{name!r} is not a valid {self.title}"


DNS1123_LABEL = NameRule(
    "DNS-1123 label", is_dns1123_label,
    "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit")
DNS1123_SUBDOMAIN = NameRule(
    "DNS-1123 subdomain", is_dns1123_subdomain,
    "use at most 253 lower-case letters, digits, '-' and '.', each dot-separated part starting and ending "
    "with a letter or digit")
QUALIFIED_NAME = NameRule(
    "label key (qualified name)", is_qualified_name,
    "use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', "
    "starting and ending with a letter or digit (e.g. app.kubernetes.io/name)")
LABEL_VALUE = NameRule(
    "label value", is_label_value,
    "use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or ''")

# kind -> rule for metadata.name; kinds not listed take a DNS-1123 subdomain.
_OBJECT_NAME_RULES = {"Namespace": DNS1123_LABEL, "Service": DNS1123_LABEL}


def object_name_rule(kind: str) -> NameRule:
    """The rule for ``metadata.name`` of ``kind`` (netmodel's own kinds included)."""
    return _OBJECT_NAME_RULES.get(kind, DNS1123_SUBDOMAIN)
