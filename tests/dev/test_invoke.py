"""`make invoke`: the built artifacts run as `sam local invoke` runs them, without Docker.

The template reading is checked on a template of our own making and on the real `template.yaml`; the runner is
checked on a small build folder laid out as `sam build` lays it out, on python3.12 (skipped only where no
python3.12 is installed: the allow-list says so).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import invoke
import pytest
from invoke_checks import CheckFailed, check_answer, function_for_event
from lambda_env import TemplateError, function_spec, load_env_vars, load_template

REPO = Path(__file__).resolve().parents[2]

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  Secret: {Type: String}
Mappings:
  Levels: {dev: {Level: DEBUG}, prod: {Level: INFO}}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Not [!Condition IsDev]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 3
    Layers: [!Ref Shared]
    Environment:
      Variables:
        STAGE: !Ref Stage
        ONLY_IN_PROD: !If [IsProd, "yes", !Ref AWS::NoValue]
        LEVEL: !FindInMap [Levels, !Ref Stage, Level]
        NAME: !Sub "${AWS::StackName}-fn"
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: Shared}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: Fn
      Handler: app.handler
      MemorySize: 256
      Environment:
        Variables:
          SECRET: !Ref Secret
  Slow:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: Fn, Handler: app.slow, Timeout: 1}
  Boom:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: Fn, Handler: app.boom}
"""

