"""JWT bearer authentication of CDS clients, as CDS Hooks 2.0 specifies it.

The EHR signs a short-lived JWT with its private key (ES384 or RS384). We accept it only when:
the issuer is on the allow-list; the key comes from that issuer's configured JWKS or from a ``jku``
URL the allow-list names for it (never from a URL the token alone chooses); the signature verifies
with an asymmetric algorithm (``none`` and HMAC are refused before any key is looked at, so a
public key can never double as an HMAC secret); ``aud`` is this service's endpoint URL; ``exp``,
``iat`` and ``jti`` are present, the token is current, and its ``jti`` has not been seen before.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from cds_api.errors import Unauthorized
from cds_api.settings import ApiSettings, TrustedIssuer

LOG = logging.getLogger("kgcds.api")
ALLOWED_ALGORITHMS = ("ES384", "RS384")
ASYMMETRIC_KEY_TYPES = frozenset({"EC", "RSA"})
REFETCH_AFTER_SECONDS = 30.0
"""An unknown ``kid`` triggers at most one JWKS refetch per this interval (key rotation, not a DoS lever)."""


@dataclass(frozen=True, slots=True)
class VerifiedClient:
    issuer: str
    client_id: str


def public_key_set(document: dict[str, Any]) -> KeySet:
    """A KeySet of the document's asymmetric public keys; symmetric (``oct``) keys are dropped."""
    keys = [
        {k: v for k, v in key.items() if k not in {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}}
        for key in document.get("keys", [])
        if isinstance(key, dict) and key.get("kty") in ASYMMETRIC_KEY_TYPES
    ]
    return KeySet.import_key_set({"keys": keys})


class JwksCache:
    """Key sets fetched from allow-listed ``jku`` URLs, kept for ``ttl`` seconds."""

    def __init__(self, client: httpx.AsyncClient, ttl: float, clock: Callable[[], float]) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, KeySet]] = {}

    async def get(self, url: str, kid: str | None) -> KeySet:
        now = self._clock()
        cached = self._entries.get(url)
        if cached is not None:
            fetched_at, key_set = cached
            fresh = now - fetched_at < self._ttl
            knows_kid = kid is None or any(k.kid == kid for k in key_set.keys)
            if fresh and (knows_kid or now - fetched_at < REFETCH_AFTER_SECONDS):
                return key_set
        key_set = await self._fetch(url)
        self._entries[url] = (now, key_set)
        return key_set

    async def _fetch(self, url: str) -> KeySet:
        try:
            response = await self._client.get(url, timeout=5.0, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unauthorized(f"could not fetch the issuer's JWKS ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise Unauthorized(f"could not fetch the issuer's JWKS (HTTP {response.status_code})")
        try:
            document = response.json()
            return public_key_set(document if isinstance(document, dict) else {})
        except (ValueError, JoseError) as exc:
            raise Unauthorized("the issuer's JWKS is not a valid key set") from exc


class JtiReplayGuard(Protocol):
    """Raises :class:`Unauthorized` when (issuer, jti) was seen and has not expired; remembers it otherwise."""

    def check_and_remember(self, issuer: str, jti: str, expires_at: float, now: float) -> None: ...


class ReplayGuard:
    """Remembers (issuer, jti) until the token expires, so a captured token cannot be replayed.

    One process only: the server uses :class:`cds_api.replay_store.SharedReplayGuard`, which every
    worker process sees; this one remains for single-process embedding without a writable home.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def check_and_remember(self, issuer: str, jti: str, expires_at: float, now: float) -> None:
        key = (issuer, jti)
        seen_until = self._seen.get(key)
        if seen_until is not None and seen_until >= now:
            raise Unauthorized("token replayed: its jti was already used")
        self._seen[key] = expires_at
        if len(self._seen) > self._capacity:
            for old_key in [k for k, exp in self._seen.items() if exp < now]:
                del self._seen[old_key]
            if len(self._seen) > self._capacity:
                # More live tokens than remembered jtis: the oldest could now be replayed. Size
                # KGCDS_JTI_CACHE_SIZE to at least peak requests/s x token lifetime.
                LOG.warning("jti cache full (%d live tokens): forgetting the oldest", len(self._seen))
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)


class JwtVerifier:
    def __init__(
        self,
        issuers: dict[str, tuple[TrustedIssuer, KeySet | None]],
        jwks: JwksCache,
        replay: JtiReplayGuard,
        settings: ApiSettings,
        clock: Callable[[], float],
    ) -> None:
        self._issuers = issuers
        self._jwks = jwks
        self._replay = replay
        self._skew = settings.clock_skew_seconds
        self._max_lifetime = settings.max_token_lifetime_seconds
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: ApiSettings,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
        replay: JtiReplayGuard | None = None,
    ) -> JwtVerifier:
        """``replay`` defaults to an in-process guard sized by ``jti_cache_size``."""
        issuers: dict[str, tuple[TrustedIssuer, KeySet | None]] = {}
        for issuer in settings.trusted_issuers:
            configured = public_key_set(issuer.jwks) if issuer.jwks is not None else None
            issuers[issuer.iss] = (issuer, configured)
        return cls(
            issuers,
            JwksCache(client, settings.jwks_cache_seconds, clock),
            replay if replay is not None else ReplayGuard(settings.jti_cache_size),
            settings,
            clock,
        )

    async def verify(self, authorization: str | None, audience: str) -> VerifiedClient:
        token = _bearer_token(authorization)
        header, unverified = _unverified_parts(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthorized(f"token algorithm {algorithm!r} refused: only {' or '.join(ALLOWED_ALGORITHMS)}")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise Unauthorized("token header has no kid (CDS Hooks requires one)")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise Unauthorized("token issuer is not trusted")
        key_set = await self._keys_for(issuer, header)
        try:
            claims = jwt.decode(token, key_set, algorithms=list(ALLOWED_ALGORITHMS)).claims
        except JoseError as exc:
            raise Unauthorized(f"token signature does not verify ({exc.error})") from exc
        return self._check_claims(claims, issuer, audience)

    async def _keys_for(self, issuer: str, header: dict[str, Any]) -> KeySet:
        trusted, configured = self._issuers[issuer]
        jku = header.get("jku")
        if jku is not None:
            if not isinstance(jku, str) or jku not in trusted.jku_allow:
                raise Unauthorized("token jku is not on the issuer's allow-list")
            return await self._jwks.get(jku, header["kid"])
        if configured is None:
            raise Unauthorized("token has no jku and no keys are configured for its issuer")
        return configured

    def _check_claims(self, claims: dict[str, Any], issuer: str, audience: str) -> VerifiedClient:
        now = self._clock()
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise Unauthorized("token aud is not this service's endpoint URL")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise Unauthorized("token has no numeric exp")
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise Unauthorized("token has no numeric iat")
        if exp <= now - self._skew:
            raise Unauthorized("token expired")
        if iat > now + self._skew:
            raise Unauthorized("token iat is in the future")
        if exp - iat > self._max_lifetime:
            raise Unauthorized(f"token lifetime exceeds {self._max_lifetime} s")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise Unauthorized("token has no jti")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Unauthorized("token has no sub (the client id)")
        self._replay.check_and_remember(issuer, jti, float(exp) + self._skew, now)
        return VerifiedClient(issuer=issuer, client_id=sub)


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <JWT>'")
    return token.strip()


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims read *before* verification, only to choose the issuer and its keys."""
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise Unauthorized("token is not a compact JWS") from exc
    if not isinstance(claims, dict):
        raise Unauthorized("token claims are not a JSON object")
    return dict(compact.protected), claims
