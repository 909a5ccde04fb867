"""Program ROI and efficiency: what the partner program costs per month against what it brings."""
