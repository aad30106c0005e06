"""`ProgramCodec`: the `ml` program's wire format, built from any Anchor IDL.

One codec per IDL. `shipped_codec()` is the deployed program's (lazily built, cached); `codec_from_idl()`
builds one from another IDL document (tests load the seed-era IDL this way). The typed layers
(`accounts`, `instructions`, `instruction_decoding`, `events`) sit on top of the generic, name-based methods
here, so a program upgrade that only moves fields or accounts is absorbed by swapping the IDL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from missout.chain.borsh import BorshDecodeError, BorshValue, LayoutCompiler, StructLayout
from missout.chain.idl import Idl, IdlInstruction, IdlPda, parse_idl, shipped_idl

DISCRIMINATOR_SIZE = 8


class AccountDecodeError(ValueError):
    """Account data is not the named account (wrong discriminator or size, undecodable contents)."""


class InstructionDecodeError(ValueError):
    """Instruction data or accounts cannot be read as an instruction of this program."""


class WrongProgramError(InstructionDecodeError):
    """The instruction targets another program."""


class UnknownInstructionError(InstructionDecodeError):
    """The first 8 bytes match no instruction of the IDL (Anchor would fail with error 101)."""


class MalformedInstructionError(InstructionDecodeError):
    """Data too short or arguments undecodable (Anchor error 102), or fewer accounts than the IDL lists."""


class AccountResolutionError(ValueError):
    """An instruction account was neither given, nor fixed in the IDL, nor derivable as a PDA."""


@dataclass(frozen=True, slots=True)
class DecodedInstruction:
    """An instruction read back by IDL position: account keys and arguments by name."""

    name: str
    accounts: Mapping[str, Pubkey]
    args: Mapping[str, BorshValue]
    # Accounts beyond the IDL list (Anchor passes them as `remaining_accounts`; this program ignores them).
    remaining_accounts: tuple[Pubkey, ...] = ()


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    name: str
    fields: Mapping[str, BorshValue]


class ProgramCodec:
    def __init__(self, idl: Idl) -> None:
        self.idl = idl
        compiler = LayoutCompiler(idl)
        self._account_layouts = {a.name: compiler.compile_struct(a.name) for a in idl.accounts}
        self._account_discriminators = {a.name: a.discriminator for a in idl.accounts}
        self._event_layouts = {e.discriminator: (e.name, compiler.compile_struct(e.name)) for e in idl.events}
        self._instructions_by_discriminator = {i.discriminator: i for i in idl.instructions}
        self._arg_layouts = {
            i.name: StructLayout(i.name, tuple((a.name, compiler.compile(a.type)) for a in i.args))
            for i in idl.instructions
        }

    @property
    def default_program_id(self) -> Pubkey:
        """The `address` in the IDL; deployments pass their own id through `ProgramConfig`."""
        return Pubkey.from_string(self.idl.address)

    # -- accounts -------------------------------------------------------------------------------------

    def account_discriminator(self, name: str) -> bytes:
        return self._account_discriminators[name]

    def account_size(self, name: str) -> int:
        """Total bytes of a fixed-layout account, discriminator included."""
        size = self._account_layouts[name].size
        if size is None:
            raise ValueError(f"account {name} has no fixed size")
        return DISCRIMINATOR_SIZE + size

    def field_offsets(self, name: str) -> dict[str, int]:
        """Byte offset of each top-level field of a fixed-layout account, discriminator included."""
        return {
            field.name: DISCRIMINATOR_SIZE + field.offset
            for field in self._account_layouts[name].fields
            if field.offset is not None
        }

    def decode_account(self, name: str, data: bytes) -> dict[str, BorshValue]:
        expected_size = self.account_size(name)
        if len(data) != expected_size:
            raise AccountDecodeError(f"{name}: expected {expected_size} bytes, got {len(data)}")
        if data[:DISCRIMINATOR_SIZE] != self._account_discriminators[name]:
            raise AccountDecodeError(f"{name}: wrong discriminator {data[:DISCRIMINATOR_SIZE].hex()}")
        try:
            return self._account_layouts[name].decode_struct(data, DISCRIMINATOR_SIZE)
        except BorshDecodeError as exc:
            raise AccountDecodeError(f"{name}: {exc}") from exc

    def encode_account(self, name: str, values: Mapping[str, BorshValue]) -> bytes:
        out = bytearray(self._account_discriminators[name])
        self._account_layouts[name].encode(dict(values), out)
        return bytes(out)

    # -- instructions ---------------------------------------------------------------------------------

    def instruction_data(self, name: str, args: Mapping[str, BorshValue]) -> bytes:
        out = bytearray(self.idl.instruction(name).discriminator)
        self._arg_layouts[name].encode(dict(args), out)
        return bytes(out)

    def build_instruction(
        self,
        name: str,
        program_id: Pubkey,
        accounts: Mapping[str, Pubkey],
        args: Mapping[str, BorshValue] | None = None,
    ) -> Instruction:
        """Instruction with `AccountMeta`s in IDL order; accounts not given come from the IDL's fixed
        addresses or are derived from its PDA seeds (which may refer to other accounts and to args)."""
        definition = self.idl.instruction(name)
        arguments = dict(args or {})
        keys = self._resolve_accounts(definition, program_id, accounts, arguments)
        metas = [
            AccountMeta(keys[account.name], is_signer=account.signer, is_writable=account.writable)
            for account in definition.accounts
        ]
        return Instruction(program_id, self.instruction_data(name, arguments), metas)

    def decode_instruction(
        self, program_id: Pubkey, expected_program_id: Pubkey, account_keys: Sequence[Pubkey], data: bytes
    ) -> DecodedInstruction:
        """Read an instruction (its program id, its own account keys in order, its data) by the IDL.

        Trailing data after the arguments is ignored, as the program's streaming Borsh read does.
        """
        if program_id != expected_program_id:
            raise WrongProgramError(f"instruction targets {program_id}, not {expected_program_id}")
        if len(data) < DISCRIMINATOR_SIZE:
            raise MalformedInstructionError(f"instruction data is {len(data)} bytes, shorter than 8")
        definition = self._instructions_by_discriminator.get(bytes(data[:DISCRIMINATOR_SIZE]))
        if definition is None:
            raise UnknownInstructionError(f"unknown discriminator {bytes(data[:8]).hex()}")
        if len(account_keys) < len(definition.accounts):
            raise MalformedInstructionError(
                f"{definition.name} needs {len(definition.accounts)} accounts, got {len(account_keys)}"
            )
        try:
            args = self._arg_layouts[definition.name].decode_struct(data, DISCRIMINATOR_SIZE)
        except BorshDecodeError as exc:
            raise MalformedInstructionError(f"{definition.name}: {exc}") from exc
        named = {account.name: account_keys[i] for i, account in enumerate(definition.accounts)}
        return DecodedInstruction(
            definition.name, named, args, tuple(account_keys[len(definition.accounts) :])
        )

    # -- events ---------------------------------------------------------------------------------------

    def decode_event(self, data: bytes) -> DecodedEvent | None:
        """Decode `discriminator ‖ borsh(event)`; None for a discriminator this IDL does not define."""
        entry = self._event_layouts.get(bytes(data[:DISCRIMINATOR_SIZE]))
        if entry is None:
            return None
        name, layout = entry
        try:
            return DecodedEvent(name, layout.decode_struct(data, DISCRIMINATOR_SIZE))
        except BorshDecodeError as exc:
            raise AccountDecodeError(f"event {name}: {exc}") from exc

    def encode_event(self, name: str, fields: Mapping[str, BorshValue]) -> bytes:
        for discriminator, (event_name, layout) in self._event_layouts.items():
            if event_name == name:
                out = bytearray(discriminator)
                layout.encode(dict(fields), out)
                return bytes(out)
        raise KeyError(f"IDL has no event {name!r}")

    # -- account resolution ---------------------------------------------------------------------------

    def _resolve_accounts(
        self,
        definition: IdlInstruction,
        program_id: Pubkey,
        given: Mapping[str, Pubkey],
        args: Mapping[str, BorshValue],
    ) -> dict[str, Pubkey]:
        known = {name: key for name, key in given.items()}
        unknown = [a.name for a in definition.accounts if a.name not in known]
        unexpected = set(given) - {a.name for a in definition.accounts}
        if unexpected:
            raise AccountResolutionError(f"{definition.name} has no accounts {sorted(unexpected)}")
        # PDAs may depend on each other (the vault on the pool, the pool on mint + salt): iterate to a
        # fixed point rather than relying on IDL order.
        progress = True
        while unknown and progress:
            progress = False
            for account in definition.accounts:
                if account.name in known:
                    continue
                key = None
                if account.address is not None:
                    key = Pubkey.from_string(account.address)
                elif account.pda is not None:
                    key = self._derive(account.pda, program_id, known, args)
                if key is not None:
                    known[account.name] = key
                    unknown.remove(account.name)
                    progress = True
        if unknown:
            raise AccountResolutionError(f"{definition.name}: cannot resolve accounts {unknown}")
        return known

    def _derive(
        self,
        pda: IdlPda,
        program_id: Pubkey,
        known: Mapping[str, Pubkey],
        args: Mapping[str, BorshValue],
    ) -> Pubkey | None:
        seeds: list[bytes] = []
        for seed in pda.seeds:
            if seed.kind == "const":
                seeds.append(seed.value)
            elif seed.kind == "account":
                if seed.path not in known:
                    return None
                seeds.append(bytes(known[seed.path]))
            else:
                # Only byte-string arguments (the pool salt) are used as seeds by this program.
                value = args.get(seed.path)
                if not isinstance(value, bytes | Pubkey):
                    return None
                seeds.append(bytes(value))
        owner = Pubkey.from_bytes(pda.program) if pda.program is not None else program_id
        address, _bump = Pubkey.find_program_address(seeds, owner)
        return address


def codec_from_idl(document: str | bytes | Mapping[str, Any]) -> ProgramCodec:
    """A codec for any IDL document (JSON text or parsed mapping)."""
    return ProgramCodec(parse_idl(document))


@lru_cache(maxsize=1)
def shipped_codec() -> ProgramCodec:
    """The codec of the deployed program (IDL shipped in the layer), built on first use."""
    return ProgramCodec(shipped_idl())
