"""Turn the upstream AdminNetworkPolicy conformance tests into netmodel cases (policy.yaml + expect.yaml).

Source: kubernetes-sigs/network-policy-api, conformance/tests/*.go and conformance/base/ at commit
40eeb18096dd6b948c627d09b043a8295a186e3b (the last commit with the v1alpha1 AdminNetworkPolicy and
BaselineAdminNetworkPolicy tests; later commits test the v1alpha2 ClusterNetworkPolicy). Licence: Apache-2.0.

Each Go subtest (``t.Run``) probes servers with ``kubernetes.PokeServer(client ns, client pod, protocol, server
IP, port, ..., expected)``; before probing it may patch the policies (swap rules, change an action or the
priority, prepend a rule, give a rule a named port) or delete a NetworkPolicy, and those changes persist for the
following subtests of the same test, as on the cluster. This script replays those statements on the manifests the
test applies and writes, per subtest, the policies as they stand at its probes and one expected flow per probe.
Statements it does not recognise stop it, so nothing is dropped silently.

Run (not part of the test suite; the generated folders are committed):

    git -C <network-policy-api> show 40eeb18:conformance/... (or a checkout at that commit)
    python tests/conformance_anp/convert.py <checkout>/conformance
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
BASE_IPS = {}  # ns/name → Pod IP, read from base.yaml

TEST = re.compile(r"var (\w+) = suite\.ConformanceTest\{")
PATTERNS = {
    "getpod": r"(\w+)\s*:?=\s*kubernetes\.GetPod\(t, s\.Client, \"([^\"]+)\", \"([^\"]+)\"",
    "getns": r"s\.Client\.Get\(ctx, client\.ObjectKey\{\s*Namespace:\s*\"([^\"]+)\",\s*Name:\s*\"([^\"]+)\",?\s*\},"
             r" (\w+)\)",
    "getpol": r"s\.Client\.Get\(ctx, client\.ObjectKey\{\s*Name:\s*\"([^\"]+)\",?\s*\}, (\w+)\)",
    "getpol2": r"(\w+)\s*:?=\s*kubernetes\.Get(?:Baseline)?AdminNetworkPolicy\(t, s\.Client, \"([^\"]+)\"",
    "deepcopy": r"mutate\s*:?=\s*(\w+)\.DeepCopy\(\)",
    "takerule": r"(\w+) := mutate(?:\.DeepCopy\(\))?\.Spec\.(Ingress|Egress)\[(\d+)\]",
    "copyrule": r"mutate\.Spec\.(Ingress|Egress)\[(\d+)\] = mutate\.Spec\.(Ingress|Egress)\[(\d+)\]",
    "setrule": r"mutate\.Spec\.(Ingress|Egress)\[(\d+)\] = (\w+)\s*\n",
    "action": r"mutate\.Spec\.(Ingress|Egress)\[(\d+)\]\.Action = v1alpha1\.AdminNetworkPolicyRuleAction(\w+)",
    "priority": r"mutate\.Spec\.Priority = (\d+)",
    "string": r"(\w+) := \"([^\"]*)\"",
    "namedport": r"(\w+)\.Ports = &\[\]v1alpha1\.AdminNetworkPolicyPort\{\s*\{\s*NamedPort: &(\w+),\s*\},\s*\}",
    "prepend": r"mutate\.Spec\.Egress = append\(newRule, mutate\.Spec\.Egress\.\.\.\)",
    "patch": r"(?:s\.Client\.Patch\(ctx, mutate|kubernetes\.Patch(?:Baseline)?AdminNetworkPolicy\(t, s\.Client, "
             r"\w+, mutate)",
    "delete": r"s\.Client\.Delete\(ctx, np\)",
    "poke": r"kubernetes\.PokeServer\(t, s\.ClientSet, &s\.KubeConfig, \"([^\"]+)\", \"([^\"]+)\", \"(\w+)\",\s*"
            r"(\w+)\.Status\.PodIP, int32\((\d+)\), [^,]+, (true|false)\)",
}
COMPILED = {k: re.compile(v) for k, v in PATTERNS.items()}


def events(text: str) -> list[tuple[int, str, re.Match[str]]]:
    found = [(m.start(), m.end(), kind, m) for kind, rx in COMPILED.items() for m in rx.finditer(text)]
    found.sort(key=lambda e: (e[0], -e[1]))
    out, end = [], -1
    for start, stop, kind, m in found:
        if start < end:
            continue  # inside a longer match
        out.append((start, kind, m))
        end = stop
    # Every statement touching the policies must have been understood: some match overlaps its line.
    offset = 0
    for line in text.splitlines(keepends=True):
        lo, hi = offset, offset + len(line)
        offset = hi
        stripped = line.strip()
        if stripped.startswith("//") or not ("mutate" in line or "PokeServer" in line or "Delete(" in line):
            continue
        if stripped.startswith("mutate := ") or "mutate.Spec.Egress...)" in line and "append" not in line:
            pass
        if not any(s < hi and m.end() > lo for s, _, m in out):
            raise SystemExit(f"unrecognised statement: {stripped}")
    return out


def rules_key(field: str) -> str:
    return field.lower()


def run(conformance: Path) -> None:
    base = [d for d in yaml.safe_load_all((HERE / "base.yaml").read_text()) if d]
    for d in base:
        if d["kind"] == "Pod":
            BASE_IPS[f"{d['metadata']['namespace']}/{d['metadata']['name']}"] = d["status"]["podIP"]
    total = 0
    for go in sorted((conformance / "tests").glob("*.go")):
        text = go.read_text()
        starts = [m for m in TEST.finditer(text)]
        for i, m in enumerate(starts):
            body = text[m.start(): starts[i + 1].start() if i + 1 < len(starts) else len(text)]
            short = re.search(r"ShortName:\s*\"(\w+)\"", body).group(1)  # type: ignore[union-attr]
            manifests = re.findall(r"\"(base/[^\"]+\.yaml)\"", re.search(r"Manifests: \[\]string\{([^}]*)\}",
                                                                          body).group(1))  # type: ignore[union-attr]
            total += convert_test(go.name, short, body, [conformance / f for f in manifests])
    print(f"{total} flows written")


def slug(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def convert_test(source: str, short: str, body: str, manifests: list[Path]) -> int:
    state: dict[tuple[str, str, str], dict] = {}
    for path in manifests:
        for d in yaml.safe_load_all(path.read_text()):
            if d:
                state[(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"])] = d
    runs = list(re.finditer(r"t\.Run\(\"([^\"]+)\"", body))
    pods: dict[str, str] = {}
    policies: dict[str, str] = {}
    rules: dict[str, dict] = {}
    strings: dict[str, str] = {}
    mutate: dict | None = None
    mutate_of: tuple[str, str, str] | None = None
    np_key: tuple[str, str, str] | None = None
    count = 0
    cases: list[tuple[str, str, list[dict], list[dict]]] = []  # name, description, policies, flows
    for index in range(len(runs) + 1):
        lo = runs[index - 1].start() if index else 0
        hi = runs[index].start() if index < len(runs) else len(body)
        description = runs[index - 1].group(1) if index else ""
        snapshot: list[dict] | None = None
        flows: list[dict] = []
        for _, kind, m in events(body[lo:hi]):
            if kind == "getpod":
                pods[m.group(1)] = f"{m.group(2)}/{m.group(3)}"
            elif kind == "getns":
                if m.group(3) == "np":
                    np_key = ("NetworkPolicy", m.group(1), m.group(2))
                else:
                    pods[m.group(3)] = f"{m.group(1)}/{m.group(2)}"
            elif kind == "getpol":
                policies[m.group(2)] = m.group(1)
            elif kind == "getpol2":
                policies[m.group(1)] = m.group(2)
            elif kind == "deepcopy":
                name = policies[m.group(1)]
                mutate_of = next(k for k in state if k[2] == name and k[0].endswith("AdminNetworkPolicy"))
                mutate = copy.deepcopy(state[mutate_of])
            elif kind == "takerule":
                assert mutate is not None
                rules[m.group(1)] = copy.deepcopy(mutate["spec"][rules_key(m.group(2))][int(m.group(3))])
            elif kind == "copyrule":
                assert mutate is not None
                mutate["spec"][rules_key(m.group(1))][int(m.group(2))] = \
                    copy.deepcopy(mutate["spec"][rules_key(m.group(3))][int(m.group(4))])
            elif kind == "setrule":
                assert mutate is not None
                mutate["spec"][rules_key(m.group(1))][int(m.group(2))] = copy.deepcopy(rules[m.group(3)])
            elif kind == "action":
                assert mutate is not None
                mutate["spec"][rules_key(m.group(1))][int(m.group(2))]["action"] = m.group(3)
            elif kind == "priority":
                assert mutate is not None
                mutate["spec"]["priority"] = int(m.group(1))
            elif kind == "string":
                strings[m.group(1)] = m.group(2)
            elif kind == "namedport":
                rules[m.group(1)]["ports"] = [{"namedPort": strings[m.group(2)]}]
            elif kind == "prepend":
                # The one Go literal of the suite (inline-cidr test): Allow to the two server Pods' IPs as /32.
                assert mutate is not None
                nets = [BASE_IPS[pods["serverPodRavenclaw"]] + "/32", BASE_IPS[pods["serverPodHufflepuff"]] + "/32"]
                mutate["spec"]["egress"].insert(0, {"name": "allow-egress-to-specific-podIPs", "action": "Allow",
                                                    "to": [{"networks": nets}]})
            elif kind == "patch":
                assert mutate is not None and mutate_of is not None
                state[mutate_of] = copy.deepcopy(mutate)
            elif kind == "delete":
                assert np_key is not None
                del state[np_key]
            elif kind == "poke":
                current = [copy.deepcopy(d) for d in state.values()]
                if snapshot is not None and current != snapshot:
                    raise SystemExit(f"{short}: policies change between probes of one subtest")
                snapshot = current
                flows.append({"from": f"{m.group(1)}/{m.group(2)}", "to": pods[m.group(4)],
                              "port": int(m.group(5)), "protocol": m.group(3).upper(),
                              "allowed": m.group(6) == "true"})
        if flows:
            assert snapshot is not None
            cases.append((f"{slug(short)}-{len(cases) + 1}", description, snapshot, flows))
    for name, description, snapshot, flows in cases:
        write_case(source, short, name, description, snapshot, flows)
        count += len(flows)
    return count


def write_case(source: str, short: str, name: str, description: str, policies: list[dict],
               flows: list[dict]) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    origin = (f"# Upstream: kubernetes-sigs/network-policy-api conformance/tests/{source}, test {short}"
              + (f",\n# subtest \"{description}\"" if description else "") +
              ".\n# Commit 40eeb18096dd6b948c627d09b043a8295a186e3b, Apache-2.0. Generated by convert.py.\n")
    text = origin + "# The policies as they stand at the subtest's probes (after the test's patches so far).\n"
    for d in policies:
        if d["kind"] == "NetworkPolicy" and d["spec"].get("podSelector") is None:
            # Upstream writes `podSelector:` with no value; the API server stores the empty selector (all Pods).
            d["spec"]["podSelector"] = {}
    text += "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in policies)
    (folder / "policy.yaml").write_text(text)
    lines = [origin + "# One flow per PokeServer call of the subtest: its client, server, protocol, port and "
             "expected result.\n",
             "apiVersion: netmodel.io/v1alpha1\nkind: Expectations\n", f"metadata: {{name: {name}}}\n",
             "spec:\n  flows:\n"]
    for f in flows:
        lines.append(f"  - {{from: {f['from']}, to: {f['to']}, port: {f['port']}, protocol: {f['protocol']}, "
                     f"allowed: {str(f['allowed']).lower()}}}\n")
    (folder / "expect.yaml").write_text("".join(lines))


if __name__ == "__main__":
    run(Path(sys.argv[1]))
