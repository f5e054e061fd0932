"""Intake (Cybernet): observations arrive by HTTP batch, CSV file or MQTT, are validated
whole, authorised against the reporter's units, and stored exactly once."""

from cybersyn.intake.catalog import Catalog as Catalog
from cybersyn.intake.catalog import catalog as catalog
from cybersyn.intake.ingest import IngestResult as IngestResult
from cybersyn.intake.ingest import ingest_batch as ingest_batch
from cybersyn.intake.ingest import revise as revise
from cybersyn.intake.params import IntakeParams as IntakeParams
from cybersyn.intake.tokens import IssuedToken as IssuedToken
from cybersyn.intake.tokens import issue as issue
from cybersyn.intake.tokens import revoke as revoke
