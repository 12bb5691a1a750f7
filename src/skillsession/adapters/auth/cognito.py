"""TokenVerifier for Amazon Cognito user pools: RS256 JWTs checked against the pool's JWKS.

URL: `cognito://REGION/POOL_ID?client_id=...&endpoint_url=...`.

- issuer: always `https://cognito-idp.{region}.amazonaws.com/{pool_id}` (moto puts the same one
  in its tokens); JWKS from `{issuer}/.well-known/jwks.json`, or `{endpoint_url}/{pool_id}/
  .well-known/jwks.json` with an emulator.
- keys are cached; an unknown `kid` triggers one refetch, at most every 60 seconds.
- checks: algorithm pinned to RS256, signature, `iss`, `exp` (60 s leeway off), `token_use`
  ("id": `aud` == client_id; "access": `client_id` claim == client_id).
- email: the `email` claim (Cognito id tokens carry it). Access tokens do not: their email is
  fetched once with `GetUser` (a public Cognito call authorised by the access token itself, no IAM
  permission needed) and cached per `sub`. A token with neither gives `email=""`.
- `identity_from_authorizer(claims)`: for Lambda behind API Gateway's JWT authorizer, which has
  already verified signature, issuer, audience and expiry.
- revocation (`floors`, adapters/auth/floors.py): a token whose `iat` is before its user's floor
  (a password reset or change, stored in the store's `revocations` role), or of a deleted user,
  is refused (401 `token_revoked`) on both paths: a dict look-up per request, a store read per
  user and TTL. Cognito itself refuses such tokens only for its own APIs.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from skillsession.adapters import aws_clients
from skillsession.adapters.auth.floors import TokenFloors
from skillsession.domain.errors import Unauthorized
from skillsession.ports import Identity

# Set by the Lambda entry point (skillsession.aws.lambda_handler) for the duration of one request
# when API Gateway's JWT authorizer has verified the caller: `verify` then trusts these claims.
AUTHORIZER_CLAIMS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "skillsession_authorizer_claims", default=None
)

_REFRESH_INTERVAL = 60.0
_EMAIL_CACHE_SIZE = 10_000


class CognitoVerifier:
    def __init__(
        self,
        region: str,
        pool_id: str,
        client_id: str,
        *,
        endpoint_url: str | None = None,
        fetch_json: Any = None,
        floors: TokenFloors | None = None,
        clock: Callable[[], float] = time.time,
    ):
        if not (region and pool_id and client_id):
            raise ValueError("CognitoVerifier needs a region, a pool id and a client_id")
        self._floors = floors
        self._clock = clock  # the wall clock, as Cognito's `iat` (its floors share it)
        self.region = region
        self.pool_id = pool_id
        self.client_id = client_id
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        base = f"{self.endpoint_url}/{pool_id}" if self.endpoint_url else self.issuer
        self.jwks_url = f"{base}/.well-known/jwks.json"
        self._fetch_json = fetch_json or _fetch_json
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self._emails: OrderedDict[str, str] = OrderedDict()
        self._client: Any = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> CognitoVerifier:
        parts = urlsplit(url)
        if parts.scheme != "cognito" or not parts.netloc or not parts.path.strip("/"):
            raise ValueError(f"not a cognito://REGION/POOL_ID URL: {url}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return cls(
            parts.netloc,
            parts.path.strip("/"),
            query.get("client_id", ""),
            endpoint_url=query.get("endpoint_url"),
            **options,
        )

    # -- TokenVerifier ----------------------------------------------------------------------
    def verify(self, token: str) -> Identity:
        trusted = AUTHORIZER_CLAIMS.get()
        if trusted is not None:
            return self.identity_from_authorizer(trusted)
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token", code="invalid_token") from None
        if header.get("alg") != "RS256":
            raise Unauthorized("unexpected token algorithm", code="invalid_token")
        key = self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired", code="token_expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token", code="invalid_token") from None
        self._check_client(claims)
        self._check_floor(str(claims["sub"]), claims.get("iat"))
        email = claims.get("email") or ""
        if not email and claims["token_use"] == "access":
            email = self._email_for_access_token(str(claims["sub"]), token)
        return Identity(user_id=str(claims["sub"]), email=str(email).lower())

    def identity_from_authorizer(self, claims: dict[str, Any]) -> Identity:
        """Claims API Gateway's JWT authorizer has verified (requestContext.authorizer.jwt);
        their values may be strings (`"iat": "1733500000"`)."""
        if not claims.get("sub"):
            raise Unauthorized("no subject in authorizer claims", code="invalid_token")
        if claims.get("iss") not in (None, self.issuer):
            raise Unauthorized("token from another issuer", code="invalid_token")
        self._check_floor(str(claims["sub"]), claims.get("iat"))
        return Identity(user_id=str(claims["sub"]), email=str(claims.get("email") or "").lower())

    # -- revocation -------------------------------------------------------------------------
    def revocation_instant(self) -> datetime:
        """Now on the clock the floors are compared on: stored as a user's floor, it refuses
        the tokens Cognito issued before it (to the second, see `_check_floor`)."""
        return datetime.fromtimestamp(self._clock(), UTC)

    def revoked(self, user_id: str, valid_after: datetime) -> None:
        """The user's floor was just stored: this process refuses the earlier tokens at once."""
        if self._floors is not None:
            self._floors.set(user_id, True, valid_after)

    def account_deleted(self, user_id: str) -> None:
        """The account was just deleted: this process refuses all its tokens at once."""
        if self._floors is not None:
            self._floors.set(user_id, False, None)

    def _check_floor(self, user_id: str, iat: Any) -> None:
        if self._floors is None:
            return
        if type(iat) is int:  # a verified token's claim (the authorizer's: a string)
            issued = iat
        else:
            try:
                issued = int(float(iat))
            except (TypeError, ValueError):
                raise Unauthorized("invalid token", code="invalid_token") from None
        # Cognito's `iat` is whole seconds, the floor is not: a token is refused when issued in
        # a second before the floor's (`issued + 1 <= floor`, i.e. issued < floor truncated;
        # GONE, infinite, refuses all). So a token issued right after the change, in the same
        # second, works; the price: one issued earlier in that same second works too.
        if issued + 1 <= self._floors.floor(user_id, self._clock()):
            raise Unauthorized("the token was revoked; log in again", code="token_revoked")

    # -- internals --------------------------------------------------------------------------
    def _check_client(self, claims: dict[str, Any]) -> None:
        use = claims.get("token_use")
        if use == "id":
            aud = claims.get("aud")
            ok = aud == self.client_id or (isinstance(aud, list) and self.client_id in aud)
        elif use == "access":
            ok = claims.get("client_id") == self.client_id
        else:
            ok = False
        if not ok:
            raise Unauthorized("token not issued for this client", code="invalid_token")

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= _REFRESH_INTERVAL:
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("unknown signing key", code="invalid_token")
        return key

    def _refresh(self) -> None:
        from jwt.algorithms import RSAAlgorithm

        self._fetched_at = time.monotonic()
        try:
            document = self._fetch_json(self.jwks_url)
        except Exception as exc:  # network errors: keep the old keys, deny unknown ones
            raise Unauthorized("cannot fetch signing keys", code="invalid_token") from exc
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("alg", "RS256") == "RS256" and "kid" in jwk:
                keys[str(jwk["kid"])] = RSAAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys

    def _email_for_access_token(self, sub: str, token: str) -> str:
        cached = self._emails.get(sub)
        if cached is not None:
            return cached
        if self._client is None:
            self._client = aws_clients.client(
                "cognito-idp", region_name=self.region, endpoint_url=self.endpoint_url
            )
        try:
            user = self._client.get_user(AccessToken=token)
        except Exception:
            return ""
        email = next(
            (a["Value"] for a in user.get("UserAttributes", []) if a.get("Name") == "email"), ""
        )
        self._emails[sub] = email
        while len(self._emails) > _EMAIL_CACHE_SIZE:
            self._emails.popitem(last=False)
        return email


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (https or emulator)
        return json.loads(response.read())
