"""In-process stand-ins for the event, conference and tq services (the sandbox upstream)."""

from minigroups.adapters.sandbox.conference_peer import SandboxConferencePeer
from minigroups.adapters.sandbox.event_peer import PendingResult, SandboxEventPeer
from minigroups.adapters.sandbox.notifier import Notification, SandboxNotifier
from minigroups.adapters.sandbox.requester import InProcessRequester
from minigroups.adapters.sandbox.sandbox import Sandbox, SandboxCall, SandboxFaults
from minigroups.adapters.sandbox.tq import SandboxTq, TqTask
from minigroups.adapters.sandbox.tq_transport import SandboxTqTransport

__all__ = [
    "InProcessRequester",
    "Notification",
    "PendingResult",
    "Sandbox",
    "SandboxCall",
    "SandboxConferencePeer",
    "SandboxEventPeer",
    "SandboxFaults",
    "SandboxNotifier",
    "SandboxTq",
    "SandboxTqTransport",
    "TqTask",
]
