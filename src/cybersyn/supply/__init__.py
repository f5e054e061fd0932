"""Supply and price committees (JAP): allocation under scarcity, the distribution ledger,
diversion detection and delivery routing. See docs/supply.md."""

from cybersyn.supply.allocation import RULES as RULES
from cybersyn.supply.allocation import allocate as allocate
from cybersyn.supply.allocation import allocate_tiered as allocate_tiered
from cybersyn.supply.routing import FleetProblem as FleetProblem
from cybersyn.supply.routing import RouteParams as RouteParams
from cybersyn.supply.routing import Routes as Routes
from cybersyn.supply.routing import check_routes as check_routes
from cybersyn.supply.routing import euclidean as euclidean
from cybersyn.supply.routing import route as route
