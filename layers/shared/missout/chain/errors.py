"""Program and Anchor error codes, and classification of a failed transaction's error.

`ProgramErrorCode` lists the program's custom errors (6000 + index, names as in the IDL; a unit test keeps
it equal to the shipped IDL). `AnchorErrorCode` lists the framework codes this program can return
(docs/program.md §7). `classify_transaction_error` turns whatever shape the error arrives in (solders
`TransactionError*` objects, the JSON form of `meta.err` or signature statuses, or an `RPCException`
carrying a preflight failure) into one `ClassifiedError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from solders.transaction_status import (
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
)


class ProgramErrorCode(IntEnum):
    PoolExpired = 6000
    PoolNotExpired = 6001
    PoolNotEmpty = 6002
    NotCreator = 6003
    NotDeveloper = 6004
    Unauthorized = 6005
    AlreadyParticipated = 6006
    MaxParticipantsReached = 6007
    PoolClosed = 6008
    Overflow = 6009
    InvalidWinnerAccount = 6010
    InvalidParticipantToken = 6011
    InvalidMint = 6012
    MintHasMintAuthority = 6013
    MintHasFreezeAuthority = 6014
    InvalidDecimals = 6015
    ExcessiveFees = 6016
    InvalidParticipantCount = 6017
    InvalidRandomnessAccount = 6018
    RandomnessNotResolved = 6019
    NoParticipants = 6020
    InvalidPoolStatus = 6021
    RandomnessAlreadySet = 6022
    CannotDecreaseLockDuration = 6023
    RandomnessNotCommitted = 6024
    RandomnessNotRevealed = 6025
    InvalidRandomness = 6026
    TooManyParticipants = 6027
    InvalidParticipantRange = 6028
    InvalidAmount = 6029
    InvalidLockDuration = 6030
    PoolStillLocked = 6031
    InvalidParticipantsPda = 6032
    InsufficientFundsForBurn = 6033
    InvalidTokenProgram = 6034
    ZeroSupply = 6035
    SpoofedDonation = 6036
    InvalidWinnerPubkey = 6037
    InvalidWinnerTokenOwner = 6038
    ForbiddenExtension = 6039
    HasDelegate = 6040
    HasCloseAuthority = 6041
    Paused = 6042
    ConfigMismatch = 6043
    FrozenAccount = 6044
    InsufficientFunds = 6045
    UninitializedAccount = 6046
    RandomnessExpired = 6047
    AlreadyInitialized = 6048
    PoolUnavailableForJoin = 6049
    PoolLockedForJoin = 6050
    DustNotAllowed = 6051
    JoinClosedAfterUnlock = 6052
    DonateClosedAfterUnlock = 6053
    TooEarlyForEmergency = 6054
    NotParticipant = 6055
    AlreadyEnded = 6056
    CannotChangeAfterJoins = 6057
    NoWinnerSelected = 6058
    ForbiddenTransferFee = 6059
    ForbiddenTransferHook = 6060
    ForbiddenConfidentialTransfer = 6061
    ForbiddenNonTransferable = 6062
    ForbiddenInterestBearing = 6063
    ForbiddenPermanentDelegate = 6064
    ForbiddenMintCloseAuthority = 6065
    ForbiddenDefaultAccountState = 6066
    PoolProcessing = 6067
    PoolTokenMismatch = 6068


class AnchorErrorCode(IntEnum):
    """Framework errors (anchor-lang 0.31) the `ml` program can surface."""

    InstructionMissing = 100
    InstructionFallbackNotFound = 101
    InstructionDidNotDeserialize = 102
    InstructionDidNotSerialize = 103
    ConstraintMut = 2000
    ConstraintHasOne = 2001
    ConstraintSigner = 2002
    ConstraintRaw = 2003
    ConstraintOwner = 2004
    ConstraintRentExempt = 2005
    ConstraintSeeds = 2006
    ConstraintClose = 2011
    ConstraintAddress = 2012
    ConstraintTokenMint = 2014
    ConstraintTokenOwner = 2015
    ConstraintSpace = 2019
    ConstraintAssociatedTokenTokenProgram = 2023
    AccountDiscriminatorNotFound = 3001
    AccountDiscriminatorMismatch = 3002
    AccountDidNotDeserialize = 3003
    AccountNotEnoughKeys = 3005
    AccountNotMutable = 3006
    AccountOwnedByWrongProgram = 3007
    InvalidProgramId = 3008
    AccountNotSigner = 3010
    AccountNotSystemOwned = 3011
    AccountNotInitialized = 3012
    AccountNotAssociatedTokenAccount = 3014
    AccountSysvarMismatch = 3015


class ErrorSource(Enum):
    PROGRAM = "program"  # one of our custom codes (6000+)
    ANCHOR = "anchor"  # an Anchor framework code
    OTHER_CUSTOM = "custom"  # Custom(n) from elsewhere, e.g. the SPL Token program inside a CPI
    INSTRUCTION = "instruction"  # a runtime InstructionError such as InvalidAccountData
    TRANSACTION = "transaction"  # not tied to an instruction: BlockhashNotFound, AlreadyProcessed, ...
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ClassifiedError:
    source: ErrorSource
    name: str
    code: int | None = None  # the Custom(n) number when there is one
    instruction_index: int | None = None

    @property
    def program_error(self) -> ProgramErrorCode | None:
        if self.source is not ErrorSource.PROGRAM or self.code is None:
            return None
        return ProgramErrorCode(self.code)


def name_custom_code(code: int) -> tuple[ErrorSource, str]:
    """Name a `Custom(code)`. The number alone does not say which program raised it: codes below 100
    (e.g. SPL Token's 1 = insufficient funds) come from a CPI'd program, never from Anchor or ours."""
    for enum_type, source in ((ProgramErrorCode, ErrorSource.PROGRAM), (AnchorErrorCode, ErrorSource.ANCHOR)):
        try:
            return source, enum_type(code).name
        except ValueError:
            continue
    return ErrorSource.OTHER_CUSTOM, f"Custom({code})"


def classify_transaction_error(error: object) -> ClassifiedError:
    """Classify a transaction error in any of the shapes solana-py / solders / JSON-RPC deliver it."""
    if isinstance(error, TransactionErrorInstructionError):
        return _classify_instruction_error(error.index, error.err)
    if isinstance(error, TransactionErrorFieldless):
        return ClassifiedError(ErrorSource.TRANSACTION, _variant_name(error))
    if isinstance(error, str):
        return ClassifiedError(ErrorSource.TRANSACTION, error)
    if isinstance(error, Mapping):
        return _classify_json(error)
    preflight_error = _preflight_error(error)
    if preflight_error is not None:
        return classify_transaction_error(preflight_error)
    return ClassifiedError(ErrorSource.UNKNOWN, type(error).__name__)


def _classify_instruction_error(index: int, err: object) -> ClassifiedError:
    if isinstance(err, InstructionErrorCustom):
        source, name = name_custom_code(err.code)
        return ClassifiedError(source, name, err.code, index)
    if isinstance(err, InstructionErrorFieldless):
        return ClassifiedError(ErrorSource.INSTRUCTION, _variant_name(err), None, index)
    return ClassifiedError(ErrorSource.INSTRUCTION, type(err).__name__, None, index)


def _classify_json(error: Mapping[str, Any]) -> ClassifiedError:
    """`{"InstructionError": [i, {"Custom": n}]}` / `[i, "InvalidAccountData"]` / `{"Other": ...}`."""
    pair = error.get("InstructionError")
    if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], int):
        index, detail = pair
        if isinstance(detail, Mapping) and isinstance(detail.get("Custom"), int):
            source, name = name_custom_code(detail["Custom"])
            return ClassifiedError(source, name, detail["Custom"], index)
        if isinstance(detail, str):
            return ClassifiedError(ErrorSource.INSTRUCTION, detail, None, index)
        if isinstance(detail, Mapping) and len(detail) == 1:
            return ClassifiedError(ErrorSource.INSTRUCTION, str(next(iter(detail))), None, index)
    if len(error) == 1:
        return ClassifiedError(ErrorSource.TRANSACTION, str(next(iter(error))))
    return ClassifiedError(ErrorSource.UNKNOWN, "unrecognised error object")


def _preflight_error(error: object) -> object | None:
    """The `err` inside an RPCException(SendTransactionPreflightFailureMessage), if that is what this is."""
    payload = error.args[0] if isinstance(error, Exception) and error.args else error
    data = getattr(payload, "data", None)
    return getattr(data, "err", None)


def _variant_name(value: object) -> str:
    # solders' fieldless enums print as "TransactionErrorFieldless.BlockhashNotFound".
    return str(value).rsplit(".", 1)[-1]
