"""Response shapes. Amounts are decimal strings of base units (u64 does not fit a JSON number safely in
JavaScript); times are ISO 8601 in UTC with an explicit offset."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DatabaseStatus(BaseModel):
    reachable: bool
    latency_ms: float
    server_version: str | None
    pgbouncer: bool = Field(description="true when the app reaches PostgreSQL through a transaction pooler")
    pooler_reason: str
    target: str


class Health(BaseModel):
    status: Literal["ok"]
    time: datetime
    database: DatabaseStatus


class MintOut(BaseModel):
    address: str
    decimals: int
    symbol: str | None


class FeesOut(BaseModel):
    dev_bps: int
    burn_bps: int
    treasury_bps: int


class PoolOut(BaseModel):
    id: int
    address: str
    mint: MintOut
    creator: str
    status: str
    entry_amount: str = Field(description="base units, decimal string")
    total_amount: str = Field(description="base units, decimal string")
    donated_amount: str = Field(description="base units, decimal string")
    max_participants: int
    participants_count: int
    lock_duration_seconds: int
    fees: FeesOut
    winner: str | None
    start_time: datetime
    lock_start_time: datetime | None
    end_time: datetime | None
    created_at: datetime


class PoolList(BaseModel):
    items: list[PoolOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")
