"""SPL Token accounts and mints as bytes, and the token-program CPIs a modelled program performs.

Layouts are the base layouts shared by legacy Token and Token-2022 (token account 165 bytes, mint 82 bytes).
Token-2022 accounts with extensions are longer: the packers overwrite only the base part and keep the rest,
and `extensions` reads the TLV area (account-type byte at offset 165, then `type u16 | length u16 | value`).

The CPI helpers (`transfer_checked`, `burn`, `close_account`, `create_associated_token_account`) apply the
token program's own checks in its own order and fail with its own error codes (`TokenError`, e.g.
InsufficientFunds = Custom(1)), then stage the new account bytes through the `InvokeContext` and record the
instruction with its real data bytes so `meta.innerInstructions` look like a real cluster's.

PDA authorities: the runtime cannot know which PDA a program signs for, so every helper takes `signer_seeds`
(the seeds *with* the bump, as passed to `invoke_signed`); the helper accepts the authority as a signer when
`create_program_address(signer_seeds, ctx.program_id)` equals it, exactly the runtime's rule.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from solders.pubkey import Pubkey

from localnet.model_api import AccountState, InnerInstruction, InvokeContext, ProgramError
from localnet.programs.system import create_account

TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
TOKEN_PROGRAMS = frozenset({TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID})

TOKEN_ACCOUNT_LEN = 165
MINT_LEN = 82
# Token-2022: byte 165 says what the account is; TLV extensions follow. Mints are padded to 165 first so the
# two kinds can never be confused by length.
ACCOUNT_TYPE_OFFSET = 165
ACCOUNT_TYPE_MINT = 1
ACCOUNT_TYPE_ACCOUNT = 2
EXTENSION_IMMUTABLE_OWNER = 7
# A Token-2022 ATA carries ImmutableOwner: 165 + account-type byte + empty TLV entry (4 bytes).
TOKEN_2022_ATA_LEN = ACCOUNT_TYPE_OFFSET + 1 + 4


class TokenAccountState(IntEnum):
    UNINITIALIZED = 0
    INITIALIZED = 1
    FROZEN = 2


class TokenError(IntEnum):
    """spl-token `TokenError` ordinals (identical in Token-2022 for the ones used here)."""

    NOT_RENT_EXEMPT = 0
    INSUFFICIENT_FUNDS = 1
    INVALID_MINT = 2
    MINT_MISMATCH = 3
    OWNER_MISMATCH = 4
    FIXED_SUPPLY = 5
    ALREADY_IN_USE = 6
    UNINITIALIZED_STATE = 9
    NATIVE_NOT_SUPPORTED = 10
    NON_NATIVE_HAS_BALANCE = 11
    INVALID_STATE = 13
    OVERFLOW = 14
    ACCOUNT_FROZEN = 17
    MINT_DECIMALS_MISMATCH = 18


# The `Error: ...` line the token program logs for each error (its `PrintProgramError`).
_TOKEN_ERROR_LOGS = {
    TokenError.INSUFFICIENT_FUNDS: "Error: insufficient funds",
    TokenError.MINT_MISMATCH: "Error: Account not associated with this Mint",
    TokenError.OWNER_MISMATCH: "Error: owner does not match",
    TokenError.NON_NATIVE_HAS_BALANCE: "Error: Non-native account can only be closed if its balance is zero",
    TokenError.OVERFLOW: "Error: Operation overflowed",
    TokenError.ACCOUNT_FROZEN: "Error: Account is frozen",
    TokenError.MINT_DECIMALS_MISMATCH: "Error: The provided decimals value different from the Mint decimals",
    TokenError.NATIVE_NOT_SUPPORTED: "Error: Instruction does not support native tokens",
}


class TokenInstruction(IntEnum):
    INITIALIZE_ACCOUNT3 = 18
    TRANSFER_CHECKED = 12
    BURN = 8
    CLOSE_ACCOUNT = 9
    BURN_CHECKED = 15
    INITIALIZE_IMMUTABLE_OWNER = 22


def token_error(code: TokenError) -> ProgramError:
    return ProgramError(custom=int(code), log=_TOKEN_ERROR_LOGS.get(code, f"Error: {code.name}"))


@dataclass(frozen=True)
class TokenAccount:
    mint: Pubkey
    owner: Pubkey
    amount: int
    delegate: Pubkey | None = None
    state: int = TokenAccountState.INITIALIZED
    is_native: int | None = None
    delegated_amount: int = 0
    close_authority: Pubkey | None = None

    @property
    def is_frozen(self) -> bool:
        return self.state == TokenAccountState.FROZEN


@dataclass(frozen=True)
class Mint:
    mint_authority: Pubkey | None
    supply: int
    decimals: int
    is_initialized: bool = True
    freeze_authority: Pubkey | None = None


# COption<T> is a u32 tag (0 None / 1 Some) followed by T, always present even when None.
def _unpack_option_key(data: bytes, offset: int) -> Pubkey | None:
    (tag,) = struct.unpack_from("<I", data, offset)
    if tag == 0:
        return None
    if tag != 1:
        raise ValueError(f"invalid COption tag {tag} at {offset}")
    return Pubkey.from_bytes(data[offset + 4 : offset + 36])


def _pack_option_key(key: Pubkey | None) -> bytes:
    return struct.pack("<I", 0) + bytes(32) if key is None else struct.pack("<I", 1) + bytes(key)


def unpack_token_account(data: bytes) -> TokenAccount:
    """The base part of a Token / Token-2022 account. Raises ValueError if it is too short or malformed."""
    if len(data) < TOKEN_ACCOUNT_LEN:
        raise ValueError(f"token account needs {TOKEN_ACCOUNT_LEN} bytes, got {len(data)}")
    amount, delegated_amount = struct.unpack_from("<Q", data, 64)[0], struct.unpack_from("<Q", data, 121)[0]
    native_tag, native_reserve = struct.unpack_from("<IQ", data, 109)
    if native_tag not in (0, 1):
        raise ValueError(f"invalid is_native tag {native_tag}")
    return TokenAccount(
        mint=Pubkey.from_bytes(data[0:32]),
        owner=Pubkey.from_bytes(data[32:64]),
        amount=amount,
        delegate=_unpack_option_key(data, 72),
        state=data[108],
        is_native=native_reserve if native_tag == 1 else None,
        delegated_amount=delegated_amount,
        close_authority=_unpack_option_key(data, 129),
    )


def pack_token_account(account: TokenAccount, existing: bytes | None = None) -> bytes:
    """165 base bytes, followed by whatever `existing` held after them (Token-2022 extensions)."""
    native = (
        struct.pack("<IQ", 0, 0) if account.is_native is None else struct.pack("<IQ", 1, account.is_native)
    )
    base = (
        bytes(account.mint)
        + bytes(account.owner)
        + struct.pack("<Q", account.amount)
        + _pack_option_key(account.delegate)
        + bytes([account.state])
        + native
        + struct.pack("<Q", account.delegated_amount)
        + _pack_option_key(account.close_authority)
    )
    return base + (existing[TOKEN_ACCOUNT_LEN:] if existing is not None else b"")


def unpack_mint(data: bytes) -> Mint:
    if len(data) < MINT_LEN:
        raise ValueError(f"mint needs {MINT_LEN} bytes, got {len(data)}")
    (supply,) = struct.unpack_from("<Q", data, 36)
    return Mint(
        mint_authority=_unpack_option_key(data, 0),
        supply=supply,
        decimals=data[44],
        is_initialized=data[45] == 1,
        freeze_authority=_unpack_option_key(data, 46),
    )


def pack_mint(mint: Mint, existing: bytes | None = None) -> bytes:
    """82 base bytes, followed by whatever `existing` held after them (Token-2022 padding and extensions)."""
    base = (
        _pack_option_key(mint.mint_authority)
        + struct.pack("<QBB", mint.supply, mint.decimals, int(mint.is_initialized))
        + _pack_option_key(mint.freeze_authority)
    )
    return base + (existing[MINT_LEN:] if existing is not None else b"")


def extensions(data: bytes) -> dict[int, bytes]:
    """Token-2022 TLV extensions by type number (empty for base-size accounts). Uninitialized (type 0) entries
    are padding and end the list, as in spl-token-2022."""
    found: dict[int, bytes] = {}
    offset = ACCOUNT_TYPE_OFFSET + 1
    while offset + 4 <= len(data):
        ext_type, length = struct.unpack_from("<HH", data, offset)
        if ext_type == 0:
            break
        found[ext_type] = bytes(data[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return found


def get_associated_token_address(
    owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM_ID
) -> Pubkey:
    address, _bump = Pubkey.find_program_address(
        [bytes(owner), bytes(token_program), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM_ID
    )
    return address


# ---------------------------------------------------------------------------------------------------------
# CPIs


def _authority_signed(ctx: InvokeContext, authority: Pubkey, signer_seeds: Sequence[bytes] | None) -> bool:
    if ctx.is_signer(authority):
        return True
    if signer_seeds is None:
        return False
    try:
        return Pubkey.create_program_address(list(signer_seeds), ctx.program_id) == authority
    except ValueError:  # seeds that land on the curve: invoke_signed fails the same way
        return False


def _load_token_state(
    ctx: InvokeContext, key: Pubkey, token_program: Pubkey
) -> tuple[AccountState, TokenAccount]:
    state = ctx.get(key)
    if state is None or state.owner != token_program:
        raise ProgramError(builtin="IncorrectProgramId", log=f"{key} is not owned by {token_program}")
    try:
        account = unpack_token_account(bytes(state.data))
    except ValueError:
        raise ProgramError(builtin="InvalidAccountData", log=f"{key} is not a token account") from None
    if account.state == TokenAccountState.UNINITIALIZED:
        raise ProgramError(builtin="UninitializedAccount", log=f"{key} is not initialized")
    return state, account


def _load_mint_state(ctx: InvokeContext, key: Pubkey, token_program: Pubkey) -> tuple[AccountState, Mint]:
    state = ctx.get(key)
    if state is None or state.owner != token_program:
        raise ProgramError(builtin="IncorrectProgramId", log=f"{key} is not owned by {token_program}")
    try:
        mint = unpack_mint(bytes(state.data))
    except ValueError:
        raise ProgramError(builtin="InvalidAccountData", log=f"{key} is not a mint") from None
    if not mint.is_initialized:
        raise ProgramError(builtin="UninitializedAccount", log=f"{key} is not initialized")
    return state, mint


def _validate_owner(
    ctx: InvokeContext, expected: Pubkey, authority: Pubkey, signer_seeds: Sequence[bytes] | None
) -> None:
    if expected != authority:
        raise token_error(TokenError.OWNER_MISMATCH)
    if not _authority_signed(ctx, authority, signer_seeds):
        raise ProgramError(builtin="MissingRequiredSignature", log=f"{authority} did not sign")


def _check_token_program(token_program: Pubkey) -> None:
    if token_program not in TOKEN_PROGRAMS:
        raise ProgramError(builtin="IncorrectProgramId", log=f"{token_program} is not a token program")


def _store_token(ctx: InvokeContext, key: Pubkey, state: AccountState, account: TokenAccount) -> None:
    state.data = bytearray(pack_token_account(account, bytes(state.data)))
    ctx.put(key, state)


def _record(
    ctx: InvokeContext,
    token_program: Pubkey,
    accounts: tuple[Pubkey, ...],
    data: bytes,
    name: str,
    stack_height: int = 2,
) -> None:
    inner = InnerInstruction(token_program, accounts, data, stack_height=stack_height)
    ctx.record_cpi(inner, [f"Program log: Instruction: {name}"])


def transfer_checked(
    ctx: InvokeContext,
    *,
    token_program: Pubkey,
    source: Pubkey,
    mint: Pubkey,
    destination: Pubkey,
    authority: Pubkey,
    amount: int,
    decimals: int,
    signer_seeds: Sequence[bytes] | None = None,
) -> None:
    """`TransferChecked` (12), checked in the token program's order: frozen, funds, mints, decimals, owner."""
    _check_token_program(token_program)
    source_state, source_account = _load_token_state(ctx, source, token_program)
    destination_state, destination_account = _load_token_state(ctx, destination, token_program)
    if source_account.is_frozen or destination_account.is_frozen:
        raise token_error(TokenError.ACCOUNT_FROZEN)
    if source_account.amount < amount:
        raise token_error(TokenError.INSUFFICIENT_FUNDS)
    if source_account.mint != destination_account.mint:
        raise token_error(TokenError.MINT_MISMATCH)
    if mint != source_account.mint:
        raise token_error(TokenError.MINT_MISMATCH)
    _mint_state, mint_data = _load_mint_state(ctx, mint, token_program)
    if decimals != mint_data.decimals:
        raise token_error(TokenError.MINT_DECIMALS_MISMATCH)
    # Delegated transfers are not modelled: the pool program always moves tokens as owner.
    _validate_owner(ctx, source_account.owner, authority, signer_seeds)
    if source != destination:
        if destination_account.amount + amount > 2**64 - 1:
            raise token_error(TokenError.OVERFLOW)
        _store_token(
            ctx, source, source_state, replace(source_account, amount=source_account.amount - amount)
        )
        credited = replace(destination_account, amount=destination_account.amount + amount)
        _store_token(ctx, destination, destination_state, credited)
    data = struct.pack("<BQB", TokenInstruction.TRANSFER_CHECKED, amount, decimals)
    _record(ctx, token_program, (source, mint, destination, authority), data, "TransferChecked")