HANDLERS = """\
import json, os, sys, time

import from_layer
import from_layer_site_packages


def handler(event, context):
    try:
        import pytest  # installed for the caller's python, never in the artifacts
        leaked = True
    except ImportError:
        leaked = False
    return {
        "event": event,
        "python": list(sys.version_info[:2]),
        "path": sys.path[:3],
        "cwd": os.getcwd(),
        "layer": [from_layer.NAME, from_layer_site_packages.NAME],
        "pytest_importable": leaked,
        "caller_variable": os.environ.get("MISSOUT_CALLER_ONLY"),
        "env": {k: os.environ.get(k) for k in ("STAGE", "ONLY_IN_PROD", "LEVEL", "NAME", "SECRET", "EXTRA",
                                               "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                               "TZ", "_HANDLER")},
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
    }


def slow(event, context):
    time.sleep(30)


def boom(event, context):
    raise ValueError("the handler failed")
"""


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A build folder as `sam build` leaves it: template.yaml, one folder per function and per layer."""
    build = tmp_path / "build"
    (build / "Fn").mkdir(parents=True)
    (build / "Fn" / "app.py").write_text(HANDLERS)
    layer_python = build / "Shared" / "python"
    (layer_python / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    (layer_python / "from_layer.py").write_text('NAME = "layer python/"\n')
    (layer_python / "lib" / "python3.12" / "site-packages" / "from_layer_site_packages.py").write_text(
        'NAME = "layer site-packages"\n'
    )
    (build / "template.yaml").write_text(TEMPLATE)
    return build


@pytest.fixture
def env_vars(tmp_path: Path) -> Path:
    path = tmp_path / "env.json"
    path.write_text(
        json.dumps({"Parameters": {"STAGE": "from-file", "EXTRA": "undeclared"}, "Fn": {"SECRET": "s"}})
    )
    return path


def test_template_values_resolve_as_sam_resolves_them(built: Path) -> None:
    spec = function_spec(load_template(built / "template.yaml"), "Fn")
    assert (spec.handler, spec.code_uri, spec.timeout_s, spec.memory_mb) == ("app.handler", "Fn", 3, 256)
    assert spec.environment == {
        "STAGE": "dev",  # the parameter's default
        "LEVEL": "DEBUG",  # FindInMap through the default
        "NAME": "local-fn",  # SAM's local stack name
        "SECRET": "Secret",  # no value, no default: SAM leaves the parameter's name
    }  # ONLY_IN_PROD resolved to AWS::NoValue and is absent


def test_parameters_and_the_env_vars_file_override_only_declared_variables(
    built: Path, env_vars: Path
) -> None:
    template = load_template(built / "template.yaml")
    prod = function_spec(template, "Fn", parameters={"Stage": "prod"})
    assert (prod.environment["LEVEL"], prod.environment["ONLY_IN_PROD"]) == ("INFO", "yes")
    overridden = function_spec(template, "Fn", env_vars=load_env_vars(env_vars))
    assert overridden.environment["STAGE"] == "from-file"
    assert overridden.environment["SECRET"] == "s"  # the function's own section
    assert "EXTRA" not in overridden.environment  # not declared in the template: SAM ignores it


def test_an_unknown_function_is_named_with_the_ones_that_exist(built: Path) -> None:
    with pytest.raises(
        TemplateError, match="Nope is not a function of the template; its functions: Boom, Fn, Slow"
    ):
        function_spec(load_template(built / "template.yaml"), "Nope")


def test_the_real_template_keeps_the_signer_away_from_the_api() -> None:
    template = load_template(REPO / "template.yaml")
    env_file = load_env_vars(REPO / "events" / "env.local.json")
    api = function_spec(template, "ApiFunction", env_vars=env_file)
    monitor = function_spec(template, "MonitorFunction", env_vars=env_file)
    assert (api.handler, api.timeout_s) == ("missout_api.handler.handler", 29)
    assert (monitor.handler, monitor.timeout_s) == ("missout_monitor.handler.handler", 60)
    assert "DEV_WALLET_SECRET_ARN" not in api.environment
    assert monitor.environment["DEV_WALLET_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert "DATABASE_CA_FILE" not in api.environment  # no CA file parameter: AWS::NoValue
    assert api.environment["DATABASE_SSLMODE"] == "disable"  # events/env.local.json over the template's value


def test_events_map_to_their_function_and_answers_are_checked() -> None:
    assert function_for_event("api_get_health.json") == "ApiFunction"
    assert function_for_event("monitor_scheduled.json") == "MonitorFunction"
    with pytest.raises(CheckFailed, match="no function"):
        function_for_event("other.json")

    problem = {"type": "about:blank", "title": "Not Found", "status": 404}
    answer = {
        "statusCode": 404,
        "headers": {"content-type": "application/problem+json"},
        "body": json.dumps(problem),
    }
    assert check_answer("api_not_found.json", answer) == "404 application/problem+json"
    with pytest.raises(CheckFailed, match="expected 200 application/json"):
        check_answer("api_get_health.json", answer)
    crashed = {**answer, "statusCode": 500}
    with pytest.raises(CheckFailed, match="500"):
        check_answer("api_new_route.json", crashed)
    assert "general checks only" in check_answer("api_new_route.json", answer)
    with pytest.raises(CheckFailed, match="no failed tick"):
        check_answer("monitor_scheduled.json", {"ticks": 2, "failed_ticks": 1})


def _python312_or_skip() -> None:
    if subprocess.run([str(REPO / "dev" / "python312.sh")], capture_output=True, check=False).returncode != 0:
        pytest.skip("python3.12 is not installed here (dev/python312.sh found none)")


def test_a_built_function_runs_on_python312_with_only_its_artifacts(
    built: Path, env_vars: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _python312_or_skip()
    monkeypatch.setenv("MISSOUT_CALLER_ONLY", "must not reach the function")
    event = tmp_path / "event.json"
    event.write_text('{"hello": "world"}')

    run = invoke.invoke("Fn", event, build_dir=built, env_vars=env_vars, local_stack=False)

    assert run.error is None, run.logs
    answer = run.answer
    assert answer["event"] == {"hello": "world"}
    assert answer["python"] == [3, 12]
    layer = built / "Shared" / "python"
    assert answer["path"] == [
        str(built / "Fn"),
        str(layer / "lib" / "python3.12" / "site-packages"),
        str(layer),
    ]
    assert answer["cwd"] == str(built / "Fn")
    assert answer["layer"] == ["layer python/", "layer site-packages"]
    assert answer["pytest_importable"] is False
    assert answer["caller_variable"] is None
    assert answer["env"] == {
        "STAGE": "from-file",
        "ONLY_IN_PROD": None,
        "LEVEL": "DEBUG",
        "NAME": "local-fn",
        "SECRET": "s",
        "EXTRA": None,
        "AWS_LAMBDA_FUNCTION_NAME": "Fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "TZ": ":UTC",
        "_HANDLER": "app.handler",
    }
    assert 0 < answer["remaining_ms"] <= 3000
    assert answer["function_name"] == "Fn"


def test_a_failing_or_slow_handler_is_reported_as_lambda_reports_it_on_python312(
    built: Path, tmp_path: Path
) -> None:
    _python312_or_skip()
    event = tmp_path / "event.json"
    event.write_text("{}")

    failed = invoke.invoke("Boom", event, build_dir=built, env_vars=None, local_stack=False)
    assert failed.error is not None
    assert (failed.error["errorType"], failed.error["errorMessage"]) == ("ValueError", "the handler failed")

    slow = invoke.invoke("Slow", event, build_dir=built, env_vars=None, local_stack=False)
    assert slow.error == {"errorType": "TimeoutError", "errorMessage": "Task timed out after 1 s"}
    assert slow.seconds < 15


def test_without_a_build_the_runner_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(invoke.InvokeError, match="run `make sam-build` first"):
        invoke.invoke("ApiFunction", tmp_path / "e.json", build_dir=tmp_path / "nothing")
