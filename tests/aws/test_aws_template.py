"""template.yaml passes cfn-lint and mirrors the DynamoDB table definition of the store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cfn_lint_is_clean():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_mirrors_the_store_schema():
    from skillsession.adapters.store import dynamodb_schema

    text = (ROOT / "template.yaml").read_text()
    assert f"AttributeName: {dynamodb_schema.TTL_ATTRIBUTE}" in text
    for index in dynamodb_schema.INDEXES:
        assert f"IndexName: {index}" in text
        assert f"AttributeName: {index}PK, AttributeType: S" in text
        assert f"AttributeName: {index}SK, AttributeType: S" in text


def _references(node, names: set[str]) -> set[str]:
    """Resources a template fragment names through Ref, Fn::GetAtt, Fn::Sub or DependsOn."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            elif key == "DependsOn":
                found.update([value] if isinstance(value, str) else value)
            found |= _references(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, names)
    return found & names


def test_expanded_template_has_no_dependency_cycle(monkeypatch):
    """cfn-lint does not report cycles that appear only after the SAM transform (e.g. the API
    function naming its own HttpApi, whose generated definition names the function)."""
    import networkx
    from cfnlint.decode import decode
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    template, _ = decode(str(ROOT / "template.yaml"))
    template = json.loads(json.dumps(template))
    template["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    resources = transform(template, {"AWS::Region": "eu-west-1"}, NoManagedPolicies())["Resources"]
    graph = networkx.DiGraph()
    for name, resource in resources.items():
        graph.add_node(name)
        for target in _references(resource, set(resources)):
            graph.add_edge(name, target)
    assert networkx.is_directed_acyclic_graph(graph), networkx.find_cycle(graph)
