"""Profile routes: read a wallet's profile with its stats; update it (signed by the wallet).

The profile code (`missout.profiles.profile`) is imported by the routes on first use, not at init
(`missout_api.deferred`); the models take its patterns from the light `missout.profiles.patterns`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field

from missout.auth import Action
from missout.blocking import offloaded
from missout.db.transaction import ConstraintViolation, transaction
from missout.profiles.patterns import NICKNAME_PATTERN
from missout.refusals import Refused
from missout.settings import api_settings
from missout_api.deps import Limits, counted_read
from missout_api.problems import ProblemException, problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import BASE58_KEY, ApiModel
from missout_api.signed import SignedFields, admit, check_request, refusal, spend_nonce

if TYPE_CHECKING:
    from missout.profiles.profile import NicknameRule, Profile

router = APIRouter(tags=["profiles"], route_class=LazyAPIRoute)

Wallet = Annotated[str, Path(pattern=BASE58_KEY, description="the wallet (base58)")]
AvatarStyle = Literal["bottts", "identicon", "shapes", "thumbs", "pixel-art"]
_DICEBEAR = "https://api.dicebear.com/7.x/{style}/svg?seed={wallet}"


class WinsOut(ApiModel):
    mint: str
    decimals: int
    symbol: str | None
    wins: int
    total_won: str = Field(description="base units, decimal string")
    biggest_win: str = Field(description="base units, decimal string")


class ProfileOut(ApiModel):
    wallet: str
    nickname: str | None
    display_name: str
    avatar_style: str
    avatar_url: str = Field(description="the uploaded image if checked, else the style's generated image")
    has_uploaded_avatar: bool
    nickname_changes: int
    next_nickname_change_at: datetime | None
    pools_joined: int
    pools_won: int
    won: list[WinsOut]


class ProfileIn(SignedFields):
    nickname: str | None = Field(default=None, pattern=NICKNAME_PATTERN)
    avatar_style: AvatarStyle | None = None


def nickname_rule() -> NicknameRule:
    from missout.profiles.profile import NicknameRule

    s = api_settings()
    return NicknameRule(s.nickname_free_changes, timedelta(seconds=s.nickname_cooldown_s))


def _avatar_url(profile: Profile) -> str:
    if profile.avatar_key is not None:
        from missout.profiles.avatars import avatar_read_url  # boto3: only when an image exists

        return avatar_read_url(profile.avatar_key)
    return _DICEBEAR.format(style=profile.avatar_style, wallet=profile.wallet)


def profile_out(profile: Profile) -> ProfileOut:
    return ProfileOut(
        wallet=profile.wallet,
        nickname=profile.nickname,
        display_name=profile.display_name,
        avatar_style=profile.avatar_style,
        avatar_url=_avatar_url(profile),
        has_uploaded_avatar=profile.avatar_key is not None,
        nickname_changes=profile.nickname_changes,
        next_nickname_change_at=profile.next_nickname_change_at,
        pools_joined=profile.pools_joined,
        pools_won=profile.pools_won,
        won=[
            WinsOut(
                mint=w.mint,
                decimals=w.decimals,
                symbol=w.symbol,
                wins=w.wins,
                total_won=str(w.total_won),
                biggest_win=str(w.biggest_win),
            )
            for w in profile.won
        ],
    )


@router.get("/profiles/{wallet}", response_model=ProfileOut, responses=problem_responses())
@offloaded
def get_profile(request: Request, limits: Limits, wallet: Wallet) -> ProfileOut:
    from missout.profiles.profile import load_profile

    profile = counted_read(request, limits, lambda conn: load_profile(conn, wallet, nickname_rule()))
    return profile_out(profile)


@router.post("/profiles/{wallet}", response_model=ProfileOut, responses=problem_responses(400, 401, 409))
@offloaded
def post_profile(request: Request, limits: Limits, wallet: Wallet, body: ProfileIn) -> ProfileOut:
    """Change the nickname and/or the avatar style. A nickname change after the first two waits 48 hours
    from the previous one (409 `nickname_cooldown` with `retry_at`)."""
    from missout.profiles.profile import ProfileRefused, load_profile, update_profile

    signed = check_request(body, wallet, Action.PROFILE_UPDATE)
    admit(request, limits, wallet)
    rule = nickname_rule()
    try:
        with transaction() as conn:
            spend_nonce(conn, signed)
            update_profile(conn, wallet, rule, nickname=body.nickname, avatar_style=body.avatar_style)
            profile = load_profile(conn, wallet, rule)
    except ProfileRefused as refused:
        raise refusal(refused, retry_at=refused.until.isoformat() if refused.until else None) from None
    except ConstraintViolation as violation:
        if violation.constraint != "uq_profiles_nickname_lower":
            raise
        raise refusal(Refused("nickname_taken", f"the nickname {body.nickname!r} is taken")) from None
    return profile_out(profile)


class AvatarUploadIn(SignedFields):
    pass


class AvatarUploadOut(ApiModel):
    upload_id: str
    url: str = Field(description="POST the file here as multipart/form-data with `fields` first")
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int
    content_types: list[str]


class AvatarConfirmIn(ApiModel):
    upload_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="from the avatar-upload answer")


def _avatar_problem(refused: Refused) -> ProblemException:
    status = {"bucket_unset": 503, "unknown_upload": 404}.get(refused.reason, 422)
    return refusal(refused, status, type_prefix="avatar-")


@router.post(
    "/profiles/{wallet}/avatar-upload",
    response_model=AvatarUploadOut,
    responses=problem_responses(400, 401),
)
@offloaded
def post_avatar_upload(
    request: Request, limits: Limits, wallet: Wallet, body: AvatarUploadIn
) -> AvatarUploadOut:
    """A presigned S3 POST for one PNG, JPEG or WebP image of at most 1 MiB (signed by the wallet)."""
    from missout.profiles.avatars import CONTENT_TYPES, AvatarRefused, start_upload

    signed = check_request(body, wallet, Action.AVATAR_UPLOAD)
    admit(request, limits, wallet)
    try:
        with transaction() as conn:
            spend_nonce(conn, signed)
            upload = start_upload(conn, wallet)
    except AvatarRefused as refused:
        raise _avatar_problem(refused) from None
    return AvatarUploadOut(
        upload_id=upload.upload_id,
        url=upload.url,
        fields=upload.fields,
        expires_at=upload.expires_at,
        max_bytes=upload.max_bytes,
        content_types=list(CONTENT_TYPES),
    )


@router.post("/profiles/{wallet}/avatar", response_model=ProfileOut, responses=problem_responses(400, 404))
@offloaded
def post_avatar(request: Request, limits: Limits, wallet: Wallet, body: AvatarConfirmIn) -> ProfileOut:
    """Check the uploaded object (size, magic bytes) and point the profile at it. The upload id is the
    capability: only the signed avatar-upload request handed it out."""
    from missout.profiles.avatars import AvatarRefused, confirm_upload
    from missout.profiles.profile import load_profile

    admit(request, limits, wallet)
    try:
        with transaction() as conn:
            confirm_upload(conn, wallet, body.upload_id)
            profile = load_profile(conn, wallet, nickname_rule())
    except AvatarRefused as refused:
        raise _avatar_problem(refused) from None
    return profile_out(profile)
