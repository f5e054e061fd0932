"""Councils: workers' control and democratic approval of plans (administrative councils of
5 workers' + 5 government representatives, proposals and votes, approval up the unit tree,
participatory iterative planning). See docs/councils.md."""

from cybersyn.councils.approval import open_approval as open_approval
from cybersyn.councils.approval import settle as settle
from cybersyn.councils.auth import authenticate as authenticate
from cybersyn.councils.auth import login as login
from cybersyn.councils.central import central_plan as central_plan
from cybersyn.councils.central import gap_pct as gap_pct
from cybersyn.councils.membership import Composition as Composition
from cybersyn.councils.membership import create_council as create_council
from cybersyn.councils.membership import elect_member as elect_member
from cybersyn.councils.membership import seat_member as seat_member
from cybersyn.councils.membership import setup_councils as setup_councils
from cybersyn.councils.participatory import ParticipatoryParams as ParticipatoryParams
from cybersyn.councils.participatory import ParticipatoryResult as ParticipatoryResult
from cybersyn.councils.participatory import run_rounds as run_rounds
from cybersyn.councils.proposals import cast_vote as cast_vote
from cybersyn.councils.proposals import close_proposal as close_proposal
from cybersyn.councils.proposals import open_proposal as open_proposal
from cybersyn.councils.replay import check_proposal as check_proposal
from cybersyn.councils.replay import replay_outcome as replay_outcome
from cybersyn.councils.rounds import run_and_store as run_and_store
from cybersyn.councils.rules import Ballot as Ballot
from cybersyn.councils.rules import Outcome as Outcome
from cybersyn.councils.rules import VoteRules as VoteRules
from cybersyn.councils.rules import decide as decide
