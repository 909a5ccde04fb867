"""The Salesforce page's write-back section's routes (crm/writeback/pages.py, for any CRM)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ecoops.crm.salesforce.writeback import SALESFORCE
from ecoops.crm.writeback.pages import add_writeback_routes
from ecoops.web.security import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)])
add_writeback_routes(router, SALESFORCE)
