"""Borsh encoding and decoding driven by IDL type expressions.

Each IDL type is compiled once into a small `Layout` object (fixed size known up front where possible) so
that decoding thousands of Pool accounts from `getProgramAccounts` does not re-interpret the IDL each time.
Values are plain Python: int, bool, bytes ([u8; N]), `Pubkey`, list, dict (struct fields by name), int
(fieldless enum ordinal: borsh 0.10 writes the variant index, see docs/program.md §2.3) and None (Option).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from solders.pubkey import Pubkey

from missout.chain.idl import Idl, IdlError, IdlType

BorshValue: TypeAlias = (
    bool | int | str | bytes | Pubkey | list["BorshValue"] | dict[str, "BorshValue"] | None
)


class BorshError(ValueError):
    """Base class of encoding and decoding failures."""


class BorshDecodeError(BorshError):
    """The bytes do not hold a value of the expected type (too short, bad bool, unknown enum ordinal)."""


class BorshEncodeError(BorshError):
    """A Python value does not fit the IDL type (wrong kind, out of range, wrong length)."""


class Layout:
    """A compiled IDL type: knows its encoded size (if fixed) and how to read and write it."""

    size: int | None = None

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        raise NotImplementedError

    def encode(self, value: BorshValue, out: bytearray) -> None:
        raise NotImplementedError


def _need(data: bytes | memoryview, offset: int, size: int) -> None:
    if offset + size > len(data):
        raise BorshDecodeError(f"need {size} bytes at offset {offset}, only {len(data) - offset} left")


class _IntLayout(Layout):
    def __init__(self, size: int, signed: bool) -> None:
        self.size = size
        self._signed = signed
        bits = size * 8
        self._min = -(1 << (bits - 1)) if signed else 0
        self._max = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        size = self.size or 0
        _need(data, offset, size)
        chunk = bytes(data[offset : offset + size])
        return int.from_bytes(chunk, "little", signed=self._signed), offset + size

    def encode(self, value: BorshValue, out: bytearray) -> None:
        # bool is an int subclass; accepting it here would hide a wrong field mapping.
        if not isinstance(value, int) or isinstance(value, bool):
            raise BorshEncodeError(f"expected int, got {type(value).__name__}")
        if not self._min <= value <= self._max:
            raise BorshEncodeError(f"{value} out of range [{self._min}, {self._max}]")
        out += value.to_bytes(self.size or 0, "little", signed=self._signed)


class _BoolLayout(Layout):
    size = 1

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        _need(data, offset, 1)
        byte = data[offset]
        if byte > 1:
            # Anchor rejects such arguments (error 102); never read them as "true".
            raise BorshDecodeError(f"invalid bool byte {byte}")
        return byte == 1, offset + 1

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, bool):
            raise BorshEncodeError(f"expected bool, got {type(value).__name__}")
        out.append(1 if value else 0)


class _PubkeyLayout(Layout):
    size = 32

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        _need(data, offset, 32)
        return Pubkey.from_bytes(bytes(data[offset : offset + 32])), offset + 32

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, Pubkey):
            raise BorshEncodeError(f"expected Pubkey, got {type(value).__name__}")
        out += bytes(value)


class _ByteArrayLayout(Layout):
    """`[u8; N]` is kept as `bytes` (salts, hashes) rather than a list of ints."""

    def __init__(self, length: int) -> None:
        self.size = length

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        size = self.size or 0
        _need(data, offset, size)
        return bytes(data[offset : offset + size]), offset + size

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, bytes) or len(value) != self.size:
            raise BorshEncodeError(f"expected {self.size} bytes")
        out += value


class _ArrayLayout(Layout):
    def __init__(self, item: Layout, length: int) -> None:
        self._item = item
        self._length = length
        self.size = item.size * length if item.size is not None else None

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        items: list[BorshValue] = []
        for _ in range(self._length):
            value, offset = self._item.decode(data, offset)
            items.append(value)
        return items, offset

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, list) or len(value) != self._length:
            raise BorshEncodeError(f"expected a list of {self._length} items")
        for item in value:
            self._item.encode(item, out)


class _VecLayout(Layout):
    def __init__(self, item: Layout) -> None:
        self._item = item

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        _need(data, offset, 4)
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if self._item.size:
            # Reject absurd lengths before allocating: the bytes must actually be there.
            _need(data, offset, length * self._item.size)
        items: list[BorshValue] = []
        for _ in range(length):
            value, offset = self._item.decode(data, offset)
            items.append(value)
        return items, offset

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, list):
            raise BorshEncodeError("expected a list")
        out += struct.pack("<I", len(value))
        for item in value:
            self._item.encode(item, out)


class _StringLayout(Layout):
    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        _need(data, offset, 4)
        (length,) = struct.unpack_from("<I", data, offset)
        _need(data, offset + 4, length)
        raw = bytes(data[offset + 4 : offset + 4 + length])
        try:
            return raw.decode("utf-8"), offset + 4 + length
        except UnicodeDecodeError as exc:
            raise BorshDecodeError("string is not UTF-8") from exc

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, str):
            raise BorshEncodeError("expected str")
        raw = value.encode("utf-8")
        out += struct.pack("<I", len(raw)) + raw


class _OptionLayout(Layout):
    def __init__(self, item: Layout) -> None:
        self._item = item

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        _need(data, offset, 1)
        tag = data[offset]
        if tag == 0:
            return None, offset + 1
        if tag != 1:
            raise BorshDecodeError(f"invalid Option tag {tag}")
        return self._item.decode(data, offset + 1)

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if value is None:
            out.append(0)
            return
        out.append(1)
        self._item.encode(value, out)


class _EnumLayout(Layout):
    """Fieldless enum: one byte holding the variant's position in the IDL."""

    size = 1

    def __init__(self, name: str, variant_count: int) -> None:
        self._name = name
        self._count = variant_count

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        _need(data, offset, 1)
        ordinal = data[offset]
        if ordinal >= self._count:
            raise BorshDecodeError(f"{self._name}: unknown variant ordinal {ordinal}")
        return ordinal, offset + 1

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < self._count:
            raise BorshEncodeError(f"{self._name}: invalid variant {value!r}")
        out.append(value)