def burn(
    ctx: InvokeContext,
    *,
    token_program: Pubkey,
    account: Pubkey,
    mint: Pubkey,
    authority: Pubkey,
    amount: int,
    decimals: int | None = None,
    signer_seeds: Sequence[bytes] | None = None,
) -> None:
    """`Burn` (8), or `BurnChecked` (15) when `decimals` is given: lowers the balance and the supply."""
    _check_token_program(token_program)
    account_state, token = _load_token_state(ctx, account, token_program)
    mint_state, mint_data = _load_mint_state(ctx, mint, token_program)
    if token.is_frozen:
        raise token_error(TokenError.ACCOUNT_FROZEN)
    if token.is_native is not None:
        raise token_error(TokenError.NATIVE_NOT_SUPPORTED)
    if token.amount < amount:
        raise token_error(TokenError.INSUFFICIENT_FUNDS)
    if mint != token.mint:
        raise token_error(TokenError.MINT_MISMATCH)
    if decimals is not None and decimals != mint_data.decimals:
        raise token_error(TokenError.MINT_DECIMALS_MISMATCH)
    _validate_owner(ctx, token.owner, authority, signer_seeds)
    _store_token(ctx, account, account_state, replace(token, amount=token.amount - amount))
    mint_state.data = bytearray(
        pack_mint(replace(mint_data, supply=mint_data.supply - amount), bytes(mint_state.data))
    )
    ctx.put(mint, mint_state)
    if decimals is None:
        data, name = struct.pack("<BQ", TokenInstruction.BURN, amount), "Burn"
    else:
        data, name = struct.pack("<BQB", TokenInstruction.BURN_CHECKED, amount, decimals), "BurnChecked"
    _record(ctx, token_program, (account, mint, authority), data, name)


