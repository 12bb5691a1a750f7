"""template.yaml passes cfn-lint and mirrors the DynamoDB table definition of the store."""

from __future__ import annotations

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
