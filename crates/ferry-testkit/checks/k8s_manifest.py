"""Checks every Kubernetes manifest in a Markdown file against the Kubernetes API's models (the
official Python client's, pinned in tools/requirements.txt): each field must exist in its object's
model, recursively, and required fields must be there. No cluster is needed (none runs here).
Usage: k8s_manifest.py FILE.md; prints one line per manifest; exit 1 on an unknown field."""

import re
import sys

import kubernetes.client as k8s
import yaml

KINDS = {("batch/v1", "Job"): "V1Job"}


def check(value, type_name, path, problems):
    if type_name.startswith("list[") and isinstance(value, list):
        for i, item in enumerate(value):
            check(item, type_name[5:-1], f"{path}[{i}]", problems)
        return
    if type_name.startswith("dict(") or type_name in ("str", "int", "bool", "float", "object", "datetime"):
        return
    model = getattr(k8s, type_name, None)
    if model is None or not isinstance(value, dict):
        problems.append(f"{path}: expected a {type_name}")
        return
    by_json = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for key, item in value.items():
        if key not in by_json:
            problems.append(f"{path}.{key}: no such field in {type_name}")
            continue
        check(item, model.openapi_types[by_json[key]], f"{path}.{key}", problems)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    checked = 0
    problems = []
    for block in blocks:
        doc = yaml.safe_load(block)
        kind = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
        if kind is None:
            continue
        check(doc, kind, doc["kind"], problems)
        # The client's own deserialiser enforces required fields (for example a container's name).
        k8s.ApiClient()._ApiClient__deserialize(doc, kind)
        checked += 1
        print(f"{doc['kind']} {doc['metadata']['name']}: checked against {kind} (client {k8s.__version__ if hasattr(k8s, '__version__') else ''})")
    for p in problems:
        print("unknown:", p)
    if problems or checked == 0:
        sys.exit(1)


main()
