"""The Anchor IDL (spec 0.1.0) as typed, immutable Python objects.

Only the parts the backend uses are modelled: instructions (discriminator, accounts with their fixed
addresses and PDA seeds, args), account and event discriminators, errors and type definitions. The shipped
IDL of the `ml` program is loaded lazily from the package data so importing this module costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, TypeAlias

# An IDL type expression kept in its JSON form ("u64", {"array": ["u8", 32]}, {"defined": {"name": ...}}).
IdlType: TypeAlias = str | Mapping[str, Any]


class IdlError(ValueError):
    """The IDL document is malformed or uses a construct this codec does not support."""


@dataclass(frozen=True, slots=True)
class IdlField:
    name: str
    type: IdlType


@dataclass(frozen=True, slots=True)
class IdlSeed:
    """One PDA seed: a constant byte string, another account of the instruction, or an argument."""

    kind: str  # "const" | "account" | "arg"
    value: bytes = b""  # for "const"
    path: str = ""  # account or argument name for "account" / "arg"


@dataclass(frozen=True, slots=True)
class IdlPda:
    seeds: tuple[IdlSeed, ...]
    # None = derived under the program itself; otherwise the constant program id bytes (e.g. the ATA program).
    program: bytes | None


@dataclass(frozen=True, slots=True)
class IdlInstructionAccount:
    name: str
    writable: bool
    signer: bool
    address: str | None
    pda: IdlPda | None


@dataclass(frozen=True, slots=True)
class IdlInstruction:
    name: str
    discriminator: bytes
    accounts: tuple[IdlInstructionAccount, ...]
    args: tuple[IdlField, ...]

    def account_index(self, name: str) -> int:
        for index, account in enumerate(self.accounts):
            if account.name == name:
                return index
        raise KeyError(f"{self.name} has no account {name!r}")


@dataclass(frozen=True, slots=True)
class IdlNamedDiscriminator:
    """An account or event: a name and its 8-byte discriminator (its layout is the type of the same name)."""

    name: str
    discriminator: bytes


@dataclass(frozen=True, slots=True)
class IdlErrorCode:
    code: int
    name: str
    msg: str


@dataclass(frozen=True, slots=True)
class IdlTypeDef:
    name: str
    kind: str  # "struct" | "enum"
    fields: tuple[IdlField, ...] = ()
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Idl:
    address: str
    name: str
    instructions: tuple[IdlInstruction, ...]
    accounts: tuple[IdlNamedDiscriminator, ...]
    events: tuple[IdlNamedDiscriminator, ...]
    errors: tuple[IdlErrorCode, ...]
    types: Mapping[str, IdlTypeDef]

    def instruction(self, name: str) -> IdlInstruction:
        for instruction in self.instructions:
            if instruction.name == name:
                return instruction
        raise KeyError(f"IDL has no instruction {name!r}")

    def type_def(self, name: str) -> IdlTypeDef:
        try:
            return self.types[name]
        except KeyError:
            raise KeyError(f"IDL has no type {name!r}") from None


def parse_idl(document: str | bytes | Mapping[str, Any]) -> Idl:
    """Build an `Idl` from its JSON text or already-parsed mapping; raises `IdlError` on bad input."""
    raw: Any = json.loads(document) if isinstance(document, str | bytes) else document
    if not isinstance(raw, Mapping):
        raise IdlError("IDL must be a JSON object")
    try:
        return Idl(
            address=str(raw["address"]),
            name=str(raw.get("metadata", {}).get("name", "")),
            instructions=tuple(_parse_instruction(item) for item in raw["instructions"]),
            accounts=tuple(_parse_named(item) for item in raw.get("accounts", ())),
            events=tuple(_parse_named(item) for item in raw.get("events", ())),
            errors=tuple(
                IdlErrorCode(int(item["code"]), str(item["name"]), str(item.get("msg", "")))
                for item in raw.get("errors", ())
            ),
            types={str(item["name"]): _parse_type_def(item) for item in raw.get("types", ())},
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, IdlError):
            raise
        raise IdlError(f"malformed IDL: {exc!r}") from exc


@lru_cache(maxsize=1)
def shipped_idl() -> Idl:
    """The IDL of the deployed `ml` program, shipped in the layer as `missout/chain/idl/ml.json`."""
    text = resources.files("missout.chain").joinpath("idl/ml.json").read_text(encoding="utf-8")
    return parse_idl(text)


def _discriminator(value: Sequence[int]) -> bytes:
    data = bytes(value)
    if len(data) != 8:
        raise IdlError(f"discriminator must be 8 bytes, got {len(data)}")
    return data


def _parse_named(item: Mapping[str, Any]) -> IdlNamedDiscriminator:
    return IdlNamedDiscriminator(str(item["name"]), _discriminator(item["discriminator"]))


def _parse_instruction(item: Mapping[str, Any]) -> IdlInstruction:
    accounts = []
    for account in item["accounts"]:
        if "accounts" in account:
            # Composite account groups are flattened by Anchor on the wire; this program has none.
            raise IdlError(f"{item['name']}: nested account groups are not supported")
        accounts.append(
            IdlInstructionAccount(
                name=str(account["name"]),
                writable=bool(account.get("writable", False)),
                signer=bool(account.get("signer", False)),
                address=account.get("address"),
                pda=_parse_pda(account["pda"]) if "pda" in account else None,
            )
        )
    return IdlInstruction(
        name=str(item["name"]),
        discriminator=_discriminator(item["discriminator"]),
        accounts=tuple(accounts),
        args=tuple(IdlField(str(arg["name"]), arg["type"]) for arg in item.get("args", ())),
    )


def _parse_pda(item: Mapping[str, Any]) -> IdlPda:
    seeds = []
    for seed in item["seeds"]:
        kind = str(seed["kind"])
        if kind == "const":
            seeds.append(IdlSeed(kind, value=bytes(seed["value"])))
        elif kind in ("account", "arg"):
            if "." in str(seed["path"]):
                # A seed read from inside another account's data would need that account fetched first.
                raise IdlError(f"PDA seed path {seed['path']!r} into account data is not supported")
            seeds.append(IdlSeed(kind, path=str(seed["path"])))
        else:
            raise IdlError(f"unknown PDA seed kind {kind!r}")
    program = item.get("program")
    if program is not None and program.get("kind") != "const":
        raise IdlError("only constant PDA programs are supported")
    return IdlPda(tuple(seeds), bytes(program["value"]) if program is not None else None)


def _parse_type_def(item: Mapping[str, Any]) -> IdlTypeDef:
    body = item["type"]
    name = str(item["name"])
    if body["kind"] == "struct":
        return IdlTypeDef(
            name, "struct", fields=tuple(IdlField(str(f["name"]), f["type"]) for f in body.get("fields", ()))
        )
    if body["kind"] == "enum":
        variants = body["variants"]
        if any("fields" in variant for variant in variants):
            raise IdlError(f"enum {name}: variants with fields are not supported")
        return IdlTypeDef(name, "enum", variants=tuple(str(v["name"]) for v in variants))
    raise IdlError(f"type {name}: unsupported kind {body['kind']!r}")
