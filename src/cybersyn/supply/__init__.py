"""Supply and price committees (JAP): allocation under scarcity, the distribution ledger,
diversion detection and delivery routing. See docs/supply.md."""

from cybersyn.supply.allocation import RULES as RULES
from cybersyn.supply.allocation import allocate as allocate
from cybersyn.supply.allocation import allocate_tiered as allocate_tiered
