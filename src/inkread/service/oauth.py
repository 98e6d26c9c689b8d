"""The OAuth 2 token endpoint (``POST /connect/token``): the client-credentials grant (RFC 6749
section 4.4), the credentials in the form body or in HTTP Basic (section 2.3.1), failed attempts slowed
down per client and address, secret checks at once capped. Answers ``{"access_token", "token_type":
"Bearer", "expires_in"}``; a bad or revoked client is 401 ``{"error": "invalid_client", ...}``.

A routes module like :mod:`.app` and :mod:`.aspose`: it imports the shared pieces from :mod:`.deps`
(and the secret check from :mod:`.auth`), never from another routes module; :func:`.app.create_app`
includes its router.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from .auth import authenticate_client
from .deps import basic_credentials, state

__all__ = ["router"]

router = APIRouter()


@router.post(
    "/connect/token",
    tags=["auth"],
    summary="trade client credentials for an access token",
    responses={400: {"description": "unsupported grant type"}, 401: {"description": "invalid client"}},
)
def token(
    request: Request, grant_type: str = Form(""), client_id: str = Form(""), client_secret: str = Form("")
) -> JSONResponse:
    if (
        "application/x-www-form-urlencoded" not in request.headers.get("content-type", "")
        and "multipart/form-data" not in request.headers.get("content-type", "")
        and request.headers.get("content-length", "0") not in ("", "0")
    ):
        return JSONResponse(
            {
                "error": "invalid_request",
                "error_description": "send the fields as application/x-www-form-urlencoded (RFC 6749 section 4.4.2)",
            },
            status_code=400,
        )
    if grant_type != "client_credentials":
        return JSONResponse(
            {
                "error": "unsupported_grant_type",
                "error_description": "only grant_type=client_credentials is supported",
            },
            status_code=400,
        )
    basic = basic_credentials(request.headers.get("authorization", ""))
    if basic is not None:  # RFC 6749 section 2.3.1: HTTP Basic, each part form-urlencoded
        if client_id and client_id != basic[0] or client_secret:
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": "client credentials given both in the Authorization header and in the body",
                },
                status_code=400,
            )
        client_id, client_secret = basic
    st = state(request)
    address = request.client.host if request.client else ""
    wait = st.failures.retry_after(address, client_id)
    if wait is not None:
        return JSONResponse(
            {"error": "slow_down", "error_description": f"too many failed attempts: try again in {wait} s"},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    with st.checks.gate() as admitted:
        if not admitted:
            return JSONResponse(
                {"error": "temporarily_unavailable", "error_description": "too many token requests at once"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        record = authenticate_client(st.store, client_id, client_secret)
    if record is None:
        st.failures.failed(address, client_id)
        return JSONResponse(
            {"error": "invalid_client", "error_description": "unknown client, wrong secret, or revoked client"},
            status_code=401,
        )  # no WWW-Authenticate: Basic, or browsers would prompt
    issued = state(request).issuer.issue(record.id)
    return JSONResponse(
        {"access_token": issued.access_token, "token_type": issued.token_type, "expires_in": issued.expires_in},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
