"""The platform's peers on real transports, for tests and benchmarks: the event and conference
services as agents on a broker, tq as an HTTP server, and in-memory metrics for their agents."""

from tests.support.simulators.broker_peers import BrokerPeers, BrokerRequest
from tests.support.simulators.metrics import CountingMetrics
from tests.support.simulators.tq_server import TqServer

__all__ = ["BrokerPeers", "BrokerRequest", "CountingMetrics", "TqServer"]
