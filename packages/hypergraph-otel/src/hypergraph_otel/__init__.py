"""OpenTelemetry tracing for hypergraph runs.

Users import the processor from ``hypergraph.events`` (resolved through the plugin registry); this
package re-exports it for direct use.
"""

from hypergraph_otel.processor import OpenTelemetryProcessor

__all__ = ["OpenTelemetryProcessor"]
