"""Cyberstride: the multi-process Bayesian filter over every indicator, Beer's triple index
and the detection rule. A pure numerical core (no database, network or clock); the shell is
in `service.py`, `cli.py`, `api.py` and `demo_stage.py`."""

from cybersyn.monitor.detect import Detections as Detections
from cybersyn.monitor.detect import detect as detect
from cybersyn.monitor.detector import Detector as Detector
from cybersyn.monitor.detector import DetectorStep as DetectorStep
from cybersyn.monitor.filter import STATE_DTYPE as STATE_DTYPE
from cybersyn.monitor.filter import MultiProcessFilter as MultiProcessFilter
from cybersyn.monitor.filter import SeriesOutput as SeriesOutput
from cybersyn.monitor.filter import StepOutput as StepOutput
from cybersyn.monitor.filter import new_state as new_state
from cybersyn.monitor.filter import state_from_bytes as state_from_bytes
from cybersyn.monitor.filter import state_to_bytes as state_to_bytes
from cybersyn.monitor.params import REGIMES as REGIMES
from cybersyn.monitor.params import DetectParams as DetectParams
from cybersyn.monitor.params import FilterParams as FilterParams
from cybersyn.monitor.params import PosteriorRule as PosteriorRule
from cybersyn.monitor.triple import TripleIndex as TripleIndex
from cybersyn.monitor.triple import triple_index as triple_index
