"""The dashboard's static site in template.yaml: a private bucket read only by its CloudFront
distribution (origin access control), HTTPS only, and an API whose CORS admits that origin only."""

from __future__ import annotations

from typing import Any

from localdev import template as tpl

TEMPLATE = tpl.load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
BUCKET = RESOURCES["DashboardBucket"]["Properties"]
POLICY = RESOURCES["DashboardBucketPolicy"]["Properties"]
DISTRIBUTION = RESOURCES["DashboardDistribution"]["Properties"]["DistributionConfig"]
DASHBOARD_ORIGIN = {
    "Fn::If": [
        "HasDashboardOrigin",
        {"Ref": "DashboardOrigin"},
        {"Fn::Sub": "https://${DashboardDistribution.DomainName}"},
    ]
}


def test_the_bucket_is_private_encrypted_and_owns_its_objects() -> None:
    assert BUCKET["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert BUCKET["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rule = BUCKET["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert "WebsiteConfiguration" not in BUCKET  # never an S3 website: CloudFront is the only door


def test_only_this_distribution_may_read_the_bucket_and_only_objects() -> None:
    statements = POLICY["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${DashboardBucket.Arn}/*"}
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${DashboardDistribution}")
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*"


def test_cloudfront_signs_its_reads_with_origin_access_control() -> None:
    control = RESOURCES["DashboardOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "s3"
    assert control["SigningBehavior"] == "always"
    assert control["SigningProtocol"] == "sigv4"
    (origin,) = DISTRIBUTION["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["DashboardBucket", "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI


def test_the_site_is_served_over_https_only_with_security_headers() -> None:
    behavior = DISTRIBUTION["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert "CacheBehaviors" not in DISTRIBUTION
    assert DISTRIBUTION["DefaultRootObject"] == "index.html"
    headers = RESOURCES["DashboardResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self' https://*.execute-api." in csp
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "DashboardResponseHeaders"}


def test_cors_admits_the_dashboards_origin_only() -> None:
    globals_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["DASHBOARD_ORIGIN"] == DASHBOARD_ORIGIN  # what the functions' CORSConfig allows
    api = RESOURCES["LearningApi"]["Properties"]
    cors = api["Cors"]
    assert cors["AllowOrigin"] == {
        "Fn::If": [
            "HasDashboardOrigin",
            {"Fn::Sub": "'${DashboardOrigin}'"},
            {"Fn::Sub": "'https://${DashboardDistribution.DomainName}'"},
        ]
    }
    assert "*" not in str(cors)
    # The browser's preflight carries no key: it must not need one (the calls after it do).
    assert api["Auth"]["AddDefaultAuthorizerToCorsPreflight"] is False
    assert api["Auth"]["AddApiKeyRequiredToCorsPreflight"] is False
    parameter = TEMPLATE["Parameters"]["DashboardOrigin"]
    assert parameter["Default"] == ""
    assert parameter["AllowedPattern"].startswith("^(https://")


def test_the_gateways_own_refusals_the_dashboard_must_read_carry_its_origin() -> None:
    # Without it a browser hides a refused key (401) or throttling (429) as a network error.
    responses = RESOURCES["LearningApi"]["Properties"]["GatewayResponses"]
    origin = {
        "Fn::If": [
            "HasDashboardOrigin",
            {"Fn::Sub": "'${DashboardOrigin}'"},
            {"Fn::Sub": "'https://${DashboardDistribution.DomainName}'"},
        ]
    }
    for kind in ("UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "QUOTA_EXCEEDED"):
        assert responses[kind]["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == origin, kind


def test_outputs_say_where_to_upload_and_browse() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs["DashboardBucketName"]["Value"] == {"Ref": "DashboardBucket"}
    assert outputs["DashboardUrl"]["Value"] == {"Fn::Sub": "https://${DashboardDistribution.DomainName}/"}
    assert outputs["DashboardDistributionId"]["Value"] == {"Ref": "DashboardDistribution"}
