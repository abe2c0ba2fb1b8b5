"""From scores to figures: thresholding scores into intervals, and the metrics that count them."""
