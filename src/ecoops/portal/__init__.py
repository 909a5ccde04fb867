"""The partner portal: what partner users see of their own partnership."""
