"""Live conformance: scenarios and schemathesis cases sent to a provider, every answer checked."""

from respkit.conformance.live.runner import check_exchange, run_scenarios
from respkit.conformance.live.scenarios import SCENARIOS, Conversation, scenario
from respkit.conformance.live.scenarios_tools import use_tool
from respkit.conformance.live.session import Exchange, Session, Unreachable
from respkit.conformance.redaction import redact

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
    "use_tool",
]
