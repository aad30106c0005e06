"""The parts of Anchor 0.31 the pool program relies on, modelled: account loading and constraint order, error
codes and their log lines, and writing the program's accounts back on exit.

Validation order (docs/program.md §3.0): (1) args; (2) every non-init account is loaded in list order (type
checks: 3012/3007/3002, signers 3010, system accounts 3011, programs 3008, sysvars 3015); (3) init accounts,
in list order; (4) per non-init account in list order: seeds (2006) -> mut (2000) -> the declared checks
(`has_one`, raw constraints, `close`, `address`, written in that order by each instruction's spec).
Names, writable/signer flags, fixed addresses and PDA seeds come from the IDL; the account *types* (which the
IDL does not carry) come from the `Spec` each instruction declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto
from typing import NoReturn

from solders.pubkey import Pubkey

from localnet.idl import Idl, IdlDecodeError, IdlInstruction
from localnet.model_api import AccountState, InvokeContext, ProgramError
from localnet.programs.pool_state import (
    Participants,
    Pool,
    decode_participants,
    decode_pool,
    encode_participants,
    encode_pool,
)
from localnet.programs.system import SYSTEM_PROGRAM_ID
from localnet.spl_token import (
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAMS,
    Mint,
    TokenAccount,
    TokenAccountState,
    unpack_mint,
    unpack_token_account,
)

# Anchor framework errors the model can raise: name -> (code, message), from anchor-lang 0.31 `ErrorCode`.
FRAMEWORK_ERRORS: dict[str, tuple[int, str]] = {
    "InstructionFallbackNotFound": (101, "Fallback functions are not supported"),
    "InstructionDidNotDeserialize": (102, "The program could not deserialize the given instruction"),
    "ConstraintMut": (2000, "A mut constraint was violated"),
    "ConstraintHasOne": (2001, "A has one constraint was violated"),
    "ConstraintRaw": (2003, "A raw constraint was violated"),
    "ConstraintRentExempt": (2005, "A rent exemption constraint was violated"),
    "ConstraintSeeds": (2006, "A seeds constraint was violated"),
    "ConstraintClose": (2011, "A close constraint was violated"),
    "ConstraintAddress": (2012, "An address constraint was violated"),
    "ConstraintTokenMint": (2014, "A token mint constraint was violated"),
    "ConstraintTokenOwner": (2015, "A token owner constraint was violated"),
    "ConstraintSpace": (2019, "A space constraint was violated"),
    "ConstraintTokenTokenProgram": (2023, "A token account token program constraint was violated"),
    "AccountDiscriminatorNotFound": (3001, "No discriminator was found on the account"),
    "AccountDiscriminatorMismatch": (3002, "Account discriminator did not match what was expected"),
    "AccountDidNotDeserialize": (3003, "Failed to deserialize the account"),
    "AccountNotEnoughKeys": (3005, "Not enough account keys given to the instruction"),
    "AccountOwnedByWrongProgram": (3007, "The given account is owned by a different program than expected"),
    "InvalidProgramId": (3008, "Program ID was not as expected"),
    "AccountNotSigner": (3010, "The given account did not sign"),
    "AccountNotSystemOwned": (3011, "The given account is not owned by the system program"),
    "AccountNotInitialized": (3012, "The program expected this account to be already initialized"),
    "AccountNotAssociatedTokenAccount": (3014, "The given account is not the associated token account"),
    "AccountSysvarMismatch": (3015, "The given public key does not match the required sysvar"),
}


class AccountKind(Enum):
    POOL = auto()  # Account<'info, Pool>
    PARTICIPANTS = auto()  # Account<'info, Participants>
    MINT = auto()  # InterfaceAccount<'info, Mint>
    TOKEN = auto()  # InterfaceAccount<'info, TokenAccount>
    SIGNER = auto()  # Signer<'info>
    SYSTEM = auto()  # SystemAccount<'info>
    TOKEN_PROGRAM = auto()  # Interface<'info, TokenInterface>
    PROGRAM = auto()  # Program<'info, T>: key must be the IDL address
    SYSVAR = auto()  # Sysvar<'info, T>: key must be the IDL address
    UNCHECKED = auto()  # UncheckedAccount / AccountInfo
    INIT = auto()  # init / init_if_needed: handled by `Spec.init` in step (3)


Check = Callable[["Frame"], None]


@dataclass(frozen=True)
class Spec:
    """How one account of an instruction is typed and constrained (beyond what the IDL says)."""

    kind: AccountKind
    checks: tuple[Check, ...] = ()
    init: Check | None = None


def anchor_error(
    name: str, code: int, message: str, *, account: str | None, origin: str | None
) -> ProgramError:
    """The error and the log line Anchor writes for it (`... caused by account: <name>` for constraint
    failures, `... thrown in <file>` for handler errors, `... occurred` for dispatch errors)."""
    where = "occurred"
    if account:
        where = f"caused by account: {account}"
    elif origin:
        where = f"thrown in {origin}"
    return ProgramError(
        custom=code,
        log=f"AnchorError {where}. Error Code: {name}. Error Number: {code}. Error Message: {message}.",
    )


class Frame:
    """One running instruction: the context, its decoded args and the accounts loaded so far, by IDL name."""

    def __init__(self, ctx: InvokeContext, idl: Idl, ix: IdlInstruction, switchboard_id: Pubkey) -> None:
        self.ctx = ctx
        # The Switchboard program this build trusts (`SWITCHBOARD_ID`, devnet unless built for mainnet).
        self.switchboard_id = switchboard_id
        self.idl = idl
        self.ix = ix
        # Anchor reports handler errors by source file; the model has no line numbers to give.
        self.origin = f"programs/ml/src/instructions/{ix.name}.rs"
        self.args: dict[str, object] = {}
        self.keys: dict[str, Pubkey] = {}
        self.writable: dict[str, bool] = {}
        self._pool: Pool | None = None
        self._participants: Participants | None = None
        self.mints: dict[str, Mint] = {}
        self.tokens: dict[str, TokenAccount] = {}
        self.token_owners: dict[str, Pubkey] = {}
        self.closed: set[str] = set()  # accounts the instruction closed; never written back

    # -- reading ---------------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return self.ctx.clock.unix_timestamp

    @property
    def slot(self) -> int:
        return self.ctx.clock.slot

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.ix.name} has no pool account loaded")
        return self._pool

    @property
    def participants(self) -> Participants:
        if self._participants is None:
            raise RuntimeError(f"{self.ix.name} has no participants account loaded")
        return self._participants

    def key(self, name: str) -> Pubkey:
        return self.keys[name]

    def token(self, name: str) -> TokenAccount:
        return self.tokens[name]

    def mint(self) -> Mint:
        return self.mints["mint"]

    def reload_token(self, name: str) -> TokenAccount:
        """Re-read a token account after a CPI changed it (Anchor's `reload()`)."""
        state = self.ctx.get(self.keys[name])
        if state is None:
            raise ProgramError(builtin="InvalidAccountData", log=f"{name} no longer exists")
        self.tokens[name] = unpack_token_account(bytes(state.data))
        return self.tokens[name]

    # -- failing ---------------------------------------------------------------------------------------

    def error(self, name: str, *, account: str | None = None) -> ProgramError:
        """A program error (6000 + n, from the IDL) or a framework error, by name."""
        if name in FRAMEWORK_ERRORS:
            code, message = FRAMEWORK_ERRORS[name]
        else:
            known = self.idl.error(name)
            code, message = known.code, known.msg
        return anchor_error(name, code, message, account=account, origin=self.origin)

    def fail(self, name: str, *, account: str | None = None) -> NoReturn:
        raise self.error(name, account=account)

    def require(self, condition: bool, name: str) -> None:
        """`require!(condition, ErrorCode::<name>)` inside a handler."""
        if not condition:
            self.fail(name)

    def constraint(self, condition: bool, name: str, account: str) -> None:
        """A failed account constraint (`constraint = ... @ <name>` or a framework code)."""
        if not condition:
            self.fail(name, account=account)

    # -- steps (2)-(4) ---------------------------------------------------------------------------------

    def validate(self, specs: dict[str, Spec]) -> None:
        metas = self.ix.accounts
        if len(self.ctx.accounts) < len(metas):
            self.fail("AccountNotEnoughKeys")
        for meta, ref in zip(metas, self.ctx.accounts, strict=False):
            self.keys[meta.name] = ref.pubkey
            self.writable[meta.name] = ref.is_writable
        for meta in metas:
            self._load(meta.name, specs[meta.name])
        for meta in metas:
            spec = specs[meta.name]
            if spec.kind is AccountKind.INIT and spec.init is not None:
                self.constraint(self.writable[meta.name], "ConstraintMut", meta.name)
                spec.init(self)
        for meta in metas:
            spec = specs[meta.name]
            if spec.kind is AccountKind.INIT:
                continue
            if meta.pda is not None:
                expected, _bump = self.idl.find_pda(self.ix, meta.name, self.keys, dict(self.args))
                self.constraint(self.keys[meta.name] == expected, "ConstraintSeeds", meta.name)
            if meta.writable:
                self.constraint(self.writable[meta.name], "ConstraintMut", meta.name)
            for check in spec.checks:
                check(self)

    def _load(self, name: str, spec: Spec) -> None:
        key = self.keys[name]
        state = self.ctx.get(key)
        kind = spec.kind
        meta = self.ix.accounts[self.ix.account_index(name)]
        if kind in (AccountKind.POOL, AccountKind.PARTICIPANTS):
            data = self._owned_data(name, state, {self.ctx.program_id})
            type_name = "Pool" if kind is AccountKind.POOL else "Participants"
            if len(data) < 8:
                self.fail("AccountDiscriminatorNotFound", account=name)
            if data[:8] != self.idl.account_discriminators[type_name]:
                self.fail("AccountDiscriminatorMismatch", account=name)
            try:
                if kind is AccountKind.POOL:
                    self._pool = decode_pool(self.idl, data)
                else:
                    self._participants = decode_participants(self.idl, data)
            except (IdlDecodeError, ValueError):
                self.fail("AccountDidNotDeserialize", account=name)
        elif kind is AccountKind.MINT:
            data = self._owned_data(name, state, TOKEN_PROGRAMS)
            self.mints[name] = _unpack_interface(data, is_mint=True, owner=_owner(state), name=name).mint
        elif kind is AccountKind.TOKEN:
            data = self._owned_data(name, state, TOKEN_PROGRAMS)
            loaded = _unpack_interface(data, is_mint=False, owner=_owner(state), name=name)
            self.tokens[name] = loaded.token
            self.token_owners[name] = _owner(state)
        elif kind is AccountKind.SIGNER:
            self.constraint(self.ctx.is_signer(key), "AccountNotSigner", name)
        elif kind is AccountKind.SYSTEM:
            self.constraint(_owner(state) == SYSTEM_PROGRAM_ID, "AccountNotSystemOwned", name)
        elif kind is AccountKind.TOKEN_PROGRAM:
            self.constraint(key in TOKEN_PROGRAMS, "InvalidProgramId", name)
        elif kind is AccountKind.PROGRAM:
            self.constraint(key == meta.address, "InvalidProgramId", name)
        elif kind is AccountKind.SYSVAR:
            self.constraint(key == meta.address, "AccountSysvarMismatch", name)

    def _owned_data(
        self, name: str, state: AccountState | None, owners: set[Pubkey] | frozenset[Pubkey]
    ) -> bytes:
        if state is None or (state.owner == SYSTEM_PROGRAM_ID and state.lamports == 0):
            self.fail("AccountNotInitialized", account=name)
        if state.owner not in owners:
            self.fail("AccountOwnedByWrongProgram", account=name)
        return bytes(state.data)

    def load_init_pool(self, pool: Pool, participants: Participants | None = None) -> None:
        """Adopt accounts created or validated in step (3)."""
        self._pool = pool
        if participants is not None:
            self._participants = participants

    # -- exit ------------------------------------------------------------------------------------------

    def write_back(self) -> None:
        """Anchor's `exit`: serialise every writable program account the instruction loaded."""
        for name in ("pool", "participants"):
            if name not in self.keys or name in self.closed:
                continue
            if not self.ix.accounts[self.ix.account_index(name)].writable:
                continue
            state = self.ctx.get(self.keys[name])
            if state is None:
                continue
            if name == "pool" and self._pool is not None:
                state.data = bytearray(encode_pool(self.idl, self._pool))
            elif name == "participants" and self._participants is not None:
                state.data = bytearray(encode_participants(self.idl, self._participants))
            else:
                continue
            self.ctx.put(self.keys[name], state)


def _owner(state: AccountState | None) -> Pubkey:
    return state.owner if state is not None else SYSTEM_PROGRAM_ID


@dataclass(frozen=True)
class _Unpacked:
    mint: Mint
    token: TokenAccount


_EMPTY_MINT = Mint(mint_authority=None, supply=0, decimals=0)
_EMPTY_TOKEN = TokenAccount(mint=Pubkey.default(), owner=Pubkey.default(), amount=0)


def _unpack_interface(data: bytes, *, is_mint: bool, owner: Pubkey, name: str) -> _Unpacked:
    """The token program's own unpack: legacy accounts must have the exact base size; Token-2022 ones may be
    longer (extensions). Failures surface as the builtin errors the token program's `unpack` returns."""
    base = 82 if is_mint else 165
    if len(data) < base or (owner != TOKEN_2022_PROGRAM_ID and len(data) != base):
        raise ProgramError(builtin="InvalidAccountData", log=f"{name}: invalid account data")
    if is_mint:
        mint = unpack_mint(data)
        if not mint.is_initialized:
            raise ProgramError(builtin="UninitializedAccount", log=f"{name}: uninitialized mint")
        return _Unpacked(mint, _EMPTY_TOKEN)
    try:
        token = unpack_token_account(data)
    except ValueError:
        raise ProgramError(builtin="InvalidAccountData", log=f"{name}: invalid account data") from None
    if token.state == TokenAccountState.UNINITIALIZED:
        raise ProgramError(builtin="UninitializedAccount", log=f"{name}: uninitialized token account")
    return _Unpacked(_EMPTY_MINT, token)
