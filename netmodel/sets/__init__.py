"""The set-algebra core: integer interval sets, address sets, port and protocol sets, traffic spaces."""

from netmodel.sets.addresses import (
    ALL_ADDRESSES,
    NO_ADDRESSES,
    AddressSet,
    IPAddress,
    IPNetwork,
    network_within,
    networks_overlap,
    parse_address,
    parse_network,
    parse_network_loose,
)
from netmodel.sets.intervals import IntervalSet
from netmodel.sets.ports import (
    ALL_PORTS,
    ALL_PROTOCOLS,
    PortSet,
    format_ports,
    format_protocols,
    parse_ports,
    protocol_label,
    protocol_number,
    protocols_of,
)
from netmodel.sets.space import Box, Space

__all__ = [
    "ALL_ADDRESSES", "ALL_PORTS", "ALL_PROTOCOLS", "NO_ADDRESSES", "AddressSet", "Box", "IPAddress",
    "IPNetwork", "IntervalSet", "PortSet", "Space", "format_ports", "format_protocols", "network_within",
    "networks_overlap", "parse_address",
    "parse_network", "parse_network_loose", "parse_ports", "protocol_label", "protocol_number", "protocols_of",
]
