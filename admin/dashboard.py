"""Publish the dashboard's static files to a deployed stack: its private bucket (read only by
CloudFront), a ``config.json`` naming the stack's API, then a CloudFront invalidation."""

from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
# What the page needs, and the licences of what it ships; never npm metadata or node_modules.
PUBLISHED = ("index.html", "styles.css", "favicon.svg", "js/**/*.js", "vendor/**/*")
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown",
}


def dashboard_files(root: Path = DASHBOARD_DIR) -> list[Path]:
    found = {f for pattern in PUBLISHED for f in root.glob(pattern) if f.is_file()}
    return sorted(f for f in found if "node_modules" not in f.parts)


def content_type(file: Path) -> str:
    if file.suffix in _TYPES:
        return _TYPES[file.suffix]
    guessed, _ = mimetypes.guess_type(file.name)
    return guessed or "text/plain; charset=utf-8"  # the licence files (LICENSE, NOTICE)


@dataclass(frozen=True)
class DashboardSite:
    bucket: str
    api_url: str
    distribution_id: str
    url: str
    session: Any

    @classmethod
    def from_stack(cls, stack: str, session: Any) -> DashboardSite:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        wanted = {"DashboardBucketName", "DashboardDistributionId", "DashboardUrl", "ApiUrl"}
        missing = wanted - set(outputs)
        if missing:
            raise SystemExit(
                f"stack {stack} has no output {', '.join(sorted(missing))}; deploy this version first"
            )
        return cls(
            bucket=outputs["DashboardBucketName"],
            api_url=outputs["ApiUrl"],
            distribution_id=outputs["DashboardDistributionId"],
            url=outputs["DashboardUrl"],
            session=session,
        )

    def publish(self, root: Path = DASHBOARD_DIR) -> dict[str, Any]:
        s3 = self.session.client("s3")
        uploaded = []
        for file in dashboard_files(root):
            key = file.relative_to(root).as_posix()
            s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=file.read_bytes(),
                ContentType=content_type(file),
                CacheControl="no-cache",  # small files; a new version shows on the next load
            )
            uploaded.append(key)
        s3.put_object(
            Bucket=self.bucket,
            Key="config.json",
            Body=json.dumps({"api_base": self.api_url}).encode(),
            ContentType="application/json",
            CacheControl="no-cache",
        )
        uploaded.append("config.json")
        invalidation = self.session.client("cloudfront").create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"dashboard-{time.time_ns()}",
            },
        )
        return {
            "url": self.url,
            "bucket": self.bucket,
            "files": len(uploaded),
            "api_base": self.api_url,
            "invalidation_id": invalidation["Invalidation"]["Id"],
        }
