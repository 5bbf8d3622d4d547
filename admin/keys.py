"""API key administration: issue, list, revoke and rotate keys of a deployed stack (DynamoDB and
the API Gateway usage plan) or of the local server (its ``/_local/keys`` endpoint).

A deployed key needs two things: its record (salted hash, workspaces) in the stack's ApiKeysTable,
which the authorizer reads, and its ``usage_key`` registered as an API Gateway API key in the
stack's usage plan, which meters and throttles it. Issuing writes the record first and revokes it
again if the registration fails, so no key is ever half-issued.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

LAYER = Path(__file__).resolve().parent.parent / "layers" / "learning"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

from swarm_learning.dal.api_keys import ApiKeyStore  # noqa: E402
from swarm_learning.services.keys.service import ApiKeyService, KeyRequest  # noqa: E402 - after the layer path


class KeyAdmin(Protocol):
    def issue(self, request: KeyRequest) -> dict[str, Any]: ...
    def list(self) -> list[dict[str, Any]]: ...
    def revoke(self, key_id: str) -> dict[str, Any]: ...
    def rotate(self, key_id: str, grace: timedelta) -> dict[str, Any]: ...


class StackKeys:
    """Keys of a deployed stack, found through its outputs (ApiKeysTableName, ApiUsagePlanId)."""

    def __init__(self, *, name_prefix: str, table: str, usage_plan_id: str, session: Any) -> None:
        self._prefix = name_prefix
        self._usage_plan = usage_plan_id
        self._apigateway = session.client("apigateway")
        self._keys = ApiKeyService(ApiKeyStore(table, session.client("dynamodb")))

    @classmethod
    def from_stack(cls, stack: str, session: Any) -> StackKeys:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        missing = {"ApiKeysTableName", "ApiUsagePlanId"} - set(outputs)
        if missing:
            raise SystemExit(
                f"stack {stack} has no output {', '.join(sorted(missing))}; deploy this version first"
            )
        return cls(
            name_prefix=stack,
            table=outputs["ApiKeysTableName"],
            usage_plan_id=outputs["ApiUsagePlanId"],
            session=session,
        )

    def issue(self, request: KeyRequest) -> dict[str, Any]:
        issued = self._keys.issue(request)
        try:
            self._register(issued.key_id, issued.usage_key, issued.name)
        except Exception:
            self._keys.revoke(issued.key_id)
            raise
        return issued.model_dump(mode="json")

    def list(self) -> list[dict[str, Any]]:
        return [k.model_dump(mode="json") for k in self._keys.listed()]

    def revoke(self, key_id: str) -> dict[str, Any]:
        revoked = self._keys.revoke(key_id)
        gateway_key = self._gateway_key(key_id)
        if gateway_key is not None:
            self._apigateway.update_api_key(
                apiKey=gateway_key["id"],
                patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}],
            )
        return revoked.model_dump(mode="json")

    def rotate(self, key_id: str, grace: timedelta) -> dict[str, Any]:
        successor = self._keys.rotate(key_id, grace=grace)
        try:
            self._register(successor.key_id, successor.usage_key, successor.name)
        except Exception:
            self._keys.revoke(successor.key_id)
            raise
        return successor.model_dump(mode="json")

    def _name(self, key_id: str) -> str:
        return f"{self._prefix}-{key_id}"

    def _register(self, key_id: str, usage_key: str, description: str) -> None:
        created = self._apigateway.create_api_key(
            name=self._name(key_id), description=description[:125], enabled=True, value=usage_key
        )
        self._apigateway.create_usage_plan_key(
            usagePlanId=self._usage_plan, keyId=created["id"], keyType="API_KEY"
        )

    def _gateway_key(self, key_id: str) -> dict[str, Any] | None:
        found = self._apigateway.get_api_keys(nameQuery=self._name(key_id), includeValues=False)["items"]
        return next((k for k in found if k["name"] == self._name(key_id)), None)


class LocalKeys:
    """Keys of the local server (``make run``), through its local-only ``/_local/keys``."""

    def __init__(self, url: str, token: str | None) -> None:
        self._root = url.rstrip("/") + "/_local/keys"
        self._token = token  # the server's development key: key administration is not open to all
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, path: str = "", body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        request = urllib.request.Request(  # noqa: S310 - local URL
            self._root + path, data=data, method=method, headers=headers
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise SystemExit(
                f"{method} {self._root + path}: HTTP {error.code} {error.read().decode()}"
            ) from error
        except urllib.error.URLError as error:
            raise SystemExit(
                f"cannot reach {self._root} ({error.reason}); start it with `make run`"
            ) from error

    def issue(self, request: KeyRequest) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", body=request.model_dump())
        return answer

    def list(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._call("GET")
        return answer

    def revoke(self, key_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", f"/{key_id}/revoke")
        return answer

    def rotate(self, key_id: str, grace: timedelta) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(
            "POST", f"/{key_id}/rotate", {"grace_hours": grace.total_seconds() / 3600}
        )
        return answer
