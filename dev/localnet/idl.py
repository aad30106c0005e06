"""The local chain's own reading of the pool program's Anchor IDL (never the backend's codec: two independent
readings of the same JSON catch each other's mistakes).

Usage::

    from localnet.idl import load_idl

    idl = load_idl()                                   # layers/shared/missout/chain/idl/ml.json
    data = idl.encode_instruction("join_pool", {"amount": 20_000_000})
    ix = idl.instruction("join_pool")
    for meta in ix.accounts:                           # wire order
        meta.name, meta.writable, meta.signer, meta.address, meta.pda
    pool = idl.find_pda(ix, "participants", {"pool": pool_key}, {})   # PDA from the IDL's seeds
    name, args = idl.decode_instruction(data)
    pool_fields = idl.decode_account("Pool", account_bytes)           # dict, field name -> value
    event_bytes = idl.encode_event("UIHint", {"pool_id": key, "hint": "ReachedMax"})

Values: integers are `int`, `bool` is `bool`, `pubkey` is `solders.pubkey.Pubkey`, `[u8; N]` is `bytes`, other
arrays and vecs are lists, defined structs are dicts, unit-variant enums are the variant name (an `int`
ordinal is accepted when encoding: Borsh writes the ordinal, see docs/program.md §2.3).
Every discriminator in the file is recomputed (`sha256("global:<name>")`, `"account:<Name>"`,
`"event:<Name>"`, first 8 bytes) and a mismatch refuses to load.
Decoding reads like Anchor: a streaming Borsh read that ignores trailing bytes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solders.pubkey import Pubkey

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IDL_PATH = REPO_ROOT / "layers" / "shared" / "missout" / "chain" / "idl" / "ml.json"

_INTS: dict[str, tuple[str, int]] = {
    "u8": ("<B", 1),
    "i8": ("<b", 1),
    "u16": ("<H", 2),
    "i16": ("<h", 2),
    "u32": ("<I", 4),
    "i32": ("<i", 4),
    "u64": ("<Q", 8),
    "i64": ("<q", 8),
}
_WIDE_INTS: dict[str, bool] = {"u128": False, "i128": True}


class IdlDecodeError(ValueError):
    """Bytes that do not decode as the IDL says (too short, bad bool, unknown enum variant...)."""


def discriminator(namespace: str, name: str) -> bytes:
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


def pascal_case(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


@dataclass(frozen=True)
class PdaSeed:
    kind: str  # "const" | "account" | "arg"
    value: bytes = b""  # for "const"
    path: str = ""  # account or argument name for "account" / "arg"


@dataclass(frozen=True)
class PdaSpec:
    seeds: tuple[PdaSeed, ...]
    program: Pubkey | None  # None: the IDL's own program


@dataclass(frozen=True)
class AccountMeta:
    name: str
    writable: bool
    signer: bool
    address: Pubkey | None
    pda: PdaSpec | None
    relations: tuple[str, ...]


@dataclass(frozen=True)
class IdlInstruction:
    name: str
    discriminator: bytes
    accounts: tuple[AccountMeta, ...]
    args: tuple[tuple[str, Any], ...]  # (name, IDL type) in order

    @property
    def pascal_name(self) -> str:
        """The name Anchor logs: `Program log: Instruction: <PascalName>`."""
        return pascal_case(self.name)

    def account_index(self, name: str) -> int:
        for index, meta in enumerate(self.accounts):
            if meta.name == name:
                return index
        raise KeyError(f"{self.name} has no account {name!r}")


@dataclass(frozen=True)
class IdlErrorCode:
    code: int
    name: str
    msg: str


def _parse_pda(raw: dict[str, Any]) -> PdaSpec:
    seeds = []
    for seed in raw["seeds"]:
        if seed["kind"] == "const":
            seeds.append(PdaSeed("const", value=bytes(seed["value"])))
        else:
            seeds.append(PdaSeed(seed["kind"], path=seed["path"]))
    program = raw.get("program")
    program_key = None
    if program is not None:
        if program["kind"] != "const":
            raise ValueError(f"unsupported PDA program seed {program}")
        program_key = Pubkey.from_bytes(bytes(program["value"]))
    return PdaSpec(tuple(seeds), program_key)


def _parse_account_meta(raw: dict[str, Any]) -> AccountMeta:
    if "accounts" in raw:
        raise ValueError(f"nested account groups are not supported ({raw['name']})")
    address = raw.get("address")
    return AccountMeta(
        name=raw["name"],
        writable=bool(raw.get("writable", False)),
        signer=bool(raw.get("signer", False)),
        address=Pubkey.from_string(address) if address else None,
        pda=_parse_pda(raw["pda"]) if "pda" in raw else None,
        relations=tuple(raw.get("relations", ())),
    )


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        end = self.offset + size
        if end > len(self.data):
            raise IdlDecodeError(
                f"need {size} bytes at offset {self.offset}, have {len(self.data) - self.offset}"
            )
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk


class Idl:
    """One parsed Anchor IDL (spec 0.1.0) with its Borsh codec."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.address = Pubkey.from_string(raw["address"])
        self.name: str = raw["metadata"]["name"]
        self.types: dict[str, dict[str, Any]] = {
            entry["name"]: entry["type"] for entry in raw.get("types", [])
        }
        self.instructions: dict[str, IdlInstruction] = {}
        for entry in raw["instructions"]:
            ix = IdlInstruction(
                name=entry["name"],
                discriminator=bytes(entry["discriminator"]),
                accounts=tuple(_parse_account_meta(meta) for meta in entry["accounts"]),
                args=tuple((arg["name"], arg["type"]) for arg in entry["args"]),
            )
            _check_discriminator("global", ix.name, ix.discriminator)
            self.instructions[ix.name] = ix
        self.account_discriminators = self._named_discriminators("accounts", "account")
        self.event_discriminators = self._named_discriminators("events", "event")
        self.errors_by_name = {
            e["name"]: IdlErrorCode(e["code"], e["name"], e.get("msg", "")) for e in raw["errors"]
        }
        self.errors_by_code = {error.code: error for error in self.errors_by_name.values()}
        self._instruction_by_discriminator = {ix.discriminator: ix for ix in self.instructions.values()}
        self._event_by_discriminator = {disc: name for name, disc in self.event_discriminators.items()}

    def _named_discriminators(self, section: str, namespace: str) -> dict[str, bytes]:
        found = {}
        for entry in self.raw.get(section, []):
            disc = bytes(entry["discriminator"])
            _check_discriminator(namespace, entry["name"], disc)
            found[entry["name"]] = disc
        return found

    # -- instructions -----------------------------------------------------------------------------------

    def instruction(self, name: str) -> IdlInstruction:
        return self.instructions[name]

    def instruction_for(self, data: bytes) -> IdlInstruction | None:
        """The instruction whose discriminator starts `data` (None: Anchor's 101 fallback case)."""
        return self._instruction_by_discriminator.get(bytes(data[:8]))

    def encode_instruction(self, name: str, args: dict[str, Any]) -> bytes:
        ix = self.instructions[name]
        missing = [arg for arg, _type in ix.args if arg not in args]
        if missing:
            raise KeyError(f"{name}: missing arguments {missing}")
        return ix.discriminator + b"".join(self.encode_type(type_, args[arg]) for arg, type_ in ix.args)

    def decode_instruction(self, data: bytes) -> tuple[str, dict[str, Any]]:
        ix = self.instruction_for(data)
        if ix is None:
            raise IdlDecodeError(f"unknown instruction discriminator {bytes(data[:8]).hex()}")
        return ix.name, self.decode_args(ix, data)

    def decode_args(self, ix: IdlInstruction, data: bytes) -> dict[str, Any]:
        reader = _Reader(bytes(data[8:]))
        return {arg: self._read(type_, reader) for arg, type_ in ix.args}

    def find_pda(
        self,
        ix: IdlInstruction,
        account: str,
        accounts: dict[str, Pubkey],
        args: dict[str, Any],
    ) -> tuple[Pubkey, int]:
        """(address, bump) of the PDA `account` of `ix`, from its IDL seeds, the other accounts and args."""
        meta = ix.accounts[ix.account_index(account)]
        if meta.pda is None:
            raise KeyError(f"{ix.name}.{account} is not a PDA")
        arg_types = dict(ix.args)
        seeds: list[bytes] = []
        for seed in meta.pda.seeds:
            if seed.kind == "const":
                seeds.append(seed.value)
            elif seed.kind == "account":
                seeds.append(bytes(accounts[seed.path]))
            else:
                seeds.append(self.encode_type(arg_types[seed.path], args[seed.path]))
        return Pubkey.find_program_address(seeds, meta.pda.program or self.address)

    # -- accounts and events ------------------------------------------------------------------------------

    def encode_account(self, name: str, value: dict[str, Any]) -> bytes:
        return self.account_discriminators[name] + self.encode_type({"defined": {"name": name}}, value)

    def decode_account(self, name: str, data: bytes) -> dict[str, Any]:
        if bytes(data[:8]) != self.account_discriminators[name]:
            raise IdlDecodeError(f"not a {name} account (discriminator {bytes(data[:8]).hex()})")
        decoded: dict[str, Any] = self._read({"defined": {"name": name}}, _Reader(bytes(data[8:])))
        return decoded

    def encode_event(self, name: str, value: dict[str, Any]) -> bytes:
        return self.event_discriminators[name] + self.encode_type({"defined": {"name": name}}, value)

    def decode_event(self, data: bytes) -> tuple[str, dict[str, Any]]:
        name = self._event_by_discriminator.get(bytes(data[:8]))
        if name is None:
            raise IdlDecodeError(f"unknown event discriminator {bytes(data[:8]).hex()}")
        decoded: dict[str, Any] = self._read({"defined": {"name": name}}, _Reader(bytes(data[8:])))
        return name, decoded

    def error(self, name: str) -> IdlErrorCode:
        return self.errors_by_name[name]

    def enum_variants(self, name: str) -> list[str]:
        return [variant["name"] for variant in self.types[name]["variants"]]

    # -- Borsh --------------------------------------------------------------------------------------------

    def encode_type(self, type_: Any, value: Any) -> bytes:
        if isinstance(type_, str):
            return _encode_primitive(type_, value)
        if "array" in type_:
            inner, length = type_["array"]
            if inner == "u8":
                raw = bytes(value)
                if len(raw) != length:
                    raise ValueError(f"expected {length} bytes, got {len(raw)}")
                return raw
            items = list(value)
            if len(items) != length:
                raise ValueError(f"expected {length} items, got {len(items)}")
            return b"".join(self.encode_type(inner, item) for item in items)
        if "vec" in type_:
            items = list(value)
            return struct.pack("<I", len(items)) + b"".join(self.encode_type(type_["vec"], i) for i in items)
        if "option" in type_:
            return b"\x00" if value is None else b"\x01" + self.encode_type(type_["option"], value)
        if "defined" in type_:
            return self._encode_defined(type_["defined"]["name"], value)
        raise ValueError(f"unsupported IDL type {type_}")

    def _encode_defined(self, name: str, value: Any) -> bytes:
        definition = self.types[name]
        if definition["kind"] == "struct":
            return b"".join(
                self.encode_type(field["type"], value[field["name"]]) for field in definition["fields"]
            )
        if definition["kind"] == "enum":
            variants = [variant["name"] for variant in definition["variants"]]
            if any("fields" in variant for variant in definition["variants"]):
                raise ValueError(f"enum {name} has data variants (not supported)")
            ordinal = value if isinstance(value, int) else variants.index(value)
            if not 0 <= ordinal < len(variants):
                raise ValueError(f"{name} has no variant {value!r}")
            return bytes([ordinal])
        raise ValueError(f"unsupported kind {definition['kind']} for {name}")

    def _read(self, type_: Any, reader: _Reader) -> Any:
        if isinstance(type_, str):
            return _read_primitive(type_, reader)
        if "array" in type_:
            inner, length = type_["array"]
            if inner == "u8":
                return reader.take(length)
            return [self._read(inner, reader) for _ in range(length)]
        if "vec" in type_:
            (count,) = struct.unpack("<I", reader.take(4))
            return [self._read(type_["vec"], reader) for _ in range(count)]
        if "option" in type_:
            tag = reader.take(1)[0]
            if tag > 1:
                raise IdlDecodeError(f"invalid option tag {tag}")
            return self._read(type_["option"], reader) if tag else None
        if "defined" in type_:
            name = type_["defined"]["name"]
            definition = self.types[name]
            if definition["kind"] == "struct":
                return {field["name"]: self._read(field["type"], reader) for field in definition["fields"]}
            ordinal = reader.take(1)[0]
            variants = definition["variants"]
            if ordinal >= len(variants):
                raise IdlDecodeError(f"{name} has no variant {ordinal}")
            return variants[ordinal]["name"]
        raise ValueError(f"unsupported IDL type {type_}")


