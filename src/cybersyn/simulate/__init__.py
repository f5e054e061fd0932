"""Simulate (CHECO): a daily dynamic input-output simulator with shocks and policies.

The core (`simulate`, `step`, `build`) is pure numpy/scipy; `run_scenario` runs every
variant of a TOML scenario; `write_report` writes Parquet, PNG plots and an HTML page.
"""

from cybersyn.simulate.core import Flows as Flows
from cybersyn.simulate.core import SimResult as SimResult
from cybersyn.simulate.core import State as State
from cybersyn.simulate.core import initial_state as initial_state
from cybersyn.simulate.core import simulate as simulate
from cybersyn.simulate.core import step as step
from cybersyn.simulate.model import SimEconomy as SimEconomy
from cybersyn.simulate.model import build as build
from cybersyn.simulate.model import steady_output as steady_output
from cybersyn.simulate.params import Policy as Policy
from cybersyn.simulate.params import Shock as Shock
from cybersyn.simulate.params import SimParams as SimParams
from cybersyn.simulate.params import Variant as Variant
from cybersyn.simulate.run import ScenarioRun as ScenarioRun
from cybersyn.simulate.run import run_scenario as run_scenario
from cybersyn.simulate.scenario import Scenario as Scenario
from cybersyn.simulate.scenario import bundled_names as bundled_names
from cybersyn.simulate.scenario import load_scenario as load_scenario
