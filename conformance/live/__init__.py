"""Live conformance: scenarios and schemathesis cases sent to a provider, every answer checked."""

from conformance.live.runner import check_exchange, run_scenarios
from conformance.live.scenarios import SCENARIOS, Conversation, scenario
from conformance.live.session import Exchange, Session, Unreachable
from conformance.redaction import redact

__all__ = [
    "SCENARIOS",
    "Conversation",
    "Exchange",
    "Session",
    "Unreachable",
    "check_exchange",
    "redact",
    "run_scenarios",
    "scenario",
]
