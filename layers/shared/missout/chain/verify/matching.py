"""Finding the one instruction of our program that performs the reported action.

It may be top level or a CPI (a smart wallet or aggregator calling us), but only an instruction whose
program id is ours counts: any program can carry bytes that look like our discriminator and accounts, and
such a look-alike proves nothing. Exactly one genuine instruction must be present, so a transaction that
joins twice (or two pools) cannot be recorded as one join.
"""

from __future__ import annotations

from solders.pubkey import Pubkey

from missout.chain.instruction_decoding import decode_user_instruction
from missout.chain.program import DISCRIMINATOR_SIZE, InstructionDecodeError, ProgramCodec
from missout.chain.verify.reasons import RejectReason, VerificationFailed
from missout.chain.verify.results import InstructionT
from missout.chain.verify.transaction_view import InvokedInstruction, TransactionView


def find_single_instruction(
    view: TransactionView, program_id: Pubkey, name: str, codec: ProgramCodec
) -> InvokedInstruction:
    discriminator = codec.idl.instruction(name).discriminator
    look_alikes = [ix for ix in view.instructions if ix.data[:DISCRIMINATOR_SIZE] == discriminator]
    ours = [ix for ix in look_alikes if ix.program_id == program_id]
    if len(ours) > 1:
        where = ", ".join(ix.location for ix in ours)
        raise VerificationFailed(RejectReason.MULTIPLE_MATCHING_INSTRUCTIONS, f"{name} at {where}")
    if ours:
        return ours[0]
    if look_alikes:
        spoof = look_alikes[0]
        raise VerificationFailed(
            RejectReason.WRONG_PROGRAM, f"{name} data at {spoof.location} is addressed to {spoof.program_id}"
        )
    called = sorted({_name_of(ix, codec) for ix in view.instructions if ix.program_id == program_id})
    raise VerificationFailed(
        RejectReason.NO_MATCHING_INSTRUCTION,
        f"no {name}; the transaction calls {', '.join(called) or 'nothing'} of program {program_id}",
    )


def decode_as(
    invoked: InvokedInstruction, program_id: Pubkey, expected: type[InstructionT], codec: ProgramCodec
) -> InstructionT:
    try:
        decoded = decode_user_instruction(
            invoked.program_id, invoked.accounts, invoked.data, expected_program_id=program_id, codec=codec
        )
    except InstructionDecodeError as exc:
        raise VerificationFailed(RejectReason.MALFORMED_INSTRUCTION, f"{invoked.location}: {exc}") from None
    if not isinstance(decoded, expected):
        # Unreachable when the discriminator matched; kept so a codec change cannot slip a wrong type by.
        raise VerificationFailed(RejectReason.MALFORMED_INSTRUCTION, f"decoded {type(decoded).__name__}")
    return decoded


def _name_of(invoked: InvokedInstruction, codec: ProgramCodec) -> str:
    for definition in codec.idl.instructions:
        if invoked.data[:DISCRIMINATOR_SIZE] == definition.discriminator:
            return definition.name
    return "an unknown instruction"
