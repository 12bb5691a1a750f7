"""CognitoVerifier with real tokens from moto's user pool, verified through moto's JWKS endpoint.

moto signs with a fixed key (`kid` "dummy") shipped in the package; the test uses that key to
forge an expired token. moto's id tokens carry no `email` claim (real Cognito's do); access tokens
get their email through GetUser."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from pathlib import Path

import boto3
import jwt
import moto.cognitoidp
import pytest
from moto_server import REGION, endpoint_url

from skillsession.adapters.auth.cognito import CognitoVerifier
from skillsession.domain.errors import Unauthorized

EMAIL = "learner@example.com"
PASSWORD = "Passw0rd!!x"


@pytest.fixture(scope="module")
def pool() -> dict[str, str]:
    idp = boto3.client("cognito-idp", region_name=REGION, endpoint_url=endpoint_url())
    pool_id = idp.create_user_pool(PoolName=f"p-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=EMAIL,
        UserAttributes=[{"Name": "email", "Value": EMAIL}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username=EMAIL, Password=PASSWORD, Permanent=True
    )
    result = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": EMAIL, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {
        "pool_id": pool_id,
        "client_id": client_id,
        "id": result["IdToken"],
        "access": result["AccessToken"],
    }


def _verifier(pool: dict[str, str], client_id: str | None = None) -> CognitoVerifier:
    return CognitoVerifier.from_url(
        f"cognito://{REGION}/{pool['pool_id']}?client_id={client_id or pool['client_id']}"
        f"&endpoint_url={endpoint_url()}"
    )


def test_url_and_issuer():
    v = CognitoVerifier.from_url("cognito://eu-west-1/eu-west-1_abc?client_id=c1")
    assert v.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert v.jwks_url == v.issuer + "/.well-known/jwks.json"
    with pytest.raises(ValueError):
        CognitoVerifier.from_url("cognito://eu-west-1?client_id=c1")


def test_access_token_verifies_and_email_comes_from_get_user(pool):
    identity = _verifier(pool).verify(pool["access"])
    sub = jwt.decode(pool["access"], options={"verify_signature": False})["sub"]
    assert (identity.user_id, identity.email) == (sub, EMAIL)


def test_id_token_verifies(pool):
    identity = _verifier(pool).verify(pool["id"])
    assert identity.user_id == jwt.decode(pool["id"], options={"verify_signature": False})["sub"]


def test_wrong_client_is_refused(pool):
    for token in (pool["id"], pool["access"]):
        with pytest.raises(Unauthorized) as err:
            _verifier(pool, client_id="someone-else").verify(token)
        assert err.value.code == "invalid_token"


def test_tampered_token_is_refused(pool):
    header, payload, signature = pool["access"].split(".")
    claims = jwt.decode(pool["access"], options={"verify_signature": False})
    claims["sub"] = "attacker"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    with pytest.raises(Unauthorized) as err:
        _verifier(pool).verify(f"{header}.{forged}.{signature}")
    assert err.value.code == "invalid_token"
    with pytest.raises(Unauthorized):
        _verifier(pool).verify("not-a-jwt")


def _moto_key() -> dict:
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


def _sign(claims: dict, kid: str = "dummy", alg: str = "RS256") -> str:
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(_moto_key()))
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def test_expired_token(pool):
    claims = jwt.decode(pool["access"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 10
    with pytest.raises(Unauthorized) as err:
        _verifier(pool).verify(_sign(claims))
    assert err.value.code == "token_expired"


def test_wrong_issuer_and_token_use(pool):
    claims = jwt.decode(pool["access"], options={"verify_signature": False})
    for change in ({"iss": "https://evil.example"}, {"token_use": "refresh"}):
        with pytest.raises(Unauthorized):
            _verifier(pool).verify(_sign({**claims, **change}))


def test_algorithm_is_pinned(pool):
    claims = jwt.decode(pool["access"], options={"verify_signature": False})
    token = jwt.encode(claims, "secret-" * 8, algorithm="HS256", headers={"kid": "dummy"})
    with pytest.raises(Unauthorized):
        _verifier(pool).verify(token)


def test_unknown_kid_refetches_once_then_is_rate_limited(pool):
    calls = []
    verifier = _verifier(pool)
    real = verifier._fetch_json

    def counting(url):
        calls.append(url)
        return real(url)

    verifier._fetch_json = counting
    claims = jwt.decode(pool["access"], options={"verify_signature": False})
    verifier.verify(pool["access"])
    for _ in range(3):
        with pytest.raises(Unauthorized):
            verifier.verify(_sign(claims, kid="rotated"))
    assert len(calls) == 1


def test_identity_from_authorizer(pool):
    verifier = _verifier(pool)
    claims = {"sub": "u1", "email": "A@Example.com", "iss": verifier.issuer}
    assert verifier.identity_from_authorizer(claims).email == "a@example.com"
    with pytest.raises(Unauthorized):
        verifier.identity_from_authorizer({"email": "x@example.com"})


def _floored(pool, floor: float | None, exists: bool = True) -> CognitoVerifier:
    from datetime import UTC, datetime

    from skillsession.adapters.auth.floors import TokenFloors

    valid_after = None if floor is None else datetime.fromtimestamp(floor, UTC)
    floors = TokenFloors(lambda user_id: (exists, valid_after))
    return CognitoVerifier.from_url(
        f"cognito://{REGION}/{pool['pool_id']}?client_id={pool['client_id']}"
        f"&endpoint_url={endpoint_url()}",
        floors=floors,
    )


def test_the_floor_refuses_tokens_of_earlier_seconds_only(pool):
    """Cognito's `iat` is whole seconds: a token of the floor's own second is good (the one a
    change answers is issued then), one of the second before is not."""
    claims = jwt.decode(pool["id"], options={"verify_signature": False})
    iat = int(claims["iat"])
    assert _floored(pool, iat + 0.9).verify(pool["id"]).user_id == claims["sub"]
    assert _floored(pool, None).verify(pool["id"]).user_id == claims["sub"]  # no record: good
    for verifier in (_floored(pool, iat + 1.0), _floored(pool, None, exists=False)):
        with pytest.raises(Unauthorized) as err:
            verifier.verify(pool["id"])
        assert err.value.code == "token_revoked"


def test_the_floor_on_the_authorizer_path_reads_string_claims(pool):
    claims = {"sub": "u1", "iss": _verifier(pool).issuer, "iat": "1733500000"}
    assert _floored(pool, 1733500000.5).identity_from_authorizer(claims).user_id == "u1"
    with pytest.raises(Unauthorized) as err:
        _floored(pool, 1733500001.0).identity_from_authorizer(claims)
    assert err.value.code == "token_revoked"
    for iat in (None, "soon"):
        with pytest.raises(Unauthorized) as err:
            _floored(pool, None).identity_from_authorizer({**claims, "iat": iat})
        assert err.value.code == "invalid_token"
