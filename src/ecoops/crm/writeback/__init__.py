"""Write-back to the CRM: what ecoops writes on the CRM's records, field by field, and the runs doing it."""
