"""E-mail notification subscriptions; the confirm and unsubscribe links are public.

A GET on a link shows a page with a button; only the POST it sends acts (mail scanners follow
GET links). `POST /unsubscribe?token=` is also the RFC 8058 one-click target that mail clients
post `List-Unsubscribe=One-Click` to. A POST answers JSON, or a page to a browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse

from skillsession.domain.errors import NotFound
from skillsession.domain.model import Subscription, SubscriptionStatus
from skillsession.http import pages
from skillsession.http import schemas as S
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.service import subscriptions as service

router = APIRouter(tags=["notifications"], dependencies=AUTHENTICATED)
public = APIRouter(tags=["notifications"])
Token = Annotated[str, Query(max_length=service.MAX_TOKEN_LENGTH)]
Accept = Annotated[str | None, Header(include_in_schema=False)]
HTML = {"text/html": {"schema": {"type": "string"}}}
PAGE_DOC = {
    "response_class": HTMLResponse,
    "responses": {200: {"description": "an HTML page", "content": HTML}, **S.ERRORS},
}


def _json_or_page_doc() -> dict:
    doc = documented(S.SubscriptionOut)
    doc["responses"][200]["content"].update(HTML)
    return doc


def _view(subscription) -> dict:
    return {"email": subscription.email, "subscription_status": subscription.status.value}


def _gone(accept: str | None, exc: NotFound):
    if pages.wants_html(accept):
        return pages.page("Link no longer valid", exc.message + ".", status_code=404)
    raise exc


@router.get(
    "/subscribe-email-notifications",
    operation_id="subscribeEmailNotifications",
    summary="Subscribe the caller's e-mail",
    **documented(S.SubscriptionOut),
)
async def subscribe(deps: AppDeps, identity: CurrentUser):
    return OrjsonResponse(_view(service.subscribe(deps, identity)))


@router.get(
    "/email-subscription",
    operation_id="getEmailSubscription",
    summary="The caller's e-mail subscription as it stands (only reads: nothing is mailed)",
    **documented(S.SubscriptionStateOut),
)
async def subscription_state(deps: AppDeps, identity: CurrentUser):
    email, status = service.current(deps, identity)
    return OrjsonResponse({"email": email, "subscription_status": status})


@public.get(
    "/confirm-subscription",
    summary="The link in the confirmation e-mail: a page with a Confirm button",
    operation_id="getConfirmSubscriptionPage",
    **PAGE_DOC,
)
async def confirm_subscription_page(deps: AppDeps, accept: Accept = None, token: Token = ""):
    try:
        found = service.confirmation(deps, token)
    except NotFound as exc:
        return _gone(accept, exc)
    if found.status == SubscriptionStatus.CONFIRMED:
        return pages.page("Subscribed", f"{found.email} gets SkillSession booking e-mails.")
    return pages.page(
        "Confirm your subscription",
        f"Send SkillSession booking e-mails to {found.email}?",
        button="Confirm",
    )


@public.post(
    "/confirm-subscription",
    summary="Confirm a subscription (the page's button)",
    operation_id="confirmSubscription",
    **_json_or_page_doc(),
)
async def confirm_subscription(deps: AppDeps, accept: Accept = None, token: Token = ""):
    try:
        confirmed = service.confirm(deps, token)
    except NotFound as exc:
        return _gone(accept, exc)
    return _done(accept, confirmed, "Subscribed", "Booking e-mails will go to {email}.")


@public.get(
    "/unsubscribe",
    summary="The link in every notification e-mail: a page with an Unsubscribe button",
    operation_id="getUnsubscribePage",
    **PAGE_DOC,
)
async def unsubscribe_page(deps: AppDeps, accept: Accept = None, token: Token = ""):
    try:
        found = service.unsubscription(deps, token)
    except NotFound as exc:
        return _gone(accept, exc)
    if found.status == SubscriptionStatus.UNSUBSCRIBED:
        return pages.page("Unsubscribed", f"{found.email} gets no SkillSession booking e-mails.")
    return pages.page(
        "Unsubscribe",
        f"Stop SkillSession booking e-mails to {found.email}?",
        button="Unsubscribe",
    )


@public.post(
    "/unsubscribe",
    summary="Unsubscribe (the page's button, and RFC 8058 one-click)",
    operation_id="unsubscribe",
    **_json_or_page_doc(),
)
async def unsubscribe(deps: AppDeps, accept: Accept = None, token: Token = ""):
    try:
        ended = service.unsubscribe(deps, token)
    except NotFound as exc:
        return _gone(accept, exc)
    return _done(accept, ended, "Unsubscribed", "No more booking e-mails go to {email}.")


def _done(accept: str | None, subscription: Subscription, title: str, message: str):
    if pages.wants_html(accept):
        return pages.page(title, message.format(email=subscription.email))
    return OrjsonResponse(_view(subscription))