def _encode_primitive(type_: str, value: Any) -> bytes:
    if type_ in _INTS:
        return struct.pack(_INTS[type_][0], value)
    if type_ in _WIDE_INTS:
        return int(value).to_bytes(16, "little", signed=_WIDE_INTS[type_])
    if type_ == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"bool expected, got {value!r}")
        return b"\x01" if value else b"\x00"
    if type_ == "pubkey":
        return bytes(value if isinstance(value, Pubkey) else Pubkey.from_string(value))
    if type_ in ("string", "bytes"):
        raw = value.encode() if type_ == "string" else bytes(value)
        return struct.pack("<I", len(raw)) + raw
    raise ValueError(f"unsupported IDL type {type_}")


def _read_primitive(type_: str, reader: _Reader) -> Any:
    if type_ in _INTS:
        fmt, size = _INTS[type_]
        return struct.unpack(fmt, reader.take(size))[0]
    if type_ in _WIDE_INTS:
        return int.from_bytes(reader.take(16), "little", signed=_WIDE_INTS[type_])
    if type_ == "bool":
        byte = reader.take(1)[0]
        if byte > 1:
            raise IdlDecodeError(f"invalid bool byte {byte}")
        return byte == 1
    if type_ == "pubkey":
        return Pubkey.from_bytes(reader.take(32))
    if type_ in ("string", "bytes"):
        (length,) = struct.unpack("<I", reader.take(4))
        raw = reader.take(length)
        return raw.decode() if type_ == "string" else raw
    raise ValueError(f"unsupported IDL type {type_}")


def _check_discriminator(namespace: str, name: str, declared: bytes) -> None:
    computed = discriminator(namespace, name)
    if computed != declared:
        raise ValueError(
            f"IDL discriminator of {namespace}:{name} is {declared.hex()}, expected {computed.hex()}"
        )


def load_idl(path: Path | str | None = None) -> Idl:
    """Parse an IDL file (default: the repository's copy of the ml IDL). The default one is cached."""
    if path is None:
        return _default_idl()
    return Idl(json.loads(Path(path).read_text(encoding="utf-8")))


@functools.cache
def _default_idl() -> Idl:
    return Idl(json.loads(DEFAULT_IDL_PATH.read_text(encoding="utf-8")))
