"""What `template.yaml` says about one function, resolved the way `sam local invoke` resolves it.

Handler, code folder, timeout, memory and environment variables, with the template's intrinsic functions
evaluated: `!Ref` of a parameter (its value, else its default, else the parameter's name, as SAM does), of
`AWS::Region` and friends (SAM's local defaults), `!FindInMap`, `!If` over `Conditions`, `!Equals`, `!Not`,
`!Join`, `!Sub` with `${Name}`; a variable resolved to `AWS::NoValue` is left out. Then the env-vars file's
`Parameters` section and the function's own section override the variables the template declares, and only
those (SAM ignores the rest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()  # AWS::NoValue: the property is removed
# What SAM CLI uses for pseudo parameters when nothing else is given.
PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "local",
    "AWS::URLSuffix": "amazonaws.com",
}


class TemplateError(Exception):
    """The template or the env-vars file does not say what is needed; the message names what is missing."""


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags: `!Ref x` becomes {"Ref": "x"}, `!If [...]` {"Fn::If": [...]}."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"cannot read the !{suffix} tag at {node.start_mark}")
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(loaded, dict):
        raise TemplateError(f"{path} is not a template")
    return loaded


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    code_uri: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]


class _Resolver:
    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        self.parameters = dict(parameters)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        declared = self.template.get("Parameters", {})
        if name in self.parameters:
            return self.parameters[name]
        if name in declared:
            default = declared[name].get("Default")
            # SAM resolves a parameter without a value or default to its own name.
            return name if default is None else _scalar(default)
        return name  # a resource's logical id (SAM gives no physical id locally)

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise TemplateError(f"condition {name} is not declared")
        return bool(self.value(conditions[name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: self.value(item) for key, item in node.items()}
        ((key, arg),) = node.items()
        match key:
            case "Ref":
                return self.ref(str(arg))
            case "Fn::If":
                name, when_true, when_false = arg
                return self.value(when_true if self.condition(name) else when_false)
            case "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return left == right
            case "Fn::Not":
                return not self.value(arg[0])
            case "Fn::And":
                return all(self.value(a) for a in arg)
            case "Fn::Or":
                return any(self.value(a) for a in arg)
            case "Condition":
                return self.condition(str(arg))
            case "Fn::Join":
                separator, items = arg
                resolved = self.value(items)
                return str(separator).join(_scalar(i) for i in resolved if i is not NO_VALUE)
            case "Fn::FindInMap":
                mapping, first, second = (self.value(a) for a in arg)
                return _scalar(self.template["Mappings"][mapping][first][second])
            case "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: _scalar(self.ref(m.group(1))), text)
            case _:
                return {key: self.value(arg)}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_scalar(v) for v in value)
    return str(value)


def function_spec(
    template: Mapping[str, Any],
    logical_id: str,
    *,
    parameters: Mapping[str, str] | None = None,
    env_vars: Mapping[str, Any] | None = None,
) -> FunctionSpec:
    """The function as `sam local invoke <logical_id> --env-vars <file>` would run it."""
    resources = template.get("Resources", {})
    resource = resources.get(logical_id)
    if not resource or resource.get("Type") != "AWS::Serverless::Function":
        known = ", ".join(function_ids(template))
        raise TemplateError(f"{logical_id} is not a function of the template; its functions: {known}")
    resolver = _Resolver(template, parameters or {})
    globals_ = template.get("Globals", {}).get("Function", {})
    props = {**globals_, **resource.get("Properties", {})}
    declared = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
    }
    environment: dict[str, str] = {}
    for name, node in declared.items():
        resolved = resolver.value(node)
        if resolved is not NO_VALUE:
            environment[name] = _scalar(resolved)
    overrides = {**(env_vars or {}).get("Parameters", {}), **(env_vars or {}).get(logical_id, {})}
    environment.update({k: _scalar(v) for k, v in overrides.items() if k in declared})
    return FunctionSpec(
        logical_id=logical_id,
        handler=str(resolver.value(props["Handler"])),
        code_uri=str(resolver.value(props["CodeUri"])),
        timeout_s=int(resolver.value(props.get("Timeout", 3))),
        memory_mb=int(resolver.value(props.get("MemorySize", 128))),
        environment=environment,
    )


def function_ids(template: Mapping[str, Any]) -> list[str]:
    resources = template.get("Resources", {})
    return sorted(k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function")


def load_env_vars(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise TemplateError(f"{path}: expected an object of sections")
    return loaded
