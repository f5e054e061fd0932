"""Algedonic alerts: raised where a signal arises, acknowledged with a note, escalated one
level of the recursion per missed deadline, every change audited."""

from cybersyn.alerts.background import escalation_loop as escalation_loop
from cybersyn.alerts.escalation import EscalationParams as EscalationParams
from cybersyn.alerts.escalation import Step as Step
from cybersyn.alerts.escalation import climb as climb
from cybersyn.alerts.service import acknowledge as acknowledge
from cybersyn.alerts.service import escalate as escalate
from cybersyn.alerts.service import history as history
from cybersyn.alerts.service import list_alerts as list_alerts
from cybersyn.alerts.service import raise_from_signals as raise_from_signals
from cybersyn.alerts.service import resolve as resolve
