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
    from skillsession.adapters.store.dynamodb import schema as dynamodb_schema

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


CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def checkov_report(template: Path) -> dict:
    """checkov's JSON report on `template` (offline: no guideline or policy download)."""
    if not CHECKOV.exists():
        raise AssertionError(f"{CHECKOV} is missing: run `make install-test`")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(template.parent),
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "FALSE",
    }
    result = subprocess.run(
        [str(CHECKOV), "-f", str(template), "--framework", "cloudformation"]
        + ["--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def unexplained(report: dict) -> list[str]:
    results = report.get("results", {})
    found = [
        f"{c['check_id']} on {c['resource']}: {c['check_name']}"
        for c in results.get("failed_checks", [])
    ]
    found += [
        f"{c['check_id']} on {c['resource']} skipped without a reason"
        for c in results.get("skipped_checks", [])
        if not (c.get("check_result", {}).get("suppress_comment") or "").strip()
    ]
    if report.get("summary", {}).get("parsing_errors"):
        found.append("checkov could not parse the template")
    return found


def test_checkov_finds_nothing_unexplained(tmp_path):
    """Every checkov finding is fixed or skipped in the template's Metadata with a reason; a
    copy without the skips shows that the check runs and would fail."""
    report = checkov_report(ROOT / "template.yaml")
    assert report["summary"]["passed"] > 20, report["summary"]
    assert unexplained(report) == []

    bare = tmp_path / "template.yaml"
    bare.write_text(re.sub(r"\n      checkov:\n        skip:\n(?:          .*\n)+", "\n", _text()))
    assert "checkov:" not in bare.read_text()
    failures = unexplained(checkov_report(bare))
    assert any(
        f.startswith("CKV_AWS_117 on AWS::Serverless::Function.ApiFunction") for f in failures
    )


def _text() -> str:
    return (ROOT / "template.yaml").read_text()


def _template() -> dict:
    from cfnlint.decode import decode

    template, _ = decode(str(ROOT / "template.yaml"))
    return json.loads(json.dumps(template))


def test_api_is_throttled_and_access_logged():
    template = _template()
    api = template["Resources"]["HttpApi"]["Properties"]
    routes = api["DefaultRouteSettings"]
    assert routes["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert routes["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    for name in ("ApiThrottleRateLimit", "ApiThrottleBurstLimit"):
        assert int(template["Parameters"][name]["Default"]) > 0
    logs = api["AccessLogSettings"]
    assert json.loads(logs["Format"])["status"] == "$context.status"  # JSON lines
    group = logs["DestinationArn"]["Fn::GetAtt"][0]
    assert template["Resources"][group]["Properties"]["RetentionInDays"] == {
        "Ref": "LogRetentionDays"
    }


def test_every_function_is_capped_and_logs_with_retention():
    resources = _template()["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == {"ApiFunction", "ExpiryFunction"}
    for name, function in functions.items():
        properties = function["Properties"]
        assert "Ref" in properties["ReservedConcurrentExecutions"], name
        group = resources[properties["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_scheduled_job_has_a_dead_letter_queue_with_an_alarm():
    resources = _template()["Resources"]
    expiry = resources["ExpiryFunction"]["Properties"]
    queue = expiry["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
    assert resources[queue]["Type"] == "AWS::SQS::Queue"
    assert expiry["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    alarm = resources["ExpiryDeadLettersAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]


def test_alarms_cover_the_failure_modes_and_reach_the_alarm_topic():
    template = _template()
    resources = template["Resources"]
    alarms = {
        k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"
    }
    watched = set()
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["AlarmDescription"], name
        stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
        for metric in stats or [alarm]:
            watched.add((metric["Namespace"], metric["MetricName"]))
    assert {
        ("AWS/ApiGateway", "5xx"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("SkillSession", "OutboxPending"),
        ("SkillSession", "OutboxOldestPendingAgeSeconds"),
    } <= watched
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_the_outbox_metrics_match_what_the_job_publishes():
    from skillsession.service import backlog

    resources = _template()["Resources"]
    names = {
        resources[a]["Properties"]["MetricName"]
        for a in ("OutboxBacklogAgeAlarm", "OutboxBacklogPendingAlarm")
    }
    assert names == {backlog.PENDING_METRIC, backlog.AGE_METRIC}
    env = resources["ExpiryFunction"]["Properties"]["Environment"]["Variables"]
    namespaces = {
        resources[a]["Properties"]["Namespace"]
        for a in ("OutboxBacklogAgeAlarm", "OutboxBacklogPendingAlarm")
    }
    assert namespaces == {"SkillSession"}
    assert env["SKILLSESSION_METRICS"]["Fn::Sub"].startswith("cloudwatch://SkillSession?stack=")


def _open_routes() -> set[tuple[str, str]]:
    events = _template()["Resources"]["ApiFunction"]["Properties"]["Events"]
    return {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in events.values()
        if e["Type"] == "HttpApi" and e["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
    }


def test_the_web_client_has_open_routes_and_every_open_route_is_public_in_the_app():
    """The API's JWT authorizer guards everything but the open routes: the web client's page
    and files must be among them (a browser has no token yet when it loads them), and nothing
    the app keeps private may be."""
    from route_table_pins import PAGES, ROUTES

    opened = _open_routes()
    assert {("GET", "/"), ("GET", "/app/{proxy+}")} <= opened
    public = {route for route, open_ in ROUTES.items() if open_} | {
        (m, p) for m, p in PAGES if m != "MOUNT"
    }
    mounts = [p for m, p in PAGES if m == "MOUNT"]
    for method, path in opened:
        if path.endswith("/{proxy+}"):
            prefix = path.removesuffix("{proxy+}")
            assert any((m + "/").startswith(prefix) for m in mounts), path
        else:
            assert (method, path) in public, (method, path)


def _cognito_statements(resources: dict, function: str) -> list[list[str]]:
    """The sorted Cognito actions of each statement of `function`'s policies, each statement
    checked to name this pool only and no wildcard."""
    found = []
    for policy in resources[function]["Properties"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement["Action"]
            if any(a.startswith("cognito-idp:") for a in actions):
                assert statement["Resource"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
                assert not any("*" in a for a in actions)
                found.append(sorted(actions))
    return found


def test_auth_routes_are_open_and_the_function_may_administer_only_its_pool():
    """The app's public /auth/* routes are open at the gateway (Cognito carries them out: a
    caller has no token yet); the functions' Cognito actions are the Admin* and List* calls of
    adapters/auth/cognito_accounts.py, on this pool: the API's for /auth/*, the job's for
    deleting unconfirmed accounts; the app client allows the login flow."""
    from route_table_pins import ROUTES

    auth = {route for route, open_ in ROUTES.items() if open_ and route[1].startswith("/auth/")}
    assert auth and auth <= _open_routes()
    resources = _template()["Resources"]
    granted = {
        function: _cognito_statements(resources, function)
        for function in ("ApiFunction", "ExpiryFunction")
    }
    assert granted["ApiFunction"] == [
        [
            "cognito-idp:AdminDeleteUser",
            "cognito-idp:AdminGetUser",
            "cognito-idp:AdminSetUserPassword",
            "cognito-idp:AdminUserGlobalSignOut",
        ]
    ]
    assert granted["ExpiryFunction"] == [
        ["cognito-idp:AdminDeleteUser", "cognito-idp:AdminGetUser", "cognito-idp:ListUsers"]
    ]
    client = resources["UserPoolClient"]["Properties"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert client["GenerateSecret"] is False
    assert resources["UserPool"]["Properties"]["UsernameAttributes"] == ["email"]
