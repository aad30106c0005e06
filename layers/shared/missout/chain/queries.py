"""`getProgramAccounts` filters for finding the program's accounts by layout and status."""

from __future__ import annotations

from solana.rpc.models import MemcmpOpts

from missout.chain.accounts import POOL_ACCOUNT, PoolStatus
from missout.chain.base58 import b58encode
from missout.chain.program import ProgramCodec, shipped_codec


def pool_filters(
    status: PoolStatus | None = None, codec: ProgramCodec | None = None
) -> list[int | MemcmpOpts]:
    """Pools of the codec's layout (size + discriminator), optionally only those with `status`.

    The status byte offset comes from the IDL (368 in the latest layout, 336 in the seed era).
    """
    active = codec or shipped_codec()
    filters: list[int | MemcmpOpts] = [
        active.account_size(POOL_ACCOUNT),
        MemcmpOpts(offset=0, bytes=b58encode(active.account_discriminator(POOL_ACCOUNT))),
    ]
    if status is not None:
        offset = active.field_offsets(POOL_ACCOUNT)["status"]
        filters.append(MemcmpOpts(offset=offset, bytes=b58encode(bytes([status]))))
    return filters
