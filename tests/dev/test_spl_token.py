"""SPL token bytes and token CPIs, checked against solana-py's independent layouts and the token program's
own error codes."""

from __future__ import annotations

import struct

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token._layouts import ACCOUNT_LAYOUT, MINT_LAYOUT
from spl.token.instructions import get_associated_token_address as reference_ata

from localnet.model_api import AccountState, InvokeContext, ProgramError
from localnet.spl_token import (
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    Mint,
    TokenAccount,
    TokenAccountState,
    burn,
    close_account,
    create_associated_token_account,
    extensions,
    get_associated_token_address,
    pack_mint,
    pack_token_account,
    transfer_checked,
    unpack_mint,
    unpack_token_account,
)
from tests.support.model_fakes import FakeChain, rent_exempt

MINT = Pubkey.new_unique()
OWNER = Keypair().pubkey()
OTHER = Keypair().pubkey()


def test_token_account_bytes_match_solana_py_layout() -> None:
    account = TokenAccount(
        mint=MINT,
        owner=OWNER,
        amount=123_456_789,
        delegate=OTHER,
        state=TokenAccountState.FROZEN,
        is_native=None,
        delegated_amount=7,
        close_authority=OTHER,
    )
    data = pack_token_account(account)
    parsed = ACCOUNT_LAYOUT.parse(data)
    assert len(data) == 165
    assert (bytes(parsed.mint), bytes(parsed.owner), parsed.amount) == (
        bytes(MINT),
        bytes(OWNER),
        123_456_789,
    )
    assert (parsed.delegate_option, bytes(parsed.delegate), parsed.state) == (1, bytes(OTHER), 2)
    assert (parsed.is_native_option, parsed.delegated_amount, parsed.close_authority_option) == (0, 7, 1)
    assert unpack_token_account(data) == account


def test_mint_bytes_match_solana_py_layout() -> None:
    mint = Mint(mint_authority=None, supply=10**15, decimals=6, is_initialized=True, freeze_authority=OWNER)
    data = pack_mint(mint)
    parsed = MINT_LAYOUT.parse(data)
    assert len(data) == 82
    assert (parsed.mint_authority_option, parsed.supply, parsed.decimals) == (0, 10**15, 6)
    assert (parsed.is_initialized, parsed.freeze_authority_option, bytes(parsed.freeze_authority)) == (
        True,
        1,
        bytes(OWNER),
    )
    assert unpack_mint(data) == mint


def test_token_2022_extension_bytes_are_kept_and_readable() -> None:
    tail = bytes([2]) + struct.pack("<HH", 7, 0)
    original = pack_token_account(TokenAccount(mint=MINT, owner=OWNER, amount=1)) + tail
    updated = pack_token_account(TokenAccount(mint=MINT, owner=OWNER, amount=2), original)
    assert updated[165:] == tail
    assert unpack_token_account(updated).amount == 2
    assert extensions(updated) == {7: b""}


@pytest.mark.parametrize("program", [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID])
def test_ata_derivation_matches_solana_py(program: Pubkey) -> None:
    assert get_associated_token_address(OWNER, MINT, program) == reference_ata(OWNER, MINT, program)


# -- CPIs through a tiny program that calls one helper -----------------------------------------------------


class _CallsHelper:
    """A modelled program whose `process` runs one helper, to drive the helpers through a context."""

    name = "helper-caller"

    def __init__(self, action: str, amount: int = 0, decimals: int = 6) -> None:
        self.program_id = Pubkey.new_unique()
        self.action, self.amount, self.decimals = action, amount, decimals

    def process(self, ctx: InvokeContext) -> None:
        keys = [ref.pubkey for ref in ctx.accounts]
        if self.action == "transfer":
            transfer_checked(
                ctx,
                token_program=TOKEN_PROGRAM_ID,
                source=keys[0],
                mint=keys[1],
                destination=keys[2],
                authority=keys[3],
                amount=self.amount,
                decimals=self.decimals,
            )
        elif self.action == "burn":
            burn(
                ctx,
                token_program=TOKEN_PROGRAM_ID,
                account=keys[0],
                mint=keys[1],
                authority=keys[3],
                amount=self.amount,
            )
        elif self.action == "close":
            close_account(
                ctx, token_program=TOKEN_PROGRAM_ID, account=keys[0], destination=keys[2], authority=keys[3]
            )
        else:
            create_associated_token_account(
                ctx, payer=keys[3], owner=keys[4], mint=keys[1], token_program=keys[5]
            )


def _chain(source_amount: int = 100, *, frozen: bool = False) -> tuple[FakeChain, list[Pubkey]]:
    chain = FakeChain()
    source, destination = Pubkey.new_unique(), Pubkey.new_unique()
    state = TokenAccountState.FROZEN if frozen else TokenAccountState.INITIALIZED
    for key, owner, amount in ((source, OWNER, source_amount), (destination, OTHER, 0)):
        data = pack_token_account(TokenAccount(mint=MINT, owner=owner, amount=amount, state=state))
        chain.set(key, AccountState(lamports=rent_exempt(165), data=bytearray(data), owner=TOKEN_PROGRAM_ID))
    mint_data = pack_mint(Mint(mint_authority=None, supply=1_000, decimals=6))
    chain.set(MINT, AccountState(lamports=rent_exempt(82), data=bytearray(mint_data), owner=TOKEN_PROGRAM_ID))
    chain.set(OWNER, AccountState(lamports=10**9, data=bytearray(), owner=Pubkey.default()))
    return chain, [source, MINT, destination, OWNER]


