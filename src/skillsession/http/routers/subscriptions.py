"""E-mail notification subscriptions; the confirm and unsubscribe links are public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from skillsession.http import schemas as S
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.service import subscriptions as service

router = APIRouter(tags=["notifications"], dependencies=AUTHENTICATED)
public = APIRouter(tags=["notifications"])
Token = Annotated[str, Query(max_length=200)]


def _view(subscription) -> dict:
    return {"email": subscription.email, "subscription_status": subscription.status.value}


@router.get(
    "/subscribe-email-notifications",
    operation_id="subscribeEmailNotifications",
    summary="Subscribe the caller's e-mail",
    **documented(S.SubscriptionOut),
)
async def subscribe(deps: AppDeps, identity: CurrentUser):
    return OrjsonResponse(_view(service.subscribe(deps, identity)))


@public.get(
    "/confirm-subscription",
    operation_id="confirmSubscription",
    summary="The link in the confirmation e-mail",
    **documented(S.SubscriptionOut),
)
async def confirm_subscription(deps: AppDeps, token: Token = ""):
    return OrjsonResponse(_view(service.confirm(deps, token)))


@public.get(
    "/unsubscribe",
    operation_id="unsubscribe",
    summary="The link in every notification e-mail",
    **documented(S.SubscriptionOut),
)
async def unsubscribe(deps: AppDeps, token: Token = ""):
    return OrjsonResponse(_view(service.unsubscribe(deps, token)))