@dataclass(frozen=True, slots=True)
class StructField:
    name: str
    layout: Layout
    offset: int | None  # from the start of the struct; None once a variable-size field came before


class StructLayout(Layout):
    def __init__(self, name: str, fields: tuple[tuple[str, Layout], ...]) -> None:
        self.name = name
        placed: list[StructField] = []
        offset: int | None = 0
        for field_name, layout in fields:
            placed.append(StructField(field_name, layout, offset))
            offset = offset + layout.size if offset is not None and layout.size is not None else None
        self.fields = tuple(placed)
        self.size = offset

    def decode(self, data: bytes | memoryview, offset: int) -> tuple[BorshValue, int]:
        values: dict[str, BorshValue] = {}
        for field in self.fields:
            values[field.name], offset = field.layout.decode(data, offset)
        return values, offset

    def encode(self, value: BorshValue, out: bytearray) -> None:
        if not isinstance(value, Mapping):
            raise BorshEncodeError(f"{self.name}: expected a mapping of fields")
        missing = [field.name for field in self.fields if field.name not in value]
        if missing:
            raise BorshEncodeError(f"{self.name}: missing fields {missing}")
        for field in self.fields:
            try:
                field.layout.encode(value[field.name], out)
            except BorshEncodeError as exc:
                raise BorshEncodeError(f"{self.name}.{field.name}: {exc}") from None

    def decode_struct(self, data: bytes | memoryview, offset: int = 0) -> dict[str, BorshValue]:
        values, _ = self.decode(data, offset)
        assert isinstance(values, dict)
        return values


_INTEGERS: dict[str, tuple[int, bool]] = {
    "u8": (1, False),
    "i8": (1, True),
    "u16": (2, False),
    "i16": (2, True),
    "u32": (4, False),
    "i32": (4, True),
    "u64": (8, False),
    "i64": (8, True),
    "u128": (16, False),
    "i128": (16, True),
}


class LayoutCompiler:
    """Compiles IDL type expressions of one IDL, resolving `defined` names (cached per name)."""

    def __init__(self, idl: Idl) -> None:
        self._idl = idl
        self._defined: dict[str, Layout] = {}

    def compile(self, idl_type: IdlType) -> Layout:
        if isinstance(idl_type, str):
            return self._primitive(idl_type)
        if "array" in idl_type:
            item_type, length = idl_type["array"]
            if not isinstance(length, int):
                raise IdlError(f"array length must be a literal integer: {idl_type!r}")
            if item_type == "u8":
                return _ByteArrayLayout(length)
            return _ArrayLayout(self.compile(item_type), length)
        if "vec" in idl_type:
            return _VecLayout(self.compile(idl_type["vec"]))
        if "option" in idl_type:
            return _OptionLayout(self.compile(idl_type["option"]))
        if "defined" in idl_type:
            defined = idl_type["defined"]
            return self.compile_defined(defined["name"] if isinstance(defined, Mapping) else str(defined))
        raise IdlError(f"unsupported IDL type {idl_type!r}")

    def compile_defined(self, name: str) -> Layout:
        cached = self._defined.get(name)
        if cached is not None:
            return cached
        type_def = self._idl.type_def(name)
        layout: Layout
        if type_def.kind == "enum":
            layout = _EnumLayout(name, len(type_def.variants))
        else:
            layout = StructLayout(name, tuple((f.name, self.compile(f.type)) for f in type_def.fields))
        self._defined[name] = layout
        return layout

    def compile_struct(self, name: str) -> StructLayout:
        layout = self.compile_defined(name)
        if not isinstance(layout, StructLayout):
            raise IdlError(f"{name} is not a struct")
        return layout

    @staticmethod
    def _primitive(name: str) -> Layout:
        if name in _INTEGERS:
            size, signed = _INTEGERS[name]
            return _IntLayout(size, signed)
        if name == "bool":
            return _BoolLayout()
        if name == "pubkey":
            return _PubkeyLayout()
        if name == "string":
            return _StringLayout()
        if name == "bytes":
            return _VecLayout(_IntLayout(1, False))
        raise IdlError(f"unsupported primitive type {name!r}")
