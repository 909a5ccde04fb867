"""What every CRM connection shares: its row, checkpoints, runs and stage map; sealed secrets; batches."""
