"""Token verification: every forged, stale or foreign token is refused, with a reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from enforcement.api.auth import StaticKey, TokenVerifier
from enforcement.api.errors import Unauthenticated
from enforcement.kernel.settings import Settings

SETTINGS = Settings(jwt_issuer="court-idp", jwt_audience="enforcement-api", jwt_leeway_seconds=30)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    c: dict[str, Any] = {"iss": "court-idp", "aud": "enforcement-api", "sub": "zhangwei", "role": "judge",
                         "iat": now, "nbf": now, "exp": now + 600}
    for k, v in changes.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], payload: dict[str, Any], sign: Any) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


async def refusal(token: str, settings: Settings = SETTINGS) -> tuple[str, str]:
    verifier = TokenVerifier(settings, StaticKey(KEY.public_key()))
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    assert info.value.status == 401
    return info.value.error_code, str(info.value.details.get("reason"))


async def test_a_good_token_is_accepted() -> None:
    token = jwt.encode(claims(), KEY, algorithm="RS256")
    got = await TokenVerifier(SETTINGS, StaticKey(KEY.public_key())).verify(token)
    assert got["sub"] == "zhangwei" and got["role"] == "judge"


async def test_clock_skew_within_the_leeway_is_tolerated() -> None:
    now = int(time.time())
    token = jwt.encode(claims(exp=now - 10, nbf=now + 10, iat=now + 10), KEY, algorithm="RS256")
    assert (await TokenVerifier(SETTINGS, StaticKey(KEY.public_key())).verify(token))["sub"] == "zhangwei"


async def test_bad_signature() -> None:
    assert await refusal(jwt.encode(claims(), OTHER, algorithm="RS256")) == ("token_invalid", "signature")
    good = jwt.encode(claims(), KEY, algorithm="RS256")
    head, _body, sig = good.split(".")
    tampered_body = b64(json.dumps(claims(sub="chenjing", role="supervisor")).encode())
    assert await refusal(f"{head}.{tampered_body}.{sig}") == ("token_invalid", "signature")


async def test_alg_none_is_refused() -> None:
    token = handmade({"alg": "none", "typ": "JWT"}, claims(), lambda _m: b"")
    assert await refusal(token) == ("token_invalid", "algorithm")
    assert await refusal(token.rsplit(".", 1)[0] + ".") == ("token_invalid", "algorithm")


async def test_hmac_signed_with_the_public_key_is_refused() -> None:
    """The classic key-confusion attack: HS256 with the server's public key as the secret."""
    token = handmade({"alg": "HS256", "typ": "JWT"}, claims(),
                     lambda m: hmac.new(PUBLIC_PEM, m, hashlib.sha256).digest())
    assert await refusal(token) == ("token_invalid", "algorithm")


async def test_an_algorithm_not_configured_is_refused() -> None:
    assert await refusal(jwt.encode(claims(), KEY, algorithm="RS512")) == ("token_invalid", "algorithm")
    assert await refusal(jwt.encode(claims(), KEY, algorithm="PS256")) == ("token_invalid", "algorithm")


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ("RS256", "HS256"), ()])
def test_only_asymmetric_algorithms_may_be_configured(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        TokenVerifier(Settings(jwt_algorithms=algorithms), StaticKey(KEY.public_key()))


async def test_expired() -> None:
    now = int(time.time())
    assert await refusal(jwt.encode(claims(exp=now - 60, iat=now - 700, nbf=now - 700), KEY, algorithm="RS256")) \
        == ("token_expired", "expired")


async def test_not_yet_valid() -> None:
    now = int(time.time())
    assert await refusal(jwt.encode(claims(nbf=now + 120), KEY, algorithm="RS256")) \
        == ("token_not_yet_valid", "not_yet_valid")
    assert (await refusal(jwt.encode(claims(iat=now + 120, nbf=None), KEY, algorithm="RS256")))[1] \
        == "not_yet_valid"


async def test_wrong_issuer_or_audience() -> None:
    assert await refusal(jwt.encode(claims(iss="someone-else"), KEY, algorithm="RS256")) == ("token_invalid", "issuer")
    assert await refusal(jwt.encode(claims(aud="another-service"), KEY, algorithm="RS256")) \
        == ("token_invalid", "audience")


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
async def test_missing_claims(claim: str) -> None:
    assert await refusal(jwt.encode(claims(**{claim: None}), KEY, algorithm="RS256")) \
        == ("token_invalid", "missing_claim")


async def test_garbage_and_odd_subjects() -> None:
    assert await refusal("not-a-token") == ("token_invalid", "malformed")
    assert (await refusal(jwt.encode(claims(sub=""), KEY, algorithm="RS256")))[0] == "token_invalid"


# A token verified once is remembered (issue 19): it must still be refused the moment anything
# that decided it changes. Each test fails when the remembered result is trusted too far.

class SwitchableKey:
    """A key source whose key can be swapped (a JWKS rotation), counting look-ups."""

    def __init__(self, key: Any) -> None:
        self.key = key

    async def key_for(self, header: dict[str, Any]) -> Any:
        return self.key


async def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    token = jwt.encode(claims(iat=int(now), nbf=int(now), exp=int(now) + 60), KEY, algorithm="RS256")
    verifier = TokenVerifier(SETTINGS, StaticKey(KEY.public_key()))
    assert (await verifier.verify(token))["sub"] == "zhangwei"
    assert (await verifier.verify(token))["sub"] == "zhangwei"  # remembered
    later = now + 60 + SETTINGS.jwt_leeway_seconds + 1

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:
            return cls.fromtimestamp(later, tz)

    monkeypatch.setattr(time, "time", lambda: later)  # the verifier's clock
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)  # PyJWT's
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    assert (info.value.error_code, info.value.details["reason"]) == ("token_expired", "expired")


async def test_a_remembered_token_is_verified_again_after_a_key_rotation() -> None:
    keys = SwitchableKey(KEY.public_key())
    verifier = TokenVerifier(SETTINGS, keys)
    token = jwt.encode(claims(), KEY, algorithm="RS256")
    assert (await verifier.verify(token))["sub"] == "zhangwei"
    keys.key = OTHER.public_key()  # the identity provider rotated KEY out
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    assert info.value.details["reason"] == "signature"


async def test_a_refused_token_is_not_remembered_and_claims_are_not_shared() -> None:
    verifier = TokenVerifier(SETTINGS, StaticKey(KEY.public_key()))
    forged = jwt.encode(claims(), OTHER, algorithm="RS256")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await verifier.verify(forged)
    token = jwt.encode(claims(), KEY, algorithm="RS256")
    first = await verifier.verify(token)
    first["role"] = "supervisor"  # a caller's change to its copy reaches no later request
    assert (await verifier.verify(token))["role"] == "judge"
