"""The model of the economy: unit tree, products, input-output system, indicators, districts."""

from cybersyn.economy.bea import load_bea_detail as load_bea_detail
from cybersyn.economy.demo import DEMO_NAME as DEMO_NAME
from cybersyn.economy.demo import demo_economy as demo_economy
from cybersyn.economy.loaders import load_economy as load_economy
from cybersyn.economy.loaders import write_economy as write_economy
from cybersyn.economy.model import LEVELS as LEVELS
from cybersyn.economy.model import District as District
from cybersyn.economy.model import Economy as Economy
from cybersyn.economy.model import Indicator as Indicator
from cybersyn.economy.model import IOSystem as IOSystem
from cybersyn.economy.model import Product as Product
from cybersyn.economy.model import Unit as Unit
from cybersyn.economy.model import UnitTree as UnitTree
from cybersyn.economy.model import spectral_radius as spectral_radius
