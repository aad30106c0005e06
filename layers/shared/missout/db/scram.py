"""The SCRAM-SHA-256 client key, derived once per (password, salt, iterations), not once per connection.

Every connection through the pooler logs in with SCRAM (docs/local-stack.md, "pgBouncer's userlist"). The
client side of that login starts with PBKDF2 over the password, the salt and the iteration count the server
sends: 4,096 rounds of HMAC-SHA-256, about 0.9 ms of CPU here on every connect, and we connect once per
request (engine.py: NullPool behind the pooler). Its inputs are the same on every login until the role's
password changes (the server keeps the salt with the verifier), so its result is too: the key is kept, and
only the rest of the exchange (the nonces, the proof, the server's signature) is computed per login, as
before.

What is kept is the salted password, which is worth no more to an attacker than the password this process
already holds (it logs in with it). A changed password or salt is a different key: derived afresh. Only the
few most recent keys are kept.

scramp computes it in `scramp.core`, through the name `hi` it imports from `scramp.utils`; that module name is
pointed at ours when this module loads (as driver.py does for pg8000's placeholder conversion).
tests/db/test_scram_key_cache.py logs in through pgBouncer and counts the derivations.

The same holds for SASLprep (RFC 4013), which scramp applies to the username and the password on every login
before anything else: a dozen table look-ups per character in Python, about 45 us of CPU per connect for the
local stack's names (16 characters of password) and more for a generated password, for a result that depends
on the string alone. `prepared` keeps it per string, through the name `saslprep` in `scramp.core`; a string
SASLprep refuses raises every time (errors are not kept).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import scramp.core
import scramp.utils

_KEYS_KEPT = 8  # one per (role, salt) in use: the app logs in as one role


_derive: Callable[[Callable[..., Any], bytes, bytes, int], bytes] = scramp.utils.hi  # scramp's own
_saslprep: Callable[[str], str] = scramp.utils.saslprep  # scramp's own


@functools.lru_cache(maxsize=_KEYS_KEPT)
def _kept(hf: Callable[..., Any], password: bytes, salt: bytes, iterations: int) -> bytes:
    return _derive(hf, password, salt, iterations)


def salted_password(hf: Callable[..., Any], password: bytes, salt: bytes, iterations: int) -> bytes:
    """scramp's `hi` (hf is a hash constructor such as hashlib.sha256), its result kept per inputs."""
    return _kept(hf, bytes(password), bytes(salt), int(iterations))


def derivations() -> int:
    """How many keys were derived (not found kept) since the process started: for the tests."""
    return _kept.cache_info().misses


@functools.lru_cache(maxsize=_KEYS_KEPT)
def prepared(text: str) -> str:
    """scramp's `saslprep` of a username or password, its result kept per string."""
    return _saslprep(text)


scramp.core.hi = salted_password
scramp.core.saslprep = prepared
