"""A user pool on moto's server shaped like template.yaml's (e-mail as the username attribute,
auto-verified; passwords of at least 10 characters and nothing else required; an app client
without a secret that allows USER_PASSWORD_AUTH), and the SKILLSESSION_AUTH URL naming it."""

from __future__ import annotations

import uuid

import moto_cognito_codes
from moto_server import REGION, endpoint_url


def idp():
    import boto3

    return boto3.client("cognito-idp", region_name=REGION, endpoint_url=endpoint_url())


def new_pool(**password_policy: bool) -> dict[str, str]:
    """A pool of template.yaml's shape; `password_policy` tightens its policy (RequireNumbers=
    True: as an operator may, so that Cognito refuses what the API's own rule lets through)."""
    moto_cognito_codes.install()  # ResendConfirmationCode and checked sign-up codes
    client = idp()
    pool_id = client.create_user_pool(
        PoolName=f"p-{uuid.uuid4().hex[:8]}",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": False,
                "RequireLowercase": False,
                "RequireNumbers": False,
                "RequireSymbols": False,
                **password_policy,
            }
        },
    )["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    url = f"cognito://{REGION}/{pool_id}?client_id={client_id}&endpoint_url={endpoint_url()}"
    return {"pool_id": pool_id, "client_id": client_id, "url": url}


def reset_code(pool: dict[str, str], email: str) -> str:
    """What moto's ForgotPassword would have mailed: it answers the code in a header of its own
    (`x-moto-forgot-password-confirmation-code`) and checks only codes of that form."""
    answer = idp().forgot_password(ClientId=pool["client_id"], Username=email)
    return answer["ResponseMetadata"]["HTTPHeaders"]["x-moto-forgot-password-confirmation-code"]


def signup_code(pool: dict[str, str], email: str) -> str | None:
    """The sign-up code Cognito last mailed to `email` (ResendConfirmationCode), None if none."""
    return moto_cognito_codes.signup_code(pool["client_id"], email)
