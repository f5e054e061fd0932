"""ODEPLAN: input-output analysis, labour values, optimal plans (Kantorovich LP, Cockshott's
harmony), multi-period plans, explanations, and stored plan versions. See docs/plan.md."""

from cybersyn.plan.explain import Explanation as Explanation
from cybersyn.plan.explain import diff as diff
from cybersyn.plan.explain import explain as explain
from cybersyn.plan.harmony import H as H
from cybersyn.plan.harmony import HarmonyParams as HarmonyParams
from cybersyn.plan.harmony import harmony_lp as harmony_lp
from cybersyn.plan.harmony import harmony_plan as harmony_plan
from cybersyn.plan.harmony import harmony_upper_bound as harmony_upper_bound
from cybersyn.plan.harmony import harmony_value as harmony_value
from cybersyn.plan.kantorovich import kantorovich_plan as kantorovich_plan
from cybersyn.plan.leontief import check_productive as check_productive
from cybersyn.plan.leontief import employment_multipliers as employment_multipliers
from cybersyn.plan.leontief import labour_values as labour_values
from cybersyn.plan.leontief import leontief_output as leontief_output
from cybersyn.plan.leontief import output_multipliers as output_multipliers
from cybersyn.plan.leontief import total_requirements as total_requirements
from cybersyn.plan.multiperiod import MultiPeriodParams as MultiPeriodParams
from cybersyn.plan.multiperiod import MultiPeriodResult as MultiPeriodResult
from cybersyn.plan.multiperiod import multi_period_plan as multi_period_plan
from cybersyn.plan.problem import Binding as Binding
from cybersyn.plan.problem import PlanProblem as PlanProblem
from cybersyn.plan.problem import PlanResult as PlanResult
from cybersyn.plan.shell import problem_from_economy as problem_from_economy