def _ix(keys: list[Pubkey], program: _CallsHelper, signer: Pubkey = OWNER) -> Instruction:
    metas = [AccountMeta(key, key == signer, True) for key in keys]
    return Instruction(program.program_id, b"", metas)


def _amount(chain: FakeChain, key: Pubkey) -> int:
    state = chain.get(key)
    assert state is not None
    return unpack_token_account(bytes(state.data)).amount


def test_transfer_checked_moves_tokens_and_records_the_real_instruction() -> None:
    chain, keys = _chain()
    program = _CallsHelper("transfer", amount=40)
    ctx = chain.run(program, _ix(keys, program))
    assert (_amount(chain, keys[0]), _amount(chain, keys[2])) == (60, 40)
    assert ctx.cpis[0].program_id == TOKEN_PROGRAM_ID
    assert ctx.cpis[0].data == bytes([12]) + struct.pack("<QB", 40, 6)
    assert ctx.logs == ["Program log: Instruction: TransferChecked"]


@pytest.mark.parametrize(
    ("amount", "decimals", "signer", "frozen", "code"),
    [
        (101, 6, OWNER, False, 1),  # InsufficientFunds
        (10, 9, OWNER, False, 18),  # MintDecimalsMismatch
        (10, 6, OTHER, False, 4),  # OwnerMismatch: OTHER is not the source owner
        (10, 6, OWNER, True, 17),  # AccountFrozen
    ],
)
def test_transfer_checked_fails_with_the_token_program_codes(
    amount: int, decimals: int, signer: Pubkey, frozen: bool, code: int
) -> None:
    chain, keys = _chain(frozen=frozen)
    program = _CallsHelper("transfer", amount=amount, decimals=decimals)
    keys[3] = signer
    with pytest.raises(ProgramError) as failure:
        chain.run(program, _ix(keys, program, signer=signer))
    assert failure.value.custom == code
    assert _amount(chain, keys[0]) == 100  # nothing committed


def test_transfer_without_the_owner_signature_is_rejected() -> None:
    chain, keys = _chain()
    program = _CallsHelper("transfer", amount=1)
    with pytest.raises(ProgramError) as failure:
        chain.run(program, _ix(keys, program, signer=OTHER))
    assert failure.value.builtin == "MissingRequiredSignature"


def test_burn_lowers_balance_and_supply() -> None:
    chain, keys = _chain()
    program = _CallsHelper("burn", amount=30)
    ctx = chain.run(program, _ix(keys, program))
    mint_state = chain.get(MINT)
    assert mint_state is not None
    assert (_amount(chain, keys[0]), unpack_mint(bytes(mint_state.data)).supply) == (70, 970)
    assert ctx.cpis[0].data == bytes([8]) + struct.pack("<Q", 30)


def test_close_account_requires_zero_balance_then_pays_out_its_lamports() -> None:
    chain, keys = _chain(source_amount=5)
    program = _CallsHelper("close")
    with pytest.raises(ProgramError) as failure:
        chain.run(program, _ix(keys, program))
    assert failure.value.custom == 11  # NonNativeHasBalance

    chain, keys = _chain(source_amount=0)
    before = chain.accounts[keys[2]].lamports
    chain.run(program, _ix(keys, program))
    assert keys[0] not in chain.accounts
    assert chain.accounts[keys[2]].lamports == before + rent_exempt(165)


@pytest.mark.parametrize(("program_id", "size"), [(TOKEN_PROGRAM_ID, 165), (TOKEN_2022_PROGRAM_ID, 170)])
def test_create_ata_initialises_an_empty_account_paid_by_the_payer(program_id: Pubkey, size: int) -> None:
    chain, _keys = _chain()
    chain.accounts[MINT].owner = program_id
    wallet = Pubkey.new_unique()
    address = get_associated_token_address(wallet, MINT, program_id)
    program = _CallsHelper("create")
    metas = [
        AccountMeta(address, False, True),
        AccountMeta(MINT, False, False),
        AccountMeta(MINT, False, False),
    ]
    metas += [AccountMeta(OWNER, True, True), AccountMeta(wallet, False, False)]
    metas += [AccountMeta(program_id, False, False)]
    chain.run(program, Instruction(program.program_id, b"", metas))
    created = chain.accounts[address]
    assert (len(created.data), created.owner, created.lamports) == (size, program_id, rent_exempt(size))
    token = unpack_token_account(bytes(created.data))
    assert (token.mint, token.owner, token.amount) == (MINT, wallet, 0)
    assert chain.accounts[OWNER].lamports == 10**9 - rent_exempt(size)
