"""The app behind a real uvicorn server on a loopback port, called with httpx and a signed JWT."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from cds_api.asgi_io import MAX_BODY_BYTES
from tests.api_support import Signer, hook_request, make_app, med_request

ISSUER = "https://ehr.example"
SELECT = "/cds-services/medication-safety-order-select"


def warfarin_with_fluconazole() -> dict[str, Any]:
    """An order-select call that gets one critical card."""
    return hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.ec(ISSUER)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Iterator[str]:
    app = make_app(
        tmp_path_factory.mktemp("uvicorn"),
        auth="enabled",
        trusted_issuers=[{"iss": ISSUER, "jwks": signer.jwks()}],
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_signed_order_select_over_real_http(base_url: str, signer: Signer) -> None:
    url = f"{base_url}{SELECT}"
    body = warfarin_with_fluconazole()
    with httpx.Client() as client:
        discovery = client.get(f"{base_url}/cds-services")
        assert discovery.status_code == 200
        response = client.post(url, json=body, headers={"Authorization": f"Bearer {signer.token(url)}"})
        assert response.status_code == 200, response.text
        (card,) = response.json()["cards"]
        assert card["indicator"] == "critical"
        refused = client.post(url, json=body)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/fhir+json")


def test_cors_headers_on_a_real_hook_call(base_url: str, signer: Signer) -> None:
    """Browser clients (the CDS Hooks Sandbox) read the cards only if the answer carries CORS headers."""
    url = f"{base_url}{SELECT}"
    body = warfarin_with_fluconazole()
    origin = "https://sandbox.cds-hooks.org"
    headers = {"Authorization": f"Bearer {signer.token(url)}", "Origin": origin}
    with httpx.Client() as client:
        response = client.post(url, json=body, headers=headers)
        discovery = client.get(f"{base_url}/cds-services", headers={"Origin": origin})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in ("*", origin)
    assert response.headers["content-type"] == "application/json"
    assert discovery.headers["access-control-allow-origin"] in ("*", origin)


def test_chunked_hook_call_is_read_whole(base_url: str, signer: Signer) -> None:
    """A body sent in chunks (Transfer-Encoding: chunked) arrives in several ASGI messages; all are read."""
    url = f"{base_url}{SELECT}"
    body = json.dumps(warfarin_with_fluconazole()).encode()

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 700):
            yield body[start : start + 700]

    headers = {"Authorization": f"Bearer {signer.token(url)}", "Content-Type": "application/json"}
    with httpx.Client() as client:
        response = client.post(url, content=pieces(), headers=headers)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["indicator"] == "critical"


def test_other_methods_on_a_service_are_405(base_url: str) -> None:
    with httpx.Client() as client:
        response = client.get(f"{base_url}{SELECT}")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_body_over_the_limit_is_413_and_the_server_keeps_serving(base_url: str, signer: Signer) -> None:
    url = f"{base_url}{SELECT}"
    with httpx.Client(timeout=30) as client:
        headers = {"Authorization": f"Bearer {signer.token(url)}", "Content-Type": "application/json"}
        response = client.post(url, content=b" " * (MAX_BODY_BYTES + 1), headers=headers)
        assert response.status_code == 413
        issue = response.json()["issue"][0]
        assert "request body" in issue["diagnostics"]
        assert client.get(f"{base_url}/cds-services").status_code == 200