def close_account(
    ctx: InvokeContext,
    *,
    token_program: Pubkey,
    account: Pubkey,
    destination: Pubkey,
    authority: Pubkey,
    signer_seeds: Sequence[bytes] | None = None,
) -> None:
    """`CloseAccount` (9): a non-native account must be empty; its lamports go to `destination`."""
    _check_token_program(token_program)
    account_state, token = _load_token_state(ctx, account, token_program)
    if token.is_native is None and token.amount != 0:
        raise token_error(TokenError.NON_NATIVE_HAS_BALANCE)
    _validate_owner(ctx, token.close_authority or token.owner, authority, signer_seeds)
    target = ctx.get(destination) or AccountState(lamports=0, data=bytearray(), owner=Pubkey.default())
    target.lamports += account_state.lamports
    ctx.put(destination, target)
    ctx.put(account, None)
    data = bytes([TokenInstruction.CLOSE_ACCOUNT])
    _record(ctx, token_program, (account, destination, authority), data, "CloseAccount")


def create_associated_token_account(
    ctx: InvokeContext, *, payer: Pubkey, owner: Pubkey, mint: Pubkey, token_program: Pubkey
) -> Pubkey:
    """The ATA program's `Create`: a system account at the ATA address, initialised for `owner` (Token-2022
    ATAs carry the ImmutableOwner extension, hence 170 bytes). The caller decides whether it is needed."""
    _check_token_program(token_program)
    _load_mint_state(ctx, mint, token_program)
    address = get_associated_token_address(owner, mint, token_program)
    space = TOKEN_2022_ATA_LEN if token_program == TOKEN_2022_PROGRAM_ID else TOKEN_ACCOUNT_LEN
    ata_accounts = (payer, address, owner, mint, Pubkey.default(), token_program)
    ctx.record_cpi(InnerInstruction(ASSOCIATED_TOKEN_PROGRAM_ID, ata_accounts, b""), ["Program log: Create"])
    # What the ATA program does in turn runs one level deeper (stack height 3). It signs for the new address
    # with its own seeds, so the new account needs no signature from the caller.
    create_account(
        ctx,
        payer=payer,
        new_account=address,
        space=space,
        owner=token_program,
        pda_signer=address,
        stack_height=3,
    )
    state = ctx.get(address)
    if state is None:  # pragma: no cover - create_account either stored it or raised
        raise ProgramError(builtin="InvalidAccountData", log=f"{address} was not created")
    tail = b""
    if token_program == TOKEN_2022_PROGRAM_ID:
        tail = bytes([ACCOUNT_TYPE_ACCOUNT]) + struct.pack("<HH", EXTENSION_IMMUTABLE_OWNER, 0)
        init_owner = bytes([TokenInstruction.INITIALIZE_IMMUTABLE_OWNER])
        _record(ctx, token_program, (address,), init_owner, "InitializeImmutableOwner", stack_height=3)
    state.data = bytearray(pack_token_account(TokenAccount(mint=mint, owner=owner, amount=0)) + tail)
    ctx.put(address, state)
    init_account = bytes([TokenInstruction.INITIALIZE_ACCOUNT3]) + bytes(owner)
    _record(ctx, token_program, (address, mint), init_account, "InitializeAccount3", stack_height=3)
    return address
