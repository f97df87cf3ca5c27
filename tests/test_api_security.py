"""JWT bearer authentication: valid tokens pass; every attack in issue 4 is refused with 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from tests.api_support import Signer, hook_request, make_app, med_request

BASE = "http://testserver.local"
SELECT = "/cds-services/medication-safety-order-select"
AUD = BASE + SELECT
ISS_CONFIGURED = "https://ehr.example"
ISS_JKU = "https://ehr-b.example"
JKU = "https://ehr-b.example/.well-known/jwks.json"
EVIL_JKU = "https://attacker.example/jwks.json"


class Keys:
    """Test keys, generated per module with joserfc (cryptography underneath)."""

    def __init__(self) -> None:
        self.configured = Signer.ec(ISS_CONFIGURED, kid="ehr-ec")
        self.jku_rsa = Signer.rsa(ISS_JKU, kid="ehr-b-rsa", jku=JKU)
        self.attacker = Signer.ec(ISS_CONFIGURED, kid="ehr-ec")  # same kid, different key
        self.attacker_jku = Signer.ec(ISS_JKU, kid="evil", jku=EVIL_JKU)
        self.jwks_fetches = 0


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def jwks_server(keys: Keys) -> Litestar:
    """The EHR's (and the attacker's) JWKS endpoints, served in-process over ASGI."""

    @get("/.well-known/jwks.json", sync_to_thread=False)
    def ehr_jwks() -> dict[str, Any]:
        keys.jwks_fetches += 1
        return keys.jku_rsa.jwks()

    @get("/jwks.json", sync_to_thread=False)
    def attacker_jwks() -> dict[str, Any]:
        return keys.attacker_jku.jwks()

    return Litestar([ehr_jwks, attacker_jwks])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[TestClient[Any]]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=jwks_server(keys)))  # type: ignore[arg-type]
    app = make_app(
        tmp_path_factory.mktemp("security"),
        http_client=http,
        auth="enabled",
        trusted_issuers=[
            {"iss": ISS_CONFIGURED, "jwks": keys.configured.jwks()},
            {"iss": ISS_JKU, "jku_allow": [JKU]},
        ],
    )
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


def body() -> dict[str, Any]:
    return hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])


def call(client: TestClient[Any], token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(SELECT, json=body(), headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())


def claims(iss: str = ISS_CONFIGURED, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {"iss": iss, "sub": "ehr-client", "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    values.update(extra)
    return values


def test_valid_es384_token_with_configured_keys(client: TestClient[Any], keys: Keys) -> None:
    response = call(client, keys.configured.token(AUD))
    assert response.status_code == 200, response.text
    assert len(response.json()["cards"]) == 1


def test_valid_rs384_token_with_keys_from_allow_listed_jku(client: TestClient[Any], keys: Keys) -> None:
    response = call(client, keys.jku_rsa.token(AUD))
    assert response.status_code == 200, response.text
    fetched = keys.jwks_fetches
    assert call(client, keys.jku_rsa.token(AUD)).status_code == 200
    assert keys.jwks_fetches == fetched  # the JWKS is cached, not fetched per call


def test_aud_may_be_a_list_containing_the_endpoint(client: TestClient[Any], keys: Keys) -> None:
    assert call(client, keys.configured.token([AUD, "https://other.example"])).status_code == 200


def _alg_none(keys: Keys) -> str:
    return unsigned({"alg": "none", "typ": "JWT"}, claims()) + "."


def _hs384_with_public_key(keys: Keys) -> str:
    # The classic confusion attack: HMAC-sign with the server's *public* key as the shared secret.
    secret = keys.jku_rsa.key.as_pem(private=False)
    signing_input = unsigned({"alg": "HS384", "typ": "JWT", "kid": "ehr-b-rsa", "jku": JKU}, claims(ISS_JKU))
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha384).digest()
    return signing_input + "." + b64url(signature)


def _hs384_configured_issuer(keys: Keys) -> str:
    secret = keys.configured.key.as_pem(private=False)
    signing_input = unsigned({"alg": "HS384", "typ": "JWT", "kid": "ehr-ec"}, claims())
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha384).digest())


ATTACKS: dict[str, Callable[[Keys], str | None]] = {
    "no token": lambda k: None,
    "not a JWT": lambda k: "hello.world",
    "alg none": _alg_none,
    "HS384 with the RSA public key as secret": _hs384_with_public_key,
    "HS384 with the EC public key as secret": _hs384_configured_issuer,
    "wrong aud": lambda k: k.configured.token("https://evil.example/cds-services/medication-safety-order-select"),
    "aud of another service": lambda k: k.configured.token(BASE + "/cds-services/medication-safety-order-sign"),
    "expired": lambda k: k.configured.token(AUD, iat=int(time.time()) - 900, exp=int(time.time()) - 600),
    "iat in the future": lambda k: k.configured.token(AUD, iat=int(time.time()) + 600, exp=int(time.time()) + 800),
    "lifetime too long": lambda k: k.configured.token(AUD, exp=int(time.time()) + 86_400),
    "no exp": lambda k: k.configured.token(AUD, exp=None),
    "no iat": lambda k: k.configured.token(AUD, iat=None),
    "no jti": lambda k: k.configured.token(AUD, jti=None),
    "unknown issuer": lambda k: Signer.ec("https://unknown.example").token(AUD),
    "jku not on the allow-list": lambda k: k.attacker_jku.token(AUD),
    "bad signature (attacker key, same kid)": lambda k: k.attacker.token(AUD),
    "tampered claims": lambda k: _tamper(k.configured.token(AUD)),
    "ES256 instead of ES384": lambda k: _es256(k),
    "no kid in the header": lambda k: _no_kid(k),
}


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims_ = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims_["sub"] = "someone-else"
    return f"{header}.{b64url(json.dumps(claims_).encode())}.{signature}"


def _no_kid(keys: Keys) -> str:
    from joserfc import jwt

    return jwt.encode({"alg": "ES384"}, claims(), keys.configured.key, algorithms=["ES384"])


def _es256(keys: Keys) -> str:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", parameters={"kid": "ehr-ec"})
    return jwt.encode({"alg": "ES256", "kid": "ehr-ec"}, claims(), key, algorithms=["ES256"])


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_is_refused(client: TestClient[Any], keys: Keys, attack: str) -> None:
    response = call(client, ATTACKS[attack](keys))
    assert response.status_code == 401, f"{attack}: {response.status_code} {response.text}"
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_replayed_jti_is_refused(client: TestClient[Any], keys: Keys) -> None:
    token = keys.configured.token(AUD)
    assert call(client, token).status_code == 200
    replay = call(client, token)
    assert replay.status_code == 401
    assert "replay" in replay.json()["issue"][0]["diagnostics"]


def test_feedback_endpoint_also_needs_a_token(client: TestClient[Any]) -> None:
    response = client.post(SELECT + "/feedback", json={"feedback": []})
    assert response.status_code == 401


def test_discovery_needs_no_token(client: TestClient[Any]) -> None:
    assert client.get("/cds-services").status_code == 200


def test_auth_disabled_accepts_calls_and_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kgcds.api"), TestClient(make_app(tmp_path, auth="disabled")) as c:
        assert c.post(SELECT, json=body()).status_code == 200
    assert any("KGCDS_AUTH=disabled" in r.getMessage() for r in caplog.records)


def test_public_base_url_sets_the_expected_audience(tmp_path: Path, keys: Keys) -> None:
    public = "https://cds.hospital.example/kgcds"
    app = make_app(
        tmp_path,
        auth="enabled",
        public_base_url=public,
        trusted_issuers=[{"iss": ISS_CONFIGURED, "jwks": keys.configured.jwks()}],
    )
    with TestClient(app, base_url=BASE) as c:
        good = c.post(
            SELECT, json=body(), headers={"Authorization": f"Bearer {keys.configured.token(public + SELECT)}"}
        )
        assert good.status_code == 200, good.text
        internal = c.post(SELECT, json=body(), headers={"Authorization": f"Bearer {keys.configured.token(AUD)}"})
        assert internal.status_code == 401


def test_jwks_is_refetched_for_an_unknown_kid_but_not_more_than_every_30_s(keys: Keys) -> None:
    """Key rotation: a new kid makes the cache refetch, rate-limited so junk kids cannot flood the EHR."""
    import asyncio

    from cds_api.security import JwksCache

    now = [1000.0]
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=jwks_server(keys)))  # type: ignore[arg-type]
    cache = JwksCache(http, ttl=300, clock=lambda: now[0])
    before = keys.jwks_fetches

    async def scenario() -> None:
        await cache.get(JKU, "ehr-b-rsa")
        await cache.get(JKU, "ehr-b-rsa")
        assert keys.jwks_fetches == before + 1
        await cache.get(JKU, "rotated-key")  # unknown kid, but fetched < 30 s ago: no refetch
        assert keys.jwks_fetches == before + 1
        now[0] += 31
        await cache.get(JKU, "rotated-key")
        assert keys.jwks_fetches == before + 2
        now[0] += 301
        await cache.get(JKU, "ehr-b-rsa")  # expired
        assert keys.jwks_fetches == before + 3
        await http.aclose()

    asyncio.run(scenario())


def test_replay_guard_prunes_expired_jtis_first(caplog: pytest.LogCaptureFixture) -> None:
    from cds_api.errors import Unauthorized
    from cds_api.security import ReplayGuard

    guard = ReplayGuard(capacity=2)
    guard.check_and_remember("iss", "a", expires_at=100.0, now=0.0)
    guard.check_and_remember("iss", "b", expires_at=500.0, now=0.0)
    with pytest.raises(Unauthorized):
        guard.check_and_remember("iss", "b", expires_at=500.0, now=10.0)
    guard.check_and_remember("iss", "c", expires_at=500.0, now=200.0)  # "a" expired: pruned, nothing live lost
    assert not caplog.records
    with pytest.raises(Unauthorized):
        guard.check_and_remember("iss", "b", expires_at=500.0, now=210.0)
    with caplog.at_level(logging.WARNING, logger="kgcds.api"):
        guard.check_and_remember("iss", "d", expires_at=500.0, now=220.0)  # 3 live > capacity 2
    assert any("jti cache full" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- POST /diagnosis


def test_diagnosis_needs_a_bearer_jwt_whose_aud_is_the_diagnosis_url(tmp_path: Path, keys: Keys) -> None:
    from tests.ddx_tiny_ontology import ATAXIA, FOCAL
    from tests.test_api_ddx import ddx_app

    app = ddx_app(tmp_path, auth="enabled", trusted_issuers=[{"iss": ISS_CONFIGURED, "jwks": keys.configured.jwks()}])
    findings = {"observed": [FOCAL, ATAXIA]}
    with TestClient(app, base_url=BASE) as c:
        missing = c.post("/diagnosis", json=findings)
        assert missing.status_code == 401
        assert missing.headers["content-type"].startswith("application/fhir+json")
        for_a_service = keys.configured.token(AUD)  # signed for the order-select endpoint, not /diagnosis
        assert (
            c.post("/diagnosis", json=findings, headers={"Authorization": f"Bearer {for_a_service}"}).status_code == 401
        )
        token = keys.configured.token(f"{BASE}/diagnosis")
        good = c.post("/diagnosis", json=findings, headers={"Authorization": f"Bearer {token}"})
        assert good.status_code == 200, good.text
        assert good.json()["results"]
        replayed = c.post("/diagnosis", json=findings, headers={"Authorization": f"Bearer {token}"})
        assert replayed.status_code == 401
        assert "replayed" in replayed.text


def test_openapi_marks_diagnosis_as_secured(tmp_path: Path) -> None:
    from tests.test_api_ddx import ddx_app

    with TestClient(ddx_app(tmp_path)) as c:
        operation = c.get("/schema/openapi.json").json()["paths"]["/diagnosis"]["post"]
    assert operation["security"] == [{"cdsHooksJwt": []}]
    assert "401" in operation["responses"]


# ---------------------------------------------------------------- shared jti replay store


def test_shared_replay_store_refuses_a_jti_seen_through_another_connection(tmp_path: Path) -> None:
    from cds_api.errors import Unauthorized
    from cds_api.replay_store import SharedReplayGuard

    worker_a, worker_b = SharedReplayGuard(tmp_path / "replay.sqlite3"), SharedReplayGuard(tmp_path / "replay.sqlite3")
    worker_a.connect()
    worker_b.connect()
    try:
        now = 1_000_000.0
        worker_a.check_and_remember(ISS_CONFIGURED, "jti-1", now + 300, now)
        with pytest.raises(Unauthorized, match="replayed"):
            worker_b.check_and_remember(ISS_CONFIGURED, "jti-1", now + 300, now + 1)
        # The same jti from another issuer is another token.
        worker_b.check_and_remember(ISS_JKU, "jti-1", now + 300, now + 1)
        # Once the first token has expired its jti may be used again (the row is taken over, and then live).
        worker_b.check_and_remember(ISS_CONFIGURED, "jti-1", now + 700, now + 400)
        with pytest.raises(Unauthorized):
            worker_a.check_and_remember(ISS_CONFIGURED, "jti-1", now + 700, now + 401)
        assert worker_a.live_rows(now + 401) == 1
    finally:
        worker_a.close()
        worker_b.close()


def test_shared_replay_store_prunes_expired_rows(tmp_path: Path) -> None:
    import sqlite3

    from cds_api.replay_store import PRUNE_EVERY_CALLS, SharedReplayGuard

    guard = SharedReplayGuard(tmp_path / "replay.sqlite3")
    guard.connect()
    try:
        for i in range(PRUNE_EVERY_CALLS - 1):
            guard.check_and_remember(ISS_CONFIGURED, f"old-{i}", 100.0, 50.0)
        guard.check_and_remember(ISS_CONFIGURED, "new", 1_000.0, 500.0)  # the 1000th call prunes
    finally:
        guard.close()
    with sqlite3.connect(tmp_path / "replay.sqlite3") as db:
        assert db.execute("SELECT jti FROM seen_jti").fetchall() == [("new",)]


def test_replay_store_must_be_opened_first(tmp_path: Path) -> None:
    from cds_api.replay_store import SharedReplayGuard

    with pytest.raises(RuntimeError, match="start-up"):
        SharedReplayGuard(tmp_path / "replay.sqlite3").check_and_remember(ISS_CONFIGURED, "j", 2.0, 1.0)
