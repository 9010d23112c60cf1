"""The ``on_decision`` recipes of docs/tighten.md, with the real libraries (test dependencies
only: corsware itself never imports them): Prometheus counters and OpenTelemetry metrics and
span attributes."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from corsware import CORSPolicy, DecisionEvent
from corsware.wsgi import CORSMiddleware

prometheus_client = pytest.importorskip("prometheus_client")
pytest.importorskip("opentelemetry.sdk")

POLICY = CORSPolicy(
    allow_origins=["https://app.example.com"],
    allow_methods=["GET", "PUT"],
    paths={"/admin/*": {"allow_origins": ["https://admin.example.com"]}},
)


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


TRAFFIC = [
    ("GET", "/api", {"Origin": "https://app.example.com"}),  # allowed
    ("GET", "/api", {"Origin": "https://evil.example"}),  # origin_not_allowed
    ("GET", "/admin/users", {"Origin": "https://app.example.com"}),  # origin_not_allowed, rule /admin/*
    ("OPTIONS", "/api", {"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"}),
    ("GET", "/api", {}),  # not CORS
]


def send(mw: Any, requests: list[tuple[str, str, dict[str, str]]] = TRAFFIC) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=mw), base_url="https://api.test") as client:
        for method, path, headers in requests:
            client.request(method, path, headers=headers)


def test_prometheus_refusals_by_reason_and_path_rule() -> None:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    refusals = Counter("corsware_refusals", "CORS requests refused", ["reason", "path_rule", "kind"], registry=registry)

    def count_refusal(event: DecisionEvent) -> None:
        refusals.labels(event.reason, event.path_rule or "", event.kind).inc()

    mw = CORSMiddleware(app, policy=POLICY, on_decision=count_refusal)
    # Threads, as under a threaded server: the counts add up.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: send(mw), range(8)))

    def value(**labels: str) -> float | None:
        result: float | None = registry.get_sample_value("corsware_refusals_total", labels)
        return result

    assert value(reason="origin_not_allowed", path_rule="", kind="actual") == 8
    assert value(reason="origin_not_allowed", path_rule="/admin/*", kind="actual") == 8
    assert value(reason="method_not_allowed", path_rule="", kind="preflight") == 8
    assert value(reason="allowed", path_rule="", kind="actual") is None  # refusals only


def test_opentelemetry_metrics_and_span_attributes() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("corsware")
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = tracer_provider.get_tracer("test")

    decisions = meter.create_counter("corsware.decisions", description="CORS decisions of corsware")

    def record(event: DecisionEvent) -> None:
        attributes = {"cors.allowed": event.allowed, "cors.reason": event.reason, "cors.kind": event.kind}
        if event.path_rule is not None:
            attributes["cors.path_rule"] = event.path_rule
        decisions.add(1, attributes)
        trace.get_current_span().set_attributes(attributes)  # the request's span, if any

    mw = CORSMiddleware(app, policy=POLICY, on_decision=record, on_decision_all=True)
    for request in TRAFFIC:
        with tracer.start_as_current_span("request"):
            send(mw, [request])

    points = {
        tuple(sorted(point.attributes.items())): point.value
        for metric in reader.get_metrics_data().resource_metrics[0].scope_metrics[0].metrics
        for point in metric.data.data_points
    }
    assert points == {
        (("cors.allowed", True), ("cors.kind", "actual"), ("cors.reason", "allowed")): 1,
        (("cors.allowed", False), ("cors.kind", "actual"), ("cors.reason", "origin_not_allowed")): 1,
        (("cors.allowed", False), ("cors.kind", "actual"), ("cors.path_rule", "/admin/*"),
         ("cors.reason", "origin_not_allowed")): 1,
        (("cors.allowed", False), ("cors.kind", "preflight"), ("cors.reason", "method_not_allowed")): 1,
    }  # fmt: skip
    spans = exporter.get_finished_spans()
    assert [span.attributes.get("cors.reason") for span in spans] == [
        "allowed", "origin_not_allowed", "origin_not_allowed", "method_not_allowed", None,
    ]  # fmt: skip
