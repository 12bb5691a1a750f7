"""Metrics on Amazon CloudWatch: each `put` is one PutMetricData of gauges in a namespace, with
the dimensions the URL names (the template's alarms watch those).

URL: `cloudwatch://NAMESPACE?stack=NAME&region=eu-west-1&endpoint_url=http://127.0.0.1:5000`;
every parameter but `region` and `endpoint_url` becomes a dimension (`stack` -> `Stack`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from skillsession.adapters import aws_clients


class CloudWatchMetrics:
    backend_name = "cloudwatch"

    def __init__(
        self,
        namespace: str,
        dimensions: dict[str, str] | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ):
        self.namespace = namespace
        self.dimensions = [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()]
        self.client: Any = aws_clients.client(
            "cloudwatch", region_name=region, endpoint_url=endpoint_url
        )

    @classmethod
    def from_url(cls, url: str) -> CloudWatchMetrics:
        parsed = urlparse(url)
        if parsed.scheme != "cloudwatch" or not parsed.netloc:
            raise ValueError(f"not a cloudwatch://NAMESPACE URL: {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        region, endpoint_url = query.pop("region", None), query.pop("endpoint_url", None)
        dimensions = {k[:1].upper() + k[1:]: v for k, v in query.items()}
        return cls(parsed.netloc, dimensions, region=region, endpoint_url=endpoint_url)

    def put(self, values: dict[str, float]) -> None:
        data = [
            {
                "MetricName": name,
                "Dimensions": self.dimensions,
                "Value": float(value),
                "Unit": "Seconds" if name.endswith("Seconds") else "Count",
            }
            for name, value in values.items()
        ]
        if data:
            self.client.put_metric_data(Namespace=self.namespace, MetricData=data)
