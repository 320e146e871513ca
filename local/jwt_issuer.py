"""A local OIDC issuer for the leads API: an RS256 key, its JWKS, tokens, and the check API Gateway's JWT
authorizer makes (signature against the JWKS, issuer, audience or client_id, exp/nbf/iat, route scopes).

Answers as API Gateway does: 401 {"message":"Unauthorized"} for a missing, malformed, forged, expired or
wrong-audience token; 403 {"message":"Forbidden"} when the token has none of the route's scopes. Claims reach
the function in requestContext.authorizer.jwt ({"claims": {...strings}, "scopes": [...] or None}).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

LOCAL_ISSUER = "https://local.leadscore.invalid/issuer"
LOCAL_AUDIENCE = "leadscore-console-local"
ALL_SCOPES = ("leads:read", "leads:feedback", "leads:erase")
CLOCK_SKEW_SECONDS = 0


@dataclass
class Denied:
    status: int
    body: bytes


UNAUTHORIZED = Denied(401, b'{"message":"Unauthorized"}')
FORBIDDEN = Denied(403, b'{"message":"Forbidden"}')


@dataclass
class LocalIssuer:
    issuer: str = LOCAL_ISSUER
    audience: str = LOCAL_AUDIENCE
    scope_prefix: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex[:12]}))

    def jwks(self) -> dict[str, Any]:
        """The public key set, as an issuer publishes it at its jwks_uri."""
        return dict(KeySet([self.key]).as_dict(private=False))

    def mint(
        self,
        scopes: Sequence[str] = ALL_SCOPES,
        *,
        subject: str = "local-operator",
        lifetime_seconds: int = 12 * 3600,
        audience: str | None = None,
        issuer: str | None = None,
        issued_at: int | None = None,
        key: RSAKey | None = None,
    ) -> str:
        now = int(time.time()) if issued_at is None else issued_at
        claims = {
            "iss": issuer or self.issuer,
            "sub": subject,
            "aud": audience or self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_seconds,
            "scope": " ".join(f"{self.scope_prefix}{scope}" for scope in scopes),
            "jti": uuid.uuid4().hex,
        }
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid, "typ": "JWT"}, claims, signer)

    def authorize(self, headers: dict[str, str], route_scopes: Sequence[str]) -> dict[str, Any] | Denied:
        """The authorizer context for the request, or how API Gateway refuses it."""
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return UNAUTHORIZED
        claims = self.verify(token.strip())
        if claims is None:
            return UNAUTHORIZED
        granted = str(claims.get("scope") or claims.get("scp") or "").split()
        if route_scopes and not set(route_scopes) & set(granted):
            return FORBIDDEN
        strings = {name: value if isinstance(value, str) else json.dumps(value) for name, value in claims.items()}
        return {"jwt": {"claims": strings, "scopes": granted if route_scopes else None}}

    def verify(self, token: str) -> dict[str, Any] | None:
        try:
            keys = KeySet.import_key_set(self.jwks())  # type: ignore[arg-type]
            decoded = jwt.decode(token, keys, algorithms=["RS256"])
        except (JoseError, ValueError, KeyError, TypeError):
            return None
        claims: dict[str, Any] = dict(decoded.claims)
        now = time.time()
        audiences = claims.get("aud", claims.get("client_id"))
        audience_list = audiences if isinstance(audiences, list) else [audiences]
        checks = [
            claims.get("iss") == self.issuer,
            self.audience in audience_list,
            isinstance(claims.get("exp"), int | float) and claims["exp"] > now - CLOCK_SKEW_SECONDS,
            not isinstance(claims.get("nbf"), int | float) or claims["nbf"] <= now + CLOCK_SKEW_SECONDS,
            not isinstance(claims.get("iat"), int | float) or claims["iat"] <= now + CLOCK_SKEW_SECONDS,
        ]
        return claims if all(checks) else None
