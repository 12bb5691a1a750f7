from __future__ import annotations

from fastapi import APIRouter

from skillsession.http import schemas as S
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AppDeps

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    operation_id="getHealth",
    summary="Liveness and the backends in use",
    **documented(S.HealthOut),
)
async def health(deps: AppDeps):
    return OrjsonResponse(
        {
            "status": "ok",
            "backends": {
                "store": deps.stores.admin.backend_name,
                "media": deps.media.backend_name,
                "mail": deps.mailer.backend_name,
                "auth": deps.settings.auth.split(":")[0],
            },
        }
    )
