"""Prometheus metrics (`GET /metrics`): citizen turns and their decisions, latency histograms, HTTP requests,
rate limiting, the hand-off queue and the degraded-mode flag. One registry per process; with several replicas,
Prometheus scrapes each and sums."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()
_LATENCY_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0)

TURNS = Counter("govbot_turns", "Citizen messages answered, by channel and decision "
                "(answer, clarify, handoff, dialogue; degraded_* when Rasa was unreachable and retrieval "
                "answered alone)",
                ["channel", "decision"], registry=REGISTRY)
TURN_SECONDS = Histogram("govbot_turn_seconds", "Time to answer a citizen message, by channel", ["channel"],
                         buckets=_LATENCY_BUCKETS, registry=REGISTRY)
HTTP_REQUESTS = Counter("govbot_http_requests", "HTTP requests by method, route template and status",
                        ["method", "route", "status"], registry=REGISTRY)
HTTP_SECONDS = Histogram("govbot_http_request_seconds", "HTTP request duration by route template", ["route"],
                         buckets=_LATENCY_BUCKETS, registry=REGISTRY)
IN_FLIGHT = Gauge("govbot_http_requests_in_flight", "HTTP requests being served now", registry=REGISTRY)
RATE_LIMITED = Counter("govbot_rate_limited", "Citizen requests refused with 429, by limit (sender or ip)",
                       ["limit"], registry=REGISTRY)
TOO_LARGE = Counter("govbot_request_too_large", "Requests refused with 413 (body over the limit)",
                    registry=REGISTRY)
HANDOFF_TICKETS = Gauge("govbot_handoff_tickets", "Hand-off tickets by status (new = waiting in the queue; "
                        "overdue = new past its SLA)", ["status"], registry=REGISTRY)
AGENTS_ONLINE = Gauge("govbot_handoff_agents_online", "Agents online now", registry=REGISTRY)
ACTION_ERRORS = Counter("govbot_action_errors", "Custom actions that raised (the citizen got an apology and a "
                        "human offer), by action", ["action"], registry=REGISTRY)
DEGRADED = Gauge("govbot_degraded", "1 while the Rasa server is unreachable (degraded mode), else 0",
                 registry=REGISTRY)


_degraded = False


def set_degraded(degraded: bool) -> bool:
    """Sets the degraded-mode flag; True when that changed it."""
    global _degraded
    changed, _degraded = degraded != _degraded, degraded
    DEGRADED.set(1 if degraded else 0)
    return changed


def is_degraded() -> bool:
    return _degraded


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
